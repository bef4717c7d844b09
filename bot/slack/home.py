"""The App Home tab: today's reminders, my open deals by stage, my recent customers."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks import ACTION_PREFIX, encode_button, escape
from handlers.gateway import Gateway
from handlers.reply import RUN

LOG_ACTION = "home:log"
# App Home views hold at most 100 blocks; the sections below stay far under it.
MAX_LINES = 10


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3_000]}}


def _run(label: str, text: str, index: int, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:75], "emoji": True},
        "action_id": f"{ACTION_PREFIX}home{index}",
        "value": encode_button(RUN, {"text": text}),
    }
    if style:
        button["style"] = style
    return button


def home_view(gateway: Gateway, user_id: int) -> dict[str, Any]:
    """The Home tab of one CRM user, read fresh from the database."""
    data = gateway.home(user_id)
    t = gateway.translator(user_id)
    name = data.name
    reminders = [
        f"• {when} · {escape(text)}" + (f" ({escape(customer)})" if customer else "")
        for when, text, customer in data.reminders
    ]
    deals: list[str] = []
    for stage, lines in data.deals.items():
        deals.append(f"*{escape(stage)}*")
        deals += [f"• {escape(line)}" for line in lines]
    customers = [(c.id, c.name, c.city) for c in data.customers]
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": t("slack.home.title", name=name)[:150]},
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": t("slack.home.log"), "emoji": True},
                    "action_id": LOG_ACTION,
                    "style": "primary",
                    "value": "log",
                },
                _run(t("slack.home.pipeline"), "pipeline", 0),
                _run(t("slack.home.deals"), "deals", 1),
            ],
        },
        _section(
            f"*{t('slack.home.reminders')}*\n"
            + ("\n".join(reminders[:MAX_LINES]) or t("slack.home.no_reminders"))
        ),
        _section(
            f"*{t('slack.home.deals_title')}*\n"
            + ("\n".join(deals[: MAX_LINES * 3]) or t("slack.home.no_deals"))
        ),
        _section(
            f"*{t('slack.home.customers')}*"
            + ("" if customers else "\n" + t("slack.home.no_customers"))
        ),
    ]
    for i, (cid, cname, city) in enumerate(customers, start=2):
        section = _section(" · ".join(escape(p) for p in (cname, city) if p))
        section["accessory"] = _run(t("button.open"), f"customer #{cid}", i)
        blocks.append(section)
    return {"type": "home", "blocks": blocks}
