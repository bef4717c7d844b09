"""The service desk's verbs through the real dispatcher: open, list, card, assign, reply, wait,
resolve, reopen, priority, feedback; Chinese; access; the form."""

from __future__ import annotations

from sqlalchemy import event, select

from crm_core.models import (
    AuditEntry,
    Customer,
    Feedback,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from handlers.gateway import Gateway
from handlers.reply import Command
from tests.conftest import FakeClock, TestBot


def _open(testbot: TestBot) -> int:
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "ticket Acme: printer jams on every label, priority high")
    assert reply.status == "ok", reply.text
    (tid,) = testbot.query(select(Ticket.id))
    return int(tid)


def test_open_a_ticket_with_priority_and_see_its_card(testbot: TestBot, clock: FakeClock) -> None:
    tid = _open(testbot)
    (ticket,) = testbot.query(select(Ticket))
    assert (ticket.subject, ticket.priority, ticket.status) == (
        "printer jams on every label",
        TicketPriority.high,
        TicketStatus.new,
    )
    # 15:00 UTC Monday; high: first response in 4 business hours -> 10:00 Tuesday; the badge
    # counts the wall clock to that moment.
    clock.advance(minutes=44)
    card = testbot("alice", f"ticket #{tid}")
    assert card.title == f"#{tid} printer jams on every label"
    fields = {f.label: f.value for f in card.fields}
    assert fields["Status"] == "new" and fields["Priority"] == "high"
    assert fields["Assignee"] == "unassigned"
    assert fields["First response"] == "first response due in 18h 16m"
    assert fields["Resolution"].startswith("resolution due in ")
    assert any("opened (high)" in line for line in card.sections[-1].lines)
    clock.advance(hours=24)
    fields = {f.label: f.value for f in testbot("alice", f"ticket #{tid}").fields}
    assert fields["First response"] == "first response overdue by 5h 44m"


def test_the_whole_lifecycle_with_timeline_and_audit(testbot: TestBot, clock: FakeClock) -> None:
    tid = _open(testbot)
    assert testbot("alice", f"assign #{tid} to @carol").status == "ok"
    assert testbot("carol", f"reply #{tid}: a technician comes tomorrow").status == "ok"
    assert testbot("carol", f"wait #{tid}").status == "ok"
    listed = testbot("carol", "tickets mine")
    assert "SLA paused (waiting on customer)" in listed.items[0]
    assert testbot("carol", f"reopen #{tid}").text.endswith("its SLA clock runs.")
    assert testbot("carol", f"priority #{tid} urgent").status == "ok"
    clock.advance(hours=1)
    assert testbot("carol", f"resolve #{tid}: replaced the feed roller").status == "ok"
    assert testbot("carol", f"resolve #{tid}: again").status == "error"
    assert testbot("alice", f"reopen #{tid}").text == f"Ticket #{tid} is open again."
    kinds = testbot.query(select(TicketEvent.kind).order_by(TicketEvent.id))
    assert kinds == [
        "created",
        "assigned",
        "reply",
        "wait",
        "resume",
        "priority",
        "resolve",
        "reopen",
    ]
    actions = testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "tickets").order_by(AuditEntry.id)
    )
    assert actions == [
        "ticket.create",
        "ticket.assign",
        "ticket.reply",
        "ticket.wait",
        "ticket.resume",
        "ticket.priority",
        "ticket.resolve",
        "ticket.reopen",
    ]
    card = testbot("alice", f"ticket #{tid}")
    timeline = card.sections[-1].lines
    assert "assigned to @carol" in timeline[1] and "a technician comes tomorrow" in timeline[2]


def test_lists_by_scope_and_breaching(testbot: TestBot, clock: FakeClock) -> None:
    tid = _open(testbot)
    testbot("alice", "new customer Beta")
    testbot("alice", "ticket Beta: invoices missing, priority low, assign me")
    assert len(testbot("alice", "tickets").items) == 2
    assert len(testbot("alice", "tickets mine").items) == 1
    assert "Beta" in testbot("alice", "tickets Beta").items[0]
    assert testbot("alice", "tickets breaching").status == "info"
    clock.advance(hours=20)  # Tuesday 11:00: the high ticket's first response is 1 h late
    breaching = testbot("alice", "tickets breaching")
    assert [line.split(" ")[0] for line in breaching.items] == [f"#{tid}"]
    assert "first response overdue by 1h" in breaching.items[0]
    assert len(testbot("bob", "tickets team").items) == 2
    assert testbot("admin", "tickets team").status == "error"


def test_access_another_book_reads_as_missing(testbot: TestBot) -> None:
    tid = _open(testbot)
    for line in (f"ticket #{tid}", f"reply #{tid}: hi", f"resolve #{tid}: done", f"wait #{tid}"):
        reply = testbot("dave", line)
        assert reply.status == "error" and f"no ticket #{tid} that you can see" in reply.text
    assert testbot("dave", "tickets").status == "info"
    # Handed to dave by an admin, the assignee sees it though Acme is not in dave's book.
    assert testbot("admin", f"assign #{tid} to @dave").status == "ok"
    assert testbot("dave", f"ticket #{tid}").status == "ok"
    refused = testbot("alice", f"assign #{tid} to @dave")
    assert refused.status == "error" and "cannot hand a ticket to Dave" in refused.text


def test_same_message_twice_makes_one_ticket(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    for _ in range(2):
        reply = testbot.dispatcher.dispatch(
            Command(
                testbot.users["alice"],
                "slack",
                text="ticket Acme: label printer offline",
                idempotency_key="slack:C1:1700000000.000100",
            )
        )
    assert reply.status == "info" and "already ticket" in reply.text
    assert testbot.count(Ticket) == 1


def test_chinese(testbot: TestBot) -> None:
    testbot.add_user("wei", locale="zh")
    testbot("wei", "新客户 华东物流")
    opened = testbot("wei", "工单 华东物流：打印机卡纸，优先级 紧急")
    assert opened.status == "ok" and "紧急" in opened.text
    (ticket,) = testbot.query(select(Ticket))
    assert (ticket.subject, ticket.priority) == ("打印机卡纸", TicketPriority.urgent)
    assert "首次响应还剩" in testbot("wei", "工单列表 我的").text + "".join(
        testbot("wei", "工单列表").items
    )
    assert testbot("wei", f"分配 #{ticket.id} 给 我").status == "ok"
    assert testbot("wei", f"解决 #{ticket.id}：更换了进纸辊").status == "ok"
    assert testbot("wei", "反馈 华东物流：nps 9，“修得快”").status == "ok"
    (fb,) = testbot.query(select(Feedback))
    assert (fb.kind, fb.score, fb.comment) == ("nps", 9, "修得快")


def test_feedback(testbot: TestBot) -> None:
    tid = _open(testbot)
    assert testbot("alice", 'feedback Acme: nps 9, "fast fix"').status == "ok"
    assert testbot("alice", f"feedback #{tid}: csat 5").status == "ok"
    rows = testbot.rows(select(Feedback.kind, Feedback.score, Feedback.comment, Feedback.ticket_id))
    assert rows == [("nps", 9, "fast fix", None), ("csat", 5, None, tid)]
    assert "from 1 to 5" in testbot("alice", "feedback Acme: csat 7").text
    assert testbot("dave", "feedback Acme: nps 3").status == "error"
    assert testbot.count(Feedback) == 2


def test_the_form_opens_and_submits(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "ticket")
    assert reply.form is not None and reply.form.name == "ticket"
    gateway = Gateway(testbot.dispatcher, "console")
    form = gateway.form("ticket")
    assert form is not None
    (cid,) = testbot.query(select(Customer.id))
    command = Command(testbot.users["alice"], "console")
    refused = gateway.submit(
        form, command, {"customer": cid, "subject": "", "priority": "high", "assignee": "@dave"}
    )
    assert set(refused.errors) == {"subject", "assignee"}
    assert testbot.count(Ticket) == 0
    done = gateway.submit(
        form,
        command,
        {"customer": cid, "subject": "Scanner offline", "priority": "urgent", "assignee": ""},
    )
    assert done.reply is not None and "Opened ticket" in done.reply.text
    assert testbot.rows(select(Ticket.subject, Ticket.priority)) == [
        ("Scanner offline", TicketPriority.urgent)
    ]


def test_a_long_list_shows_a_page_and_how_to_narrow_it(testbot: TestBot) -> None:
    testbot("alice", "new customer Acme")
    for n in range(26):
        testbot(
            "alice", f"ticket Acme: label printer {n}, priority {'urgent' if n == 7 else 'low'}"
        )
    listed = testbot("alice", "tickets")
    assert len(listed.items) == 26
    assert listed.items[0].startswith("#8 label printer 7")  # the soonest due first
    assert listed.items[-1].startswith("… more than 25: narrow it with `tickets mine`")
    assert len(testbot("alice", "tickets Acme").items) == 26


def test_report_tickets_in_chat(testbot: TestBot, clock: FakeClock) -> None:
    tid = _open(testbot)
    testbot("alice", f"assign #{tid} to me")
    clock.advance(minutes=30)
    testbot("alice", f"reply #{tid}: on it")
    clock.advance(hours=1)
    testbot("alice", f"resolve #{tid}: replaced the roller")
    testbot("alice", "ticket Acme: invoices missing, priority urgent")
    testbot("alice", f"feedback #{tid}: csat 4")
    clock.advance(days=2)
    reply = testbot("bob", "report tickets by assignee")
    assert reply.title == "Tickets · by assignee · all time"
    assert reply.items == [
        "@alice: 1 opened, 1 resolved · median first response 0.5 business h, resolution 1.5 "
        "business h · SLA met 100% / 100% · 0 breached · CSAT 4.0 · NPS —",
        "unassigned: 1 opened, 0 resolved · median first response —, resolution — · SLA met — / "
        "— · 1 breached · CSAT — · NPS —",
    ]
    zh = testbot.add_user("wei", locale="zh", role="manager")
    assert zh
    chinese = testbot("wei", "报表 工单 按优先级 本月")
    assert chinese.title is not None and chinese.title.startswith("工单 · 按优先级")
    assert [line.split("：")[0] for line in chinese.items] == ["紧急", "高"]
    bad = testbot("bob", "report tickets by colour")
    assert bad.status == "error" and "report tickets by assignee" in bad.text
    assert testbot("dave", "report tickets").fields[0].value.startswith("0 opened")


def test_the_customer_card_shows_satisfaction_and_open_tickets(
    testbot: TestBot, clock: FakeClock
) -> None:
    tid = _open(testbot)
    card = testbot("alice", "customer Acme")
    fields = {f.label: f.value for f in card.fields}
    assert "Satisfaction" not in fields and fields["Open tickets"] == "1"
    assert any(b.payload.get("text") == "tickets #1" for b in card.buttons)
    testbot("alice", "feedback Acme: nps 4")
    testbot("alice", f"feedback #{tid}: csat 1")
    clock.advance(days=60)
    testbot("alice", "feedback Acme: nps 9")
    testbot("alice", f"feedback #{tid}: csat 4")
    testbot("alice", f"resolve #{tid}: replaced the roller")
    fields = {f.label: f.value for f in testbot("alice", "customer Acme").fields}
    assert fields["Satisfaction"] == "NPS 9 (2027-01-22) · CSAT 2.5 from 2 in 90 days"
    assert "Open tickets" not in fields
    # 31 days on the first CSAT is outside the 90 days; the latest NPS stays.
    clock.advance(days=31)
    fields = {f.label: f.value for f in testbot("alice", "customer Acme").fields}
    assert fields["Satisfaction"] == "NPS 9 (2027-01-22) · CSAT 4.0 from 1 in 90 days"
    testbot.add_user("wei", locale="zh", team="East")
    testbot("wei", "新客户 华东物流")
    testbot("wei", "反馈 华东物流：nps 3")
    fields = {f.label: f.value for f in testbot("wei", "客户 华东物流").fields}
    assert fields["满意度"] == "NPS 3（2027-02-22）"
    # Another book's customer reads as missing: no scores leak.
    assert testbot("dave", "customer Acme").status == "error"


def test_the_cards_latest_nps_is_the_last_given_and_dated_in_the_readers_zone(
    testbot: TestBot,
) -> None:
    """Two answers in the same instant: the later recorded is the latest; its day is the
    reader's (15:00 UTC is already the next morning in Auckland)."""
    testbot.add_user("kiri", timezone="Pacific/Auckland")
    testbot("kiri", "new customer Kauri Freight")
    testbot("kiri", "feedback Kauri Freight: nps 4")
    testbot("kiri", "feedback Kauri Freight: nps 9")
    fields = {f.label: f.value for f in testbot("kiri", "customer Kauri Freight").fields}
    assert fields["Satisfaction"] == "NPS 9 (2026-11-24)"
    testbot("kiri", "feedback Kauri Freight: nps 2")
    fields = {f.label: f.value for f in testbot("kiri", "customer Kauri Freight").fields}
    assert fields["Satisfaction"] == "NPS 2 (2026-11-24)"


def test_team_and_mine_lists_read_one_way_when_the_scope_is_visible(testbot: TestBot) -> None:
    """A manager's team list and anyone's own list are one index walk, the same tickets."""
    testbot("alice", "new customer Acme")
    testbot("dave", "new customer Globex")
    for line in ("ticket Acme: a, assign @carol", "ticket Acme: b", "ticket Acme: c"):
        assert testbot("alice", line).status == "ok"
    assert testbot("dave", "ticket Globex: d, assign @dave").status == "ok"
    engine = testbot.session_factory.kw["bind"]
    walks: list[str] = []

    def seen(conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT tickets.queue_at, tickets.id"):
            walks.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        team = testbot("bob", "tickets team")
        assert len(walks) == 1
        walks.clear()
        mine = testbot("carol", "tickets mine")
        assert len(walks) == 1
        walks.clear()
        # A rep's team list still reads each way they may see a ticket (their book, theirs).
        rep_team = testbot("alice", "tickets team")
        assert len(walks) == 2
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [i.split(" · ")[0] for i in team.items] == ["#1 a", "#2 b", "#3 c"]
    assert [i.split(" · ")[0] for i in mine.items] == ["#1 a"]
    assert [i.split(" · ")[0] for i in rep_team.items] == ["#1 a", "#2 b", "#3 c"]


def test_report_by_group_shows_scores_without_a_ticket_so_the_total_adds_up(
    testbot: TestBot,
) -> None:
    """rev10 fault 8 / rev11 fault 6: a ticket's CSAT is in its row; by assignee, scores
    recorded without a ticket on their own "no ticket" line, by team in their customer's
    owner's team; the Total is the rows and that line together. Ungrouped, no such line."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new customer Beta")
    testbot("alice", "ticket Acme: printer jams")
    testbot("alice", "feedback #1: csat 1")
    testbot("alice", "feedback Beta: csat 2")
    testbot("alice", "feedback Acme: nps 3")
    by_assignee = testbot("bob", "report tickets by assignee")
    assert by_assignee.items[0].startswith("unassigned: ")
    assert "CSAT 1.0 · NPS —" in by_assignee.items[0]
    assert by_assignee.items[1] == (
        "no ticket (scores recorded without one): CSAT 2.0 · NPS -100; in the Total, "
        "in no row above"
    ), by_assignee.items
    assert by_assignee.fields[0].value.endswith("CSAT 1.5 · NPS -100")
    by_team = testbot("admin", "report tickets by team")
    assert len(by_team.items) == 1 and by_team.items[0].startswith("East: ")
    assert by_team.items[0].endswith("CSAT 1.5 · NPS -100"), by_team.items
    assert by_team.fields[0].value.endswith("CSAT 1.5 · NPS -100")
    plain = testbot("bob", "report tickets")
    assert not plain.items and plain.fields[0].value.endswith("CSAT 1.5 · NPS -100")
    testbot.add_user("mei", locale="zh", role="manager")
    zh = testbot("mei", "报表 工单 按负责人")
    assert zh.items[-1].startswith("无工单"), zh.items


def test_ticket_buttons_say_what_they_open(testbot: TestBot) -> None:
    """rev10 (wording): no bare "Open" beside "Reopen": the card's button names the customer,
    the replies' buttons name the ticket."""
    tid = _open(testbot)
    opened = testbot("alice", f"ticket #{tid}")
    assert [b.label for b in opened.buttons][-1] == "Open Acme"
    resolved = testbot("alice", f"resolve #{tid}: replaced the roller")
    assert [b.label for b in resolved.buttons] == ["Reopen"]
    card = testbot("alice", f"ticket #{tid}")
    assert [b.label for b in card.buttons] == ["Reopen", "Open Acme"]
    assert [b.label for b in testbot("alice", f"reopen #{tid}").buttons] == [f"Ticket #{tid}"]
    testbot.add_user("wei", locale="zh")
    testbot("wei", "新客户 华东物流")
    new = testbot("wei", "工单 华东物流：打印机卡纸")
    assert new.buttons[0].label.startswith("工单 #"), [b.label for b in new.buttons]
