"""Verbs declared as data: matching, aliases, help generated from the declarations."""

from __future__ import annotations

import pytest

from handlers.registry import Registry, Verb
from handlers.reply import Reply
from handlers.verbs import all_verbs, default_registry
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("text", "verb", "rest"),
    [
        ("customer Acme", "customer", "Acme"),
        ("Customer: Acme", "customer", "Acme"),
        ("customers", "customers", ""),
        ("customers page 2", "customers", "page 2"),
        ("客户 华东", "customer", "华东"),
        ("客戶 華東", "customer", "華東"),
        ("客户华东", "customer", "华东"),
        ("客户列表", "customers", ""),
        ("new   customer Acme", "new customer", "Acme"),
        ("log call Acme: hi", "log", "call Acme: hi"),
        ("記錄 電話 華東：你好", "log", "電話 華東：你好"),
        ("帮助", "help", ""),
        ("who am i", "whoami", ""),
    ],
)
def test_match(text: str, verb: str, rest: str) -> None:
    """The longest verb form wins; Traditional characters match; the rest is kept verbatim."""
    found = default_registry().match(text)
    assert found is not None
    assert (found[0].name, found[1]) == (verb, rest)


@pytest.mark.parametrize("text", ["customerx Acme", "logcall Acme", "", "???"])
def test_no_match(text: str) -> None:
    """A Latin verb must end at a word boundary."""
    assert default_registry().match(text) is None


def test_examples_match_their_verb() -> None:
    """Every declared example is parsed as its own verb."""
    registry = default_registry()
    for verb in all_verbs():
        for example in verb.examples:
            found = registry.match(example)
            assert found is not None and found[0].name == verb.name, example


def test_duplicate_alias_is_refused() -> None:
    """Two verbs cannot share a form."""

    def handler(_req: object) -> Reply:
        return Reply()

    registry = Registry([Verb("alpha", handler, "alpha", (), False, aliases=("甲",))])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reuses"):
        registry.add(Verb("beta", handler, "beta", (), False, aliases=("甲",)))  # type: ignore[arg-type]


def test_help_lists_every_verb_and_details_one(testbot: TestBot) -> None:
    """help is generated from the declarations; help X shows usage, aliases and examples."""
    reply = testbot("alice", "help")
    assert len(reply.items) == len(all_verbs())
    detail = testbot("alice", "help new deal")
    assert detail.title == "new deal"
    assert "new deal Acme: Fleet renewal 48000 USD close 2026-12-15" in detail.items
    assert {f.label for f in detail.fields} == {"Usage", "Also"}
    assert testbot("alice", "help 记录").title == "log"


def test_whoami(testbot: TestBot) -> None:
    """whoami shows handle, role and team."""
    fields = {f.label: f.value for f in testbot("bob", "whoami").fields}
    assert (fields["Handle"], fields["Role"], fields["Team"]) == ("@bob", "manager", "East")
