"""What a verb handler receives: the context, the command, the parsed verb and the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_core.context import Ctx
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Command

if TYPE_CHECKING:
    # Only for the type: importing the note index at run time would load Chroma for every verb.
    from retrieval.runtime import NoteIndex

NoteOpener = Callable[[], "NoteIndex"]


@dataclass
class Request:
    """One matched command on its way through a handler."""

    ctx: Ctx
    command: Command
    verb: Verb
    args: str
    text: str
    t: Translator
    registry: Registry
    # Opens the process's note index; None where there is none (ask then says so).
    notes: NoteOpener | None = None
