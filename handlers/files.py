"""Files sent with a note (a captioned photo, document or voice note), kept as its link.

The platform keeps the file; the note keeps a reference to it in `Interaction.link`:
`<platform>-file:<photo|voice|document>/<file id>[?name=<file name>]`. A Slack permalink or
any other link is not a file reference.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote

from handlers.i18n import Translator
from handlers.reply import Command, File, Photo

# The link column holds 500 characters; a long file name is shortened to fit.
MAX_LINK = 500
_REF = re.compile(
    r"^(?P<platform>[a-z]+)-file:(?P<kind>photo|voice|document)/(?P<id>[^?\s]+)(?:\?(?P<q>.*))?$"
)


def file_link(command: Command) -> str | None:
    """The reference to the file sent with a command, if it carries one."""
    photo = command.attached(Photo)
    if photo is not None:
        return f"{command.platform}-file:photo/{quote(photo.file_id, safe='')}"
    doc = command.attached(File)
    if doc is None:
        return None
    voice = doc.name is None and (doc.mime_type or "").startswith("audio/")
    link = f"{command.platform}-file:{'voice' if voice else 'document'}/"
    link += quote(doc.file_id, safe="")
    if doc.name:
        room = MAX_LINK - len(link) - len("?name=")
        name = doc.name
        # Shortened by characters, not escaped bytes, so no escape is cut in half.
        while name and len(quote(name, safe="")) > room:
            name = name[:-1]
        if name:
            link += f"?name={quote(name, safe='')}"
    return link[:MAX_LINK]


def file_label(t: Translator, link: str | None) -> str | None:
    """`photo (Telegram)`, `document report.pdf (Telegram)`: what a note's link holds, if a file."""
    found = _REF.match(link or "")
    if found is None:
        return None
    kind = found.group("kind")
    names = parse_qs(found.group("q") or "").get("name")
    name = names[0] if names else ""
    label = t(f"file.{kind}", name=name, platform=found.group("platform").capitalize())
    return " ".join(label.split())
