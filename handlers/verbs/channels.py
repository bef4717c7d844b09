"""Customer channels: `channel link #acme-support Acme`, `channel auto ... on`, `channel
unlink ...`, `channels`. A message there from a customer's person can open a ticket."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.resolve import resolve_customer
from crm_core.services import desk
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Button, Reply

# Slack sends a picked channel as <#C0123|acme-support> (should_escape); a bare #name has no id.
_SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]{2,30})(?:\|([^<>]*))?>$")
_TELEGRAM_CHAT = re.compile(r"^-?\d{1,20}$")
# A record number as the grammar writes it everywhere (`#2`, full-width `＃２`).
_CUSTOMER_REF = re.compile(r"^[#＃][0-9０-９]{1,18}$")
_WORDS = {
    "link": "link",
    "关联": "link",
    "unlink": "unlink",
    "取消关联": "unlink",
    "auto": "auto",
    "自动": "auto",
}
_ON = {"on": True, "开": True, "开启": True, "off": False, "关": False, "关闭": False}


def _chat(req: Request, words: list[str]) -> tuple[str, str, list[str]]:
    """The chat a line names (its first word, when it is one) and how to call it; else the chat
    the line was typed in. Returns (chat id, name, the remaining words)."""
    if words:
        head = words[0]
        m = _SLACK_CHANNEL.match(head)
        if m is not None and req.command.platform == "slack":
            return m.group(1), "#" + (m.group(2) or m.group(1)), words[1:]
        if _TELEGRAM_CHAT.match(head) and req.command.platform == "telegram":
            return head, head, words[1:]
        if head.startswith("#"):
            # A typed #name carries no id: only the platform's own pick (or typing it there) does.
            raise Invalid("error.channel_pick", name=head)
    chat = req.command.chat_id
    if not chat or req.command.platform not in ("slack", "telegram"):
        raise Invalid("error.channel_where")
    if req.command.platform == "slack" and chat.startswith("D"):
        raise Invalid("error.channel_where")
    if req.command.platform == "telegram" and not chat.startswith("-"):
        # A private chat with the bot is no customer group.
        raise Invalid("error.channel_where")
    return chat, f"#{chat}" if req.command.platform == "slack" else chat, words


def channel(req: Request) -> Reply:
    """`channel link [#channel] Acme`, `channel auto [#channel] on|off`, `channel unlink`."""
    t, ctx = req.t, req.ctx
    words = req.args.split()
    action = _WORDS.get(words[0].lower()) if words else None
    if action is None:
        raise Invalid("usage.channel")
    given = words[1:]
    if action == "link" and len(given) == 1 and _CUSTOMER_REF.match(given[0]):
        # `channel link #2` typed in the chat: #2 is customer #2 (a channel is never a number).
        chat, name, rest = _chat(req, [])
        rest = given
    else:
        chat, name, rest = _chat(req, given)
    platform = req.command.platform
    if action == "link":
        if not rest:
            raise Invalid("usage.channel")
        customer = resolve_customer(ctx, " ".join(rest))
        row, created = desk.link_channel(ctx, platform, chat, name, customer)
        return Reply(
            text=t(
                "channel.linked" if created else "channel.already",
                channel=row.name,
                customer=customer.name,
            ),
            buttons=[Button.run(t("channel.auto_on"), f"channel auto {_ref(platform, chat)} on")],
            status="ok" if created else "info",
        )
    if action == "auto":
        if len(rest) != 1 or rest[0].lower() not in _ON:
            raise Invalid("usage.channel")
        row, changed = desk.set_auto(ctx, platform, chat, _ON[rest[0].lower()])
        key = "channel.auto_set_on" if row.auto else "channel.auto_set_off"
        return Reply(text=t(key, channel=row.name), status="ok" if changed else "info")
    if rest:
        raise Invalid("usage.channel")
    row = desk.unlink_channel(ctx, platform, chat)
    return Reply(text=t("channel.unlinked", channel=row.name, customer=row.customer.name))


def _ref(platform: str, chat: str) -> str:
    return f"<#{chat}>" if platform == "slack" else chat


def channels(req: Request) -> Reply:
    """The customer channels of the customers you may see."""
    t = req.t
    if req.args.strip():
        raise Invalid("usage.channels")
    rows = desk.list_channels(req.ctx)
    if not rows:
        return Reply(text=t("channel.none"), status="info")
    items = [
        t(
            "channel.line",
            channel=r.name,
            platform=r.platform,
            customer=(
                t("ticket.customer_archived", name=r.customer.name)
                if r.customer.archived_at is not None
                else r.customer.name
            ),
            auto=t("channel.auto_word") if r.auto else t("channel.manual_word"),
        )
        for r in rows
    ]
    return Reply(title=t("channel.title"), items=items, shareable=True)


# Where these verbs come in help: right after the tickets.
ORDER = 66
VERBS = [
    Verb(
        "channel",
        channel,
        args=(
            Arg("action", Kind.choice, choices=("link", "unlink", "auto")),
            Arg("channel", Kind.text, optional=True, label="#channel"),
            Arg("customer", Kind.name, optional=True),
        ),
        examples=(
            "channel link #acme-support Acme",
            "channel auto #acme-support on",
            "channel unlink #acme-support",
            "频道 关联 华东物流",
        ),
        writes=True,
        aliases=("频道",),
    ),
    Verb(
        "channels",
        channels,
        args=(),
        examples=("channels", "频道列表"),
        writes=False,
        aliases=("频道列表",),
    ),
]
