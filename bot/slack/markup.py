"""Slack's message markup (`<@U1>`, `<#C1|sales>`, `<http://x|a>`, `&lt;`) read as plain text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

# A control sequence: <target> or <target|label>; Slack escapes < and > everywhere else.
_TOKEN = re.compile(r"<([^<>\n]*)>")
# A user mention: <@U123>, <@W123> (Enterprise Grid), with an optional legacy |name label.
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^<>]*))?>")
_SPECIAL = {"here", "channel", "everyone"}


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > (and only those) in user text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentioned_users(text: str) -> list[str]:
    """The Slack user ids mentioned in `text`, each once, in order."""
    return list(dict.fromkeys(m.group(1) for m in _USER.finditer(text)))


def plain_text(text: str, names: Mapping[str, str]) -> str:
    """Markup as a person reads it: names for mentions, #channel, link labels (or URLs)."""

    def one(m: re.Match[str]) -> str:
        target, _, label = m.group(1).partition("|")
        label = label.strip()
        if target.startswith("@"):
            uid = target[1:]
            return names.get(uid) or label.lstrip("@") or uid
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            word = target[1:]
            if word in _SPECIAL:
                return "@" + word
            if word.startswith("subteam^"):
                return label or "@" + word.split("^", 1)[1]
            # <!date^1392734382^{date_short}|Feb 18, 2014>: the fallback is the readable date.
            return label or ("@" + word if word.isalpha() else "")
        # A link: http(s), mailto:, tel:, slack://; its label when it has one.
        return label or target.removeprefix("mailto:")

    return unescape(_TOKEN.sub(one, text))


def mentions_as_handles(text: str, handle_of: Callable[[str], str | None]) -> str:
    """User mentions in command text as `@handle` (the linked crmbot user), else `@name`/`@id`."""

    def one(m: re.Match[str]) -> str:
        handle = handle_of(m.group(1))
        return "@" + (handle or (m.group(2) or "").lstrip("@").strip() or m.group(1))

    return _USER.sub(one, text)
