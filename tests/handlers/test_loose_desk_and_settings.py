"""Loose sentences about tickets, reminders named by their words, contacts, archived customers,
quiet hours, the digest and satisfaction scores, on a small book of their own (an IT-support
firm: none of the evaluation sets' customers, people or wording): each request gives the one
grammar command on a confirm card; a hidden customer reads like a missing one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.conftest import loose_evaluator

ROOT = Path(__file__).resolve().parents[2]

_RECORDS: list[dict[str, Any]] = [
    {"type": "team", "external_id": "north", "name": "North"},
    {"type": "team", "external_id": "south", "name": "South"},
    *(
        {
            "type": "user",
            "external_id": handle,
            "name": name,
            "email": f"{handle}@helpdesk.example",
            "role": role,
            "team": team,
            "timezone": zone,
            "locale": locale,
            "active": True,
        }
        for handle, name, role, team, zone, locale in (
            ("root", "Rosa Ortiz", "admin", None, "Europe/London", "en"),
            ("mia", "Mia Novak", "manager", "north", "Europe/London", "en"),
            ("omar", "Omar Haddad", "rep", "north", "Europe/London", "en"),
            ("mei", "Chen Mei", "rep", "north", "Asia/Shanghai", "zh"),
            ("tom", "Tom Reed", "rep", "south", "America/Chicago", "en"),
        )
    ),
    *(
        {
            "type": "customer",
            "external_id": ext,
            "name": name,
            "owner": owner,
            "industry": "Retail",
            "city": city,
            "tags": tags,
            "archived_at": archived,
            "merged_into": None,
        }
        for ext, name, owner, city, tags, archived in (
            ("c1", "Bluefin Opticians", "omar", "Leeds", ["Bluefin"], None),
            ("c2", "Harrow Vets Ltd", "omar", "York", [], None),
            ("c3", "Kestrel Print Works", "omar", "Hull", [], "2026-11-01T09:00:00+00:00"),
            ("c4", "杭州云杉书店", "mei", "Hangzhou", ["云杉"], None),
            ("c5", "苏州青禾茶馆", "mei", "Suzhou", ["青禾"], "2026-10-01T09:00:00+00:00"),
            ("c6", "Prairie Feed Co", "tom", "Omaha", [], None),
        )
    ),
    {
        "type": "contact",
        "external_id": "p1",
        "customer": "c1",
        "name": "Nadia Brooks",
        "title": "Store manager",
        "email": "nadia@bluefin.example",
        "phone": None,
    },
    *(
        {
            "type": "ticket",
            "external_id": ext,
            "customer": cust,
            "subject": subject,
            "description": subject,
            "priority": prio,
            "status": status,
            "assignee": assignee,
            "team": team,
            "created_by": assignee or "mei",
            "source": "chat",
            "created_at": "2026-12-03T09:00:00+00:00",
            "resolved_at": "2026-12-04T09:00:00+00:00" if status == "resolved" else None,
        }
        for ext, cust, subject, prio, status, assignee, team in (
            (
                "t1",
                "c1",
                "Card reader keeps rebooting at the front desk",
                "normal",
                "open",
                "omar",
                "north",
            ),
            ("t2", "c1", "Wi-Fi drops in the back office", "low", "open", "omar", "north"),
            ("t3", "c2", "Label printer offline", "high", "resolved", "omar", "north"),
            ("t4", "c4", "收银机扫码枪失灵", "normal", "new", None, "north"),
            ("t5", "c6", "Scale calibration is off", "normal", "open", "tom", "south"),
        )
    ),
    *(
        {
            "type": "reminder",
            "external_id": ext,
            "owner": owner,
            "due_at": due,
            "text": text,
            "customer": cust,
            "deal": None,
            "status": "pending",
        }
        for ext, owner, due, text, cust in (
            ("r1", "omar", "2026-12-07T10:00:00+00:00", "Send Nadia the spare parts quote", "c1"),
            ("r2", "omar", "2026-12-08T10:00:00+00:00", "Check the Harrow backup logs", "c2"),
            ("r3", "mei", "2026-12-07T02:00:00+00:00", "给云杉书店寄发票", "c4"),
            ("r4", "mei", "2026-12-09T02:00:00+00:00", "云杉门店网络巡检", "c4"),
        )
    ),
]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Each message on a fresh copy of the book, at the evaluation date (2026-12-05 15:00 UTC)."""
    le = loose_evaluator()
    wd = tmp_path_factory.mktemp("desk")
    book = wd / "desk_book.jsonl"
    book.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _RECORDS), encoding="utf-8"
    )
    yield le.Runner(le.book_database(wd, book), wd)


# (who, message, the card's command): each a request in other words than the grammar's.
ASKED = [
    # Tickets: opened, with a priority said in words.
    ("omar", "raise a ticket for harrow vets - the till printer is jammed, top priority",
     "ticket #2: the till printer is jammed, priority urgent"),
    ("omar", "new support ticket at bluefin: the shop tablet won't charge",
     "ticket #1: the shop tablet won't charge"),
    ("mei", "给云杉开一张工单：二楼打印机卡纸，很急", "ticket #4: 二楼打印机卡纸, priority urgent"),
    # What became of a ticket, named by its customer and subject words.
    ("omar", "bluefin card reader ticket is fixed, we replaced the power brick",
     "resolve #1: we replaced the power brick"),
    ("omar", "the bluefin wifi ticket: replied that an engineer visits thursday",
     "reply #2: an engineer visits thursday"),
    ("omar", "please bump the bluefin card reader ticket to high", "priority #1 high"),
    ("omar", "harrow label printer ticket, they say it's offline again, reopen it", "reopen #3"),
    ("omar", "bluefin wifi ticket is waiting on the landlord to rewire", "wait #2"),
    ("mia", "assign the 云杉 scanner ticket to omar", "assign #4 to @omar"),
    ("mei", "云杉扫码枪那张工单我自己跟", "assign #4 to me"),
    ("mei", "云杉扫码枪工单的优先级调成高", "priority #4 high"),
    ("mei", "云杉那个扫码枪工单处理好了，换了一把新的", "resolve #4: 换了一把新的"),
    # Reminders named by their words, not their numbers.
    ("omar", "the spare parts quote reminder is done", "done #1"),
    ("omar", "push my harrow backup logs reminder to friday 3pm", "snooze #2 2026-12-11 15:00"),
    ("omar", "cancel the reminder about the harrow backup logs", "cancel #2"),
    ("mei", "寄发票那个提醒完成了", "done #3"),
    ("mei", "云杉网络巡检的提醒改到下周一", "snooze #4 2026-12-07"),
    # Contacts, archived customers.
    ("omar", "pls add a contact for harrow vets: Lena Fox, practice manager, lena@harrow.example",
     "contact add #2: Lena Fox, practice manager, lena@harrow.example"),
    ("mei", "帮杭州云杉书店添加联系人 周敏 店长 13911112222",
     "contact add #4: 周敏, 店长, 13911112222"),
    ("omar", "kestrel print works is trading again, bring them back please", "unarchive #3"),
    ("mei", "青禾茶馆又下单了，帮我取消归档", "unarchive #5"),
    # Quiet hours and the digest.
    ("omar", "set my quiet hours 10pm to 6am", "quiet 22:00-06:00"),
    ("mei", "免打扰时间设成晚上十一点到早上六点半", "quiet 23:00-06:30"),
    ("root", "quiet hours for tom 20:30-07:00", "quiet @tom 20:30-07:00"),
    ("omar", "send my morning digest at half past nine", "digest at 09:30"),
    ("mei", "日报只在工作日发给我", "digest weekdays"),
    ("root", "tom's digest off please", "digest @tom off"),
    ("omar", "bluefin wifi ticket -> high", "priority #2 high"),
    ("omar", "bluefin card reader ticket, close it out, swapped the reader",
     "resolve #1: swapped the reader"),
    ("omar", "I'd like my digest at 9:30 please", "digest at 09:30"),
    ("omar", "no digest on weekends pls", "digest weekdays"),
    # Satisfaction.
    ("omar", "bluefin rated us csat 5, quick turnaround",
     "feedback Bluefin Opticians: csat 5, quick turnaround"),
    ("mei", "云杉书店 NPS 给了 7 分", "feedback 杭州云杉书店: nps 7"),
]  # fmt: skip


@pytest.mark.parametrize(("who", "text", "command"), ASKED)
def test_a_request_in_other_words_gives_the_grammar_command(
    runner: Any, who: str, text: str, command: str
) -> None:
    """The card names the grammar command; Confirm would run exactly that line."""
    ran = runner.run(who, text)
    kind, line = ran.outcome
    assert kind == "write", (text, ran.reply.text)
    assert line == command, (text, line)


# (who, message, the read it runs).
READS = [
    ("omar", "which tickets are mine", "tickets mine"),
    ("mia", "show the team's ticket queue", "tickets team"),
    ("mia", "any tickets past their SLA?", "tickets breaching"),
    ("mei", "我手头有哪些工单", "tickets mine"),
    ("mei", "我的工单", "tickets mine"),
    ("mia", "有冇爆咗SLA嘅工單", "tickets breaching"),
]


@pytest.mark.parametrize(("who", "text", "command"), READS)
def test_the_ticket_queue_asked_for_is_read(runner: Any, who: str, text: str, command: str) -> None:
    """Asking after the queue runs `tickets` with its scope at once."""
    kind, line = runner.run(who, text).outcome
    assert (kind, line) == ("read", command), text


# Another book's customer: answered exactly like one that does not exist, no card.
HIDDEN = [
    ("omar", "open a ticket for prairie feed: scale is off by 2kg"),
    ("omar", "prairie feed scale ticket is resolved, recalibrated it"),
    ("mei", "prairie feed gave us nps 9"),
    ("tom", "bluefin card reader ticket sorted, swapped the reader"),
]


@pytest.mark.parametrize(("who", "text"), HIDDEN)
def test_a_hidden_customer_is_answered_like_a_missing_one(runner: Any, who: str, text: str) -> None:
    """No card, and no name of the hidden customer or its ticket in the answer."""
    ran = runner.run(who, text)
    assert ran.reply.status != "confirm", text
    shown = json.dumps(ran.reply.to_json(), ensure_ascii=False).casefold()
    for secret in (
        "prairie feed co",
        "scale calibration",
        "bluefin opticians",
        "card reader keeps",
    ):
        assert secret not in shown or secret in text.casefold(), (text, shown)


def test_clock_times_are_read_in_english_and_chinese() -> None:
    """Clock phrases of the quiet-hours and digest readings."""
    from handlers.loose_desk import clocks

    def said(view: str) -> list[str]:
        return [f"{c.hour:02d}:{c.minute:02d}" for c in clocks(view)]

    assert said("from 9pm to 6:30am") == ["21:00", "06:30"]
    assert said("at quarter past eight") == ["08:15"]
    assert said("eight a m") == ["08:00"]
    assert said("晚上十点到早上七点") == ["22:00", "07:00"]
    assert said("早上九点一刻") == ["09:15"]
    assert said("八点半") == ["08:30"]
    assert said("for 2 people") == []
