"""Verbs about platform accounts: link (an admin ties a chat account to a staff member)."""

from __future__ import annotations

import re

from crm_core.errors import Invalid, PermissionDenied
from crm_core.models import Role
from crm_core.resolve import resolve_user
from crm_core.services.identities import link_identity
from handlers.args import Arg, Kind
from handlers.registry import Request, Verb
from handlers.reply import Reply

# A platform mention as chat clients send it: Slack's <@U123|name> or <@U123>, or @id / id.
_MENTION = re.compile(r"^<@([A-Za-z0-9_.-]+)(?:\|[^>]*)?>$")
_PLAIN = re.compile(r"^@?([A-Za-z0-9_.-]{1,128})$")


def platform_id(token: str) -> str | None:
    """The platform user id in a mention (`<@U123|dana>`, `@U123`, `U123`), or None."""
    token = token.strip()
    m = _MENTION.match(token) or _PLAIN.match(token)
    return m.group(1) if m else None


def link(req: Request) -> Reply:
    """Link a platform account on this platform to a CRM user: `link @someone alice`."""
    t, ctx = req.t, req.ctx
    if ctx.actor.role != Role.admin:
        raise PermissionDenied("error.link_admin_only")
    parts = req.args.split(maxsplit=1)
    if len(parts) < 2:
        raise Invalid("usage.link")
    pid = platform_id(parts[0])
    if pid is None:
        raise Invalid("error.platform_id_invalid", value=parts[0][:40])
    user = resolve_user(ctx, parts[1])
    if not user.active:
        raise Invalid("error.link_inactive", user=user.external_id)
    _, changed = link_identity(ctx.session, req.command.platform, pid, user, actor=ctx.actor)
    key = "link.done" if changed else "link.unchanged"
    return Reply(
        text=t(
            key,
            account=parts[0],
            platform=req.command.platform,
            name=user.name,
            handle=user.external_id,
        )
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 90
VERBS = [
    Verb(
        "link",
        link,
        args=(Arg("account", Kind.user), Arg("user", Kind.user)),
        examples=("link @dana alice", "关联 @dana alice"),
        writes=True,
        aliases=("关联", "绑定"),
    ),
]
