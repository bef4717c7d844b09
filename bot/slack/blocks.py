"""Reply -> Block Kit messages, split to fit Slack's limits; button values encoded and decoded."""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from handlers.i18n import Translator
from handlers.reply import Button, Reply

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION = 3_000
MAX_FIELD = 2_000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTIONS = 25
MAX_FALLBACK = 300

ACTION_PREFIX = "crm:"
SHARE = "share"
# A button whose command did not fit in Slack's 2,000-character value.
TOO_LONG = "too_long"
_ZIP = "z:"
_MENTION = re.compile(r"&lt;@([A-Z0-9]+)(?:\|[^&<>]*)?&gt;")


@dataclass
class Message:
    """One Slack message: blocks plus the plain-text fallback notifications show."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


def escape(text: str) -> str:
    """Text safe for mrkdwn: &, < and > escaped; user mentions (<@U123>) still mention."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub(r"<@\1>", out)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encode_button(action: str, payload: dict[str, Any]) -> str:
    """A button's value: compact JSON, compressed if that fits; TOO_LONG (with picks) if not."""
    raw = json.dumps({"a": action, "p": payload}, ensure_ascii=False, separators=(",", ":"))
    if len(raw) <= MAX_BUTTON_VALUE:
        return raw
    packed = _ZIP + base64.b64encode(zlib.compress(raw.encode("utf-8"), 9)).decode("ascii")
    if len(packed) <= MAX_BUTTON_VALUE:
        return packed
    # Never a cut command: pressing this explains, and shows the chosen record's number.
    pick = payload.get("pick") if isinstance(payload.get("pick"), dict) else {}
    return json.dumps({"a": TOO_LONG, "p": {"pick": pick}}, separators=(",", ":"))


def decode_button(value: str) -> tuple[str, dict[str, Any]] | None:
    """The (action, payload) a button value carries, or None when it is not ours."""
    try:
        if value.startswith(_ZIP):
            value = zlib.decompress(base64.b64decode(value[len(_ZIP) :])).decode("utf-8")
        data = json.loads(value)
    except (ValueError, zlib.error):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        return None
    payload = data.get("p")
    return data["a"], payload if isinstance(payload, dict) else {}


def _chunks(lines: list[str], limit: int = MAX_SECTION) -> list[str]:
    """Lines joined into texts of at most `limit` characters; a too-long line is cut in pieces."""
    out: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _sections(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in _chunks(text.split("\n"))
    ]


def _button(label: str, value: str, action_id: str, style: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(label, MAX_BUTTON_LABEL), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def content_blocks(reply: Reply, *, image_file_id: str | None = None) -> list[dict[str, Any]]:
    """Every element of the reply except its buttons, as blocks."""
    blocks: list[dict[str, Any]] = []
    if reply.title:
        if len(reply.title) <= MAX_HEADER:
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": reply.title}})
        else:
            blocks += _sections(f"*{escape(reply.title)}*")
    if reply.text:
        prefix = ":warning: " if reply.status == "error" else ""
        blocks += _sections(prefix + escape(reply.text))
    texts = [f"*{escape(f.label)}*\n{escape(f.value)}" for f in reply.fields]
    short = [x for x in texts if len(x) <= MAX_FIELD]
    for i in range(0, len(short), MAX_FIELDS):
        blocks.append(
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": x} for x in short[i : i + MAX_FIELDS]],
            }
        )
    for x in texts:
        if len(x) > MAX_FIELD:
            blocks += _sections(x)
    if reply.items:
        blocks += _sections("\n".join(f"• {escape(item)}" for item in reply.items))
    for section in reply.sections:
        lines = [f"*{escape(section.title)}*", *(f"• {escape(x)}" for x in section.lines)]
        blocks += _sections("\n".join(lines))
    if reply.image:
        if image_file_id is None:
            raise ValueError("a reply with an image needs the uploaded file's id")
        blocks.append(
            {
                "type": "image",
                "slack_file": {"id": image_file_id},
                "alt_text": _clip(reply.title or reply.text or "chart", 2_000),
            }
        )
    return blocks


def button_blocks(
    buttons: list[Button], *, share: dict[str, Any] | None, share_label: str
) -> list[dict[str, Any]]:
    """The buttons (and the share button) as actions blocks of at most 25 elements."""
    elements = [_button(b.label, encode_button(b.action, b.payload), "", b.style) for b in buttons]
    if share is not None:
        elements.append(_button(share_label, encode_button(SHARE, share), "", None))
    for i, element in enumerate(elements):
        element["action_id"] = f"{ACTION_PREFIX}{i}"
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]


def fallback(reply: Reply) -> str:
    """The notification text of a reply (its title or the start of its text)."""
    return _clip(
        reply.title or reply.text or (reply.items[0] if reply.items else "crmbot"), MAX_FALLBACK
    )


def render(
    reply: Reply,
    t: Translator,
    *,
    share: dict[str, Any] | None = None,
    image_file_id: str | None = None,
) -> list[Message]:
    """The reply as one or more messages of at most 50 blocks; buttons come last.

    `share` is the command payload that produced a shareable reply: it becomes a
    "Share in channel" button that posts the same answer for everyone.
    """
    blocks = content_blocks(reply, image_file_id=image_file_id)
    blocks += button_blocks(
        reply.buttons,
        share=share if reply.shareable else None,
        share_label=t("slack.share"),
    )
    if not blocks:
        blocks = _sections(escape(t("slack.empty")))
    messages = [
        Message(fallback(reply), blocks[i : i + MAX_BLOCKS])
        for i in range(0, len(blocks), MAX_BLOCKS)
    ]
    return messages
