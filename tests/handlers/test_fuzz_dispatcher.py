"""Generated commands through the real dispatcher: none may end in the internal-error apology."""

from __future__ import annotations

import logging

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.conftest import TestBot  # noqa: E402

# Characters that broke, or could break, parsing, folding, the database or the calendar.
ODD = [
    "\x00",
    "\udcff",
    "\ud800",
    "\x1b[2J",
    "\x7f",
    "\u202e",
    "\u2066",
    "\u200f",
    "\ufeff",
    "\u0301",
    "\u2028",
    "𝔸",
    "ｆｕｌｌ",
    "萬",
    "：",
    "，",
    "；",
    '"',
    "“",
    "#",
    "@",
    "\t",
    "\n",
    "%s",
    "{name}",
]
NAMES = ["Acme", "华东物流", "Acme, Inc.", "Kansas City Steaks", "ACME", "acme logistics"]
DATES = [
    "0001-01-01",
    "9999-12-31 23:59",
    "9999-12-31",
    "1969-12-31",
    "1970-01-01",
    "2100-12-31",
    "2101-01-01",
    "2026-03-08 02:30",
    "2026-11-01 01:30",
    "2026-02-30",
    "yesterday 3pm",
    "tomorrow",
    "next friday",
    "25pm",
    "明天下午3点",
    "昨天",
    "in 99999999999 hours",
    "in 3 days",
    "every monday 9:00",
    "Dec 15",
]
AMOUNTS = [
    "10k",
    "99999999999999",
    "-5",
    "12.345",
    "1e400",
    "¥5万",
    "10 XAU",
    "10 XXX",
    "10 ABC",
    "0",
    "48000 USD",
    "1,000,000,000,000",
]
STAGES = ["qualified", "won", "lost", "lead", "谈判", "nowhere"]
KINDS = ["call", "meeting", "visit", "email", "拜访", ""]

odd = st.sampled_from(ODD)
word = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)
piece = st.one_of(word, odd, st.sampled_from(NAMES))
text = st.lists(piece, min_size=1, max_size=4).map(" ".join)
name = st.one_of(st.sampled_from(NAMES), text)
date = st.one_of(
    st.sampled_from(DATES),
    st.builds(
        "{:04d}-{:02d}-{:02d}".format,
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.builds("in {} hours".format, st.integers(-(10**12), 10**12)),
)
amount = st.one_of(st.sampled_from(AMOUNTS), st.integers(-(10**20), 10**20).map(str))
ref = st.one_of(st.integers(0, 5), st.integers(0, 10**30)).map("#{}".format)


def _fill(template: str) -> st.SearchStrategy[str]:
    return st.fixed_dictionaries(
        {
            "name": name,
            "date": date,
            "amount": amount,
            "text": text,
            "ref": ref,
            "stage": st.sampled_from(STAGES),
            "kind": st.sampled_from(KINDS),
        }
    ).map(lambda parts: template.format(**parts))


TEMPLATES = [
    "find {name}",
    "customer {name}",
    "deals {name}",
    "new customer {name}",
    "new customer {name} industry {text} city {text}",
    "新客户 {name}，行业：{text}；城市：{text}",
    "new customer {name} tags {text}",
    "log {kind} {name}, {date}: {text}",
    "log {kind} {name}: {text}",
    "记录 {kind} {name}：{text}",
    "new deal {name}: {text} {amount}",
    "new deal {name}: {text} {amount} close {date}",
    'new deal {name}: "{text} {amount}',
    "move {text} to {stage}: {text}",
    "move Fleet to {stage}: {text}",
    "remind me {date} {text}",
    "remind me {date} about {name}: {text}",
    "snooze {ref} {date}",
    "snooze {ref} {amount}",
    "edit {ref}: {text}",
    "undo {ref}",
    "note {ref}",
    "done {ref}",
    "cancel {ref}",
    "contact add {name}: {text}, {text}@{text}",
    "digest at {date}",
    "{text}",
]
command = st.one_of([_fill(t) for t in TEMPLATES])


@pytest.fixture
def book(testbot: TestBot) -> TestBot:
    """Acme with a deal, a note and a reminder; users in New York and Shanghai besides UTC."""
    testbot.add_user("ny", role="admin", team=None, timezone="America/New_York")
    testbot.add_user("zhu", locale="zh", timezone="Asia/Shanghai")
    testbot("alice", "new customer Acme")
    testbot("alice", "new deal Acme: Fleet 100")
    testbot("alice", "log call Acme: first")
    testbot("alice", "remind me tomorrow 9am call Dana")
    return testbot


def test_generated_commands_never_crash(book: TestBot, caplog: pytest.LogCaptureFixture) -> None:
    """A fixed-seed run of grammar-shaped commands with odd text, dates and amounts."""

    @settings(
        max_examples=700,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(who=st.sampled_from(["alice", "ny", "zhu"]), line=command)
    def run(who: str, line: str) -> None:
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="handlers.dispatcher"):
            reply = book(who, line)
        crashed = [r for r in caplog.records if r.name == "handlers.dispatcher"]
        assert not crashed, (who, line, reply.text, crashed[0].exc_text)

    run()
