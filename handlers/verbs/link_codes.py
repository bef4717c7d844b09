"""Verbs about linking chat accounts: `link code for alice` (admins) makes a one-time code."""

from __future__ import annotations

import re

from crm_core.errors import Invalid
from crm_core.resolve import resolve_user
from crm_core.services.link_codes import CODE_TTL, create_link_code
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Reply

# `for` (or 给) before the person is optional: `link code alice`, `绑定码 给 alice`.
_FOR = re.compile(r"^(?:for\s+|给\s*)", re.I)


def link_code(req: Request) -> Reply:
    """A one-time code (15 minutes) that links someone's Telegram account to their user."""
    t, ctx = req.t, req.ctx
    who = _FOR.sub("", req.args.strip()).strip()
    if not who:
        raise Invalid("usage.link_code")
    target = resolve_user(ctx, who)
    code = create_link_code(ctx.session, ctx.actor, target, now=ctx.now())
    minutes = int(CODE_TTL.total_seconds() // 60)
    return Reply(
        text=t(
            "link_code.done",
            name=target.name,
            handle=target.external_id,
            code=code,
            minutes=minutes,
        )
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 100
VERBS = [
    Verb(
        "link code",
        link_code,
        args=(Arg("user", Kind.user, keyword="for", also=("给",)),),
        examples=("link code for alice", "绑定码 alice"),
        writes=True,
        aliases=("绑定码",),
        menu="link_code",
    ),
]
