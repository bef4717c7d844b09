"""Customer channels and the desk's chat events, platform-neutral: link/auto/unlink, tickets
from customers' messages and reactions, thread replies, CSAT questions and their answers."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import (
    AuditEntry,
    CsatRequest,
    Customer,
    CustomerChannel,
    Feedback,
    IndexOutbox,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
)
from crm_core.note_outbox import ticket_key
from crm_core.services import csat
from crm_core.services.identities import link_identity
from crm_core.settings import Settings
from handlers.desk import ChatMessage, Desk
from retrieval.notes import ticket_text
from tests.conftest import FakeClock, TestBot

C = "C0ACME"


def _slack(testbot: TestBot) -> Desk:
    """Alice and bob linked to Slack ids; the Slack desk."""
    with unit_of_work(testbot.session_factory) as s:
        for handle in ("alice", "bob", "dave"):
            user = s.get(User, testbot.users[handle])
            assert user is not None
            link_identity(s, "slack", f"U{handle.upper()}", user, actor_label="test")
    testbot.platform = "slack"
    return Desk(testbot.dispatcher, "slack")


def _msg(ts: str, text: str, *, who: str = "UCUST", thread: str | None = None) -> ChatMessage:
    return ChatMessage(
        platform="slack",
        chat_id=C,
        key=f"slack:T1:{C}:{ts}",
        author_id=who,
        author_name="Casey Customer",
        text=text,
        link=f"https://x.slack.com/archives/{C}/p{ts.replace('.', '')}",
        thread_key=f"slack:T1:{C}:{thread}" if thread else None,
        where=f"{C}:{thread or ts}",
    )


def _linked(testbot: TestBot, *, auto: bool = False) -> Desk:
    desk = _slack(testbot)
    testbot("alice", "new customer Acme")
    reply = testbot("alice", f"channel link <#{C}|acme-support> Acme", chat_id="C0TEAM")
    assert reply.status == "ok", reply.text
    if auto:
        assert testbot("alice", f"channel auto <#{C}> on").status == "ok"
    return desk


def test_link_auto_list_unlink_audited_and_access_checked(testbot: TestBot) -> None:
    _linked(testbot)
    again = testbot("alice", f"channel link <#{C}|acme-support> Acme")
    assert again.status == "info" and "already Acme's" in again.text
    # Typed inside the channel, the channel is the one typed in.
    testbot("alice", "new customer Beta")
    taken = testbot("alice", "channel link Beta", chat_id=C)
    assert taken.status == "error" and "already linked to another customer" in taken.text
    # A bare #name has no id: say how to pick it; writes nothing.
    bare = testbot("alice", "channel link #acme-support Acme")
    assert bare.status == "error" and "pick it from the # list" in bare.text
    assert testbot("alice", "channel auto on", chat_id=C).status == "ok"
    listed = testbot("alice", "channels")
    assert listed.items == ["#acme-support (slack) · Acme · auto tickets"]
    # Dave (West) cannot see Acme: the channel reads as not linked, and is not listed.
    assert "isn't linked" in testbot("dave", f"channel auto <#{C}> off").text
    assert testbot("dave", "channels").status == "info"
    assert "no longer Acme's" in testbot("alice", f"channel unlink <#{C}>").text
    assert testbot.count(CustomerChannel) == 0
    actions = testbot.query(select(AuditEntry.action).where(AuditEntry.action.like("channel.%")))
    assert actions == ["channel.link", "channel.auto", "channel.unlink"]
    # The console has no channels; a DM is no customer channel.
    testbot.platform = "console"
    assert "not in a direct message" in testbot("alice", "channel link Acme").text
    testbot.platform = "slack"
    assert "not in a direct message" in testbot("alice", "channel link Acme", chat_id="D1").text
    assert "channel link #acme-support" in testbot("alice", "channel").text


def test_auto_channel_opens_a_ticket_once_with_the_requester(testbot: TestBot) -> None:
    desk = _linked(testbot, auto=True)
    action = desk.message(_msg("1700.000100", "The label printer jams on every label"))
    assert action is not None and action.thread_reply is not None
    assert "ticket #1" in action.thread_reply.text and not action.thread_reply.ephemeral
    assert action.mirror == "eyes" and action.source_key == f"slack:T1:{C}:1700.000100"
    # The same message delivered again, and staff's own messages, open nothing.
    assert desk.message(_msg("1700.000100", "The label printer jams on every label")) is None
    assert desk.message(_msg("1700.000200", "I'll look", who="UALICE")) is None
    (ticket,) = testbot.query(select(Ticket))
    assert (ticket.requester_id, ticket.requester_name) == ("UCUST", "Casey Customer")
    assert ticket.requester_where == f"{C}:1700.000100" and ticket.created_by_id is None
    assert ticket.source_text == "The label printer jams on every label"
    assert testbot.query(select(AuditEntry.actor_label).where(AuditEntry.action == "ticket.create"))
    # Not auto: a customer's message stays a message.
    testbot("alice", f"channel auto <#{C}> off")
    assert desk.message(_msg("1700.000300", "Another problem")) is None


def test_thread_replies_are_logged_staff_respond_customers_resume(
    testbot: TestBot, clock: FakeClock
) -> None:
    desk = _linked(testbot, auto=True)
    desk.message(_msg("1700.000100", "Printer jams"))
    clock.advance(minutes=10)
    staff = desk.message(_msg("1700.000200", "Try the roller", who="UALICE", thread="1700.000100"))
    assert staff is not None and staff.ticket_id == 1
    assert testbot("alice", "wait #1").status == "ok"
    back = desk.message(_msg("1700.000300", "Still jams", thread="1700.000100"))
    assert back is not None and back.mirror == "eyes"
    ticket = testbot.query(select(Ticket))[0]
    assert ticket.status == TicketStatus.open and ticket.first_response_at is not None
    kinds = testbot.query(select(TicketEvent.kind).order_by(TicketEvent.id))
    assert kinds == ["created", "reply", "wait", "customer", "resume"]
    card = testbot("alice", "ticket #1")
    timeline = "\n".join(card.sections[-1].lines)
    assert "customer wrote · Casey Customer · Still jams" in timeline
    # A thread that is no ticket's is not logged.
    assert desk.message(_msg("1700.000400", "chat", thread="1699.000001")) is None


def test_reactions_open_and_set_status_for_staff_only(testbot: TestBot) -> None:
    desk = _linked(testbot)
    assert desk.reaction_action("UALICE", "ticket") == "ticket"
    assert desk.reaction_action("UCUST", "ticket") is None
    assert desk.reaction_action("UALICE", "thumbsup") is None
    opened = desk.react_ticket("UALICE", _msg("1700.000100", "Invoices are missing"))
    assert opened.ticket_id == 1 and opened.private is not None
    assert "Ticket #1 opened for Acme" in opened.private.text
    again = desk.react_ticket("UBOB", _msg("1700.000100", "Invoices are missing"))
    assert again.private is not None and "already ticket #1" in again.private.text
    key = f"slack:T1:{C}:1700.000100"
    done = desk.react_status("UALICE", key, "resolved")
    assert done is not None and done.mirror == "white_check_mark" and "eyes" in done.unmirror
    assert testbot.query(select(Ticket.status)) == [TicketStatus.resolved]
    assert desk.react_status("UALICE", key, "open") is not None
    assert testbot.query(select(Ticket.status)) == [TicketStatus.open]
    # Dave cannot see Acme's ticket: nothing changes, he is told it is missing.
    refused = desk.react_status("UDAVE", key, "resolved")
    assert refused is not None and refused.private is not None and refused.mirror is None
    assert testbot.query(select(Ticket.status)) == [TicketStatus.open]
    # Not a linked channel: the reactor is told how, nothing is opened.
    elsewhere = ChatMessage("slack", "C0OTHER", "slack:T1:C0OTHER:1.0", "UCUST", "C", "x")
    told = desk.react_ticket("UALICE", elsewhere)
    assert told.private is not None and "isn't linked" in told.private.text
    assert testbot.count(Ticket) == 1


def test_csat_sampling_claim_answer_withdraw_and_expiry(testbot: TestBot, clock: FakeClock) -> None:
    desk = _linked(testbot, auto=True)
    testbot.dispatcher.settings = Settings(_env_file=None, csat_every=2)  # type: ignore[call-arg]
    for n in range(1, 4):
        desk.message(_msg(f"1700.00010{n}", f"Problem {n}"))
        assert testbot("alice", f"resolve #{n}: fixed").status == "ok"
    # Every 2nd resolved ticket of the channel: the 1st and the 3rd.
    assert testbot.query(select(CsatRequest.ticket_id).order_by(CsatRequest.id)) == [1, 3]
    # A ticket typed in the console has no requester: never asked.
    testbot("alice", "ticket Acme: by phone")
    testbot("alice", "resolve #4: done")
    assert testbot.count(CsatRequest) == 2
    now = clock()
    with unit_of_work(testbot.session_factory) as s:
        ids = csat.due_ids(s, now)
        first = csat.claim(s, ids[0], now)
        assert first is not None and first.chat_id == C and first.thread == "1700.000101"
        # A second worker's claim of the same row gets nothing.
        assert csat.claim(s, ids[0], now) is None
        assert csat.finish(s, first.id, now, None, True) == "asked"
    question = desk.question(first)
    assert [b.label for b in question.buttons] == ["1", "2", "3", "4", "5"]
    press = question.buttons[3].payload
    assert "only they can answer" in desk.answer_csat("UOTHER", press).text
    assert "recorded 4 out of 5" in desk.answer_csat("UCUST", press).text
    assert "already answered" in desk.answer_csat("UCUST", question.buttons[0].payload).text
    assert testbot.query(select(Feedback.score)) == [4]
    # Ticket 3's question: reopening withdraws it, a late press says so and stores nothing.
    with unit_of_work(testbot.session_factory) as s:
        third = csat.claim(s, ids[1], now)
        assert third is not None
        csat.finish(s, third.id, now, None, True)
    testbot("alice", "reopen #3")
    assert "withdrawn" in desk.answer_csat("UCUST", {"q": third.id, "s": 5}).text
    testbot("alice", "resolve #3: fixed again")
    testbot("alice", "reopen #3")
    testbot("alice", "resolve #3: fixed for good")
    (latest,) = testbot.query(select(CsatRequest).where(CsatRequest.status == "due"))
    clock.advance(days=8)
    with unit_of_work(testbot.session_factory) as s:
        assert csat.claim(s, latest.id, clock()) is None
        assert csat.expire(s, clock()) == 1
    assert "expired" in desk.answer_csat("UCUST", {"q": latest.id, "s": 5}).text
    assert testbot.query(select(Feedback.score)) == [4]
    assert "no longer available" in desk.answer_csat("UCUST", {"q": "x", "s": 5}).text


def test_outsider_answer_is_only_how_to_open_a_ticket(testbot: TestBot) -> None:
    desk = _slack(testbot)
    text = desk.outsider().text
    assert "To open a ticket" in text
    assert not desk.is_customer_chat(C)


def test_what_the_customer_writes_in_the_thread_is_owed_to_ask(testbot: TestBot) -> None:
    """A customer's thread reply re-queues the ticket for the index, and is part of its text."""
    desk = _linked(testbot, auto=True)
    desk.message(_msg("1700.000100", "Printer jams"))
    owed = select(IndexOutbox.id).where(IndexOutbox.interaction_id == ticket_key(1))
    before = len(testbot.query(owed))
    desk.message(_msg("1700.000300", "The labels curl at the left edge", thread="1700.000100"))
    assert len(testbot.query(owed)) == before + 1
    with unit_of_work(testbot.session_factory) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        assert "The labels curl at the left edge" in ticket_text(ticket)


def test_merge_moves_the_channel_link_and_the_preview_says_so(testbot: TestBot) -> None:
    """rev10 fault 2: a customer's channel follows it into the one kept, so what its people
    write next opens a ticket its owner can open, not one on the tombstone."""
    desk = _slack(testbot)
    testbot("alice", "new customer Beta Foods")
    testbot("alice", "new customer Beta Foods Group")
    keep, drop = sorted(testbot.query(select(Customer.id)))
    linked = testbot("alice", f"channel link <#{C}|beta-support> #{drop}", chat_id="C0TEAM")
    assert linked.status == "ok", linked.text
    assert testbot("alice", f"channel auto <#{C}> on").status == "ok"
    preview = testbot("bob", f"merge #{drop} into #{keep}")
    assert "1 customer channel(s)" in " ".join(f.value for f in preview.fields), preview.fields
    assert testbot.query(select(CustomerChannel.customer_id)) == [drop]  # a preview writes nothing
    done = testbot("bob", f"merge #{drop} into #{keep} confirm")
    assert done.status == "ok" and "1 customer channel(s)" in str(done.to_json()), done.text
    assert testbot.query(select(CustomerChannel.customer_id)) == [keep]
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "customer.merge"))
    assert entry.changes["moved"][1]["channels"] == testbot.query(select(CustomerChannel.id))
    action = desk.message(_msg("1700.000100", "Our order never came"))
    assert action is not None and action.thread_reply is not None
    assert testbot.query(select(Ticket.customer_id)) == [keep]
    card = testbot("alice", "ticket #1")
    assert card.status == "ok" and f"#{keep} Beta Foods" in str(card.to_json())
    assert testbot("alice", "channels").items == [
        "#beta-support (slack) · Beta Foods · auto tickets"
    ]


def test_channel_link_by_customer_number_inside_the_chat(testbot: TestBot) -> None:
    """rev10 fault 7: `/channel link #2` typed in a Telegram group (or a Slack channel) links
    customer #2 there; a bare #name is still refused with how to pick the channel."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta Foods")
    beta = max(testbot.query(select(Customer.id)))
    testbot.platform = "telegram"
    linked = testbot("alice", f"channel link #{beta}", chat_id="-100777")
    assert linked.status == "ok" and "Beta Foods" in linked.text, linked.text
    testbot.platform = "slack"
    wide = testbot("alice", "channel link ＃１", chat_id=C)
    assert wide.status == "ok" and "Acme" in wide.text, wide.text
    rows = testbot.rows(
        select(CustomerChannel.platform, CustomerChannel.chat_id, CustomerChannel.customer_id)
    )
    assert sorted(rows) == [("slack", C, 1), ("telegram", "-100777", beta)]
    bare = testbot("alice", "channel link #beta-support", chat_id=C)
    assert bare.status == "error" and "pick it from the # list" in bare.text
    assert testbot.count(CustomerChannel) == 2


def test_an_archived_customers_channel_stays_listed_and_can_be_unlinked(testbot: TestBot) -> None:
    """Archiving keeps the link (messages there still reach the customer): `channels` says so."""
    _linked(testbot, auto=True)
    assert testbot("alice", "archive Acme confirm").status == "ok"
    listed = testbot("alice", "channels")
    assert listed.items == ["#acme-support (slack) · Acme (archived) · auto tickets"]
    assert "no longer Acme's" in testbot("alice", f"channel unlink <#{C}>").text
    assert testbot("alice", "channels").status == "info"
