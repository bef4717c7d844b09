"""What a verb handler receives: the context, the command, the parsed verb and the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_core.context import Ctx
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Command


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
    # Opens the process's note index (retrieval.runtime.NoteIndex); None where there is none.
    notes: Callable[[], Any] | None = None
