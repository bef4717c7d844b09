"""Reading Telegram commands: menu names, the command word and what follows, `share`."""

from __future__ import annotations

import re

from telegram import Message

from handlers.registry import Verb

# Commands the adapter answers itself; a verb with one of these menu names is typed instead.
OWN_COMMANDS = ("start", "link", "cancel")
_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
SHARE_WORDS = ("share", "分享")


def menu_name(verb: Verb) -> str:
    """The [a-z0-9_] command under which a verb appears in Telegram's menu."""
    if verb.menu:
        return verb.menu
    name = verb.name.replace(" ", "_").lower()
    return name if _MENU_NAME.match(name) else ""


def command_rest(message: Message) -> str:
    """What follows the leading /command (with its @botname) in a message, newlines kept."""
    text = message.text or ""
    entity = next((e for e in message.entities if e.type == "bot_command" and e.offset == 0), None)
    if entity is None:
        return text.lstrip("/")
    return text[entity.length :].strip()


def command_word(message: Message | None) -> str | None:
    """The leading command of a message without slash or @botname, lower case."""
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    word = message.text[1:].split(maxsplit=1)[0] if len(message.text) > 1 else ""
    return word.split("@", 1)[0].lower()


def take_share(text: str) -> tuple[str, bool]:
    """Strip a leading or trailing `share` (the explicit ask to post in a group)."""
    words = text.split()
    if words and words[-1].lower() in SHARE_WORDS:
        return text[: text.rstrip().rfind(words[-1])].strip(), True
    if words and words[0].lower() in SHARE_WORDS:
        return text.strip()[len(words[0]) :].strip(), True
    return text, False
