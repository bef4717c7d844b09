"""Campaigns through the real dispatcher: the holdout, tasks, outcomes, access and the report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select, update

from crm_core.context import Ctx
from crm_core.db import unit_of_work
from crm_core.errors import Invalid
from crm_core.marketing import campaigns as svc
from crm_core.marketing import effect
from crm_core.models import (
    AuditEntry,
    Campaign,
    CampaignMember,
    CampaignNotice,
    Contact,
    Customer,
    Deal,
    Segment,
    User,
)
from crm_core.text import name_key
from handlers.reply import Button, Reply
from tests.conftest import START, FakeClock, TestBot

DAY = timedelta(days=1)
CREATE = (
    'campaign "Q1 upsell" segment "VIP" message "Hi {contact}, a word about {name}" holdout 25%'
)


def _customers(
    bot: TestBot, owner: str, count: int, tag: str = "vip", prefix: str = ""
) -> list[int]:
    """`count` customers of `owner` tagged `tag`, written straight into the database."""
    ids = []
    with unit_of_work(bot.session_factory) as s:
        for i in range(count):
            name = f"{prefix or owner.title()} Co {i:03d}"
            c = Customer(
                name=name,
                name_key=name_key(name),
                owner_id=bot.users[owner],
                tags=[tag],
                created_at=START - 100 * DAY,
            )
            s.add(c)
            s.flush()
            ids.append(c.id)
    return ids


@pytest.fixture
def book(testbot: TestBot) -> dict[str, list[int]]:
    """Eight VIP customers each for alice and carol (East), four for dave (West)."""
    ids = {who: _customers(testbot, who, n) for who, n in (("alice", 8), ("carol", 8), ("dave", 4))}
    testbot("admin", 'save segment "VIP" tag vip')
    return ids


def _confirm(reply: Reply) -> Button:
    (button,) = [b for b in reply.buttons if b.payload.get("text", "").endswith(" confirm")]
    return button


def _started(bot: TestBot, who: str = "bob", line: str = CREATE) -> Campaign:
    preview = bot(who, line)
    assert preview.status == "info", preview.text
    done = bot.press(who, _confirm(preview))
    assert done.status == "ok", done.text
    (campaign,) = bot.query(select(Campaign))
    return campaign


def _members(bot: TestBot) -> list[CampaignMember]:
    return bot.query(select(CampaignMember).order_by(CampaignMember.customer_id))


def test_preview_writes_nothing_and_confirm_freezes_the_visible_members(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """bob (East's manager) freezes East's 16 VIPs, never dave's; 4 held out; 2 owners told."""
    preview = testbot("bob", CREATE)
    fields = {f.label: f.value for f in preview.fields}
    assert fields["Customers frozen"] == "16"
    assert fields["To contact"] == "12"
    assert fields["Held out"] == "4 (25%, drawn at random)"
    assert fields["Owners given tasks"] == "2"
    assert testbot.count(Campaign) == 0 and testbot.count(CampaignMember) == 0
    done = testbot.press("bob", _confirm(preview))
    assert "12 tasks for 2 owners, 4 customers held out" in done.text
    members = _members(testbot)
    frozen = {m.customer_id for m in members}
    assert frozen == set(book["alice"]) | set(book["carol"])
    assert not frozen & set(book["dave"])
    assert sum(m.holdout for m in members) == 4
    # The recorded draw is the seeded shuffle's: the report can be reproduced from the seed.
    (campaign,) = testbot.query(select(Campaign))
    drawn = svc.draw(sorted(frozen), 25, campaign.seed)
    assert {m.customer_id: (m.draw, m.holdout) for m in members} == drawn
    notices = testbot.rows(select(CampaignNotice.user_id, CampaignNotice.tasks))
    assert sorted(u for u, _ in notices) == sorted([testbot.users["alice"], testbot.users["carol"]])
    assert sum(n for _, n in notices) == 12
    actions = testbot.query(select(AuditEntry.action).where(AuditEntry.entity_type == "campaigns"))
    assert actions == ["campaign.create"]
    # Confirm pressed twice: the campaign it made is named, nothing is frozen again.
    again = testbot.press("bob", _confirm(preview))
    assert again.status == "info" and "already started" in again.text
    assert testbot.count(CampaignMember) == 16


def test_the_same_seed_draws_the_same_holdout_and_another_a_different_one() -> None:
    """The draw depends only on the members and the seed; the count is the rounded share."""
    ids = list(range(1, 201))
    a, b = svc.draw(ids, 10, 7), svc.draw(list(reversed(ids)), 10, 7)
    assert a == b
    assert sum(h for _, h in a.values()) == 20
    assert svc.draw(ids, 10, 8) != a
    assert svc.holdout_size(3, 10) == 1 and svc.holdout_size(1, 10) == 0


def test_the_holdout_share_is_rounded_half_up() -> None:
    """25 at 10 % holds out 3 and 45 holds out 5, as people round (not banker's 2 and 4)."""
    sizes = [svc.holdout_size(n, 10) for n in (15, 25, 35, 45, 24)]
    assert sizes == [2, 3, 4, 5, 2]
    assert svc.holdout_size(30, 5) == 2


def test_owners_get_cards_only_for_contacted_customers(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """alice's cards are her contacted customers; a holdout member never gets a card or outcome."""
    _started(testbot)
    members = _members(testbot)
    alice = {m.id for m in members if m.customer_id in book["alice"] and not m.holdout}
    held = [m for m in members if m.holdout]
    listing = testbot("alice", "campaign tasks")
    assert listing.title == f"Your campaign tasks ({len(alice)} open)"
    shown = {int(b.payload["text"].split("#")[1]) for b in listing.buttons}
    assert shown == alice or (len(alice) > 8 and shown < alice)
    assert not shown & {m.id for m in held}
    for m in held:
        owner = "alice" if m.customer_id in book["alice"] else "carol"
        for line in (f"task #{m.id}", f"task #{m.id} reached", f"task #{m.id} snooze 1d"):
            refused = testbot(owner, line)
            assert refused.status == "error" and "holdout" in refused.text
    assert testbot.query(select(CampaignMember.outcome).where(CampaignMember.holdout)) == [
        None
    ] * len(held)
    assert testbot.query(select(CampaignMember.snoozed_until).where(CampaignMember.holdout)) == [
        None
    ] * len(held)


def test_a_card_fills_the_template_and_its_buttons_record_once(
    testbot: TestBot, book: dict[str, list[int]], clock: FakeClock
) -> None:
    """Reached pressed twice records once; replied implies reached; typing does the same."""
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    name = testbot.query(select(Customer.name).where(Customer.id == target.customer_id))[0]
    card = testbot("alice", f"task #{target.id}")
    assert {f.label: f.value for f in card.fields}["Message"] == f"Hi {name}, a word about {name}"
    with unit_of_work(testbot.session_factory) as s:
        s.add(Contact(customer_id=target.customer_id, name="Dana Ruiz"))
    card = testbot("alice", f"task #{target.id}")
    fields = {f.label: f.value for f in card.fields}
    assert fields["Message"] == f"Hi Dana Ruiz, a word about {name}"
    assert fields["Contact"] == "Dana Ruiz"
    labels = [b.label for b in card.buttons]
    assert labels[:5] == ["Reached", "Replied", "Not interested", "Converted", "Snooze 1 day"]
    reached = card.buttons[0]
    assert "marked reached" in testbot.press("alice", reached).text
    again = testbot.press("alice", reached)
    assert again.status == "info" and "already marked reached" in again.text
    clock.advance(hours=1)
    assert "marked replied" in testbot("alice", f"task #{target.id} replied").text
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == target.id))[0]
    assert row.reached_at == START and row.replied_at == START + timedelta(hours=1)
    assert row.outcome == "replied" and row.outcome_by == testbot.users["alice"]
    audits = testbot.query(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "campaign_members", AuditEntry.entity_id == target.id
        )
    )
    assert audits == ["campaign.reached", "campaign.replied"]
    # Converted closes the task: it leaves the list.
    testbot("alice", f"task #{target.id} converted")
    listing = testbot("alice", "campaign tasks")
    assert f"task #{target.id}" not in [b.payload.get("text") for b in listing.buttons]


def test_another_rep_cannot_see_or_touch_someone_elses_tasks(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """carol's tasks answer dave and alice exactly like a missing task; the manager may act."""
    _started(testbot)
    carol = next(m for m in _members(testbot) if m.customer_id in book["carol"] and not m.holdout)
    for who in ("alice", "dave"):
        for line in (f"task #{carol.id}", f"task #{carol.id} converted"):
            reply = testbot(who, line)
            assert reply.status == "error"
            assert reply.text == testbot(who, "task #999999").text.replace("999999", str(carol.id))
        listing = testbot(who, "campaign tasks")
        assert f"task #{carol.id}" not in [b.payload.get("text") for b in listing.buttons]
    assert testbot("bob", f"task #{carol.id} reached").status == "ok"
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == carol.id))[0]
    assert row.outcome_by == testbot.users["bob"]


def test_snooze_hides_a_task_until_its_time(
    testbot: TestBot, book: dict[str, list[int]], clock: FakeClock
) -> None:
    """`snooze 2d` takes the card off the list for two days."""
    _started(testbot)
    mine = [m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout]
    before = testbot("alice", "campaign tasks").title
    reply = testbot("alice", f"task #{mine[0].id} snooze 2d")
    assert reply.status == "ok", reply.text
    assert testbot.query(
        select(AuditEntry.action).where(AuditEntry.entity_type == "campaign_members")
    ) == ["campaign.snooze"]
    assert testbot("alice", "campaign tasks").title == f"Your campaign tasks ({len(mine) - 1} open)"
    clock.advance(days=2, minutes=1)
    assert testbot("alice", "campaign tasks").title == before
    assert testbot("alice", f"task #{mine[0].id} snooze 0d").status == "error"


def test_ending_a_campaign_is_its_creators_and_closes_its_tasks(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """alice cannot end bob's campaign; once ended, tasks are gone and outcomes refused."""
    _started(testbot)
    mine = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    refused = testbot("alice", 'end campaign "Q1 upsell"')
    assert refused.status == "error"
    assert testbot("bob", 'end campaign "Q1 upsell"').status == "ok"
    assert testbot("bob", 'end campaign "Q1 upsell"').status == "error"
    (entry,) = testbot.query(select(AuditEntry).where(AuditEntry.action == "campaign.end"))
    assert entry.actor_id == testbot.users["bob"] and "ended_at" in entry.changes
    assert testbot("alice", "campaign tasks").text == "No open campaign tasks for you."
    assert "has ended" in testbot("alice", f"task #{mine.id} reached").text
    listing = testbot("bob", "campaigns")
    assert listing.items[0].startswith("Q1 upsell · since 2026-11-23 · ended 2026-11-23")


@pytest.mark.parametrize(
    "line",
    [
        "campaign",
        'campaign "Q1 upsell" segment "VIP" holdout 10%',
        'campaign "Q1 upsell" segment "VIP" message "hi"',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout 0%',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout 60%',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout ten',
        'campaign "Q1 upsell" segment "Nope" message "hi" holdout 10%',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout 10% seed x',
        'campaign "Q1 upsell" segment "VIP" segment "VIP" message "hi" holdout 10%',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout 10% confirm',
        'campaign "Q1 upsell" segment "VIP" message "hi" holdout 10% cancel',
        'campaign "Q1 upsell" bogus words',
        'campaign "Nope"',
        "campaigns now",
        "task",
        "task twelve",
        "task #1 maybe",
        'campaign tasks "Nope"',
        'end campaign "Nope"',
    ],
)
def test_bad_input_says_what_to_type_and_writes_nothing(
    testbot: TestBot, book: dict[str, list[int]], line: str
) -> None:
    """Every malformed line answers (error or info) and freezes nothing; `… confirm` freezes."""
    audits = testbot.count(AuditEntry)
    reply = testbot("bob", line)
    if line.endswith(" confirm"):
        # Typing the command with `confirm` is the same as pressing Confirm.
        assert reply.status == "ok" and testbot.count(CampaignMember) == 16
        return
    assert reply.status in ("error", "info"), reply.text
    assert reply.text
    assert testbot.count(Campaign) == 0 and testbot.count(AuditEntry) == audits


def test_chinese_aliases_create_list_and_report(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """营销活动 / 活动任务 / 任务 … 已联系 work like the English words, answered in Chinese."""
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    preview = testbot("wei", '营销活动 "一季度追加" 分群 "VIP" 消息 "您好 {联系人}" 对照组 10%')
    assert preview.title == "发起营销活动“一季度追加”？"
    testbot.press("wei", _confirm(preview))
    assert testbot.count(CampaignMember) == 20
    report = testbot("wei", '营销活动 "一季度追加"')
    assert report.title is not None and report.title.startswith("营销活动“一季度追加”")
    assert "客户太少" in report.text
    listing = testbot("wei", "营销活动列表")
    assert listing.title == "营销活动（1）"
    alice = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    assert "已标记为已联系" in testbot("wei", f"任务 #{alice.id} 已联系").text
    assert testbot("alice", f"task #{alice.id} reached").status == "info"


def test_a_rep_runs_a_campaign_on_their_own_customers_only(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """A rep's campaign freezes the segment's members in their own book: alice's 8."""
    _started(testbot, "alice")
    assert {m.customer_id for m in _members(testbot)} == set(book["alice"])
    # bob sees the report over the members in his book; dave sees none of them.
    assert testbot("bob", 'campaign "Q1 upsell"').data["contacted"] == 6
    assert testbot("dave", 'campaign "Q1 upsell"').data["contacted"] == 0


# -- the effect on a simulated book ------------------------------------------------------------


def _simulate(
    bot: TestBot, clock: FakeClock, *, n: int, base: float, lift: float, value: float, seed: int
) -> Reply:
    """A book of `n` customers; after the start, each opens a deal with probability `base`
    (`base + lift` when contacted) and wins it for `value`."""
    _customers(bot, "alice", n, tag="sim", prefix="Sim")
    bot("admin", 'save segment "Sim" tag sim')
    # A fixed holdout seed as well: the groups, and so the report, are the same on every run.
    _started(bot, "admin", f'campaign "Sim" segment "Sim" message "hi" holdout 50% seed {seed}')
    rng = np.random.default_rng(seed)
    clock.advance(days=10)
    with unit_of_work(bot.session_factory) as s:
        for cid, held in s.execute(select(CampaignMember.customer_id, CampaignMember.holdout)):
            if rng.random() < base + (0 if held else lift):
                s.add(
                    Deal(
                        customer_id=cid,
                        title="Upsell",
                        title_key="upsell",
                        amount=Decimal(str(value)),
                        stage="won",
                        owner_id=bot.users["alice"],
                        created_at=START + 2 * DAY,
                        closed_at=START + 5 * DAY,
                    )
                )
        # A deal opened before the start does not count for either group.
        first = s.scalar(select(func.min(CampaignMember.customer_id)))
        s.add(
            Deal(
                customer_id=first,
                title="Old",
                title_key="old",
                amount=Decimal(1),
                stage="won",
                owner_id=bot.users["alice"],
                created_at=START - 30 * DAY,
                closed_at=START - 20 * DAY,
            )
        )
    return bot("admin", 'campaign "Sim"')


def test_the_report_recovers_a_known_lift_within_its_interval(
    testbot: TestBot, clock: FakeClock
) -> None:
    """300 customers, half held out; contacted ones open deals 20 points more often."""
    report = _simulate(testbot, clock, n=300, base=0.15, lift=0.20, value=1000, seed=11)
    opened = report.data["opened_difference"]
    assert opened["low"] < 0.20 < opened["high"]
    assert opened["low"] > 0
    value = report.data["value_difference"]
    assert value["low"] < 200 < value["high"]
    assert report.text.endswith("the campaign likely worked.")
    fields = {f.label: f.value for f in report.fields}
    assert fields["Contacted / holdout"] == "150 / 150 customers"
    assert fields["Effect on deals opened"].startswith("+")
    contacted, held = (
        report.data["contacted"],
        report.data["holdout"],
    )
    assert contacted == held == 150
    assert fields["Won value (USD)"].startswith("contacted ")
    assert " USD a customer) · holdout " in fields["Won value (USD)"]


def test_no_effect_reads_as_no_clear_effect(testbot: TestBot, clock: FakeClock) -> None:
    """With no lift the interval holds zero and the verdict says so."""
    report = _simulate(testbot, clock, n=200, base=0.25, lift=0.0, value=500, seed=3)
    opened = report.data["opened_difference"]
    assert opened["low"] < 0 < opened["high"]
    assert "no clear effect yet" in report.text


def test_segment_kept_for_later_is_unchanged(testbot: TestBot, book: dict[str, list[int]]) -> None:
    """Freezing reads the segment; it neither snapshots nor changes it."""
    _started(testbot)
    (seg,) = testbot.query(select(Segment))
    assert not seg.snapshot and seg.filters == "tag vip"


def test_the_digest_lists_open_campaign_tasks(testbot: TestBot, book: dict[str, list[int]]) -> None:
    """alice's digest counts her open tasks per running campaign; dave's has none."""
    _started(testbot)
    mine = [m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout]
    digest = testbot("alice", "digest")
    (section,) = [s for s in digest.sections if s.title == "Campaign tasks"]
    assert section.lines == [f"Q1 upsell: {len(mine)} open (`campaign tasks`)"]
    testbot("alice", f"task #{mine[0].id} not interested")
    (section,) = [s for s in testbot("alice", "digest").sections if s.title == "Campaign tasks"]
    assert section.lines == [f"Q1 upsell: {len(mine) - 1} open (`campaign tasks`)"]
    assert not [s for s in testbot("dave", "digest").sections if s.title == "Campaign tasks"]


def test_a_message_holding_quotes_goes_last_and_survives_confirm(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """An unquoted message runs to the end of the line; its Confirm line keeps it whole."""
    line = 'campaign "Quotes" segment "VIP" holdout 10% message Say "hi" to {contact} today'
    preview = testbot("bob", line)
    assert {f.label: f.value for f in preview.fields}["Message"] == 'Say "hi" to {contact} today'
    testbot.press("bob", _confirm(preview))
    (campaign,) = testbot.query(select(Campaign))
    assert campaign.message == 'Say "hi" to {contact} today'
    assert campaign.holdout_percent == 10


def test_a_win_in_another_currency_counts_as_a_win_but_not_as_value(
    testbot: TestBot, book: dict[str, list[int]], clock: FakeClock
) -> None:
    """Three contacted customers win: one in USD, two in EUR; all three count as having won."""
    _started(testbot)
    won = [m for m in _members(testbot) if not m.holdout][:3]
    with unit_of_work(testbot.session_factory) as s:
        for i, m in enumerate(won):
            s.add(
                Deal(
                    customer_id=m.customer_id,
                    title=f"D{i}",
                    title_key=f"d{i}",
                    amount=Decimal(1000),
                    currency="EUR" if i else "USD",
                    stage="won",
                    owner_id=testbot.users["alice"],
                    created_at=clock.now,
                    closed_at=clock.now + timedelta(hours=1),
                )
            )
    clock.advance(days=2)
    report = testbot("bob", 'campaign "Q1 upsell"')
    fields = {f.label: f.value for f in report.fields}
    contacted = report.data["contacted"]
    assert fields["Won a deal"].startswith(f"contacted 3/{contacted} ("), fields
    (label,) = [k for k in fields if k.startswith("Won value (USD only;")]
    assert "1,000" in fields[label] and "3,000" not in fields[label]
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    zh = testbot("wei", '营销活动 "Q1 upsell"')
    assert any("其他币种" in f.label for f in zh.fields)


def _audits(bot: TestBot, member_id: int) -> list[str]:
    return bot.query(
        select(AuditEntry.action).where(
            AuditEntry.entity_type == "campaign_members", AuditEntry.entity_id == member_id
        )
    )


def test_a_finished_task_takes_no_other_outcome(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """Converted then replied / not interested is refused: the customer counts only as converted."""
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    assert "marked converted" in testbot("alice", f"task #{target.id} converted").text
    for later in ("replied", "not interested"):
        refused = testbot("alice", f"task #{target.id} {later}")
        assert refused.status == "error"
        assert f"Task #{target.id} is finished: it is marked converted" in refused.text
    listing = testbot("alice", "campaign tasks")
    assert f"task #{target.id}" not in [b.payload.get("text") for b in listing.buttons]
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == target.id))[0]
    assert row.outcome == "converted" and row.replied_at is None and row.not_interested_at is None
    assert _audits(testbot, target.id) == ["campaign.converted"]
    fields = {f.label: f.value for f in testbot("bob", 'campaign "Q1 upsell"').fields}
    assert fields["Not interested"].startswith("0/") and fields["Converted"].startswith("1/")
    # Not interested is final too; forward steps (reached -> replied -> converted) still work.
    other = next(
        m
        for m in _members(testbot)
        if m.customer_id in book["alice"] and not m.holdout and m.id != target.id
    )
    testbot("alice", f"task #{other.id} reached")
    testbot("alice", f"task #{other.id} not interested")
    refused = testbot("alice", f"task #{other.id} converted")
    assert "it is marked not interested" in refused.text
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    said = testbot("wei", f"任务 #{other.id} 已成交").text
    assert said.startswith(f"任务 #{other.id} 已结束：已标记为不感兴趣")


def test_two_outcome_presses_at_once_write_one(
    testbot: TestBot, book: dict[str, list[int]], engine: Engine
) -> None:
    """Converted pressed on two workers at once: the second waits for the first, writes nothing."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    from tests.crm_core.test_pipeline_totals_locks import in_thread, wait_until_blocked

    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    replies: list[Reply] = []
    errors: list[str] = []
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        assert alice is not None
        ctx = Ctx(session, alice)
        first = svc.get_task(ctx, target.id)
        assert svc.record_outcome(ctx, first, "converted")
        session.flush()
        worker = in_thread(
            errors, lambda: replies.append(testbot("alice", f"task #{target.id} not interested"))
        )
        wait_until_blocked(engine, worker)
    worker.join(10)
    assert not errors
    (second,) = replies
    assert "it is marked converted" in second.text
    assert _audits(testbot, target.id) == ["campaign.converted"]


def test_traditional_chinese_starts_a_campaign_and_snoozes_a_task(
    testbot: TestBot, book: dict[str, list[int]], clock: FakeClock
) -> None:
    """營銷活動 … 分群 … 消息 … 對照組 and 任務 #N 推遲 2天 work like the Simplified words."""
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    preview = testbot("wei", '營銷活動 "一季度" 分群 "VIP" 消息 "您好，會員" 對照組 10%')
    assert preview.status == "info", preview.text
    assert {f.label: f.value for f in preview.fields}["话术"] == "您好，會員"
    assert testbot.press("wei", _confirm(preview)).status == "ok"
    assert testbot.count(CampaignMember) == 20
    alice = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    snoozed = testbot("wei", f"任務 #{alice.id} 推遲 2天")
    assert snoozed.status == "ok", snoozed.text
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == alice.id))[0]
    assert row.snoozed_until == clock.now + 2 * DAY


def test_curly_quotes_inside_a_quoted_message_are_its_text(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """`message "… our “Gold” seed round"` keeps the whole message; Confirm starts that one."""
    line = 'campaign "M9" segment "VIP" holdout 10% message "Hi {contact}, our “Gold” seed round"'
    preview = testbot("bob", line)
    assert preview.status == "info", preview.text
    said = "Hi {contact}, our “Gold” seed round"
    assert {f.label: f.value for f in preview.fields}["Message"] == said
    assert testbot.press("bob", _confirm(preview)).status == "ok"
    assert testbot.query(select(Campaign.message)) == [said]
    zh = testbot(
        "bob", '营销活动 "M7" 分群 "VIP" 对照组 10% 消息 “您好，“金牌”会员种子计划” 种子 3'
    )
    assert {f.label: f.value for f in zh.fields}["Message"] == "您好，“金牌”会员种子计划"
    # What is not understood is named, not answered as a seed.
    wrong = testbot("bob", 'campaign "M8" segment "VIP" holdout 10% mesage "Hi"')
    assert wrong.status == "error"
    assert wrong.text.startswith('I did not understand “mesage "Hi"” in this campaign')
    seed = testbot("bob", 'campaign "M8" segment "VIP" holdout 10% message "Hi" seed round')
    assert seed.text.startswith("The seed “round” is not a whole number")


def test_confirm_pressed_on_two_workers_at_once_starts_one_campaign(
    testbot: TestBot, book: dict[str, list[int]], engine: Engine
) -> None:
    """The second Confirm waits on the unique name, then answers "already started", no error."""
    if engine.dialect.name != "postgresql":
        pytest.skip("two writers at once are PostgreSQL's")
    from tests.crm_core.test_pipeline_totals_locks import in_thread, wait_until_blocked

    button = _confirm(testbot("bob", CREATE))
    seed = int(button.payload["text"].split(" seed ")[1].split()[0])
    replies: list[Reply] = []
    errors: list[str] = []
    with unit_of_work(testbot.session_factory) as session:
        bob = session.get(User, testbot.users["bob"])
        assert bob is not None
        ctx = Ctx(session, bob)
        plan = svc.plan_campaign(
            ctx, "Q1 upsell", "VIP", "Hi {contact}, a word about {name}", 25, seed
        )
        svc.create_campaign(ctx, plan)
        session.flush()
        worker = in_thread(errors, lambda: replies.append(testbot.press("bob", button)))
        wait_until_blocked(engine, worker)
    worker.join(10)
    assert not errors
    (second,) = replies
    assert second.status == "info", second.text
    assert (
        second.text
        == "Campaign “Q1 upsell” was already started by this confirm; nothing was frozen again."
    )
    assert testbot.count(Campaign) == 1 and testbot.count(CampaignMember) == 16


def test_missing_parts_are_named_in_the_readers_language(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """A Chinese line without 消息 and 对照组 names them in Chinese, not as English keys."""
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    zh = testbot("wei", '营销活动 "一季度" 分群 "VIP"')
    assert zh.status == "error" and zh.text.startswith("缺少：消息、对照组"), zh.text
    en = testbot("bob", 'campaign "Q1" segment "VIP"')
    assert en.text.startswith("Missing: message, holdout."), en.text


def test_confirm_and_buttons_recreate_names_and_messages_holding_straight_quotes(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """A `"` in the message or name survives Confirm and every `campaign "…"` button."""
    from handlers.i18n import Translator
    from handlers.notifications import campaign_ping

    said = {
        'Hi, our "Gold" segment plan': 'message “Hi, our "Gold" segment plan” holdout 20%',
        '"Gold" is back': 'holdout 20% message “"Gold" is back”',
    }
    for i, (message, tail) in enumerate(said.items()):
        name = f'Q{i} "big"'
        line = f'campaign “{name}” segment "VIP" {tail}'
        preview = testbot("bob", line)
        assert preview.status == "info", preview.text
        assert {f.label: f.value for f in preview.fields}["Message"] == message
        done = testbot.press("bob", _confirm(preview))
        assert done.status == "ok", done.text
        (campaign,) = testbot.query(select(Campaign).where(Campaign.name == name))
        assert campaign.message == message
        for button in done.buttons:
            assert testbot.press("bob", button).status != "error", button.payload
        ping = campaign_ping(Translator("en"), campaign, 3, "Bob")
        cards = testbot.press("alice", ping.buttons[0])
        assert cards.title is not None and cards.title.startswith("Your campaign tasks"), cards.text
    listing = testbot("bob", "campaigns")
    for button in listing.buttons:
        report = testbot.press("bob", button)
        assert report.status == "ok" and report.title is not None, report.text
        ended = testbot.press("bob", report.buttons[-1])
        assert ended.status == "ok", ended.text
    assert testbot.count(Campaign) == 2
    assert testbot.query(select(func.count()).where(Campaign.ended_at.is_not(None))) == [2]


def test_confirm_or_cancel_ending_an_unquoted_message_is_the_messages_word(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """`… message Reply "yes" to confirm` previews the whole message; after a part it counts."""
    for i, last in enumerate(("confirm", "cancel", "確認")):
        message = f'Reply "yes" to {last}'
        preview = testbot("bob", f'campaign "Q{i}" segment "VIP" holdout 20% message {message}')
        assert preview.status == "info", preview.text
        assert {f.label: f.value for f in preview.fields}["Message"] == message
        assert testbot.count(Campaign) == i
        done = testbot.press("bob", _confirm(preview))
        assert done.status == "ok", done.text
        assert testbot.query(select(Campaign.message).where(Campaign.name == f"Q{i}")) == [message]
    # Outside the message the word still confirms or cancels.
    cancelled = testbot("bob", 'campaign "Q" segment "VIP" message Hi there holdout 20% cancel')
    assert cancelled.status == "info" and testbot.count(Campaign) == 3
    done = testbot("bob", 'campaign "Q" segment "VIP" holdout 20% message "Hi confirm" 確認')
    assert done.status == "ok", done.text
    assert testbot.query(select(Campaign.message).where(Campaign.name == "Q")) == ["Hi confirm"]


def test_a_name_that_reads_as_a_campaign_number_is_refused(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """`#1` (or `＃１`) would be campaign number 1 to every other command: refused, nothing made."""
    _started(testbot)
    testbot.add_user("wei", role="admin", team=None, locale="zh")
    for who, name in (("bob", "#1"), ("bob", "#2"), ("wei", "＃１")):
        reply = testbot(who, f'campaign "{name}" segment "VIP" message "Hi" holdout 20% confirm')
        assert reply.status == "error", reply.text
        assert f"cannot be named “{name}”" in reply.text or f"不能命名为“{name}”" in reply.text, (
            reply.text
        )
    assert testbot.count(Campaign) == 1
    # `#N` still opens a campaign by its number, full-width too.
    (campaign,) = testbot.query(select(Campaign))
    assert (
        testbot("bob", f'campaign "＃{campaign.id}"').title
        == testbot("bob", 'campaign "Q1 upsell"').title
    )


def test_campaigns_counts_the_open_tasks_campaign_tasks_lists(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """A snoozed task and an ended campaign's tasks are in neither `campaigns` nor the cards."""
    _started(testbot)
    mine = [m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout]

    def listed() -> str:
        (item,) = testbot("alice", "campaigns").items
        return item.rsplit(": ", 1)[1]

    assert listed() == str(len(mine))
    assert testbot("alice", f"task #{mine[0].id} snooze 2d").status == "ok"
    cards = testbot("alice", "campaign tasks").title
    assert cards == f"Your campaign tasks ({len(mine) - 1} open)"
    assert listed() == str(len(mine) - 1)
    assert testbot("bob", 'end campaign "Q1 upsell"').status == "ok"
    assert testbot("alice", "campaign tasks").text == "No open campaign tasks for you."
    assert listed() == "0"


@pytest.mark.parametrize(
    "template",
    [
        "Hi {contact}, {name}",
        "您好 {联系人}，{客户}",
        "您好 {聯繫人}，{客戶}",
        "您好 {聯絡人}，{客戶}",
        "您好 ｛联系人｝，｛客户｝",
        "Hi ｛Contact｝, {Customer}",
    ],
)
def test_placeholders_are_read_folded_like_the_key_words(template: str) -> None:
    """Traditional, full-width and capitalised placeholders are filled like the plain ones."""
    filled = svc.fill(template, "Acme", "Dana")
    assert filled.endswith("Dana, Acme") or filled.endswith("Dana，Acme"), filled
    assert svc.fill("{contact} {unknown} {", "Acme", None) == "Acme {unknown} {"


def test_a_full_width_task_number_opens_and_records_the_task(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """`任务 ＃12` (full-width ＃ and digits, as a Chinese keyboard types them) works like #12."""
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    wide = "".join(chr(ord(d) + 0xFEE0) for d in str(target.id))
    card = testbot("alice", f"任务 ＃{target.id}")
    assert card.status == "ok" and card.title is not None, card.text
    assert card.title == testbot("alice", f"task #{target.id}").title
    assert testbot("alice", f"任务 ＃{wide} 已回复").status == "ok"
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == target.id))[0]
    assert row.outcome == "replied"


@pytest.mark.parametrize("word", ["已聯絡", "聯絡上", "已联络", "已聯繫"])
def test_taiwan_and_hong_kong_reached_words_record_reached(
    testbot: TestBot, book: dict[str, list[int]], word: str
) -> None:
    """已聯絡 / 聯絡上 (Taiwan, Hong Kong) mark a task reached like 已联系."""
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    assert testbot("alice", f"任務 #{target.id} {word}").status == "ok"
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == target.id))[0]
    assert row.outcome == "reached"


def test_an_outcome_read_before_the_end_commits_is_refused_after_it(
    testbot: TestBot, book: dict[str, list[int]]
) -> None:
    """alice's press read a running campaign; bob's end committed before her write: refused."""
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    with unit_of_work(testbot.session_factory) as session:
        alice = session.get(User, testbot.users["alice"])
        assert alice is not None
        ctx = Ctx(session, alice)
        task = svc.get_task(ctx, target.id)
        assert task.campaign.ended_at is None
        assert testbot("bob", 'end campaign "Q1 upsell"').status == "ok"
        with pytest.raises(Invalid) as refused:
            svc.record_outcome(ctx, task, "converted")
        assert refused.value.key == "campaign.ended"
        with pytest.raises(Invalid):
            svc.snooze(ctx, task, START + 3 * DAY)
    row = testbot.query(select(CampaignMember).where(CampaignMember.id == target.id))[0]
    assert row.outcome is None and row.converted_at is None and row.snoozed_until is None
    assert _audits(testbot, target.id) == []


def _while_bob_ends(bot: TestBot, engine: Engine, who: str, line: str) -> Reply:
    """`who` types `line` while bob's end of "Q1 upsell" is written but not yet committed."""
    from tests.crm_core.test_pipeline_totals_locks import in_thread, wait_until_blocked

    replies: list[Reply] = []
    errors: list[str] = []
    with unit_of_work(bot.session_factory) as session:
        bob = session.get(User, bot.users["bob"])
        assert bob is not None
        ctx = Ctx(session, bob)
        svc.end_campaign(ctx, svc.find_campaign(ctx, "Q1 upsell"))
        session.flush()
        worker = in_thread(errors, lambda: replies.append(bot(who, line)))
        wait_until_blocked(engine, worker)
    worker.join(10)
    assert not errors
    (reply,) = replies
    return reply


def test_an_end_and_an_outcome_or_a_second_end_at_once(
    testbot: TestBot, book: dict[str, list[int]], engine: Engine
) -> None:
    """While bob's end commits, alice's outcome waits and is refused; a second end ends nothing."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    _started(testbot)
    target = next(m for m in _members(testbot) if m.customer_id in book["alice"] and not m.holdout)
    said = _while_bob_ends(testbot, engine, "alice", f"task #{target.id} converted")
    assert said.status == "error" and "has ended" in said.text, said.text
    assert _audits(testbot, target.id) == []
    # The same race with a second end: one end, one audit entry.
    with unit_of_work(testbot.session_factory) as s:
        s.execute(update(Campaign).values(ended_at=None, ended_by=None))
        s.execute(delete(AuditEntry).where(AuditEntry.action == "campaign.end"))
    again = _while_bob_ends(testbot, engine, "admin", 'end campaign "Q1 upsell"')
    assert again.status == "error" and "already ended" in again.text, again.text
    ends = testbot.query(select(AuditEntry.actor_id).where(AuditEntry.action == "campaign.end"))
    assert ends == [testbot.users["bob"]]


@pytest.mark.parametrize(
    ("low", "high", "said"),
    [
        (0.004, 0.27, "(95% interval 0.4 to 27 points): the campaign likely worked"),
        (-0.004, 0.27, "includes no difference"),
        (-0.30, -0.004, "(95% interval -30 to -0.4 points): the campaign likely put"),
        (0.00004, 0.2, "(95% interval 0.004 to 20 points)"),
        (0.05, 0.2, "(95% interval 5 to 20 points)"),
    ],
)
def test_the_verdict_prints_its_interval_so_it_agrees(low: float, high: float, said: str) -> None:
    """A low end of 0.4 points under "likely worked" is not printed 0, and nothing reads -0."""
    from handlers.i18n import Translator
    from handlers.verbs.campaigns import verdict

    group = svc.Group(40, 0, 0, 0, 0, 10, 0, [0.0] * 40)
    iv = effect.Interval((low + high) / 2, low, high)
    report = svc.Report(Campaign(name="Q"), START, START + DAY, "USD", group, group, iv, None, None)
    text = verdict(Translator("en"), report)
    assert said in text, text
    assert "-0 " not in text and " 0 to" not in text and "to 0 " not in text, text
    if low < 0 < high:
        assert "interval (-0.4 to 27 points)" in text, text


def test_end_campaign_button_only_for_who_may_end_it(testbot: TestBot) -> None:
    """rev10 fault 11: the report offers End campaign to its starter and admins only."""
    for n in range(1, 5):
        testbot("alice", f"new customer Shop {n}")
    testbot("bob", 'save segment "All shops" name shop')
    started = testbot(
        "bob", 'campaign "Spring" segment "All shops" message "Hi {contact}" holdout 25% confirm'
    )
    assert started.status == "ok", started.text

    def labels(who: str) -> list[str]:
        return [b.label for b in testbot(who, 'campaign "Spring"').buttons]

    assert "End campaign" in labels("bob") and "End campaign" in labels("admin")
    assert "End campaign" not in labels("alice")
    assert "Only the person" in testbot("alice", 'end campaign "Spring"').text
