"""The synchronous side of the Telegram adapter: database work run in worker threads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import desc, func, select

from bot.telegram.render import Outgoing, render
from crm_core.access import visible_customer_ids
from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import CrmError
from crm_core.models import Customer, Interaction, ProcessedDelivery, User
from crm_core.services.button_tokens import issue_button_token, redeem_button_token
from crm_core.services.customers import list_customers, search_customers
from crm_core.services.deliveries import claim_delivery
from crm_core.services.followups import add_follow_up
from crm_core.services.link_codes import linked_user, redeem_link_code
from handlers.dispatcher import Dispatcher
from handlers.i18n import Translator
from handlers.reply import Button, Command, Reply

log = logging.getLogger(__name__)
PLATFORM = "telegram"
# callback_data prefixes: a Reply's buttons, and the steps of a conversation.
REPLY_BUTTON = "b:"
STEP_BUTTON = "c:"


@dataclass(frozen=True)
class Who:
    """The staff member behind a Telegram account, as the adapter needs them."""

    user_id: int
    locale: str
    name: str
    timezone: str

    @property
    def t(self) -> Translator:
        """Their translator."""
        return Translator(self.locale)


def _wrote_key(chat_id: int, message_id: int) -> str:
    return f"wrote:{chat_id}:{message_id}"


def locale_of(language_code: str | None) -> str:
    """A Telegram client's language as one of ours (for people not linked yet)."""
    return "zh" if (language_code or "").lower().startswith("zh") else "en"


class Core:
    """Lookups, dispatch, tokens and linking: each call is one or more units of work."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.session_factory = dispatcher.session_factory
        self.clock: Callable[[], datetime] = dispatcher.clock

    def _ctx(self, session: Any, user: User) -> Ctx:
        d = self.dispatcher
        return Ctx(session, user, d.pipeline, d.default_currency, d.clock)

    def who(self, telegram_user_id: int) -> Who | None:
        """The active staff member linked to this Telegram account, if any."""
        with unit_of_work(self.session_factory) as session:
            user = linked_user(session, PLATFORM, str(telegram_user_id))
            if user is None:
                return None
            return Who(user.id, user.locale, user.name, user.timezone)

    def claim(self, update_id: int | str) -> bool:
        """Record an update handled outside the dispatcher; False when it was seen before."""
        with unit_of_work(self.session_factory) as session:
            return claim_delivery(session, PLATFORM, str(update_id), now=self.clock())

    def mark_wrote(self, chat_id: int, message_id: int) -> None:
        """Remember that a message's command changed the CRM (so an edit of it will not)."""
        self.claim(_wrote_key(chat_id, message_id))

    def wrote(self, chat_id: int, message_id: int) -> bool:
        """Whether a message's command changed the CRM (kept as long as deliveries are)."""
        with unit_of_work(self.session_factory) as session:
            found = session.scalar(
                select(ProcessedDelivery.id).where(
                    ProcessedDelivery.platform == PLATFORM,
                    ProcessedDelivery.delivery_id == _wrote_key(chat_id, message_id),
                )
            )
            return found is not None

    def render(self, who: Who | None, reply: Reply, prefix: str = REPLY_BUTTON) -> list[Outgoing]:
        """The reply as messages; buttons get tokens issued to `who` (or are written out)."""
        if who is None or not reply.buttons:
            return render(reply, None)
        with unit_of_work(self.session_factory) as session:
            now = self.clock()

            def data_for(button: Button) -> str:
                token = issue_button_token(
                    session,
                    user_id=who.user_id,
                    action=button.action,
                    payload=button.payload,
                    now=now,
                )
                return prefix + token

            return render(reply, data_for)

    def run(self, who: Who, command: Command) -> tuple[Reply, list[Outgoing]]:
        """Dispatch a command and render its reply."""
        reply = self.dispatcher.dispatch(command)
        if reply.status == "duplicate":
            return reply, []
        return reply, self.render(who, reply)

    def redeem(self, who: Who, token: str) -> tuple[str, dict[str, Any]] | None:
        """The action behind a pressed button; None when expired, forged or someone else's."""
        with unit_of_work(self.session_factory) as session:
            return redeem_button_token(session, token, user_id=who.user_id, now=self.clock())

    def link(self, telegram_user_id: int, code: str, update_id: int, locale: str) -> str | None:
        """Redeem a link code; the reply text, or None for a repeated update."""
        # The claim commits on its own: the wrong-code counter writes in a transaction of its
        # own, which must not wait behind an open write (SQLite allows one writer at a time).
        if not self.claim(update_id):
            return None
        try:
            with unit_of_work(self.session_factory) as session:
                user = redeem_link_code(
                    session, PLATFORM, str(telegram_user_id), code, now=self.clock()
                )
                return Translator(user.locale)(
                    "telegram.link_done", name=user.name, handle=user.external_id
                )
        except CrmError as exc:
            return Translator(locale)(exc.key, **exc.params)

    def recent_customers(self, who: Who, limit: int = 6) -> list[tuple[int, str]]:
        """Customers this person logged most recently, topped up with the first of the rest."""
        with unit_of_work(self.session_factory) as session:
            user = session.get(User, who.user_id)
            if user is None:
                return []
            last = func.max(Interaction.occurred_at)
            rows = session.execute(
                select(Customer.id, Customer.name)
                .join(Interaction, Interaction.customer_id == Customer.id)
                .where(
                    Interaction.author_id == user.id,
                    Interaction.deleted_at.is_(None),
                    Customer.id.in_(visible_customer_ids(user)),
                )
                .group_by(Customer.id, Customer.name)
                .order_by(desc(last))
                .limit(limit)
            ).all()
            found = [(int(r[0]), str(r[1])) for r in rows]
            if len(found) < limit:
                seen = {cid for cid, _ in found}
                page, _ = list_customers(self._ctx(session, user), limit=limit * 2)
                found += [(c.id, c.name) for c in page if c.id not in seen]
            return found[:limit]

    def search(self, who: Who, query: str, limit: int = 8) -> list[tuple[int, str]]:
        """Visible customers matching a typed name (empty when nothing or nothing readable)."""
        with unit_of_work(self.session_factory) as session:
            user = session.get(User, who.user_id)
            if user is None:
                return []
            try:
                hits = search_customers(self._ctx(session, user), query, limit=limit)
            except CrmError:
                return []
            return [(c.id, c.name) for c in hits]

    def follow_up(self, who: Who, customer_id: int, day: date, text: str) -> str | None:
        """Create the follow-up reminder; None on success, else the reason in their words."""
        try:
            with unit_of_work(self.session_factory) as session:
                user = session.get(User, who.user_id)
                customer = session.get(Customer, customer_id)
                if user is None or customer is None:
                    return who.t("error.customer_ref_not_found", id=customer_id)
                add_follow_up(self._ctx(session, user), customer, day, text)
        except CrmError as exc:
            t = who.t
            if t.has(exc.key):
                return t(exc.key, **exc.params)
            return t("telegram.follow_up_failed")
        return None
