"""Reply -> Telegram HTML messages and inline keyboards (pure: no network, no database)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from handlers.reply import RUN, Button, Reply

# Telegram's limit on one message's text, counted in UTF-16 code units.
LIMIT = 4096
# Two buttons share a row only when both labels fit half a phone screen.
SHORT_LABEL = 16
_CODE = re.compile(r"`([^`\n]+)`")

# A line is a list of segments: raw (unescaped) text and the tag that wraps it, if any.
Segment = tuple[str, str | None]
Line = list[Segment]
KeyboardRows = list[list[tuple[str, str]]]


@dataclass
class Outgoing:
    """One Telegram message: HTML text (or a photo) and the keyboard under it."""

    html: str = ""
    photo: bytes | None = None
    # A photo's caption (plain text, at most 1,024 characters): the reply's title.
    caption: str = ""
    keyboard: KeyboardRows = field(default_factory=list)


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def to_html(line: Line) -> str:
    """A line as balanced HTML: every tag opens and closes inside the line."""
    return "".join(f"<{tag}>{_escape(raw)}</{tag}>" if tag else _escape(raw) for raw, tag in line)


def _prose(text: str, bold: bool = False) -> Line:
    """Text where `backticked` parts become code (as the catalogues write commands)."""
    if bold:
        return [(text, "b")]
    segments: Line = []
    pos = 0
    for m in _CODE.finditer(text):
        if m.start() > pos:
            segments.append((text[pos : m.start()], None))
        segments.append((m.group(1), "code"))
        pos = m.end()
    if pos < len(text):
        segments.append((text[pos:], None))
    return segments


def _cut(raw: str, room: int) -> int:
    """How many leading characters of `raw` fit in `room` units once escaped."""
    used = 0
    for i, ch in enumerate(raw):
        used += units(_escape(ch))
        if used > room:
            # Prefer a word boundary in the second half of the piece.
            space = raw.rfind(" ", 0, i)
            return space + 1 if space > i // 2 else max(i, 1)
    return len(raw)


def split_line(line: Line, limit: int = LIMIT) -> list[Line]:
    """A line too long for one message, cut into lines that each fit (tags re-opened)."""
    if units(to_html(line)) <= limit:
        return [line]
    out: list[Line] = []
    current: Line = []
    size = 0
    for raw, tag in line:
        overhead = 2 * len(tag) + 5 if tag else 0
        rest = raw
        while rest:
            room = limit - size - overhead
            if room < 8 and current:
                out.append(current)
                current, size = [], 0
                continue
            n = _cut(rest, room)
            piece, rest = rest[:n], rest[n:]
            current.append((piece, tag))
            size += units(_escape(piece)) + overhead
    if current:
        out.append(current)
    return out


def reply_lines(reply: Reply) -> list[Line]:
    """Every text element of a Reply as lines; titles bold, labels bold."""
    lines: list[Line] = []
    if reply.title:
        lines.append(_prose(reply.title, bold=True))
    if reply.text:
        lines += [_prose(t) for t in reply.text.split("\n")]
    lines += [[(f.label, "b"), (f": {f.value}", None)] for f in reply.fields]
    lines += [[("• ", None), *_prose(item)] for item in reply.items]
    for section in reply.sections:
        lines.append(_prose(section.title, bold=True))
        lines += [[("• ", None), *_prose(item)] for item in section.lines]
    return lines


def chunks(lines: list[Line], limit: int = LIMIT) -> list[str]:
    """Lines packed into messages of at most `limit` units, split only between lines."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for part in split_line(line, limit):
            text = to_html(part)
            extra = units(text) + (1 if current else 0)
            if current and size + extra > limit:
                messages.append("\n".join(current))
                current, size = [], 0
                extra = units(text)
            current.append(text)
            size += extra
    if current:
        messages.append("\n".join(current))
    return messages


def keyboard(buttons: list[Button], data_for: Callable[[Button], str]) -> KeyboardRows:
    """Buttons as rows: two short labels share a row, longer ones get their own."""
    rows: KeyboardRows = []
    for button in buttons:
        cell = (button.label, data_for(button))
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and len(last[0][0]) <= SHORT_LABEL
            and len(button.label) <= SHORT_LABEL
        ):
            last.append(cell)
        else:
            rows.append([cell])
    return rows


def button_hint(button: Button) -> Line:
    """A button written out as text, for chats where nobody can press it (a group notice)."""
    if button.action == RUN and isinstance(button.payload.get("text"), str):
        return [("▸ ", None), (button.label, "b"), (": ", None), (button.payload["text"], "code")]
    return [("▸ ", None), (button.label, "b")]


def render(
    reply: Reply,
    data_for: Callable[[Button], str] | None,
    *,
    limit: int = LIMIT,
) -> list[Outgoing]:
    """The messages that show `reply`: a photo first, text chunks, the keyboard on the last.

    With `data_for` None the buttons cannot be pressed and are written out as text lines.
    """
    out: list[Outgoing] = []
    if reply.image:
        out.append(Outgoing(photo=reply.image, caption=(reply.title or "")[:1024]))
    lines = reply_lines(reply)
    if data_for is None:
        lines += [button_hint(b) for b in reply.buttons]
    texts = chunks(lines, limit)
    out += [Outgoing(html=text) for text in texts]
    if data_for is not None and reply.buttons:
        rows = keyboard(reply.buttons, data_for)
        if not out:
            # A keyboard needs a message to hang from.
            out.append(Outgoing(html="⬇"))
        out[-1].keyboard = rows
    return out
