"""Reading Telegram messages: menu names, commands (marked or not), captions, files, topics."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.ext import filters

from handlers.registry import Registry, Verb
from handlers.reply import Attachment, File, Photo, Quoted

# Commands the adapter answers itself; a verb with one of these menu names is typed instead.
OWN_COMMANDS = ("start", "link", "cancel")
_MENU_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
# A leading /word (any script) and the blanks after it.
_SLASH_WORD = re.compile(r"^/\S*\s*")
SHARE_WORDS = ("share", "分享")


def menu_name(verb: Verb) -> str:
    """The [a-z0-9_] command under which a verb appears in Telegram's menu."""
    if verb.menu:
        return verb.menu
    name = verb.name.replace(" ", "_").lower()
    return name if _MENU_NAME.match(name) else ""


def message_line(message: Message) -> tuple[str, tuple[MessageEntity, ...]]:
    """A message's text and its entities; for a photo, document or voice note, its caption."""
    if message.text is not None:
        return message.text, message.entities
    return message.caption or "", message.caption_entities


def command_rest(message: Message) -> str:
    """What follows the leading /command (with its @botname) in a message, newlines kept."""
    text, entities = message_line(message)
    entity = next((e for e in entities if e.type == "bot_command" and e.offset == 0), None)
    if entity is None:
        # Telegram marks only [A-Za-z0-9_] commands: `/客户 华东物流` comes without an entity.
        return _SLASH_WORD.sub("", text, count=1).strip() if text.startswith("/") else text
    return text[entity.length :].strip()


def _slash_word(message: Message | None) -> str | None:
    text = message_line(message)[0] if message is not None else ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""


def command_word(message: Message | None) -> str | None:
    """The leading command of a message (or caption) without slash or @botname, lower case."""
    word = _slash_word(message)
    return None if word is None else word.split("@", 1)[0].lower()


def command_target(message: Message) -> str | None:
    """The @botname a leading /command is addressed to (`/客户@crm_bot`), if any."""
    word = _slash_word(message)
    return word.split("@", 1)[1] if word and "@" in word else None


class UnmarkedCommand(filters.MessageFilter):
    """A /command Telegram gave no bot_command entity (`/客户 华东物流`): a verb after a slash."""

    def __init__(self, registry: Registry, verb: str | None = None) -> None:
        super().__init__(name=f"UnmarkedCommand({verb or '*'})")
        self.registry = registry
        self.verb = verb

    def filter(self, message: Message) -> bool:
        """True for an unmarked slash line that starts with a verb (`verb`, when given)."""
        text = message.text
        if not text or not text.startswith("/"):
            return False
        if any(e.type == "bot_command" and e.offset == 0 for e in message.entities):
            return False
        if self.verb is not None:
            found = self.registry.get(command_word(message) or "")
            return found is not None and found.name == self.verb
        return self.registry.match(_SLASH_WORD.sub(_at_dropped, text, count=1)) is not None


def _at_dropped(match: re.Match[str]) -> str:
    """The /word without slash and @botname, followed by a space (for the verb matcher)."""
    return match.group(0)[1:].split("@", 1)[0].rstrip() + " "


def take_share(text: str) -> tuple[str, bool]:
    """Strip a leading or trailing `share` (the explicit ask to post in a group)."""
    words = text.split()
    if words and words[-1].lower() in SHARE_WORDS:
        return text[: text.rstrip().rfind(words[-1])].strip(), True
    if words and words[0].lower() in SHARE_WORDS:
        return text.strip()[len(words[0]) :].strip(), True
    return text, False


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The file of a photo, document or voice message, by its Telegram file id."""
    if message.photo:
        # The largest size: the one worth keeping.
        return (Photo(message.photo[-1].file_id),)
    if message.document is not None:
        doc = message.document
        return (File(doc.file_id, doc.file_name, doc.mime_type),)
    if message.voice is not None:
        return (File(message.voice.file_id, None, message.voice.mime_type or "audio/ogg"),)
    return ()


def quoted_of(message: Message) -> Quoted | None:
    """The message this one replies to, as a Quoted attachment (None: not a reply to text).

    In a forum every topic message "replies" to the topic's opening service message: that is
    no quote. The link is Telegram's t.me address of the message where the chat has one.
    """
    quoted = message.reply_to_message
    if quoted is None or quoted.forum_topic_created is not None:
        return None
    text = quoted.text or quoted.caption or ""
    if not text.strip():
        return None
    chat = quoted.chat
    link = None
    if chat.username:
        link = f"https://t.me/{chat.username}/{quoted.message_id}"
    elif str(chat.id).startswith("-100"):
        link = f"https://t.me/c/{str(chat.id)[4:]}/{quoted.message_id}"
    author = quoted.from_user
    return Quoted(
        text,
        f"telegram:{chat.id}:{quoted.message_id}",
        link,
        str(author.id) if author and not author.is_bot else None,
        author.full_name if author and not author.is_bot else None,
    )


def delivery_of(update: Update) -> str:
    """What makes an update one delivery: its id, or for an edit the message and edit time.

    Telegram numbers an edit as a new update; the same edit delivered twice runs once.
    """
    edited = update.edited_message
    if edited is None:
        return str(update.update_id)
    stamp = int(edited.edit_date.timestamp()) if edited.edit_date else 0
    return f"edit:{edited.chat.id}:{edited.message_id}:{stamp}"


def thread_of(update: Update) -> int | None:
    """The forum topic an update came from (for a button, its message's), else None.

    Only topic messages: a reply thread in an ordinary group is not a topic, and sending
    into it would fail ("message thread not found").
    """
    message = update.message or update.edited_message
    if message is None and update.callback_query is not None:
        found = update.callback_query.message
        message = found if isinstance(found, Message) else None
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id
