"""Segments through the real dispatcher: filters in three scripts, access, saved segments."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from crm_core.db import unit_of_work
from crm_core.models import (
    AuditEntry,
    Customer,
    CustomField,
    Deal,
    Feedback,
    Interaction,
    InteractionKind,
    Segment,
    SegmentMember,
    Team,
)
from crm_core.text import name_key
from handlers.reply import Reply
from tests.conftest import START, TestBot

DAY = timedelta(days=1)

# name: (owner, city, industry, tags, last contact days ago or None, custom values)
BOOK: dict[str, tuple[str, str | None, str, list[str], int | None, dict[str, object]]] = {
    "Acme Logistics": (
        "alice",
        "Shanghai",
        "logistics",
        ["vip"],
        5,
        {"region": "East", "employees": "120", "renewal": "2027-03-01", "key_account": True},
    ),
    "Beta Freight": ("alice", "上海", "logistics", [], 40, {}),
    "Gamma Retail": ("carol", "Beijing", "retail", ["eu", "vip"], None, {}),
    "Delta Foods": ("dave", "Shanghai", "food", ["vip"], 2, {"region": "West", "employees": "30"}),
    "华东物流": ("carol", "上海", "物流", ["重点"], 100, {"region": "East"}),
    "Epsilon": ("admin", None, "logistics", [], 1, {}),
    "Archived Co": ("alice", "Shanghai", "logistics", ["vip"], 1, {}),
}
# (customer, stage, amount)
DEALS = [
    ("Acme Logistics", "proposal", 60000),
    ("Beta Freight", "qualified", 20000),
    ("Beta Freight", "lead", 1000),
    ("Gamma Retail", "won", 100000),
    ("Delta Foods", "lead", 80000),
]
# (customer, kind, score, days ago)
FEEDBACK = [
    ("Acme Logistics", "nps", 9, 3),
    ("Beta Freight", "nps", 9, 30),
    ("Beta Freight", "nps", 5, 2),
    ("Gamma Retail", "csat", 2, 5),
    ("Gamma Retail", "csat", 4, 4),
]


@pytest.fixture
def book(testbot: TestBot) -> dict[str, int]:
    """The hand-made book above, written straight into the database; name -> id."""
    ids: dict[str, int] = {}
    with unit_of_work(testbot.session_factory) as s:
        for name, kind in (
            ("region", "choice"),
            ("employees", "number"),
            ("renewal", "date"),
            ("key_account", "yesno"),
        ):
            choices = ["East", "West"] if kind == "choice" else []
            s.add(CustomField(record="customer", name=name, kind=kind, choices=choices))
        for name, (owner, city, industry, tags, last, custom) in BOOK.items():
            created = START - (10 * DAY if name == "Epsilon" else 200 * DAY)
            c = Customer(
                name=name,
                name_key=name_key(name),
                owner_id=testbot.users[owner],
                city=city,
                industry=industry,
                tags=tags,
                custom=custom,
                created_at=created,
                archived_at=START - DAY if name == "Archived Co" else None,
            )
            s.add(c)
            s.flush()
            ids[name] = c.id
            if last is not None:
                s.add(
                    Interaction(
                        customer_id=c.id,
                        author_id=testbot.users[owner],
                        kind=InteractionKind.call,
                        occurred_at=START - last * DAY,
                        text="called",
                    )
                )
        # A deleted note does not count as contact.
        s.add(
            Interaction(
                customer_id=ids["Beta Freight"],
                author_id=testbot.users["alice"],
                kind=InteractionKind.call,
                occurred_at=START - DAY,
                text="oops",
                deleted_at=START,
            )
        )
        for customer, stage, amount in DEALS:
            owner = testbot.users[BOOK[customer][0]]
            s.add(
                Deal(
                    customer_id=ids[customer],
                    title=f"{customer} deal",
                    title_key=name_key(f"{customer} deal"),
                    amount=Decimal(amount),
                    stage=stage,
                    owner_id=owner,
                )
            )
        for customer, kind, score, ago in FEEDBACK:
            s.add(
                Feedback(
                    customer_id=ids[customer], kind=kind, score=score, created_at=START - ago * DAY
                )
            )
    return ids


def names(reply: Reply) -> set[str]:
    """The customers a list reply shows."""
    assert reply.status == "ok", reply.text
    out = set()
    for item in reply.items:
        if item.startswith("#"):
            out.add(item.split(" · ")[0].split(" ", 1)[1])
    return out


ACME, BETA, GAMMA, DELTA, HUADONG, EPSILON = (
    "Acme Logistics",
    "Beta Freight",
    "Gamma Retail",
    "Delta Foods",
    "华东物流",
    "Epsilon",
)

TABLE = [
    # English
    ("city Shanghai", {ACME, DELTA}),
    ("city shanghai,上海", {ACME, BETA, DELTA, HUADONG}),
    ("city Shanghai, 上海", {ACME, BETA, DELTA, HUADONG}),
    ("industry logistics quiet 30d", {BETA}),
    ("quiet 30d", {BETA, GAMMA, HUADONG}),
    ("quiet 30 days", {BETA, GAMMA, HUADONG}),
    ("quiet 4w", {BETA, GAMMA, HUADONG}),
    ("amount <=2万", {BETA}),
    ("custom.region East", {ACME, HUADONG}),
    ("contacted within 7d", {ACME, DELTA, EPSILON}),
    ("tag vip", {ACME, GAMMA, DELTA}),
    ("tag vip and not city Shanghai", {GAMMA}),
    ("not city Shanghai", {BETA, GAMMA, HUADONG, EPSILON}),
    ("owner @alice", {ACME, BETA}),
    ("owner @alice or owner @carol", {ACME, BETA, GAMMA, HUADONG}),
    ("owner @alice,@carol tag vip", {ACME, GAMMA}),
    ("tag vip or city 上海 and industry 物流", {ACME, GAMMA, DELTA, HUADONG}),
    ("(tag vip or city 上海) and industry 物流", {HUADONG}),
    ("not (tag vip or quiet 30d)", {EPSILON}),
    ("team West", {DELTA}),
    ("name acme", {ACME}),
    ("name *freight", {BETA}),
    ("added 30d", {EPSILON}),
    ("stage proposal", {ACME}),
    ("stage won", {GAMMA}),
    ("amount >50k", {ACME, DELTA}),
    ("amount > 50000", {ACME, DELTA}),
    ("deals 0", {GAMMA, HUADONG, EPSILON}),
    ("nps <7", {BETA}),
    ("nps >=9", {ACME}),
    ("csat <=3", {GAMMA}),
    ("region East", {ACME, HUADONG}),
    ("employees >100", {ACME}),
    ("renewal >2027-01-01", {ACME}),
    ("key_account yes", {ACME}),
    ("not key_account yes", {BETA, GAMMA, DELTA, HUADONG, EPSILON}),
    ('industry "logistics" city Shanghai', {ACME}),
    # Too few closed deals to learn from: each open deal scores its stage's probability
    # (proposal 50, qualified 25, lead 10) and a customer its best open deal's.
    ("score >30", {ACME}),
    ("score <20", {DELTA}),
    ("score =25", {BETA}),
    ("score >=10 not score >=50", {BETA, DELTA}),
    ("not score >0", {GAMMA, HUADONG, EPSILON}),
    # Simplified Chinese
    ("城市 上海 行业 物流", {HUADONG}),
    ("城市上海", {BETA, HUADONG}),
    ("标签 vip 或 负责人 @alice", {ACME, BETA, GAMMA, DELTA}),
    ("沉默 30天", {BETA, GAMMA, HUADONG}),
    ("金额 >1万 非 标签 vip", {BETA}),
    ("阶段 方案", {ACME}),
    ("净推荐值 <7", {BETA}),
    ("联系过 7天内", {ACME, DELTA, EPSILON}),
    ("评分 >=25", {ACME, BETA}),
    ("分数 <30 且 城市 上海", {BETA}),
    ("(城市 上海 或 标签 重点) 且 行业 物流", {HUADONG}),
    # Traditional Chinese
    ("城市 上海 行業 物流", {HUADONG}),
    ("標籤 vip 或 負責人 @alice", {ACME, BETA, GAMMA, DELTA}),
    ("沉默 30天 且 非 城市 北京", {BETA, GAMMA, HUADONG}),
    ("名稱 華東", {HUADONG}),
    ("聯絡過 7天", {ACME, DELTA, EPSILON}),
    ("階段 方案", {ACME}),
    ("滿意度 <=3", {GAMMA}),
    ("評分 <20", {DELTA}),
    ("評分 >40 或 標籤 重點", {ACME, HUADONG}),
]


@pytest.mark.parametrize(("filters", "expected"), TABLE, ids=[f for f, _ in TABLE])
def test_filter_table(
    testbot: TestBot, book: dict[str, int], filters: str, expected: set[str]
) -> None:
    """Each filter text returns exactly its members (admin's view: the whole live book)."""
    verb = "列出客戶" if any("\u4e00" <= ch <= "\u9fff" for ch in filters) else "list customers"
    assert names(testbot("admin", f"{verb} {filters}")) == expected


@pytest.mark.parametrize("typed", ["équipe華東", "ÉQUIPE华东", "Équipe華東"])
def test_team_filter_matches_every_spelling_of_a_stored_name(
    testbot: TestBot, book: dict[str, int], typed: str
) -> None:
    """A team stored in Traditional and with a non-ASCII capital is found however it is typed."""
    with unit_of_work(testbot.session_factory) as s:
        s.execute(update(Team).where(Team.name == "West").values(name="Équipe華東"))
    assert names(testbot("admin", f"list customers team {typed}")) == {DELTA}


BAD = [
    ("city Shanghai blah", "blah"),
    ("quiet soon", "soon"),
    ("amount", "amount"),
    ("amount >lots", "lots"),
    ("(city Shanghai", "parenthesis"),
    ("tag vip or", "need a filter"),
    ("stage nowhere", "nowhere"),
    ("owner @nobody", "nobody"),
    ("team Mars", "Mars"),
    ("(" * 30 + "city Shanghai" + ")" * 30, "at most 20 levels"),
    ("not " * 40 + "city Shanghai", "at most 20 levels"),
    ("city Shanghai " * 150, "at most 200"),
]


@pytest.mark.parametrize(("filters", "word"), BAD, ids=[f for f, _ in BAD])
def test_bad_filters_name_the_word(
    testbot: TestBot, book: dict[str, int], filters: str, word: str
) -> None:
    """A filter not understood is named, with what to type; nothing is written."""
    audits = testbot.count(AuditEntry)
    reply = testbot("admin", f"list customers {filters}")
    assert reply.status == "error"
    assert word in reply.text
    assert testbot.count(AuditEntry) == audits


def test_bad_filter_in_chinese(testbot: TestBot, book: dict[str, int]) -> None:
    """The Chinese reply names the word too and lists the Chinese filter words."""
    testbot.add_user("lin", locale="zh")
    reply = testbot("lin", "列出客户 城市 上海 哈哈")
    assert reply.status == "error"
    assert "哈哈" in reply.text and "沉默 30天" in reply.text
    saved = testbot("lin", '保存分群 "坏" 城市 上海 哈哈')
    assert saved.status == "error" and "哈哈" in saved.text
    assert testbot.count(Segment) == 0
    good = testbot("lin", '保存分群 "上海沉默" 城市 上海 沉默 30天 快照')
    assert good.status == "ok" and "快照" in good.text
    assert testbot("lin", "分群列表").title == "分群：1 个"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("alice", {ACME}),
        ("carol", {GAMMA}),
        ("bob", {ACME, GAMMA}),
        ("dave", {DELTA}),
        ("admin", {ACME, GAMMA, DELTA}),
    ],
)
def test_filters_respect_access(
    testbot: TestBot, book: dict[str, int], who: str, expected: set[str]
) -> None:
    """The same filters show each person only the customers in their book."""
    assert names(testbot(who, "list customers tag vip")) == expected


@pytest.mark.parametrize(
    ("who", "filters", "expected"),
    [
        ("alice", "deals >=2", {BETA}),
        ("alice", "deals 0", set()),
        ("carol", "deals 0", {GAMMA, HUADONG}),
        ("alice", "nps <7 or score >40", {ACME, BETA}),
        ("carol", "csat <=3", {GAMMA}),
        ("bob", "deals 0 or nps <7", {BETA, GAMMA, HUADONG}),
        ("bob", "not deals 0 and score <30", {BETA}),
        ("dave", "deals 0 or nps <7 or csat <=3", set()),
    ],
)
def test_aggregate_filters_within_each_book(
    testbot: TestBot, book: dict[str, int], who: str, filters: str, expected: set[str]
) -> None:
    """Counts, the latest NPS, the mean CSAT and scores, computed once as sets of customers,
    keep to the reader's book, with `or` and `not` as for an admin."""
    assert names(testbot(who, f"list customers {filters}")) == expected


def test_saved_segment_shows_each_person_their_part(testbot: TestBot, book: dict[str, int]) -> None:
    """A segment saved by an admin shows a rep only their own members."""
    saved = testbot("admin", 'save segment "VIPs" tag vip')
    assert saved.status == "ok", saved.text
    assert names(testbot("alice", 'segment "VIPs"')) == {ACME}
    assert names(testbot("bob", 'segment "vips"')) == {ACME, GAMMA}
    assert names(testbot("admin", "segment VIPs")) == {ACME, GAMMA, DELTA}


def test_live_and_snapshot(testbot: TestBot, book: dict[str, int]) -> None:
    """A live segment follows the data; a snapshot keeps the members of its save time."""
    assert testbot("admin", 'save segment "SH" city Shanghai').status == "ok"
    snap = testbot("admin", 'save segment "SH frozen" city Shanghai snapshot')
    assert snap.status == "ok" and "snapshot" in snap.text
    assert testbot.count(SegmentMember) == 2
    assert testbot("alice", "new customer Zeta Trading city Shanghai").status == "ok"
    edit = testbot("dave", "edit customer Delta Foods: city Hangzhou")
    assert edit.status == "ok", edit.text
    assert names(testbot("admin", 'segment "SH"')) == {ACME, "Zeta Trading"}
    assert names(testbot("admin", 'segment "SH frozen"')) == {ACME, DELTA}
    # Within a rep's book, a snapshot shows only what the rep may see.
    assert names(testbot("alice", 'segment "SH frozen"')) == {ACME}
    listed = testbot("alice", "segments")
    assert any("SH frozen (snapshot)" in i for i in listed.items)
    assert any(i.startswith("SH (live)") for i in listed.items)


def test_save_refuses_duplicates_and_bad_names(testbot: TestBot, book: dict[str, int]) -> None:
    """A second segment of the same name and an unknown segment are refused clearly."""
    assert testbot("alice", 'save segment "Mine" owner me').status == "ok"
    again = testbot("bob", 'save segment "mine" tag vip')
    assert again.status == "error" and "already exists" in again.text
    missing = testbot("alice", 'segment "Nope"')
    assert missing.status == "error" and "Mine" in missing.text
    assert names(testbot("alice", 'segment "Mine"')) == {ACME, BETA}
    # `me` is whoever looks: bob sees his own (none).
    assert names(testbot("bob", 'segment "Mine"')) == set()
    assert testbot.count(Segment) == 1


def test_paging(testbot: TestBot, book: dict[str, int]) -> None:
    """More than a page answers a More button; the next page continues in name order."""
    with unit_of_work(testbot.session_factory) as s:
        for i in range(25):
            s.add(
                Customer(
                    name=f"Bulk {i:02d}",
                    name_key=name_key(f"Bulk {i:02d}"),
                    owner_id=testbot.users["alice"],
                    city="Lyon",
                )
            )
    first = testbot("alice", "list customers city Lyon")
    assert first.title.startswith("Customers matching: 25 (page 1 of 2)")
    assert len(first.items) == 20
    more = next(b for b in first.buttons if b.label == "More")
    second = testbot.press("alice", more)
    assert names(second) == {f"Bulk {i:02d}" for i in range(20, 25)}
    far = testbot("alice", "list customers city Lyon page 9")
    assert far.status == "error" and "2 page" in far.text


def test_delete_needs_confirm_and_the_saver(testbot: TestBot, book: dict[str, int]) -> None:
    """Delete shows a confirm card; only the saver or an admin may delete."""
    testbot("alice", 'save segment "Mine" owner me')
    testbot("alice", 'follow segment "Mine"')
    denied = testbot("carol", 'delete segment "Mine"')
    assert denied.status == "error" and "Only the person" in denied.text
    card = testbot("alice", 'delete segment "Mine"')
    assert card.status == "info"
    assert [b.label for b in card.buttons] == ["Confirm", "Cancel"]
    assert testbot.count(Segment) == 1
    done = testbot.press("alice", card.buttons[0])
    assert done.status == "ok" and "Deleted" in done.text
    assert testbot.count(Segment) == 0
    segment_rows = AuditEntry.entity_type.like("segment%")
    actions = testbot.query(select(AuditEntry.action).where(segment_rows))
    assert actions == ["segment.create", "segment.follow", "segment.delete"]


def test_follow_and_unfollow(testbot: TestBot, book: dict[str, int]) -> None:
    """Following twice is refused; unfollow undoes it."""
    testbot("admin", 'save segment "VIPs" tag vip')
    followed = testbot("alice", 'follow segment "VIPs"')
    assert followed.status == "ok" and "1 customer" in followed.text
    assert testbot("alice", 'follow segment "VIPs"').status == "error"
    # Unquoted, the whole line is the name; Traditional spelling of the verb works too.
    testbot("admin", 'save segment "Big Spenders" amount >50k')
    assert testbot("alice", "follow segment big spenders").status == "ok"
    assert names(testbot("admin", "分群 Big Spenders")) == {ACME, DELTA}
    assert "you follow it" in testbot("alice", "segments").items[0]
    assert testbot("alice", 'unfollow segment "VIPs"').status == "ok"
    assert testbot("alice", 'unfollow segment "VIPs"').status == "error"


def test_tier_filter(testbot: TestBot) -> None:
    """`tier gold` filters on the current tier, in either script; unknown tiers are named."""
    assert testbot("alice", "list customers tier gold").status == "error"  # no tiers set yet
    testbot("admin", "tiers: silver 50k, gold 200k, platinum 1M on won value in 12 months")
    for name in ("Acme", "Birch", "Cedar"):
        testbot("alice", f"new customer {name}")
    testbot("admin", "tier Acme gold pin")
    testbot("admin", "tier Birch silver pin")
    assert names(testbot("alice", "list customers tier gold")) == {"Acme"}
    assert names(testbot("alice", "list customers tier gold,silver")) == {"Acme", "Birch"}
    assert names(testbot("alice", "list customers not tier gold")) == {"Birch", "Cedar"}
    assert names(testbot("alice", "列出客户 等级 gold")) == {"Acme"}
    assert names(testbot("alice", "列出客戶 等級 gold")) == {"Acme"}
    unknown = testbot("alice", "list customers tier diamond")
    assert unknown.status == "error" and "diamond" in unknown.text
    assert "silver, gold, platinum" in unknown.text
