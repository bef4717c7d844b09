"""The console's Notifier: prints reminders, digests and alerts as text (development, tests)."""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from bot.console.render import render_text
from handlers.notify import Address
from handlers.reply import Reply


class ConsoleNotifier:
    """Writes each message to a stream, headed by its address; message ids count up."""

    platform = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out
        self._ids = itertools.count(1)

    async def send(self, address: Address, reply: Reply) -> str:
        """Print the reply; never fails."""
        out = self.out or sys.stdout
        who = f"#{address.target}" if address.channel else f"@{address.target}"
        out.write(f"--- to {who} ---\n{render_text(reply)}\n\n")
        out.flush()
        return str(next(self._ids))
