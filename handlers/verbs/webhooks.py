"""Outgoing webhooks (admins): `webhook add URL events a,b`, `webhooks`, `webhook remove #3`,
`webhook resume #3` (after a restore, which pauses them)."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.services.webhooks import (
    EVENTS,
    add_webhook,
    list_webhooks,
    remove_webhook,
    resume_webhook,
)
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Reply

# `https://hooks.example.com/crm events deal.won,deal.moved` (or 事件 for events).
_ADD = re.compile(r"^(?P<url>\S+)\s+(?:events?|事件)\s*[:：]?\s*(?P<events>.+)$", re.I | re.S)
_REF = re.compile(r"^#?(\d{1,18})$")


def webhook_add(req: Request) -> Reply:
    """Subscribe a URL to events; the reply shows the signing secret once."""
    t, ctx = req.t, req.ctx
    m = _ADD.match(req.args.strip())
    if m is None:
        raise Invalid("usage.webhook_add", events=", ".join(EVENTS))
    names = re.split(r"[,，\s]+", m.group("events"))
    hook, secret = add_webhook(ctx, m.group("url"), names)
    return Reply(
        text=t(
            "webhook.added",
            id=hook.id,
            url=hook.url,
            events=", ".join(hook.events),
            secret=secret,
        )
    )


def webhooks(req: Request) -> Reply:
    """Active webhooks with their delivery counts and latest failure."""
    t = req.t
    states = list_webhooks(req.ctx)
    if not states:
        return Reply(text=t("webhook.none", events=", ".join(EVENTS)), status="info")
    items = []
    for w in states:
        line = t(
            "webhook.line",
            id=w.id,
            url=w.url,
            events=", ".join(w.events),
            sent=w.sent,
            pending=w.pending,
            failed=w.failed,
        )
        if w.last_error:
            line += " " + t("webhook.last_error", error=w.last_error)
        if w.paused:
            line += " " + t("webhook.paused", id=w.id)
        items.append(line)
    return Reply(title=t("webhook.title", count=len(states)), items=items)


def webhook_remove(req: Request) -> Reply:
    """Stop a webhook; deliveries still owed to it are dropped."""
    m = _REF.match(req.args.strip())
    if m is None:
        raise Invalid("usage.webhook_remove")
    hook = remove_webhook(req.ctx, int(m.group(1)))
    return Reply(text=req.t("webhook.removed", id=hook.id, url=hook.url))


def webhook_resume(req: Request) -> Reply:
    """Turn a paused webhook back on; what it is owed goes out first, in order."""
    m = _REF.match(req.args.strip())
    if m is None:
        raise Invalid("usage.webhook_resume")
    hook = resume_webhook(req.ctx, int(m.group(1)))
    return Reply(text=req.t("webhook.resumed", id=hook.id, url=hook.url))


# Where these verbs come in help: after `link code`, the other admin verb.
ORDER = 101
VERBS = [
    Verb(
        "webhooks",
        webhooks,
        args=(),
        examples=("webhooks", "网络钩子"),
        writes=False,
        aliases=("网络钩子", "webhook list"),
    ),
    Verb(
        "webhook add",
        webhook_add,
        args=(
            Arg("url", Kind.text),
            Arg("events", Kind.text, keyword="events", also=("事件",)),
        ),
        examples=(
            "webhook add https://hooks.example.com/crm events deal.won,deal.moved,customer.created",
            "添加网络钩子 https://hooks.example.com/crm 事件 deal.won",
        ),
        writes=True,
        aliases=("添加网络钩子",),
    ),
    Verb(
        "webhook remove",
        webhook_remove,
        args=(Arg("webhook", Kind.ref),),
        examples=("webhook remove #3", "删除网络钩子 #3"),
        writes=True,
        aliases=("删除网络钩子",),
    ),
    Verb(
        "webhook resume",
        webhook_resume,
        args=(Arg("webhook", Kind.ref),),
        examples=("webhook resume #3", "恢复网络钩子 #3"),
        writes=True,
        aliases=("恢复网络钩子",),
    ),
]
