"""Every verb answers bad input with a clear reply that says what to type, and writes nothing."""

from __future__ import annotations

import pytest

from crm_core.models import (
    AuditEntry,
    Contact,
    Customer,
    Deal,
    Interaction,
    Reminder,
    SchedulePrefs,
    StageChange,
)
from handlers.verbs import all_verbs
from tests.conftest import TestBot

TABLES = (Customer, Contact, Deal, StageChange, Interaction, AuditEntry, Reminder, SchedulePrefs)

# (typed line, a fragment the reply must contain: the thing to type instead)
BAD = [
    ("customer", "customer Acme"),
    ("customer Nowhere Inc", "find Nowhere"),
    ("customer #abc", "find #abc"),
    ("find", "find acme"),
    ("find !!!", "find acme"),
    ("customers page zero", "customers page 2"),
    ("new customer", "new customer Acme Logistics"),
    ("new customer Acme city", "new customer Acme Logistics"),
    ("new customer Acme owner", "new customer Acme Logistics"),
    ("new customer ...", "new customer Acme Logistics"),
    ('new customer "Acme" junk', "new customer Acme Logistics"),
    ("new customer " + "x" * 400, "at most 300"),
    ("new customer Acme2 industry " + "x" * 101, "at most 100"),
    ("score", "score #12"),
    ("score Nobody", "Nobody"),
    ("edit customer", "edit customer Acme: city Boston"),
    ("edit customer Acme: colour red", "edit customer Acme: city Boston"),
    ("edit customer Acme: city " + "x" * 101, "at most 100"),
    ("edit customer Nobody: city Boston", "Nobody"),
    ("duplicates Acme", "Type `duplicates` alone"),
    ("merge Acme", "`merge #31 into #7`"),
    ("merge Acme into Acme", "manager"),
    ("merge Acme into Nobody", "Nobody"),
    ("archive", "`archive Acme`"),
    ("archive Nobody", "Nobody"),
    ("unarchive", "`unarchive Acme`"),
    ("contact add Acme: Dana, " + "VP " * 80, "at most 200"),
    ("contact add", "contact add Acme:"),
    ("history", "history Acme"),
    ("reassign", "reassign Acme to @bob"),
    ("reassign Acme to @nobody", "`@alice`"),
    ("reassign Acme to @carol", "reassign <customer> to @<user>"),
    ("history Nobody", "find Nobody"),
    ("history deal #99", "deal"),
    ("edit contact", "edit contact Dana Ruiz: phone"),
    ("edit contact Nobody: title CEO", "customer <name>"),
    ("edit contact Nobody: colour red", "name, title, email, phone and birthday"),
    ("edit contact Acme / Nobody: title CEO", "contact add Acme: Nobody"),
    ("contact remove", "`contact remove Dana Ruiz`"),
    ("contact remove Nobody confirm", "customer <name>"),
    ("contact add Acme", "contact add Acme:"),
    ("contact add Acme: dana@acme.example", "name first"),
    ("contact add Acme: Dana, not-an-email@", "dana@acme.example"),
    ("contact add Acme: Dana, a@b.example, c@d.example", "one email"),
    ("contact add Acme: Dana, +1 (555) 12", "digits"),
    ("log", "log call Acme:"),
    ("log call Acme", "log call Acme:"),
    ("log call Acme:", "after the colon"),
    ("log call : hello", "Which customer"),
    ("new deal Acme: Fleet 10 stage", "needs a value"),
    ("new deal Acme: Fleet 10 owner", "needs a value"),
    ("log call Acme, deal Nope: x", "deals"),
    ("log call Acme, next year: x", "future"),
    ("edit", "edit #42: the corrected text"),
    ("edit #42", "edit #42: the corrected text"),
    ("edit 42 new text", "edit #42: the corrected text"),
    ("edit #42:", "after the colon"),
    ("edit #999: fixed", "no note #999"),
    ("edit #1: " + "x" * 20_001, "at most 20000"),
    ("undo", "undo #42"),
    ("undo last", "undo #42"),
    ("undo #999", "no note #999"),
    ("ask", "ask Acme: what discount"),
    ("ask   ", "ask Acme: what discount"),
    ("ask Nowhere Inc: what did they want?", "find Nowhere"),
    ("ask Acme: " + "x" * 600, "at most 500"),
    ("note", "note #42"),
    ("note abc", "note #42"),
    ("note #999", "no note #999"),
    ("deals Nowhere", "find Nowhere"),
    ("new deal", "new deal Acme:"),
    ("new deal Acme:", "new deal Acme:"),
    ("new deal Acme: Fleet -5", "amount"),
    ('new deal Acme: "Fleet" lots', "amount"),
    ("new deal Acme: Fleet 10 close 2026-02-30", "2026-12-15"),
    ("new deal Acme: Fleet 10 stage nope", "lead, qualified"),
    ("new deal Acme: Fleet 10 owner @ghost", "@alice"),
    ("new deal Acme: Fleet 99999999999999", "amount"),
    ("move", "move Fleet renewal to negotiation"),
    ("move Fleet to nowhere", "lead, qualified"),
    ("move Ghost deal to won", "deals"),
    ("move Fleet to lost", "Say why"),
    ("move Fleet to lead", "already in lead"),
    ("deal", "deal #12"),
    ("deal #999", "no deal #999"),
    ("deal Ghost deal", "Ghost deal"),
    ("edit deal", "edit deal #12: amount 52k"),
    ("edit deal Fleet: colour red", "edit deal #12: amount 52k"),
    ("edit deal Fleet: amount abc", '"abc" is not an amount'),
    ("edit deal Fleet: amount -5", "amount"),
    ("edit deal Fleet: close someday", '"someday" as a date'),
    ("edit deal Fleet: close 1900-01-01", "1970"),
    ("edit deal Fleet: title", "`title` needs a value"),
    ("edit deal Fleet: owner @bob", "cannot make Bob the owner"),
    ("edit deal Fleet: owner @nobody", "nobody"),
    ("edit deal #999: amount 5", "no deal #999"),
    ("undo deal edit", "undo deal edit #345"),
    ("undo deal edit #999", "no deal edit #999"),
    ("undo edit", "undo edit #345"),
    ("undo edit #999", "no edit #999"),
    ("delete deal", "delete deal #12"),
    ("delete deal Fleet", "Only a manager"),
    ("delete deal Fleet confirm", "Only a manager"),
    # "pipeline please" is a loose read now (tests/handlers/test_loose.py): it runs.
    ("pipeline now", "Type `pipeline`"),
    ("report win rate by colour", "can't group by “colour”"),
    ("forecast someday", "can't read the period “someday”"),
    ("funnel by team", "Only `report win rate` and `report cycle` take `by"),
    ("win rate by colour", "can't group by “colour”"),
    ("quota @alice someday 100 USD", "can't read the period “someday”"),
    ("products now", "Type `products`"),
    ("field add", "field add customer region choice North, South, East"),
    ("field add customer region choice North", "Only an admin"),
    ("field remove customer region", "Only an admin"),
    ("fields colour", "`fields customer`"),
    ("tiers silver 50k, gold 200k", "Only an admin"),
    ("tiers: silver, gold 200k", "`gold 200k`"),
    ("tier", "tier Acme gold pin"),
    ("tier Acme gold pin", "Only an admin"),
    ("tier Nowhere Inc", "find Nowhere"),
    ("care renewal_date 15d", "Only an admin"),
    ("care renewal_date soon", "`15d`"),
    ("care", "care renewal_date 15d"),
    ("cares now", "Type `cares`"),
    ("care remove", "care remove renewal_date"),
    ("care remove renewal_date", "Only an admin"),
    ("chart cycle", "There is a chart for the funnel"),
    ("link code for carol", "Only an admin"),
    ("webhooks", "Only an admin"),
    ("webhook add https://hooks.example.com events deal.won", "Only an admin"),
    ("webhook remove #1", "Only an admin"),
    ("webhook resume #1", "Only an admin"),
    ("help frobnicate", "`help`"),
    ("whoami now", "Type `whoami`"),
    ("link @U9 carol", "Ask an admin"),
    ("ticket Acme", "ticket Acme: printer jams"),
    ("ticket Acme: printer jams, priority soon", "urgent, high, normal or low"),
    ("ticket Acme: , priority high", "What is the problem"),
    ("ticket #99", "`tickets`"),
    ("tickets Nowhere Inc", "find Nowhere"),
    ("assign #1", "assign #12 to @bob"),
    ("assign #99 to me", "`tickets`"),
    ("reply #1", "reply #12: "),
    ("wait", "wait #12"),
    ("resolve #1", "resolve #12: what fixed it"),
    ("reopen", "reopen #12"),
    ("priority #1 soon", "urgent, high, normal or low"),
    ("channel", "channel link #acme-support Acme"),
    ("channel link #acme-support Acme", "pick it from the # list"),
    ("channel link Acme", "not in a direct message"),
    ("channel auto maybe", "not in a direct message"),
    ("channels everything", "Type `channels` alone"),
    ("feedback Acme", "feedback Acme: nps 9"),
    ("report tickets by colour", "report tickets by assignee"),
    ("report tickets someday", "last month"),
    ("feedback Acme: nps 11", "from 0 to 10"),
    ("feedback Acme: stars 5", "feedback Acme: nps 9"),
    ("team", "team East"),
    ("team East holidays US", "Ask an admin"),
    ("sla", "sla Support high 2h 12h"),
    ("sla East high 2h 12h", "Ask an admin"),
    ("remind me", "remind me tomorrow 3pm"),
    ("remind me someday call Dana", "tomorrow 3pm"),
    ("remind me tomorrow 3pm", "what to remind"),
    ("remind @carol tomorrow 9am call", "managers their own team"),
    ("reminders now", "Type `reminders`"),
    ("done", "done #12"),
    ("done #999", "`reminders`"),
    ("snooze", "snooze #12 1h"),
    ("cancel twelve", "cancel #12"),
    ("digest sometimes", "digest at 8:30"),
    ("digest at 3:00", "working hours"),
    ("digest @carol off", "Only an admin"),
    ("settings now", "Type `settings`"),
    ("settings @carol", "Only an admin"),
    ("language klingon", "zh-Hant, zh, en, auto"),
    ("language @carol zh", "Only an admin"),
    ("timezone Mars/Base", "Europe/Berlin"),
    ("timezone @nobody UTC", "`@alice`"),
    ("quiet soon", "quiet 20:00-08:00"),
    ("quiet 20:00-20:00", "quiet off"),
    ("list customers", "list customers city Shanghai"),
    ("list customers city Boston colour red", "colour"),
    ("list customers quiet soon", "quiet 30d"),
    ("save segment", 'save segment "Shanghai quiet"'),
    ('save segment "X"', "city Shanghai quiet 30d"),
    ("segments all", "Type `segments` alone"),
    ("segment", 'segment "Shanghai quiet"'),
    ('segment "Nowhere"', "segments"),
    ("follow segment", 'follow segment "Shanghai quiet"'),
    ("unfollow segment Nowhere", "segments"),
    ("delete segment", 'delete segment "Shanghai quiet"'),
    ("campaign", 'campaign "Q1 upsell"'),
    ('campaign "Nope"', "`campaigns`"),
    ('campaign "X" segment "Nope" message "hi" holdout 10%', "`segments`"),
    ('campaign "X" segment "Nope" holdout 10%', "Missing: message"),
    ("campaigns all", "Type `campaigns` alone"),
    ('campaign tasks "Nope"', "`campaigns`"),
    ("task", "task #12"),
    ("task #99", "campaign tasks"),
    ("end campaign", 'end campaign "Q1 upsell"'),
    ("frobnicate", "`help`"),
    # "custmer Acme" names a customer, so it opens the card (a loose read).
    ("custmer Zzyzx", "Did you mean `customer`"),
    ("", "help"),
    ("   ", "help"),
]


def test_every_verb_has_bad_input_cases() -> None:
    """A verb added without a bad-input case here fails this test."""
    covered = {line.split()[0] if line.split() else "" for line, _ in BAD}
    covered |= {" ".join(line.split()[:n]) for line, _ in BAD for n in (2, 3)}
    missing = [v.name for v in all_verbs() if v.name not in covered]
    assert not missing


@pytest.mark.parametrize(("line", "hint"), BAD)
def test_bad_input_is_explained_and_writes_nothing(testbot: TestBot, line: str, hint: str) -> None:
    """The reply is an error (or a question) that names what to type; no row changes."""
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 100")
    before = tuple(testbot.count(t) for t in TABLES)
    reply = testbot("alice", line)
    assert reply.status in ("error", "info"), (line, reply.text)
    assert hint in reply.text, (line, reply.text)
    assert tuple(testbot.count(t) for t in TABLES) == before


def test_handler_crash_is_an_apology_with_reference(
    testbot: TestBot, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception never leaves the dispatcher: a reply with a reference id."""
    from handlers.registry import Verb

    def broken(_req: object) -> object:
        raise RuntimeError("boom")

    testbot.dispatcher.registry.add(Verb("explode", broken, "explode", (), writes=False))  # type: ignore[arg-type]
    reply = testbot("alice", "explode secret customer text")
    assert reply.status == "error"
    assert "reference" in reply.text
    ref = reply.text.rsplit(" ", 1)[-1].rstrip(".")
    assert ref in caplog.text
    assert "secret customer text" not in caplog.text
