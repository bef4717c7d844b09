"""The console adapter: Reply rendered as text, and a REPL over the real dispatcher."""

from __future__ import annotations

import dataclasses
import io
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.console import ConsoleSession, render_text
from bot.console.notifier import ConsoleNotifier
from bot.console.pings import ReminderPings
from bot.scheduling import console_reminders
from crm_core.models import Customer, Interaction, InteractionKind, Reminder, ReminderStatus
from handlers.reply import Button, Field, OpenForm, Reply, Section
from tests.conftest import FakeClock, TestBot

# Delivery hints: they change how a reply is sent, not what it says.
# "data" is for `crmbot run --json` only; the text of a reply already says it in words.
EXEMPT = {"ephemeral", "status", "shareable", "data"}
PNG = b"\x89PNG\r\n\x1a\nnot-really-a-png"

# One non-default value per content field of Reply, and the text each must produce.
SAMPLES: dict[str, tuple[Any, list[str]]] = {
    "title": ("Acme Logistics", ["Acme Logistics"]),
    "text": ("Logged a call with Acme.", ["Logged a call with Acme."]),
    "fields": (
        [Field("Owner", "Alice"), Field("Last contact", "2 days ago")],
        ["Owner", "Alice", "Last contact", "2 days ago"],
    ),
    "items": (["first item", "second item"], ["first item", "second item"]),
    "sections": (
        [Section("Contacts", ["Dana Li", "Sam Wu"]), Section("Open deals", ["Fleet renewal"])],
        ["Contacts", "Dana Li", "Sam Wu", "Open deals", "Fleet renewal"],
    ),
    "buttons": (
        [Button.run("Open", "customer #1"), Button("Undo", "undo", {"id": 3}, "danger")],
        ["[1] Open", "[2] Undo"],
    ),
    "image": (PNG, ["[image: "]),
    # A session runs a form's prompts (test below); rendered alone it is named.
    "form": (OpenForm("log", {"kind": "call"}), ["[form: log]"]),
}


def _full_reply() -> Reply:
    return Reply(**{name: value for name, (value, _) in SAMPLES.items()})


def _image_path(rendered: str) -> Path:
    match = re.search(r"\[image: (.+?)\]", rendered)
    assert match, rendered
    return Path(match.group(1))


def test_every_content_field_of_reply_is_rendered(tmp_path: Path) -> None:
    """A field added to Reply without a sample and rendering support fails here."""
    reply = _full_reply()
    rendered = render_text(reply, image_dir=tmp_path)
    for f in dataclasses.fields(Reply):
        if f.name in EXEMPT:
            continue
        assert f.name in SAMPLES, (
            f"Reply.{f.name} is new: render it in bot/console/render.py, add it here"
        )
        default = f.default_factory() if callable(f.default_factory) else f.default
        assert getattr(reply, f.name) != default, f"the sample for Reply.{f.name} is the default"
        for expected in SAMPLES[f.name][1]:
            assert expected in rendered, f"Reply.{f.name}: {expected!r} missing from\n{rendered}"


def test_exempt_names_are_real_fields() -> None:
    """The exemptions name existing fields, so a renamed hint cannot hide a content field."""
    names = {f.name for f in dataclasses.fields(Reply)}
    assert names >= EXEMPT
    assert names - EXEMPT == set(SAMPLES)


def test_render_layout(tmp_path: Path) -> None:
    """Title first and underlined, fields aligned, list lines bulleted, buttons last."""
    rendered = render_text(_full_reply(), image_dir=tmp_path)
    lines = rendered.splitlines()
    assert lines[0] == "Acme Logistics"
    assert set(lines[1]) == {"="}
    assert lines[2] == "Logged a call with Acme."
    assert "Owner        : Alice" in lines
    assert "Last contact : 2 days ago" in lines
    assert "  • second item" in lines
    assert lines.index("Contacts:") < lines.index("  • Dana Li") < lines.index("Open deals:")
    assert lines[-1] == "[1] Open  [2] Undo"


def test_image_is_written_under_image_dir(tmp_path: Path) -> None:
    """The image bytes land in a file under image_dir and its path is printed."""
    image_dir = tmp_path / "images" / "nested"
    rendered = render_text(Reply(text="chart", image=PNG), image_dir=image_dir)
    path = _image_path(rendered)
    assert path.parent == image_dir
    assert path.suffix == ".png"
    assert path.read_bytes() == PNG
    # Different images never overwrite each other.
    other = _image_path(render_text(Reply(image=PNG + b"2"), image_dir=image_dir))
    assert other != path
    assert path.read_bytes() == PNG


def test_empty_reply_renders_nothing(tmp_path: Path) -> None:
    """No content means no text (and no image file)."""
    assert render_text(Reply(), image_dir=tmp_path) == ""
    assert list(tmp_path.iterdir()) == []


def _acmes(testbot: TestBot) -> dict[str, int]:
    for name in ("Acme Logistics", "Acme Foods"):
        assert testbot("alice", f"new customer {name}").status == "ok"
    rows = testbot.query(select(Customer).where(Customer.name.like("Acme%")))
    return {c.name: c.id for c in rows}


def test_console_types_a_command(testbot: TestBot) -> None:
    """A typed line goes through the real dispatcher."""
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    reply = session.handle("  new customer Zenith Tools  ")
    assert reply.status == "ok"
    assert "Zenith Tools" in render_text(reply)
    assert [c.name for c in testbot.query(select(Customer))] == ["Zenith Tools"]


def test_console_number_presses_a_button_of_the_previous_reply(testbot: TestBot) -> None:
    """`1` after an ambiguous name logs to the first candidate offered."""
    ids = _acmes(testbot)
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    choice = session.handle("log call acme: hi")
    assert choice.status != "error"
    assert len(choice.buttons) == 2
    assert "[1] " in render_text(choice) and "[2] " in render_text(choice)
    assert testbot.count(Interaction) == 0

    first = choice.buttons[0].label
    chosen = next(name for name in ids if first.startswith(name))
    done = session.handle("1")
    assert done.status == "ok", done.text
    notes = testbot.query(select(Interaction))
    assert [(n.customer_id, n.kind, n.text) for n in notes] == [
        (ids[chosen], InteractionKind.call, "hi")
    ]
    assert notes[0].author_id == testbot.users["alice"]
    assert notes[0].source == "console"
    # The buttons now are those of the latest reply.
    assert session.buttons == list(done.buttons)


def test_console_second_button(testbot: TestBot) -> None:
    """`2` presses the second choice, not the first."""
    ids = _acmes(testbot)
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    choice = session.handle("log visit acme: dropped by")
    second = choice.buttons[1].label
    chosen = next(name for name in ids if second.startswith(name))
    assert session.handle("2").status == "ok"
    notes = testbot.query(select(Interaction))
    assert [(n.customer_id, n.kind) for n in notes] == [(ids[chosen], InteractionKind.visit)]


def test_console_out_of_range_number_is_text(testbot: TestBot) -> None:
    """A number with no such button is dispatched as typed text, which says what a number does."""
    _acmes(testbot)
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    assert len(session.handle("log call acme: hi").buttons) == 2
    for typed in ("3", "0"):
        reply = session.handle(typed)
        assert reply.status == "error"
        assert f"no button {typed} to press" in (reply.text or "")
    assert testbot.count(Interaction) == 0


def test_loop_reads_until_end_of_input(testbot: TestBot) -> None:
    """Each line is answered; blank lines are skipped; no prompt when not a terminal."""
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    stdin = io.StringIO("new customer Acme Logistics\n\n   \nnew customer Borealis\n")
    stdout = io.StringIO()
    session.loop(stdin, stdout)
    out = stdout.getvalue()
    assert "crm> " not in out
    assert "Acme Logistics" in out and "Borealis" in out
    assert out.count("\n\n") == 2
    assert sorted(c.name for c in testbot.query(select(Customer))) == ["Acme Logistics", "Borealis"]


def test_loop_stops_at_quit(testbot: TestBot) -> None:
    """Nothing after `quit` runs."""
    for word in ("quit", "EXIT", "退出"):
        session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
        stdin = io.StringIO(f"new customer Before\n{word}\nnew customer After {word}\n")
        stdout = io.StringIO()
        session.loop(stdin, stdout)
        assert "After" not in stdout.getvalue()
    assert [c.name for c in testbot.query(select(Customer))] == ["Before"]


def test_loop_presses_buttons(testbot: TestBot) -> None:
    """Numbers typed into the loop press the buttons printed just before."""
    ids = _acmes(testbot)
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    stdout = io.StringIO()
    session.loop(io.StringIO("log call acme: from the loop\n1\n"), stdout)
    assert "[1] " in stdout.getvalue()
    notes = testbot.query(select(Interaction))
    assert len(notes) == 1
    assert notes[0].customer_id in ids.values()
    assert notes[0].text == "from the loop"


def test_edit_customer_form_as_prompts(testbot: TestBot) -> None:
    """`edit customer Acme` asks field by field (Enter keeps), checks each, saves once."""
    testbot("alice", "new customer Acme industry retail")
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    first = session.handle("edit customer Acme")
    assert first.title == "Edit customer" and first.text == "Name [Acme]"
    assert session.handle("").text == "Industry [retail]"
    assert session.handle("logistics").text == "City"
    too_long = session.handle("x" * 101)
    assert too_long.status == "error" and "100" in too_long.text and "City" in too_long.text
    assert session.handle("Boston").text == "Tags"
    done = session.handle("")
    assert done.text == "Updated Acme."
    assert {f.label: f.value for f in done.fields} == {
        "Industry": "retail → logistics",
        "City": "none → Boston",
    }
    assert testbot.rows(select(Customer.industry, Customer.city)) == [("logistics", "Boston")]
    # Back to commands; a cancelled form changes nothing.
    session.handle("edit customer Acme")
    assert session.handle("cancel").text == "Cancelled. Nothing was saved."
    assert session.handle("customer Acme").title == "Acme"


def test_log_form_as_prompts_in_chinese(testbot: TestBot) -> None:
    """`记录` alone asks customer, kind (numbered), time, contact, deal, note, follow-up."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 华东物流")
    session = ConsoleSession(testbot.dispatcher, testbot.users["wei"])
    assert session.handle("记录").text == "客户"
    assert session.handle("").text.startswith("需要填写客户")
    kinds = session.handle("华东")
    assert kinds.text.startswith("类型") and len(kinds.buttons) == len(InteractionKind)
    visit = [b.label for b in kinds.buttons].index("拜访") + 1
    session.handle(str(visit))
    for _ in range(3):  # when, contact, deal: Enter leaves them out
        session.handle("")
    session.handle("客户希望下月试用")
    done = session.handle("")
    assert "拜访" in done.text and done.status == "ok", done.text
    rows = testbot.rows(select(Interaction.kind, Interaction.text))
    assert [(k.value, text) for k, text in rows] == [("visit", "客户希望下月试用")]


def test_console_and_notifier_write_no_terminal_controls(testbot: TestBot) -> None:
    """A note built to clear the screen reaches the console as inert text; bidi made visible."""
    testbot("alice", "new customer Acme")
    testbot("alice", "log call Acme: placeholder")
    # Chat now refuses C0 controls, but C1 and bidi pass, and older or imported rows hold any.
    hostile = "hi\x1b[2J\x1b[3J\x1bc there\x9b\x85\u2066x\u2069\u202e!"
    with testbot.session_factory.begin() as session:
        session.execute(update(Interaction).values(text=hostile))
    out = io.StringIO()
    ConsoleSession(testbot.dispatcher, testbot.users["bob"]).loop(io.StringIO("note #1\n"), out)
    text = out.getvalue()
    assert "hi[2J[3Jc there<U+2066>x<U+2069><U+202E>!" in text
    assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    kept = render_text(Reply(text="a\tb\nc 华东物流 ✓"))
    assert kept == "a\tb\nc 华东物流 ✓"


class _Keyboard(io.StringIO):
    """A terminal's input: lines arrive when typed; readline waits for the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: queue.Queue[str] = queue.Queue()

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self.lines.get(timeout=30)


def _wait_for(predicate: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_reminder_coming_due_pings_at_the_console_between_prompts(
    testbot: TestBot, clock: FakeClock
) -> None:
    """The console's reminder job prints the person's own reminder when due, then the prompt."""
    alice = testbot.users["alice"]
    assert testbot("alice", "remind me tomorrow 3pm call Dana").status != "error"
    assert testbot("carol", "remind me tomorrow 3pm call Sam").status != "error"
    session = ConsoleSession(testbot.dispatcher, alice)
    out = io.StringIO()
    keyboard = _Keyboard()
    notifier = ConsoleNotifier(write=session.notice)
    pings = ReminderPings(console_reminders(testbot.dispatcher, alice, notifier, clock=clock), 0.02)
    loop = threading.Thread(target=session.loop, args=(keyboard, out))
    pings.start()
    loop.start()
    try:
        keyboard.lines.put("help\n")
        assert _wait_for(lambda: out.getvalue().count("crm> ") == 2)
        time.sleep(0.2)
        assert "call Dana" not in out.getvalue()  # not due yet
        clock.advance(days=1, minutes=1)
        assert _wait_for(lambda: "call Dana" in out.getvalue()), out.getvalue()
        # At the prompt: the ping goes on a line of its own and the prompt comes back after it.
        assert _wait_for(lambda: out.getvalue().endswith("crm> "))
        ping = out.getvalue().split("crm> ")[-2]
        assert ping.startswith("\n--- to @alice ---\n") and "call Dana" in ping
    finally:
        keyboard.lines.put("quit\n")
        loop.join(10)
        pings.stop()
    # Only the person at the keyboard is pinged here; carol's reminder waits for `serve`.
    assert "call Sam" not in out.getvalue()
    statuses = dict(testbot.rows(select(Reminder.text, Reminder.status)))
    assert statuses == {"call Dana": ReminderStatus.sent, "call Sam": ReminderStatus.pending}


def test_a_number_with_no_buttons_showing_says_so(testbot: TestBot) -> None:
    """`1` before any reply with buttons (or past the last one) says what a number does."""
    testbot.add_user("mei", locale="zh")
    for who, expected in (("alice", "no button 1 to press"), ("mei", "这里没有按钮 1 可按")):
        session = ConsoleSession(testbot.dispatcher, testbot.users[who])
        reply = session.handle("1")
        assert expected in (reply.text or ""), reply.text
        assert "don't know" not in (reply.text or "") and "不认识" not in (reply.text or "")
        assert reply.status == "error"
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    shown = session.handle("new customer Acme Logistics")
    beyond = str(len(shown.buttons) + 1)
    assert f"no button {beyond}" in (session.handle(beyond).text or "")


def test_edit_contact_form_as_prompts(testbot: TestBot) -> None:
    """`edit contact Dana Ruiz` asks field by field (Enter keeps), checks each, saves once."""
    testbot("alice", "new customer Acme")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops")
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    first = session.handle("edit contact Dana Ruiz")
    assert first.title == "Edit contact" and first.text == "Name [Dana Ruiz]"
    assert session.handle("").text == "Title [VP Ops]"
    assert session.handle("COO").text == "Email"
    bad = session.handle("dana-at-acme")
    assert bad.status == "error" and "dana@acme.example" in bad.text
    assert session.handle("dana@acme.example").text == "Phone"
    assert session.handle("").text.startswith("Birthday")
    done = session.handle("May 3")
    assert done.text == "Updated Dana Ruiz (Acme)."
    assert {f.label: f.value for f in done.fields} == {
        "Title": "VP Ops → COO",
        "Email": "none → dana@acme.example",
        "Birthday": "none → 05-03",
    }


def test_edit_customer_form_asks_the_custom_fields(testbot: TestBot) -> None:
    """Declared custom fields are prompts too: a choice numbered, a number checked, saved once."""
    for line in (
        "field add customer region choice North, South, East",
        "field add customer employees number",
        "field add customer key_account yesno",
    ):
        assert testbot("admin", line).status == "ok"
    testbot("alice", "new customer Acme")
    testbot("alice", "edit customer Acme: region East")
    session = ConsoleSession(testbot.dispatcher, testbot.users["alice"])
    session.handle("edit customer Acme")
    for _ in range(3):  # name, industry, city: Enter keeps them
        session.handle("")
    region = session.handle("")
    assert region.text == "region [East]"
    assert [b.label for b in region.buttons] == ["none", "North", "South", "East"]
    employees = session.handle("2")
    assert employees.text == "employees"
    wrong = session.handle("abc")
    assert wrong.status == "error"
    assert wrong.text.startswith('employees takes a number: "abc" isn\'t one. Type e.g. 12')
    assert session.handle("1,200").text == "key_account [none]"
    done = session.handle("yes")
    assert done.text == "Updated Acme.", done.text
    assert {f.label: f.value for f in done.fields} == {
        "region": "East → North",
        "employees": "none → 1200",
        "key_account": "none → yes",
    }
    assert testbot.query(select(Customer.custom)) == [
        {"employees": "1200", "key_account": True, "region": "North"}
    ]
    # Clearing in the form: the choice's "none" and an empty number.
    session.handle("edit customer Acme")
    for _ in range(3):
        session.handle("")
    session.handle("")
    session.handle("1")  # region: none
    session.handle("")  # employees: keeps 1200
    cleared = session.handle("")  # key_account: keeps yes
    assert {f.label: f.value for f in cleared.fields} == {"region": "North → none"}
    assert testbot.query(select(Customer.custom)) == [{"employees": "1200", "key_account": True}]
