"""A person at the console: typed lines, numbers that press buttons, forms as prompts."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from bot.console.forms import FormPrompts
from bot.console.render import render_text
from handlers.dispatcher import Dispatcher
from handlers.gateway import Gateway
from handlers.reply import Button, Command, Reply

PLATFORM = "console"
QUIT = {"quit", "exit", "退出", ":q"}


class ConsoleSession:
    """One person at the terminal: typed lines and numbers that press the last buttons."""

    def __init__(self, dispatcher: Dispatcher, user_id: int) -> None:
        self.dispatcher = dispatcher
        self.gateway = Gateway(dispatcher, PLATFORM)
        self.user_id = user_id
        self.buttons: list[Button] = []
        # The form being filled in, prompt by prompt, if any.
        self.form: FormPrompts | None = None
        # Replies and background pings take turns on the terminal.
        self._lock = threading.Lock()
        self._out: TextIO | None = None
        # The prompt showing while the person types, if any (a ping reprints it).
        self._prompt: str | None = None

    def notice(self, text: str) -> None:
        """Print a background message (a reminder) between prompts, never inside a reply."""
        with self._lock:
            out = self._out or sys.stdout
            if self._prompt is not None:
                out.write("\n")
            out.write(text)
            if self._prompt is not None:
                out.write(self._prompt)
            out.flush()

    def handle(self, line: str) -> Reply:
        """Dispatch a typed line; a bare number presses that button of the previous reply."""
        line = line.strip()
        if self.form is not None:
            reply = self.form.answer(line)
            if self.form.finished:
                self.form = None
            self.buttons = list(reply.buttons)
            return reply
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            button = self.buttons[int(line) - 1]
            command = Command(self.user_id, PLATFORM, action=button.action, payload=button.payload)
        else:
            command = Command(self.user_id, PLATFORM, text=line)
        reply = self.dispatcher.dispatch(command)
        if reply.form is not None:
            self.form = FormPrompts(self.gateway, self.user_id, reply.form)
            reply = self.form.first()
        self.buttons = list(reply.buttons)
        return reply

    def loop(self, stdin: TextIO, stdout: TextIO, *, prompt: str = "crm> ") -> None:
        """Read lines until end of input or `quit`."""
        interactive = stdin.isatty()
        self._out = stdout
        while True:
            if interactive:
                with self._lock:
                    stdout.write(prompt)
                    stdout.flush()
                    self._prompt = prompt
            line = stdin.readline()
            with self._lock:
                self._prompt = None
            if not line or line.strip().lower() in QUIT:
                break
            if not line.strip() and self.form is None:
                continue
            with self._lock:
                stdout.write(render_text(self.handle(line)) + "\n\n")
                stdout.flush()
