"""The service desk's chat events, platform-neutral: a message in a customer channel or a
ticket's thread, a staff member's reaction, a press on a CSAT button, a command from someone
with no account. Adapters translate the platform's event into these calls and carry out the
returned DeskAction; every decision is made here and in crm_core."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from crm_core.context import Ctx
from crm_core.db import retried, retrying, unit_of_work
from crm_core.errors import CrmError
from crm_core.models import Ticket, TicketStatus, User
from crm_core.services import csat, desk
from crm_core.settings import Settings
from handlers.dispatcher import Dispatcher
from handlers.i18n import Translator
from handlers.reply import Button, Reply

log = logging.getLogger(__name__)
CSAT_ACTION = "csat"


@dataclass(frozen=True)
class ChatMessage:
    """A message as the desk needs it, on any platform."""

    platform: str
    chat_id: str
    # Names the message on its platform ("slack:T1:C1:1700.000100", "telegram:-100:45").
    key: str
    author_id: str
    author_name: str
    text: str
    link: str | None = None
    # The key of the message this one answers (Slack thread root, Telegram replied-to).
    thread_key: str | None = None
    # Where to answer the author: "C1:1700.000100" (a thread), "-100123:45" (a reply).
    where: str = ""


@dataclass
class DeskAction:
    """What the adapter does next: a public line in the thread, the status reaction on the
    source message, a private note to the staff member who acted."""

    ticket_id: int | None = None
    thread_reply: Reply | None = None
    # The ticket's source message key, and the reaction that shows its status there.
    source_key: str | None = None
    mirror: str | None = None
    # The other status reactions, to take off.
    unmirror: list[str] = field(default_factory=list)
    private: Reply | None = None


class Desk:
    """The service desk's chat side for one platform."""

    def __init__(self, dispatcher: Dispatcher, platform: str) -> None:
        self.dispatcher = dispatcher
        self.platform = platform
        self.session_factory: sessionmaker[Session] = dispatcher.session_factory
        self.clock: Callable[[], datetime] = dispatcher.clock

    @property
    def settings(self) -> Settings:
        """The configured settings (the defaults when none were given)."""
        return self.dispatcher.settings or Settings.model_construct()

    @property
    def reactions(self) -> desk.Reactions:
        """The reaction mapping in force."""
        return desk.reactions(self.settings.ticket_reactions)

    @property
    def _opened_key(self) -> str:
        """The ticket acknowledgement: Slack has threads; elsewhere a reply to the message is
        what joins a ticket, so the customer is told that instead."""
        return "desk.opened_thread" if self.platform == "slack" else "desk.opened_reply"

    def _public_t(self) -> Translator:
        # What customers read: the deployment's language (they have no account to set one).
        return Translator(self.settings.default_locale)

    def _ctx(self, session: Session, user: User) -> Ctx:
        return self.dispatcher.context(session, user)

    def _mirror(self, action: DeskAction, ticket: Ticket) -> DeskAction:
        table = self.reactions
        if ticket.source_key and ticket.source_key.startswith(f"{self.platform}:"):
            action.source_key = ticket.source_key
            action.mirror = table.mirror(self.platform, ticket.status)
            action.unmirror = [r for r in table.mirrors(self.platform) if r != action.mirror]
        return action

    # -- messages ------------------------------------------------------------------------------

    def is_customer_chat(self, chat_id: str) -> bool:
        """Whether a chat is linked to a customer (people there without an account are asked
        only to write their question)."""
        with self.session_factory() as session:
            return desk.channel_at(session, self.platform, chat_id) is not None

    def concerns(self, chat_id: str, thread_key: str | None) -> bool:
        """Whether a message there is the desk's: in a ticket's thread, or in a customer
        channel (two indexed reads; the adapter asks before looking the author up)."""
        with self.session_factory() as session:
            if thread_key is not None:
                return desk.ticket_at(session, thread_key) is not None
            return desk.channel_at(session, self.platform, chat_id) is not None

    @retried
    def message(self, msg: ChatMessage) -> DeskAction | None:
        """A message in a chat crmbot sees: logged on the ticket whose thread it is in, or made a
        ticket when a customer writes in an auto channel; None when it is none of those."""
        now = self.clock()
        try:
            with unit_of_work(self.session_factory) as session:
                author = desk.staff(session, self.platform, msg.author_id)
                if msg.thread_key is not None:
                    ticket = desk.ticket_at(session, msg.thread_key)
                    if ticket is None:
                        return None
                    ctx = self._ctx(session, author) if author is not None else None
                    kind = desk.thread_reply(
                        session,
                        ticket,
                        actor=author,
                        author=author.name if author else msg.author_name,
                        text=msg.text,
                        now=now,
                        ctx=ctx,
                        key=msg.key,
                    )
                    action = DeskAction(ticket_id=ticket.id)
                    return self._mirror(action, ticket) if kind == "resume" else action
                if author is not None:
                    return None
                channel = desk.channel_at(session, self.platform, msg.chat_id)
                if channel is None or not channel.auto:
                    return None
                ticket, created = desk.open_in_channel(
                    session,
                    channel,
                    requester=desk.Requester(msg.author_id, msg.author_name, msg.where),
                    text=msg.text,
                    key=msg.key,
                    link=msg.link,
                    source=self.platform,
                    now=now,
                )
                if not created:
                    return None
                t = self._public_t()
                said = Reply(text=t(self._opened_key, id=ticket.id), ephemeral=False)
                return self._mirror(DeskAction(ticket.id, thread_reply=said), ticket)
        except CrmError as exc:
            # An empty or unreadable message: nothing to log, nobody to tell.
            log.info("a %s message made no ticket: %s", self.platform, exc.key)
            return None

    # -- reactions -----------------------------------------------------------------------------

    def remember(self, ticket_id: int, key: str) -> None:
        """Keep the bot's acknowledgement of a ticket as the ticket's message (replies join)."""
        with unit_of_work(self.session_factory) as session:
            desk.remember_message(session, ticket_id, key)

    def reaction_action(self, reactor_id: str, reaction: str) -> str | None:
        """What a reaction means when a staff member gives it ("ticket", a status), else None."""
        action = self.reactions.action(self.platform, reaction)
        if action is None:
            return None
        with self.session_factory() as session:
            return action if desk.staff(session, self.platform, reactor_id) else None

    @retried
    def react_ticket(self, reactor_id: str, msg: ChatMessage) -> DeskAction:
        """🎫 by staff on a message: a ticket for the channel's customer (once per message)."""
        with unit_of_work(self.session_factory) as session:
            user = desk.staff(session, self.platform, reactor_id)
            if user is None:
                return DeskAction()
            ctx = self._ctx(session, user)
            t = Translator(user.locale)
            channel = desk.channel_at(session, self.platform, msg.chat_id)
            if channel is None:
                return DeskAction(private=Reply(text=t("desk.react_unlinked"), status="info"))
            try:
                ticket, created = desk.open_in_channel(
                    session,
                    channel,
                    requester=desk.Requester(msg.author_id, msg.author_name, msg.where),
                    text=msg.text,
                    key=msg.key,
                    link=msg.link,
                    source=self.platform,
                    now=ctx.now(),
                    ctx=ctx,
                )
            except CrmError as exc:
                return DeskAction(
                    private=Reply(text=self.dispatcher.message(exc, t), status="error")
                )
            if not created:
                note = Reply(text=t("ticket.already", id=ticket.id), status="info")
                return DeskAction(ticket.id, private=note)
            note = Reply(
                text=t("desk.react_opened", id=ticket.id, customer=channel.customer.name),
                buttons=[Button.run(t("button.open"), f"ticket #{ticket.id}")],
            )
            said = Reply(text=self._public_t()(self._opened_key, id=ticket.id), ephemeral=False)
            return self._mirror(DeskAction(ticket.id, thread_reply=said, private=note), ticket)

    @retried
    def react_status(self, reactor_id: str, key: str, action: str) -> DeskAction | None:
        """A status reaction by staff on a ticket's source message: the ticket follows."""
        with unit_of_work(self.session_factory) as session:
            user = desk.staff(session, self.platform, reactor_id)
            if user is None:
                return None
            found = desk.ticket_at(session, key)
            if found is None:
                return None
            ctx = self._ctx(session, user)
            t = Translator(user.locale)
            try:
                ticket, changed = desk.react(ctx, found.id, action)
            except CrmError as exc:
                return DeskAction(
                    found.id, private=Reply(text=self.dispatcher.message(exc, t), status="error")
                )
            if not changed:
                return DeskAction(ticket.id)
            status = t(f"ticket.status.{TicketStatus(ticket.status).value}")
            note = Reply(text=t("desk.react_status", id=ticket.id, status=status))
            return self._mirror(DeskAction(ticket.id, private=note), ticket)

    # -- people with no account ----------------------------------------------------------------

    def outsider(self) -> Reply:
        """The one answer a person with no account gets to any command: how to open a ticket."""
        return Reply(text=self._public_t()("desk.outsider"), status="info")

    # -- CSAT ----------------------------------------------------------------------------------

    def question(self, q: csat.Question) -> Reply:
        """The CSAT question with its five buttons (anyone can press; only the requester counts)."""
        t = self._public_t()
        return Reply(
            text=t("csat.question", id=q.ticket_id, subject=q.subject),
            buttons=[
                Button(str(n), CSAT_ACTION, {"q": q.id, "s": n}, "primary" if n == 5 else None)
                for n in range(1, 6)
            ],
            ephemeral=False,
        )

    def answer_csat(self, presser_id: str, payload: dict[str, object]) -> Reply:
        """A press on a CSAT button: stored once, answered in words either way."""
        t = self._public_t()
        request_id, score = payload.get("q"), payload.get("s")
        if not isinstance(request_id, int) or not isinstance(score, int):
            return Reply(text=t("csat.unknown"), status="error")

        def once() -> csat.Answer:
            with unit_of_work(self.session_factory) as session:
                return csat.answer(
                    session, request_id, self.platform, presser_id, score, self.clock()
                )

        got = retrying(once)
        if got.outcome == "thanks":
            return Reply(text=t("csat.thanks", score=got.score))
        if got.outcome == "already":
            return Reply(text=t("csat.already", score=got.score or "?"), status="info")
        return Reply(text=t(f"csat.{got.outcome}"), status="info")
