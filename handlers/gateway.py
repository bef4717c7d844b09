"""The one front door an adapter uses to act as a person: identity, dispatch, tokens, lookups."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from crm_core.context import Ctx
from crm_core.db import retrying, transaction, unit_of_work
from crm_core.errors import Ambiguous, CrmError, NotFound
from crm_core.models import Customer, User
from crm_core.resolve import resolve_customer
from crm_core.services.button_tokens import issue_button_token, redeem_button_token
from crm_core.services.captures import captured_note
from crm_core.services.customers import list_customers, search_customers
from crm_core.services.deliveries import claim_delivery, delivery_seen
from crm_core.services.home import home, my_recent_customers
from crm_core.services.identities import active_user_by_email, link_identity, user_for
from crm_core.services.link_codes import redeem_link_code
from crm_core.services.tickets import captured_ticket
from handlers import format as fmt
from handlers.custom import with_custom
from handlers.desk import Desk
from handlers.dispatcher import Dispatcher
from handlers.forms import Form, FormInvalid, FormRequest, Submitted, read_typed
from handlers.i18n import Translator
from handlers.reply import Button, Command, Reply

log = logging.getLogger(__name__)
_REF = re.compile(r"^#\d{1,18}$")
T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """The staff member behind a platform account, as an adapter needs them."""

    user_id: int
    locale: str
    name: str
    timezone: str
    # The staff member's handle (User.external_id), as `link` and `whoami` name them.
    handle: str = ""

    @property
    def t(self) -> Translator:
        """Their translator."""
        return Translator(self.locale)

    @classmethod
    def of(cls, user: User) -> Person:
        """The adapter's view of a staff member."""
        return cls(user.id, user.locale, user.name, user.timezone, user.external_id or "")


@dataclass(frozen=True)
class CustomerChoice:
    """A customer offered in a type-ahead or as a button."""

    id: int
    name: str
    city: str | None = None

    @property
    def label(self) -> str:
        """Name and city, as a picker shows them."""
        return " · ".join(p for p in (self.name, self.city) if p)


@dataclass
class HomeData:
    """A person's dashboard, in their words (times in their zone, stages translated)."""

    name: str
    # (when, text, customer name or None), overdue first.
    reminders: list[tuple[str, str, str | None]] = field(default_factory=list)
    # Translated stage name -> deal lines, in pipeline order.
    deals: dict[str, list[str]] = field(default_factory=dict)
    customers: list[CustomerChoice] = field(default_factory=list)


class Held:
    """One pool connection for the calls one platform event makes (its sender's look-up,
    then its command): taken at the first call, given back by `close`; calls after that take
    their own. Calls run one after another (never two at once), each in a transaction of its
    own; `close` waits for a call still using it, so it never closes it under a worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._given_back = False
        self._lock = threading.Lock()
        # The sender as the look-up on this connection read them (detached): the command
        # that follows starts from it instead of reading the same row again.
        self.user: User | None = None

    @contextmanager
    def using(self) -> Iterator[Connection]:
        """The connection for one call: the held one, or the call's own once given back."""
        with self._lock:
            if not self._given_back:
                if self._conn is None:
                    self._conn = self.engine.connect()
                yield self._conn
                return
        with self.engine.connect() as own:
            yield own

    def close(self) -> None:
        """Give the connection back to the pool (after a call still using it ends); later
        calls take their own. Blocks: call it from a worker thread."""
        self._given_back = True
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def give_back_pending(self) -> bool:
        """Stop lending the connection; whether one is still out (or in use) and needs `close`.

        Never blocks: a call that starts after this takes its own connection."""
        self._given_back = True
        return self._lock.locked() or self._conn is not None


class Gateway:
    """Everything an adapter does as a person on one platform, each call one connection."""

    def __init__(self, dispatcher: Dispatcher, platform: str) -> None:
        self.dispatcher = dispatcher
        self.platform = platform
        self.session_factory = dispatcher.session_factory
        self.clock: Callable[[], datetime] = dispatcher.clock
        # The service desk's chat events (reactions, customer channels, CSAT presses).
        self.desk = Desk(dispatcher, platform)

    @contextmanager
    def acting_as(self, user_id: int) -> Iterator[Ctx]:
        """One unit of work as an active staff member (NotFound when inactive or unknown)."""
        with unit_of_work(self.session_factory) as session:
            user = session.get(User, user_id)
            if user is None or not user.active:
                raise NotFound("error.account_inactive")
            yield self.dispatcher.context(session, user)

    # -- identity ------------------------------------------------------------------------------

    def hold(self) -> Held:
        """A connection to share among one event's calls (`identify`, `dispatch_rendered`)."""
        return Held(self._engine())

    def _engine(self) -> Engine:
        engine = self.session_factory.kw["bind"]
        assert isinstance(engine, Engine)
        return engine

    def identify(self, platform_user_id: str, *, held: Held | None = None) -> Person | None:
        """The active staff member linked to this platform account, if any (on `held`'s
        connection when given)."""
        if held is None:
            with unit_of_work(self.session_factory) as session:
                user = user_for(session, self.platform, platform_user_id)
                return Person.of(user) if user is not None else None
        with (
            held.using() as conn,
            self.session_factory(bind=conn) as session,
            transaction(session),
        ):
            user = user_for(session, self.platform, platform_user_id)
            held.user = user
            return Person.of(user) if user is not None else None

    def identify_if_reachable(self, platform_user_id: str) -> Person | None:
        """`identify` for an error handler: None, logged, when the database cannot answer."""
        try:
            return self.identify(platform_user_id)
        except SQLAlchemyError:
            log.warning("could not look up a %s account for an apology", self.platform)
            return None

    def identify_many(self, platform_user_ids: list[str]) -> dict[str, Person]:
        """The active staff members linked to these platform accounts (unlinked ones left out)."""
        out: dict[str, Person] = {}
        with unit_of_work(self.session_factory) as session:
            for pid in platform_user_ids:
                user = user_for(session, self.platform, pid)
                if user is not None:
                    out[pid] = Person.of(user)
        return out

    def link_by_email(self, platform_user_id: str, email: str) -> Person | None:
        """Link the account to the one active staff member with this email (else None)."""

        def once() -> Person | None:
            with unit_of_work(self.session_factory) as session:
                user = active_user_by_email(session, email)
                if user is None:
                    return None
                link_identity(
                    session, self.platform, platform_user_id, user, actor_label=self.platform
                )
                return Person.of(user)

        # Two workers linking at once may deadlock: the one aborted runs again whole.
        return retrying(once)

    def redeem_link_code(self, platform_user_id: str, code: str, locale: str) -> Person | str:
        """Link the account with a one-time code: the person, or why not in `locale`."""

        def once() -> Person:
            with unit_of_work(self.session_factory) as session:
                user = redeem_link_code(
                    session, self.platform, platform_user_id, code, now=self.clock()
                )
                return Person.of(user)

        try:
            # A deadlock or serialization failure rolled the redemption back (and a wrong
            # code's count, which commits only when it is written): it runs again whole, so
            # the code is used once and a guess counted once.
            return retrying(once)
        except CrmError as exc:
            return Translator(locale)(exc.key, **exc.params)

    # -- deliveries, commands and buttons ------------------------------------------------------

    def claim(self, delivery_id: str) -> bool:
        """Record a delivery handled outside the dispatcher; False when it was seen before."""
        with unit_of_work(self.session_factory) as session:
            return claim_delivery(session, self.platform, delivery_id, now=self.clock())

    def seen(self, delivery_id: str) -> bool:
        """Whether a delivery (or a marker claimed like one) was recorded before."""
        with unit_of_work(self.session_factory) as session:
            return delivery_seen(session, self.platform, delivery_id)

    def dispatch(self, command: Command) -> Reply:
        """Run a command (Command in, Reply out, never an exception)."""
        return self.dispatcher.dispatch(command)

    def dispatch_as(
        self, platform_user_id: str, command: Callable[[int], Command]
    ) -> tuple[Person, Reply] | None:
        """Identify the sender and run `command(their user id)` in one unit of work (one
        connection from the pool); None, having run nothing, when nobody active is linked."""
        engine = self.session_factory.kw["bind"]
        assert isinstance(engine, Engine)
        # Bound to one connection: a refused part's rollback inside the command does not hand
        # it back to the pool, so claiming the delivery again after it takes no second one.
        with engine.connect() as conn, self.session_factory(bind=conn) as session:
            user = user_for(session, self.platform, platform_user_id)
            if user is None:
                return None
            person = Person.of(user)
            return person, self.dispatcher.dispatch(command(user.id), session=session)

    def dispatch_rendered(
        self,
        command: Command,
        render: Callable[[Reply, Callable[[Button], str]], T],
        *,
        mark: str | None = None,
        held: Held | None = None,
    ) -> tuple[Reply, T | None]:
        """Run a command, then render its reply with button tokens issued to its sender and,
        for an ok reply that is no form, claim the marker `mark`: all on one connection from
        the pool (`held`'s when given). A duplicate delivery renders nothing (None)."""
        lent = held.using() if held is not None else self._engine().connect()
        # The session commits the command and then the tokens on this one connection.
        with lent as conn, self.session_factory(bind=conn) as session:
            sender = held.user if held is not None else None
            if sender is not None and sender.id == command.user_id:
                # Read by the look-up just before, on this connection: the dispatcher's
                # session.get finds it (its checks run on it) without reading it again.
                # Kept referenced: the session's identity map holds objects weakly.
                sender = session.merge(sender, load=False)
            reply = self.dispatcher.dispatch(command, session=session)
            if reply.status == "duplicate":
                return reply, None
            with transaction(session):
                now = self.clock()

                def issue(button: Button) -> str:
                    return issue_button_token(
                        session,
                        user_id=command.user_id,
                        action=button.action,
                        payload=button.payload,
                        now=now,
                    )

                out = render(reply, issue)
                if mark is not None and reply.status == "ok" and reply.form is None:
                    claim_delivery(session, self.platform, mark, now=now)
            return reply, out

    @contextmanager
    def issuing_tokens(self, user_id: int) -> Iterator[Callable[[Button], str]]:
        """A function storing each button's action for this person and returning its token."""
        with unit_of_work(self.session_factory) as session:
            now = self.clock()

            def issue(button: Button) -> str:
                return issue_button_token(
                    session, user_id=user_id, action=button.action, payload=button.payload, now=now
                )

            yield issue

    def redeem_button(self, user_id: int, token: str) -> tuple[str, dict[str, Any]] | None:
        """The action behind a pressed button; None when expired, forged or someone else's."""
        with unit_of_work(self.session_factory) as session:
            return redeem_button_token(session, token, user_id=user_id, now=self.clock())

    # -- lookups -------------------------------------------------------------------------------

    def customer_choices(
        self, user_id: int, query: str = "", limit: int = 8
    ) -> list[CustomerChoice]:
        """Visible customers matching `query`; without one, the person's recent customers."""
        try:
            with self.acting_as(user_id) as ctx:
                query = query.strip()
                if _REF.match(query):
                    # `#12` names one record, as everywhere in the grammar.
                    found = [resolve_customer(ctx, query)]
                elif query:
                    found = search_customers(ctx, query, limit=limit)
                else:
                    found = recent_customers(ctx, limit)
                return [CustomerChoice(c.id, c.name, c.city) for c in found]
        except CrmError:
            return []

    def home(self, user_id: int) -> HomeData:
        """The person's dashboard: reminders due today, open deals by stage, recent customers."""
        with self.acting_as(user_id) as ctx:
            t = Translator(ctx.actor.locale, ctx.pipeline.stages)
            data = home(ctx)
            return HomeData(
                name=ctx.actor.name,
                reminders=[
                    (
                        fmt.local_time(r.due_at, ctx.tz),
                        fmt.preview(r.text),
                        r.customer.name if r.customer else None,
                    )
                    for r in data.reminders
                ],
                deals={
                    fmt.stage(t, stage): [fmt.deal_line(t, d, with_customer=c) for d, c in rows]
                    for stage, rows in data.deals.items()
                },
                customers=[CustomerChoice(c.id, c.name, c.city) for c in data.customers],
            )

    def captured(self, user_id: int, key: str) -> Reply | None:
        """ "Already logged" for a platform message captured before (by its key), else None."""
        with self.acting_as(user_id) as ctx:
            t = Translator(ctx.actor.locale, ctx.pipeline.stages)
            note = captured_note(ctx, key)
            if note is None:
                return None
            customer = note.customer
            # A note from a form alone has no message to point back to.
            return Reply(
                text=t(
                    "capture.already_logged" if note.link else "capture.already_logged_form",
                    id=note.id,
                    customer=customer.name,
                    when=fmt.local_time(note.occurred_at, ctx.tz),
                    link=note.link or "",
                ),
                buttons=[Button.run(t("button.open"), f"customer #{customer.id}")],
                status="info",
            )

    def captured_ticket(self, user_id: int, key: str) -> Reply | None:
        """ "Already ticket #N" for a platform message made a ticket before, else None."""
        with self.acting_as(user_id) as ctx:
            t = Translator(ctx.actor.locale)
            ticket = captured_ticket(ctx, key)
            if ticket is None:
                return None
            return Reply(
                text=t("ticket.already", id=ticket.id),
                buttons=[Button.run(t("button.open"), f"ticket #{ticket.id}")],
                status="info",
            )

    # -- forms ---------------------------------------------------------------------------------

    def form(self, name: str) -> Form | None:
        """A declared form by name, with the custom fields of the record it edits, if any."""
        form = self.dispatcher.registry.form(name)
        if form is None or form.custom is None:
            return form
        with unit_of_work(self.session_factory) as session:
            return with_custom(session, form)

    def submit(self, form: Form, command: Command, values: dict[str, Any]) -> Submitted:
        """Run a filled-in form as `command.user_id`: its reply, or its errors per field."""
        t = self.translator(command.user_id)
        try:
            with self.acting_as(command.user_id) as ctx:
                t = Translator(ctx.actor.locale, ctx.pipeline.stages)
                reply = form.run(FormRequest(ctx, command, values, t))
                # Claimed after the checks, with the write: a refused submit may come again.
                if command.delivery_id and not claim_delivery(
                    ctx.session, self.platform, command.delivery_id, now=self.clock()
                ):
                    ctx.session.rollback()
                    return Submitted(Reply(status="duplicate"))
                return Submitted(reply)
        except FormInvalid as exc:
            return Submitted(errors={k: self._say(e, t) for k, e in exc.errors.items()})
        except CrmError as exc:
            return Submitted(Reply(text=self.dispatcher.message(exc, t), status="error"))

    def check(self, form: Form, user_id: int, values: dict[str, Any], name: str) -> str | None:
        """The error the services give field `name` with these values, writing nothing."""
        with self.acting_as(user_id) as ctx:
            t = Translator(ctx.actor.locale, ctx.pipeline.stages)
            command = Command(user_id, self.platform)
            try:
                form.run(FormRequest(ctx, command, values, t, checking=True))
            except FormInvalid as exc:
                found = exc.errors.get(name)
                return self._say(found, t) if found is not None else None
            except CrmError:
                return None
            finally:
                # A check, not a write: whatever the run did is undone.
                ctx.session.rollback()
        return None

    def read(self, form: Form, user_id: int, name: str, text: str) -> tuple[Any, str | None]:
        """A typed answer for field `name`: its value, or None and what to type instead."""
        with self.acting_as(user_id) as ctx:
            t = ctx_t(ctx)
            try:
                return read_typed(
                    form.field(name), text, ctx.tz, ctx.now(), t, day_first=ctx.day_first
                ), None
            except CrmError as exc:
                return None, self._say(exc, t)

    def _say(self, exc: CrmError, t: Translator) -> str:
        if isinstance(exc, Ambiguous):
            names = ", ".join(c.label for c in exc.candidates[:5])
            return t("form.ambiguous", query=exc.query, names=names)
        return self.dispatcher.message(exc, t)

    def translator(self, user_id: int) -> Translator:
        """The person's translator (English for an unknown id)."""
        with unit_of_work(self.session_factory) as session:
            user = session.get(User, user_id)
            return Translator(user.locale if user is not None else "en")


def ctx_t(ctx: Ctx) -> Translator:
    """The acting person's translator."""
    return Translator(ctx.actor.locale, ctx.pipeline.stages)


def recent_customers(ctx: Ctx, limit: int) -> list[Customer]:
    """The person's recent customers, or the first customers they may see when they have none."""
    return my_recent_customers(ctx, limit=limit) or list_customers(ctx, limit=limit)[0]
