"""Reply as plain text: every element, buttons numbered from 1."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from handlers.reply import Reply

# What a terminal obeys instead of showing: C0 controls but newline and tab, DEL, and C1 (with
# ESC and CSI gone, an escape sequence in a note is inert text and cannot clear the screen).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates reorder what follows (a name reading backwards);
# they are shown as their code points so the reader sees that they are there.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """Text as it may be written to a terminal: controls dropped, bidi controls made visible."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", _CONTROLS.sub("", text))


def render_text(reply: Reply, *, image_dir: Path | None = None) -> str:
    """Every element of a Reply as plain text; buttons numbered from 1."""
    out: list[str] = []
    if reply.title:
        out += [reply.title, "=" * min(len(reply.title) * 2, 60)]
    if reply.text:
        out.append(reply.text)
    width = max((len(f.label) for f in reply.fields), default=0)
    out += [f"{f.label.ljust(width)} : {f.value}" for f in reply.fields]
    out += [f"  • {item}" for item in reply.items]
    for section in reply.sections:
        out.append(f"{section.title}:")
        out += [f"  • {line}" for line in section.lines]
    if reply.image:
        folder = image_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crmbot-{hashlib.sha256(reply.image).hexdigest()[:12]}.png"
        path.write_bytes(reply.image)
        out.append(f"[image: {path}]")
    if reply.form is not None:
        # Only where no prompts can follow (a notifier, `crmbot run`): name the form.
        out.append(f"[form: {reply.form.name}]")
    if reply.buttons:
        out.append("  ".join(f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1)))
    # Everything above may hold what a person typed (a note, a name) and goes to a terminal.
    return terminal_safe("\n".join(out))
