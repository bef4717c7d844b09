"""Verbs about the bot itself: help, whoami."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.services.users import profile
from handlers.i18n import Translator
from handlers.registry import Verb
from handlers.reply import Button, Field, Reply
from handlers.request import Request


def _local_name(verb: Verb, t: Translator) -> str:
    """The verb as a user of this locale types it (its first Chinese alias for zh)."""
    if t.locale == "zh":
        return next((a for a in verb.aliases if not a.isascii()), verb.name)
    return verb.name


def help_(req: Request) -> Reply:
    """All verbs with their usage, or one verb in detail (generated from the declarations)."""
    t = req.t
    if req.args:
        verb = req.registry.get(req.args) or (
            found[0] if (found := req.registry.match(req.args)) else None
        )
        if verb is None:
            raise Invalid("help.unknown", word=req.args)
        fields = [Field(t("help.usage"), verb.usage)]
        if verb.aliases:
            fields.append(Field(t("help.aliases"), ", ".join(verb.aliases)))
        return Reply(
            title=verb.name,
            text=t(verb.help_key),
            fields=fields,
            items=list(verb.examples),
        )
    items = [f"{_local_name(v, t)}: {v.usage} — {t(v.help_key)}" for v in req.registry]
    return Reply(
        title=t("help.title"),
        text=t("help.intro"),
        items=items,
        buttons=[Button.run(_local_name(v, t), f"help {v.name}") for v in req.registry if v.writes],
    )


def whoami(req: Request) -> Reply:
    """Who the bot thinks you are, and what you can see."""
    t, ctx = req.t, req.ctx
    if req.args:
        raise Invalid("usage.whoami")
    me = ctx.actor
    team, platforms = profile(ctx.session, me)
    return Reply(
        title=me.name,
        fields=[
            Field(t("field.handle"), f"@{me.external_id}"),
            Field(t("field.role"), t(f"role.{me.role.value}")),
            Field(t("field.team"), team.name if team else "—"),
            Field(t("field.email"), me.email or "—"),
            Field(t("field.timezone"), me.timezone),
            Field(t("field.locale"), me.locale),
            Field(t("field.platform"), req.command.platform),
            Field(
                t("field.linked"),
                ", ".join(platforms) or "—",
            ),
        ],
    )


# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 110
VERBS = [
    Verb(
        "help",
        help_,
        usage="help [verb]",
        examples=("help", "help log", "帮助 记录"),
        writes=False,
        aliases=("帮助", "?"),
    ),
    Verb(
        "whoami",
        whoami,
        usage="whoami",
        examples=("whoami", "我是谁"),
        writes=False,
        aliases=("who am i", "我是谁"),
    ),
]
