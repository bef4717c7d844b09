"""Verbs about the bot itself: help, whoami."""

from __future__ import annotations

from crm_core.errors import Invalid
from crm_core.services.users import profile
from handlers.args import Arg, Kind
from handlers.i18n import Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply, Section


def _local_name(verb: Verb, t: Translator) -> str:
    """The verb as a user of this locale types it (its first Chinese alias for zh)."""
    return verb.local_name(t)


def _other_forms(verb: Verb, t: Translator) -> list[str]:
    """The verb's other names worth showing in the list: every Chinese alias (in the reader's
    script), and for a Chinese reader the English name too."""
    local = _local_name(verb, t)
    forms = dict.fromkeys(t.command(f) for f in (verb.name, *verb.chinese))
    return [f for f in forms if f != local]


def _examples(verb: Verb, t: Translator) -> list[str]:
    """The examples, Chinese ones first (in the reader's script) for a Chinese reader."""
    if not t.chinese:
        return list(verb.examples)
    chinese = [t.command(e) for e in verb.examples if not e.isascii()]
    return chinese + [e for e in verb.examples if e.isascii()]


def _arg_line(arg: Arg, t: Translator) -> str:
    """`<customer>: a name, the start of it, or #12 (optional)`."""
    line = f"{arg.slot(t)}: {t(f'arg.{arg.kind.value}')}"
    return f"{line} {t('help.optional')}" if arg.optional else line


def help_(req: Request) -> Reply:
    """All verbs with their aliases and usage, or one verb in detail, from the declarations."""
    t = req.t
    if req.args:
        verb = req.registry.get(req.args) or (
            found[0] if (found := req.registry.match(req.args)) else None
        )
        if verb is None:
            raise Invalid("help.unknown", word=req.args)
        fields = [Field(t("help.usage"), verb.usage_for(t))]
        if t.chinese:
            # The English line too: both are read, and examples often mix them.
            fields.append(Field(t("help.usage_en"), verb.usage))
        if verb.aliases:
            aliases = dict.fromkeys(t.command(a) for a in verb.aliases)
            fields.append(Field(t("help.aliases"), ", ".join(aliases)))
        sections = [Section(t("help.arguments"), [_arg_line(a, t) for a in verb.args])]
        return Reply(
            title=_local_name(verb, t),
            text=t(verb.about_key),
            fields=fields,
            sections=sections if verb.args else [],
            items=_examples(verb, t),
        )
    items = []
    for v in req.registry:
        others = _other_forms(v, t)
        also = f" ({' / '.join(others)})" if others else ""
        items.append(f"{_local_name(v, t)}{also}: {v.usage_for(t)} — {t(v.help_key)}")
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
            Field(t("field.locale"), me.locale + (" (auto)" if me.locale_auto else "")),
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
        args=(Arg("verb", Kind.text, optional=True),),
        examples=("help", "help log", "帮助 记录"),
        writes=False,
        aliases=("帮助", "?"),
    ),
    Verb(
        "whoami",
        whoami,
        args=(),
        examples=("whoami", "我是谁"),
        writes=False,
        aliases=("who am i", "我是谁"),
    ),
]
