"""The synchronous side of the Telegram adapter: the gateway's calls, run in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from bot.telegram.render import Outgoing, render
from handlers.desk import CSAT_ACTION
from handlers.gateway import Gateway, Held, Person
from handlers.i18n import client_locale
from handlers.reply import Button, Command, Reply

PLATFORM = "telegram"
# callback_data prefixes: a Reply's buttons, and the steps of a conversation.
REPLY_BUTTON = "b:"
STEP_BUTTON = "c:"
# The staff member behind a Telegram account.
Who = Person
T = TypeVar("T")
# The connection the update being handled shares between its sender's look-up and its command
# (set for each update's task by `Core.holding`; worker threads get a copy of the context).
_HELD: ContextVar[Held | None] = ContextVar("crmbot_telegram_held", default=None)


def _wrote_key(chat_id: int, message_id: int) -> str:
    return f"wrote:{chat_id}:{message_id}"


def locale_of(language_code: str | None) -> str:
    """A Telegram client's language as one of ours (for people not linked yet)."""
    return client_locale(language_code)


class Core:
    """Telegram-shaped calls on the gateway: ids as Telegram sends them, replies as messages."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.clock: Callable[[], datetime] = gateway.clock

    @asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        """One update's handling: a typed command's look-up and its run share one connection."""
        held = self.gateway.hold()
        token = _HELD.set(held)
        try:
            yield
        finally:
            _HELD.reset(token)
            if held.give_back_pending():
                # Kept for a command that did not run (or the update was cancelled while a
                # worker still uses it: `close` waits for that worker to finish first).
                await asyncio.to_thread(held.close)

    def who(self, telegram_user_id: int, *, keep: bool = False) -> Who | None:
        """The active staff member linked to this Telegram account, if any. With `keep` (an
        update that goes straight to `run`) the look-up's connection stays for the command;
        otherwise it goes back to the pool here, before the update awaits anything else."""
        held = _HELD.get()
        who = None
        try:
            who = self.gateway.identify(str(telegram_user_id), held=held)
            return who
        finally:
            if held is not None and (not keep or who is None):
                held.close()

    def give_back(self) -> None:
        """Give the update's held connection back (any call but `run` takes its own: holding
        one while waiting for another could take the pool's last and wait forever)."""
        held = _HELD.get()
        if held is not None:
            held.close()

    def off_held(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` on a connection of its own, the update's held one given back first."""
        self.give_back()
        return call(*args)

    def who_if_reachable(self, telegram_user_id: int) -> Who | None:
        """`who` for the error handler: None when the database cannot answer either."""
        self.give_back()
        return self.gateway.identify_if_reachable(str(telegram_user_id))

    def claim(self, update_id: int | str) -> bool:
        """Record an update handled outside the dispatcher; False when it was seen before."""
        self.give_back()
        return self.gateway.claim(str(update_id))

    def wrote(self, chat_id: int, message_id: int) -> bool:
        """Whether a message's command changed the CRM (kept as long as deliveries are)."""
        self.give_back()
        return self.gateway.seen(_wrote_key(chat_id, message_id))

    def render(self, who: Who | None, reply: Reply, prefix: str = REPLY_BUTTON) -> list[Outgoing]:
        """The reply as messages; buttons get tokens issued to `who` (or are written out)."""
        self.give_back()
        if self._plain(who, reply):
            return self._render(who, reply, prefix, None)
        assert who is not None
        with self.gateway.issuing_tokens(who.user_id) as issue:
            return self._render(who, reply, prefix, issue)

    @staticmethod
    def _plain(who: Who | None, reply: Reply) -> bool:
        """Whether the reply's buttons need no tokens (none, CSAT ones, nobody to issue to)."""
        csat = bool(reply.buttons) and all(b.action == CSAT_ACTION for b in reply.buttons)
        return csat or who is None or not reply.buttons

    @staticmethod
    def _render(
        who: Who | None,
        reply: Reply,
        prefix: str,
        issue: Callable[[Button], str] | None,
    ) -> list[Outgoing]:
        if reply.buttons and all(b.action == CSAT_ACTION for b in reply.buttons):
            # A CSAT question: anyone may press; the desk counts only the requester's press.
            return render(reply, lambda b: f"csat:{b.payload['q']}:{b.payload['s']}")
        if who is None or not reply.buttons or issue is None:
            return render(reply, None)
        return render(reply, lambda button: prefix + issue(button))

    def run(
        self, who: Who, command: Command, *, wrote: tuple[int, int] | None = None
    ) -> tuple[Reply, list[Outgoing]]:
        """Dispatch a command and render its reply, on one connection; with `wrote` (chat and
        message id) a successful write is remembered for that message in the same go."""
        mark = _wrote_key(*wrote) if wrote is not None else None
        held = _HELD.get()
        try:
            reply, messages = self.gateway.dispatch_rendered(
                command,
                lambda reply, issue: self._render(who, reply, REPLY_BUTTON, issue),
                mark=mark,
                held=held,
            )
        finally:
            if held is not None:
                # The update's last use of it: back to the pool from this thread, while the
                # reply is sent.
                held.close()
        return reply, messages or []

    def redeem(self, who: Who, token: str) -> tuple[str, dict[str, Any]] | None:
        """The action behind a pressed button; None when expired, forged or someone else's."""
        self.give_back()
        return self.gateway.redeem_button(who.user_id, token)

    def link(self, telegram_user_id: int, code: str, update_id: int, locale: str) -> str | None:
        """Redeem a link code; the reply text, or None for a repeated update."""
        # The claim commits on its own: the wrong-code counter writes in a transaction of its
        # own, which must not wait behind an open write (SQLite allows one writer at a time).
        self.give_back()
        if not self.claim(update_id):
            return None
        found = self.gateway.redeem_link_code(str(telegram_user_id), code, locale)
        if isinstance(found, str):
            return found
        return found.t("telegram.link_done", name=found.name, handle=found.handle)

    def recent_customers(self, who: Who, limit: int = 6) -> list[tuple[int, str]]:
        """The person's recent customers (the same rule as every other picker)."""
        self.give_back()
        return [(c.id, c.name) for c in self.gateway.customer_choices(who.user_id, "", limit)]

    def search(self, who: Who, query: str, limit: int = 8) -> list[tuple[int, str]]:
        """Visible customers matching a typed name (empty when nothing or nothing readable)."""
        self.give_back()
        return [(c.id, c.name) for c in self.gateway.customer_choices(who.user_id, query, limit)]
