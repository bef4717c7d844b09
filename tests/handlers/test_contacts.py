"""contact add through the real dispatcher: a birthday with or without a year, in Chinese."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from crm_core.models import Contact
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (
            "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example, birthday 1984-05-03",
            "1984-05-03",
        ),
        ("contact add Acme: Dana Ruiz, born 1984-05-03", "1984-05-03"),
        ("contact add Acme: Dana Ruiz, birthday 05-03", "1904-05-03"),
        ("contact add Acme: Dana Ruiz, birthday May 3", "1904-05-03"),
        ("contact add Acme: Dana Ruiz, Birthday: 29 Feb", "1904-02-29"),
        ("添加联系人 Acme：王芳，采购经理，生日 5月3日", "1904-05-03"),
        ("添加联系人 Acme：王芳，生日 1984-05-03", "1984-05-03"),
        ("添加联系人 Acme：王芳，生日1984年5月3日", "1984-05-03"),
    ],
)
def test_contact_add_with_a_birthday(testbot: TestBot, typed: str, stored: str) -> None:
    """A year-less birthday is stored in 1904, a leap year; the others as typed."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", typed)
    assert reply.status == "ok", reply.text
    (contact,) = testbot.query(select(Contact))
    assert contact.birthday == date.fromisoformat(stored)
    assert contact.title in (None, "VP Ops", "采购经理")


def test_contact_add_shows_the_birthday_on_the_reply_and_card(testbot: TestBot) -> None:
    """`birthday 05-03` without a year, `1984-05-03` with one."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, birthday May 3")
    assert "birthday 05-03" in reply.text
    testbot("alice", "contact add Acme: Jo Park, born 1984-02-29")
    card = testbot("alice", "customer Acme")
    contacts = {s.title: s.lines for s in card.sections}["Contacts"]
    assert "Dana Ruiz · VP Ops · birthday 05-03" in contacts
    assert "Jo Park · birthday 1984-02-29" in contacts


@pytest.mark.parametrize(
    "typed",
    [
        "contact add Acme: Dana Ruiz, birthday 1984-02-30",
        "contact add Acme: Dana Ruiz, birthday 1985-02-29",
        "contact add Acme: Dana Ruiz, birthday 13-01",
        "contact add Acme: Dana Ruiz, birthday soon",
        "contact add Acme: Dana Ruiz, birthday",
        "添加联系人 Acme：王芳，生日 2月30日",
    ],
)
def test_a_bad_birthday_writes_nothing(testbot: TestBot, typed: str) -> None:
    """A date that does not exist gets a reply saying what to type, and no contact."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", typed)
    assert reply.status == "error"
    assert ("birthday 1984-05-03" in reply.text) or ("生日 1984-05-03" in reply.text)
    assert testbot.query(select(Contact)) == []


def test_two_birthdays_are_refused(testbot: TestBot) -> None:
    """One birthday per contact."""
    testbot("alice", "new customer Acme")
    reply = testbot("alice", "contact add Acme: Dana Ruiz, birthday 05-03, born 06-04")
    assert reply.status == "error"
    assert testbot.query(select(Contact)) == []
