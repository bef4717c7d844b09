"""The console adapter: Reply as text, a REPL over the dispatcher, forms as prompts."""

from __future__ import annotations

from bot.console.render import render_text, terminal_safe
from bot.console.session import PLATFORM, ConsoleSession

__all__ = ["PLATFORM", "ConsoleSession", "render_text", "terminal_safe"]
