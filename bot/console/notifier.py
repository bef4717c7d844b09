"""The console's Notifier: prints reminders, digests and alerts as text (development, tests)."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import TextIO

from bot.console.render import render_text
from handlers.notify import Address
from handlers.reply import Reply


class ConsoleNotifier:
    """Writes each message to a stream, headed by its address; message ids count up."""

    platform = "console"

    def __init__(
        self, out: TextIO | None = None, *, write: Callable[[str], None] | None = None
    ) -> None:
        self.out = out
        # The console session's own writer, which keeps pings out of a reply being printed.
        self.write = write
        self._ids = itertools.count(1)

    async def send(self, address: Address, reply: Reply) -> str:
        """Print the reply; never fails."""
        who = f"#{address.target}" if address.channel else f"@{address.target}"
        text = f"--- to {who} ---\n{render_text(reply)}\n\n"
        if self.write is not None:
            self.write(text)
        else:
            out = self.out or sys.stdout
            out.write(text)
            out.flush()
        return str(next(self._ids))
