"""Wiring the scheduler: schedules/ finds the work, handlers/ builds the replies, notifiers send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.bootstrap import App
from bot.notifier_hub import NotifierHub
from crm_core.analytics.weekly import build_weekly
from crm_core.context import Ctx
from crm_core.models import (
    Campaign,
    CampaignNotice,
    Customer,
    Deal,
    OwnerNotice,
    Reminder,
    Segment,
    StageChange,
    Team,
    Ticket,
    TierChange,
    User,
    utcnow,
)
from crm_core.services import csat
from crm_core.services.care import Coming
from crm_core.services.digests import build_digest
from crm_core.services.tickets import calendar_for, team_manager, triage_summary
from crm_core.settings import Settings, parse_clock, parse_stalled_days
from crm_core.stages import Pipeline
from handlers.desk import Desk
from handlers.dispatcher import Dispatcher
from handlers.i18n import Translator
from handlers.notifications import (
    alert_reply,
    campaign_ping,
    care_ping,
    digest_reply,
    failure_report,
    owner_notice,
    reminder_ping,
    segment_ping,
    ticket_alert,
    tier_ping,
    triage_reply,
    zone_of,
)
from handlers.notify import Address, DeliveryFailed, Notifier
from handlers.reply import Reply
from handlers.weekly import weekly_reply
from schedules.alerts import AlertDispatcher
from schedules.backups import BackupDispatcher
from schedules.care import CareSweep
from schedules.csat import CsatAsker
from schedules.digests import DigestDispatcher
from schedules.mirror import Mirror, MirrorJob
from schedules.notices import NoticeDispatcher
from schedules.quiet import WorkHours
from schedules.reminders import Due, ReminderDispatcher
from schedules.runner import Jobs, SchedulerComponent
from schedules.scores import ScoreTrainer
from schedules.segments import SegmentSweep
from schedules.sla import Owed, SlaSweep
from schedules.triage import TriageDispatcher
from schedules.webhooks import WebhookDispatcher
from schedules.weekly import DM, WeeklyDispatcher


def alert_targets(settings: Settings) -> list[str]:
    """The configured team channels, as `platform:id`."""
    out = []
    if settings.alert_slack_channel:
        out.append(f"slack:{settings.alert_slack_channel}")
    if settings.alert_telegram_chat:
        out.append(f"telegram:{settings.alert_telegram_chat}")
    return out


class ContextFactory(Protocol):
    """Builds a user's acting context in a session (Dispatcher.context)."""

    def __call__(
        self, session: Session, user: User, picks: None = None, *, clock: Callable[[], datetime]
    ) -> Ctx: ...


class Delivery:
    """The callables schedules/ is given: load, build the Reply in handlers/, send via the hub."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        hub: NotifierHub,
        pipeline: Pipeline,
        *,
        stalled_days: dict[str, int] | None = None,
        clock: Callable[[], datetime] = utcnow,
        alert_locale: str = "en",
        context: ContextFactory,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        # Builds the acting context (the dispatcher's): settings and currency included.
        self.context = context
        self.session_factory = session_factory
        self.hub = hub
        self.pipeline = pipeline
        self.stalled_days = stalled_days or {}
        self.clock = clock
        self.alert_locale = alert_locale
        self.dispatcher = dispatcher

    def desk(self, platform: str) -> Desk:
        """The service desk's chat side of a platform (builds the CSAT question)."""
        if self.dispatcher is None:
            raise DeliveryFailed("no dispatcher to build the question", retryable=False)
        return Desk(self.dispatcher, platform)

    def _reminder_reply(self, due: Due) -> Reply:
        with self.session_factory() as s:
            user = s.get(User, due.owner_id)
            reminder = s.get(Reminder, due.id)
            if user is None or reminder is None:
                raise DeliveryFailed("owner or reminder gone", retryable=False)
            customer = s.get(Customer, due.customer_id) if due.customer_id else None
            deal = s.get(Deal, due.deal_id) if due.deal_id else None
            return reminder_ping(
                Translator(user.locale, self.pipeline.stages),
                reminder,
                zone_of(user),
                late=due.late,
                resent=due.resent,
                customer=customer,
                deal=deal,
            )

    async def reminder(self, due: Due) -> None:
        """Send one claimed reminder to its owner."""
        reply = await asyncio.to_thread(self._reminder_reply, due)
        await self.hub.send_to_user(due.owner_id, reply)

    def _locale(self, user_id: int) -> str:
        with self.session_factory() as s:
            user = s.get(User, user_id)
            return user.locale if user else "en"

    async def report(self, due: Due, reason: str) -> None:
        """After the last try: tell the owner through any route still working."""
        t = Translator(await asyncio.to_thread(self._locale, due.owner_id), self.pipeline.stages)
        await self.hub.send_to_user(due.owner_id, failure_report(t, due.id, reason))

    def digest_reply(self, user_id: int, day: date) -> Reply:
        """Build a person's digest (read only)."""
        with self.session_factory() as s:
            user = s.get(User, user_id)
            if user is None:
                raise DeliveryFailed("user gone", retryable=False)
            ctx = self.context(s, user, clock=self.clock)
            return digest_reply(
                Translator(user.locale, self.pipeline.stages),
                build_digest(ctx, self.stalled_days),
                ctx.tz,
            )

    async def digest(self, user_id: int, day: date) -> None:
        """Build and send one digest."""
        reply = await asyncio.to_thread(self.digest_reply, user_id, day)
        await self.hub.send_to_user(user_id, reply)

    def weekly_reply(self, user_id: int, monday: date) -> Reply:
        """Build a manager's weekly report (read only), in their language and book."""
        with self.session_factory() as s:
            user = s.get(User, user_id)
            if user is None:
                raise DeliveryFailed("user gone", retryable=False)
            ctx = self.context(s, user, clock=self.clock)
            return weekly_reply(
                Translator(user.locale, self.pipeline.stages), build_weekly(ctx, monday)
            )

    async def weekly(self, user_id: int, monday: date, target: str) -> None:
        """Build and send one weekly report to the manager or to a team channel."""
        reply = await asyncio.to_thread(self.weekly_reply, user_id, monday)
        if target == DM:
            await self.hub.send_to_user(user_id, reply)
            return
        platform, _, chat = target.partition(":")
        await self.hub.send_to(Address(platform, chat, channel=True), reply)

    def _alert_reply(self, change_id: int) -> Reply:
        with self.session_factory() as s:
            change = s.get(StageChange, change_id)
            if change is None:
                raise DeliveryFailed("stage change gone", retryable=False)
            deal = change.deal
            return alert_reply(
                Translator(self.alert_locale, self.pipeline.stages),
                change,
                deal,
                deal.customer,
                change.actor,
                self.pipeline,
            )

    async def alert(self, change_id: int, target: str) -> None:
        """Post one deal move to one team channel."""
        platform, _, chat = target.partition(":")
        reply = await asyncio.to_thread(self._alert_reply, change_id)
        await self.hub.send_to(Address(platform, chat, channel=True), reply)

    def _notice_reply(self, notice_id: int) -> tuple[int, Reply]:
        with self.session_factory() as s:
            notice = s.get(OwnerNotice, notice_id)
            if notice is None:
                raise DeliveryFailed("notice gone", retryable=False)
            user, other = s.get(User, notice.user_id), s.get(User, notice.other_id)
            customer = s.get(Customer, notice.customer_id)
            actor = s.get(User, notice.actor_id) if notice.actor_id else None
            if user is None or other is None or customer is None:
                raise DeliveryFailed("owner or customer gone", retryable=False)
            reply = owner_notice(
                Translator(user.locale, self.pipeline.stages),
                customer,
                actor,
                other,
                gained=notice.gained,
                deals=notice.deals,
            )
            return user.id, reply

    async def notice(self, notice_id: int) -> None:
        """Tell one owner about a customer given to or taken from them."""
        user_id, reply = await asyncio.to_thread(self._notice_reply, notice_id)
        await self.hub.send_to_user(user_id, reply)

    def _campaign_reply(self, notice_id: int) -> tuple[int, Reply]:
        with self.session_factory() as s:
            notice = s.get(CampaignNotice, notice_id)
            if notice is None:
                raise DeliveryFailed("notice gone", retryable=False)
            user, campaign = s.get(User, notice.user_id), s.get(Campaign, notice.campaign_id)
            if user is None or campaign is None:
                raise DeliveryFailed("owner or campaign gone", retryable=False)
            if campaign.ended_at is not None:
                # Ended before this went out: its tasks take no outcomes, so no one is told.
                raise DeliveryFailed("campaign ended", retryable=False)
            by = s.get(User, campaign.owner_id)
            t = Translator(user.locale, self.pipeline.stages)
            reply = campaign_ping(t, campaign, notice.tasks, by.name if by else "-")
            return user.id, reply

    async def campaign_notice(self, notice_id: int) -> None:
        """Tell one owner a campaign gave them tasks."""
        user_id, reply = await asyncio.to_thread(self._campaign_reply, notice_id)
        await self.hub.send_to_user(user_id, reply)

    def _tier_reply(self, change_id: int) -> tuple[int, Reply]:
        with self.session_factory() as s:
            change = s.get(TierChange, change_id)
            if change is None:
                raise DeliveryFailed("tier change gone", retryable=False)
            customer = s.get(Customer, change.customer_id)
            # The customer's owner now (it may have been reassigned since the change).
            user = s.get(User, customer.owner_id) if customer is not None else None
            if user is None or customer is None:
                raise DeliveryFailed("owner or customer gone", retryable=False)
            t = Translator(user.locale, self.pipeline.stages)
            return user.id, tier_ping(t, change, customer)

    async def tier_change(self, change_id: int) -> None:
        """Tell a customer's owner its tier changed."""
        user_id, reply = await asyncio.to_thread(self._tier_reply, change_id)
        await self.hub.send_to_user(user_id, reply)

    async def care(self, coming: Coming, owner_id: int) -> None:
        """Tell an owner a care date is coming."""
        t = Translator(await asyncio.to_thread(self._locale, owner_id), self.pipeline.stages)
        await self.hub.send_to_user(owner_id, care_ping(t, coming))

    def _segment_reply(
        self, user_id: int, segment_id: int, customer_ids: list[int], total: int
    ) -> Reply:
        with self.session_factory() as s:
            user, segment = s.get(User, user_id), s.get(Segment, segment_id)
            if user is None or segment is None:
                raise DeliveryFailed("follower or segment gone", retryable=False)
            found = s.scalars(select(Customer).where(Customer.id.in_(customer_ids))).all()
            customers = sorted(found, key=lambda c: (c.name_key, c.id))
            t = Translator(user.locale, self.pipeline.stages)
            return segment_ping(t, segment, customers, total)

    async def segment(
        self, user_id: int, segment_id: int, customer_ids: list[int], total: int
    ) -> None:
        """Tell a follower which customers entered a segment (the first few of `total`)."""
        reply = await asyncio.to_thread(
            self._segment_reply, user_id, segment_id, customer_ids, total
        )
        await self.hub.send_to_user(user_id, reply)

    def _ticket_alert_reply(self, owed: Owed) -> Reply:
        with self.session_factory() as s:
            ticket = s.get(Ticket, owed.ticket_id)
            if ticket is None:
                raise DeliveryFailed("ticket gone", retryable=False)
            locale = self.alert_locale
            if owed.target.startswith("user:"):
                user = s.get(User, int(owed.target.partition(":")[2]))
                if user is None:
                    raise DeliveryFailed("user gone", retryable=False)
                locale = user.locale
            return ticket_alert(
                Translator(locale), ticket, owed.kind, self.clock(), resent=owed.resent
            )

    async def ticket_alert(self, owed: Owed) -> None:
        """Send one SLA notice to a person or to a team's triage channel."""
        reply = await asyncio.to_thread(self._ticket_alert_reply, owed)
        kind, _, target = owed.target.partition(":")
        if kind == "user":
            await self.hub.send_to_user(int(target), reply)
            return
        await self.hub.send_to(Address(kind, target, channel=True), reply)

    def _triage_reply(self, team_id: int) -> Reply:
        with self.session_factory() as s:
            team = s.get(Team, team_id)
            if team is None:
                raise DeliveryFailed("team gone", retryable=False)
            now = self.clock()
            summary = triage_summary(s, team, now)
            # The team's language is its manager's, as its zone is; no manager: the default.
            manager = team_manager(s, team_id)
            locale = manager.locale if manager is not None else self.alert_locale
            return triage_reply(Translator(locale), summary, now, calendar_for(s, team_id).zone)

    async def triage(self, team_id: int, day: date, target: str) -> None:
        """Post one team's morning triage summary to its triage channel."""
        reply = await asyncio.to_thread(self._triage_reply, team_id)
        platform, _, chat = target.partition(":")
        await self.hub.send_to(Address(platform, chat, channel=True), reply)

    async def csat_question(self, question: csat.Question) -> None:
        """Ask one requester where they are (their thread, their group), with 1-5 buttons."""
        notifier = self.hub.by_platform.get(question.platform)
        if notifier is None:
            raise DeliveryFailed(f"no {question.platform} notifier", retryable=True)
        reply = self.desk(question.platform).question(question)
        address = Address(question.platform, question.chat_id, True, question.thread)
        await notifier.send(address, reply)

    async def mirror(self, mirror: Mirror) -> None:
        """Put a ticket's status reaction on its source message (and take the others off)."""
        notifier = self.hub.by_platform.get(mirror.platform)
        react = getattr(notifier, "react", None)
        if react is None:
            return  # that platform is not served by this process's notifiers
        table = self.desk(mirror.platform).reactions
        name = table.mirror(mirror.platform, mirror.status)
        if name is None:
            return
        others = [r for r in table.mirrors(mirror.platform) if r != name]
        # "slack:T1:C1:1700.000100" / "telegram:-100123:45": the chat and the message.
        chat, _, message = mirror.source_key.split(":", 1)[1].rpartition(":")
        if mirror.platform == "slack":
            chat = chat.split(":", 1)[1]
        await react(chat, message, name, others)


def scheduler_component(
    app: App,
    notifiers: Sequence[Notifier],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> SchedulerComponent:
    """The `scheduler` component of `crmbot serve`."""
    settings = app.settings
    # With no chat platform nothing is sent to people: reminders, digests and notices stay
    # pending in the database (unclaimed) and go out once Slack or Telegram is configured;
    # webhooks, backups, the tier review, segment counts and score training still run.
    deliver = bool(notifiers)
    hub = NotifierHub(app.session_factory, notifiers)
    work = WorkHours.parse(settings.work_hours)
    delivery = Delivery(
        app.session_factory,
        hub,
        app.pipeline,
        stalled_days=parse_stalled_days(settings.stalled_days),
        clock=clock,
        alert_locale=settings.default_locale,
        context=app.dispatcher.context,
        dispatcher=app.dispatcher,
    )
    reminders = ReminderDispatcher(
        app.session_factory,
        delivery.reminder,
        clock=clock,
        work_hours=work,
        report=delivery.report,
    )
    digests = DigestDispatcher(
        app.session_factory,
        delivery.digest,
        clock=clock,
        default_time=parse_clock(settings.digest_time),
        work_hours=work,
    )
    targets = alert_targets(settings)
    alerts = AlertDispatcher(app.session_factory, delivery.alert, targets, clock=clock)
    weekly = WeeklyDispatcher(
        app.session_factory,
        delivery.weekly,
        channels=targets if settings.weekly_to_channels else (),
        clock=clock,
        at=parse_clock(settings.weekly_report_time),
        work_hours=work,
    )
    backups = None
    if settings.backup_dir is not None:
        key = settings.backup_key
        backups = BackupDispatcher(
            app.engine,
            app.session_factory,
            settings.backup_dir,
            keep=settings.backup_keep,
            key=key.get_secret_value() if key is not None else None,
            at=parse_clock(settings.backup_time),
            clock=clock,
        )
    jobs = Jobs(
        reminders if deliver else None,
        digests if deliver else None,
        alerts if targets and deliver else None,
        app.session_factory,
        reminder_seconds=settings.reminder_interval_seconds,
        digest_seconds=settings.digest_interval_seconds,
        weekly=weekly if deliver else None,
        notices=(
            NoticeDispatcher(app.session_factory, delivery.notice, clock=clock) if deliver else None
        ),
        campaign_notices=(
            NoticeDispatcher(
                app.session_factory, delivery.campaign_notice, clock=clock, model=CampaignNotice
            )
            if deliver
            else None
        ),
        webhooks=WebhookDispatcher(app.session_factory, clock=clock),
        sla=SlaSweep(app.session_factory, delivery.ticket_alert, clock=clock) if deliver else None,
        csat=(
            CsatAsker(app.session_factory, delivery.csat_question, clock=clock) if deliver else None
        ),
        mirror=MirrorJob(app.session_factory, delivery.mirror, clock=clock) if deliver else None,
        segments=SegmentSweep(
            app.session_factory,
            delivery.segment if deliver else None,
            pipeline=app.pipeline,
            clock=clock,
        ),
        backups=backups,
        backup_seconds=settings.digest_interval_seconds,
        care=CareSweep(
            app.session_factory,
            app.pipeline,
            delivery.tier_change if deliver else None,
            delivery.care if deliver else None,
            clock=clock,
            work_hours=work,
        ),
        care_seconds=settings.digest_interval_seconds,
        scores=ScoreTrainer(
            app.session_factory,
            app.pipeline,
            at=parse_clock(settings.score_time),
            min_won=settings.score_min_won,
            min_lost=settings.score_min_lost,
            clock=clock,
        ),
        score_seconds=settings.digest_interval_seconds,
        triage=(
            TriageDispatcher(app.session_factory, delivery.triage, clock=clock) if deliver else None
        ),
    )
    return SchedulerComponent(jobs, clock=clock)


def console_reminders(
    dispatcher: Dispatcher,
    user_id: int,
    notifier: Notifier,
    *,
    clock: Callable[[], datetime] | None = None,
) -> ReminderDispatcher:
    """The console's reminder job: only the signed-in person's reminders, printed to them."""
    settings = dispatcher.settings or Settings()
    clock = clock or dispatcher.clock
    hub = NotifierHub(dispatcher.session_factory, [notifier])
    delivery = Delivery(
        dispatcher.session_factory,
        hub,
        dispatcher.pipeline,
        clock=clock,
        alert_locale=settings.default_locale,
        context=dispatcher.context,
    )
    return ReminderDispatcher(
        dispatcher.session_factory,
        delivery.reminder,
        clock=clock,
        work_hours=WorkHours.parse(settings.work_hours),
        report=delivery.report,
        owner_ids=[user_id],
    )
