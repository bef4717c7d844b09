"""The console adapter: Reply as text, a REPL over the dispatcher, forms as prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.console.render import render_text, terminal_safe

if TYPE_CHECKING:
    from bot.console.session import PLATFORM, ConsoleSession

__all__ = ["PLATFORM", "ConsoleSession", "render_text", "terminal_safe"]


def __getattr__(name: str) -> Any:
    # The session pulls in the dispatcher and SQLAlchemy: `crmbot --help` needs only render.
    if name in ("PLATFORM", "ConsoleSession"):
        from bot.console import session

        return getattr(session, name)
    raise AttributeError(name)
