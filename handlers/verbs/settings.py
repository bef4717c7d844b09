"""A person's own settings: show them, and change language, time zone and quiet hours."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from crm_core.errors import Invalid
from crm_core.models import User
from crm_core.services import preferences as svc
from crm_core.text import to_simplified
from handlers.args import Arg, Kind
from handlers.i18n import HANT, Translator
from handlers.registry import Request, Verb
from handlers.reply import Button, Field, Reply

# `language @wei zh-Hant`: an admin names the person first.
_WHO = re.compile(r"^@(?P<who>[^\s@]+)\s*(?P<rest>.*)$", re.S)
_OFF = {"off", "none", "关闭", "关", "无", "取消"}
LANGUAGES = ("zh-Hant", "zh", "en", "auto")
# How people name the languages besides their codes.
_LANGUAGE_WORDS = {
    "english": "en",
    "英文": "en",
    "英语": "en",
    "中文": "zh",
    "简体": "zh",
    "简体中文": "zh",
    "繁体": HANT,
    "繁体中文": HANT,
    "正体": HANT,
    "正体中文": HANT,
    "自动": svc.AUTO,
    "繁中": HANT,
    "简中": "zh",
    "中文繁体": HANT,
    "中文简体": "zh",
    "traditional": HANT,
    "traditional chinese": HANT,
    "simplified": "zh",
    "simplified chinese": "zh",
    "chinese": "zh",
}
# Words around the language a person may say with the verb ("语言改成繁中吧", "language: set it
# to traditional chinese please").
_LANGUAGE_FILLER = re.compile(
    r"^(?:[:：]\s*)?(?:(?:改成|改为|改回|改返|换成|换回|设为|设成|设定为|转成|用)\s*"
    r"|(?:(?:set|change|switch)\s+(?:it\s+)?)?(?:to|into)\s+|back\s+to\s+)?"
    r"(?P<lang>.*?)\s*(?:[吧啦嘞喔哦呀啊]|please|pls|thanks|thx|ㄅ|ㄚ|[.。!！~])*$",
    re.I,
)


def _language_said(rest: str) -> str:
    """The language named in `rest`, read past the words around it ("改成繁中吧" -> zh-Hant);
    `rest` itself when no language word is found."""
    said = to_simplified(rest).strip().lower()
    if said in _LANGUAGE_WORDS:
        return _LANGUAGE_WORDS[said]
    m = _LANGUAGE_FILLER.match(said)
    inner = " ".join(m.group("lang").split()) if m else said
    return _LANGUAGE_WORDS.get(inner, inner if inner in LANGUAGES else rest)


def _who(req: Request) -> tuple[User, str]:
    """The person named first (`@wei ...`, admins only) or the actor, and the rest."""
    m = _WHO.match(req.args.strip())
    if m is None:
        return req.ctx.actor, req.args.strip()
    return svc.whose(req.ctx, m.group("who")), m.group("rest").strip()


def _for(req: Request, user: User) -> str:
    """`@wei ` when the command is about someone else (for the buttons), else nothing."""
    return "" if user.id == req.ctx.actor.id else f"@{user.external_id} "


def language_name(t: Translator, locale: str) -> str:
    """`English`, `简体中文`, `繁體中文`, each in its own words."""
    return t(f"language.{locale.replace('-', '_').lower()}")


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def settings_reply(req: Request, user: User) -> Reply:
    """One person's settings with buttons that change them."""
    t, ctx = req.t, req.ctx
    prefs = svc.read(ctx, user)
    language = language_name(t, prefs.locale)
    if prefs.auto:
        language = t("settings.auto", language=language)
    if prefs.digest_off:
        digest = t("settings.digest_off")
    else:
        at = _clock(prefs.digest_minute) if prefs.digest_minute is not None else None
        digest = t(f"settings.digest_{prefs.digest_days}", time=at or ctx.config.digest_time)
    quiet = (
        t("settings.quiet_hours", start=_clock(prefs.quiet[0]), end=_clock(prefs.quiet[1]))
        if prefs.quiet
        else t("settings.quiet_none", hours=ctx.config.work_hours)
    )
    who = _for(req, user)
    buttons = [
        Button.run(language_name(t, code), f"language {who}{code}")
        for code in LANGUAGES
        if code != ("auto" if prefs.auto else prefs.locale)
    ]
    if prefs.quiet:
        buttons.append(Button.run(t("button.quiet_off"), f"quiet {who}off"))
    return Reply(
        title=t("settings.title", name=user.name),
        fields=[
            Field(t("field.locale"), language),
            Field(t("field.timezone"), f"{prefs.timezone} ({_now_in(ctx.now(), prefs.timezone)})"),
            Field(t("settings.digest"), digest),
            Field(t("settings.quiet"), quiet),
        ],
        buttons=buttons,
    )


def _now_in(now: datetime, zone: str) -> str:
    return now.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def settings(req: Request) -> Reply:
    """`settings` (设置): yours; `settings @wei`: an admin's look at someone else's."""
    user, rest = _who(req)
    if rest:
        raise Invalid("usage.settings")
    return settings_reply(req, user)


def language(req: Request) -> Reply:
    """`language zh-Hant|zh|en|auto` (语言 繁体): the language replies come in."""
    user, rest = _who(req)
    if not rest:
        return settings_reply(req, user)
    wanted = _language_said(rest)
    try:
        svc.set_language(req.ctx, user, wanted)
    except Invalid as exc:
        raise Invalid("error.locale_invalid", value=rest, locales=", ".join(LANGUAGES)) from exc
    # Your own change answers in the language just chosen.
    t = Translator(user.locale) if user.id == req.ctx.actor.id else req.t
    name = language_name(t, user.locale)
    key = "language.set_auto" if user.locale_auto else "language.set"
    return Reply(text=t(key, name=user.name, language=name))


def timezone(req: Request) -> Reply:
    """`timezone Asia/Taipei` (时区 台北): where reminders, digests and dates are read."""
    user, rest = _who(req)
    if not rest:
        return settings_reply(req, user)
    svc.set_timezone(req.ctx, user, rest)
    return Reply(
        text=req.t(
            "timezone.set",
            name=user.name,
            zone=user.timezone,
            time=_now_in(req.ctx.now(), user.timezone),
        )
    )


def quiet(req: Request) -> Reply:
    """`quiet 20:00-08:00` (免打扰): no unasked messages then; `quiet off` ends them."""
    user, rest = _who(req)
    if not rest:
        return settings_reply(req, user)
    if to_simplified(rest).lower() in _OFF:
        svc.set_quiet(req.ctx, user, None)
        return Reply(text=req.t("quiet.off", name=user.name))
    start, end = svc.parse_quiet(rest)
    svc.set_quiet(req.ctx, user, (start, end))
    return Reply(
        text=req.t(
            "quiet.set", name=user.name, start=_clock(start), end=_clock(end), zone=user.timezone
        ),
        buttons=[Button.run(req.t("button.quiet_off"), f"quiet {_for(req, user)}off")],
    )


_USER = Arg("user", Kind.user, optional=True)
# Where these verbs come in help (handlers.verbs orders modules by it).
ORDER = 81
VERBS = [
    Verb(
        "settings",
        settings,
        args=(_USER,),
        examples=("settings", "设置", "settings @alice"),
        writes=False,
        aliases=("my settings", "设置", "设定", "我的设置"),
    ),
    Verb(
        "language",
        language,
        args=(_USER, Arg("language", Kind.choice, choices=LANGUAGES)),
        examples=("language zh-Hant", "language auto", "语言 简体", "language @alice en"),
        writes=True,
        aliases=("lang", "语言"),
    ),
    Verb(
        "timezone",
        timezone,
        args=(_USER, Arg("zone", Kind.text, label="time zone")),
        examples=("timezone Asia/Taipei", "时区 上海", "timezone @alice Europe/Berlin"),
        writes=True,
        aliases=("time zone", "tz", "时区"),
    ),
    Verb(
        "quiet",
        quiet,
        args=(_USER, Arg("hours", Kind.text, label="hh:mm-hh:mm", choices=("off",))),
        examples=("quiet 20:00-08:00", "免打扰 22:00-07:00", "quiet off"),
        writes=True,
        aliases=("quiet hours", "免打扰", "勿扰"),
    ),
]
