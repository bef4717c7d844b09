"""Loose reading rules: outcomes after a deal's name, deal edits, Chinese numerals and dates,
who a note was with, and reported speech that never becomes a write."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.context import Ctx
from crm_core.models import Customer, Deal, Interaction, Reminder, StageChange, User
from handlers.loose import Proposal
from tests.conftest import TestBot
from tests.handlers.conftest import command

TABLES = (Customer, Deal, Interaction, Reminder, StageChange)


# The `book` fixture (tests/handlers/conftest.py) types these lines:
# alice's Acme (two deals, two contacts) and wei's 华东物流 (two deals, two contacts).
BOOK = (
    ("alice", "new customer Acme Logistics"),
    ("alice", "new deal Acme: Label printers expansion 15k stage proposal"),
    ("alice", "new deal Acme: Analytics dashboard rollout 20k stage qualified"),
    ("alice", "contact add Acme: David Taylor, Finance Director"),
    ("alice", "contact add Acme: Karen Johansson, IT Manager"),
    ("wei", "新客户 华东物流有限公司"),
    ("wei", "新商机 华东物流：仓储系统升级 50万 元 阶段 方案"),
    ("wei", "新商机 华东物流：车队管理系统采购 30万 元 阶段 方案"),
    ("wei", "contact add 华东物流：杨敏"),
    ("wei", "contact add 华东物流：何霞"),
)


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows in the tables a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


@pytest.mark.parametrize(
    ("who", "text", "title", "stage"),
    [
        ("alice", "acme label printers lost - budget frozen", "Label printers expansion", "lost"),
        (
            "alice",
            "acme analytics lost :( went with Tableau",
            "Analytics dashboard rollout",
            "lost",
        ),
        ("alice", "acme label printers - won it!! 🥳", "Label printers expansion", "won"),
        ("wei", "华东物流的车队管理系统采购赢了！🎉", "车队管理系统采购", "won"),
        ("wei", "華東物流 倉儲系統升級 請推進到議價階段", "仓储系统升级", "negotiation"),
        ("wei", "嗯 華東物流的車隊管理系統採購 丟單了 對方自建系統", "车队管理系统采购", "lost"),
    ],
)
def test_an_outcome_after_the_deals_name_is_a_move(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str, stage: str
) -> None:
    """A bare won/lost after the title, 议价 (Traditional 議價), a reason after a space."""
    line = command(testbot, who, text)
    assert line.startswith(f"move #{book[title]} to {stage}"), line
    if stage == "lost":
        assert line.split(": ", 1)[1] in ("budget frozen", "went with Tableau", "對方自建系統")


@pytest.mark.parametrize(
    ("who", "text", "title", "part"),
    [
        (
            "alice",
            "put the acme analytics dashboard at 30k",
            "Analytics dashboard rollout",
            "amount 30000 USD",
        ),
        ("alice", "acme label printers -> 18.5k", "Label printers expansion", "amount 18500 USD"),
        (
            "alice",
            "Acme label printers close date -> 15 feb",
            "Label printers expansion",
            "close 2027-02-15",
        ),
        ("wei", "华东物流仓储系统金额改成十二万欧元", "仓储系统升级", "amount 120000 EUR"),
        ("wei", "華東物流 倉儲系統 金額改成兩萬五英鎊", "仓储系统升级", "amount 25000 GBP"),
        (
            "wei",
            "华东物流的车队管理系统采购改到明年4月底结单",
            "车队管理系统采购",
            "close 2027-04-30",
        ),
        (
            "wei",
            "華東物流的車隊管理系統採購 改到 1 月 20 日結案",
            "车队管理系统采购",
            "close 2027-01-20",
        ),
    ],
)
def test_a_deals_amount_or_close_day_set_in_words(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str, part: str
) -> None:
    """English arrows and verbs, Chinese numerals and dates, Traditional characters."""
    line = command(testbot, who, text)
    assert line.startswith(f"edit deal #{book[title]}:") and part in line, line


def test_chinese_numerals_in_a_new_deal(testbot: TestBot, book: dict[str, int]) -> None:
    """八十萬 is 800,000 yuan; 明年一月底 the last day of next January."""
    line = command(testbot, "wei", "幫我新增商機：華東物流，倉儲掃描二期，八十萬，明年一月底")
    assert " 800000 CNY" in line and "close 2027-01-31" in line, line


@pytest.mark.parametrize(
    ("who", "text", "contact", "kind"),
    [
        (
            "alice",
            "Had lunch with Karen Johansson at Acme, they want a pilot",
            "Karen Johansson",
            "meeting",
        ),
        (
            "alice",
            "pls log metting w/ Karen Johansson, acme: wants an onsite demo",
            "Karen Johansson",
            "meeting",
        ),
        ("alice", "pls log: acme, david taylor: budget approved", "David Taylor", None),
        ("wei", "微信上和杨敏聊了，华东物流下周签合同", "杨敏", "chat"),
        ("wei", "記錄拜訪：華東物流，跟何霞看了倉庫現場", "何霞", "visit"),
    ],
)
def test_who_a_note_was_with(
    testbot: TestBot, book: dict[str, int], who: str, text: str, contact: str, kind: str | None
) -> None:
    """A contact met or written to after the separator is `with`; lunch is a meeting, 微信 a
    chat, a misspelt kind word is read; the customer may come from the contact alone."""
    line = command(testbot, who, text)
    assert line.startswith(f"log {kind} #" if kind else "log #"), line
    assert ", with #" in line, line


def test_a_person_the_note_talks_about_is_not_with(testbot: TestBot, book: dict[str, int]) -> None:
    """In a note (no call, meeting or visit), "Karen is on leave" is what it says, not who it
    was with; in a call the contact named is the one spoken to (both blind labellers' reading)."""
    line = command(testbot, "alice", "note on acme: Karen is on leave until January")
    assert ", with #" not in line, line
    line = command(testbot, "alice", "called acme yesterday, Karen wants a demo")
    assert ", with #" in line, line


@pytest.mark.parametrize(
    "text",
    [
        "Carol said she'd move the acme label printers deal to won tomorrow",
        "David says he'll push the acme analytics deal to negotiation",
        "杨敏邮箱是啥",
    ],
)
def test_reported_speech_and_bare_questions_never_write(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """Someone else's plan and a question ending in 啥 are no cards and write nothing."""
    before = counts(testbot)
    who = "wei" if "杨敏" in text else "alice"
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.text)
    assert counts(testbot) == before


def test_a_grammar_line_whose_names_run_together_gets_its_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """`move Acme label printers to won` (customer and deal with no `/`): the grammar cannot
    find such a deal; the loose reading's card names the right one."""
    line = command(testbot, "alice", "move Acme label printers to won")
    assert line == f"move #{book['Label printers expansion']} to won"


@pytest.mark.parametrize(
    ("who", "text", "want"),
    [
        ("alice", "new customer Orbit Freight, logistics, Rotterdam, owner dave", None),
        ("alice", "add a customer Pinecrest Health, healthcare, Denver, tag new-logo", None),
        ("wei", "新建客户 深圳鹏达物流，物流行业，深圳，负责人 wei", None),
        ("wei", "新增客戶：台北宏達物流，物流業，台北", None),
    ],
)
def test_a_new_customer_with_its_parts_listed(
    testbot: TestBot, book: dict[str, int], who: str, text: str, want: None
) -> None:
    """Industry (as the book spells it), city, owner and tag are read from the list, never
    taken as part of the name."""
    testbot("alice", "edit customer Acme: industry Logistics")
    line = command(testbot, who, text)
    name = line.split("new customer ", 1)[1]
    assert "," not in name.split(" industry ")[0] and "，" not in line, line
    assert " industry Logistics" in line or " industry Healthcare" in line, line
    if "owner" in text:
        assert " owner dave" in line or " owner @dave" in line, line
    if "负责人" in text:
        assert " owner " in line and "wei" in line.split(" owner ")[1], line


@pytest.mark.parametrize(
    ("who", "text", "tags"),
    [
        ("alice", "Please tag Acme as at-risk too", "at-risk"),
        ("alice", "Acme should be tagged strategic", "strategic"),
        ("wei", "華東物流加個標籤 strategic", "strategic"),
        ("wei", "华东物流加个标签 vip", "vip"),
    ],
)
def test_a_tag_added_keeps_the_others(
    testbot: TestBot, book: dict[str, int], who: str, text: str, tags: str
) -> None:
    """The card sets the customer's tags to the old ones plus the new one."""
    owner = "alice" if who == "alice" else "wei"
    name = "Acme" if owner == "alice" else "华东物流"
    testbot(owner, f"edit customer {name}: tags pilot")
    line = command(testbot, who, text)
    assert line.startswith("edit customer #") and line.endswith(f"tags pilot, {tags}"), line


@pytest.mark.parametrize(
    ("who", "text", "owner", "deals"),
    [
        ("bob", "hand over Acme to Carol w/ deals", "carol", True),
        ("bob", "give Acme to carol incl. the open deals", "carol", True),
        ("bob", "reassign acme to me pls", "bob", False),
        ("admin", "把 華東物流 轉給 carol，商機一起轉", "carol", True),
        ("admin", "幫我把华东物流转给我", "admin", False),
    ],
)
def test_reassign_to_me_and_with_deals(
    testbot: TestBot, book: dict[str, int], who: str, text: str, owner: str, deals: bool
) -> None:
    """ "me" / 我 is the person asking; "w/ deals", "incl. the open deals", 商机一起转 move the
    deals along."""
    line = command(testbot, who, text)
    assert line.startswith("reassign #") and f" to @{owner}" in line, line
    assert line.endswith("with deals") is deals, line


@pytest.mark.parametrize(
    ("who", "text", "verb"),
    [
        ("alice", "What's the latest with Acme?", "customer"),
        ("alice", "who owns acme??", "customer"),
        ("wei", "華東物流最近有什麼進展？", "customer"),
        ("alice", "did Karen say anything about budget?", "ask"),
        ("wei", "何霞之前提过仓储需求吗？", "ask"),
        ("wei", "我还有哪些提醒没做", "reminders"),
        ("wei", "產品價目表", "products"),
        ("wei", "华东物流的变更记录", "history"),
        ("wei", "列出我所有客户", "customers"),
    ],
)
def test_reads_in_words(
    testbot: TestBot, book: dict[str, int], who: str, text: str, verb: str
) -> None:
    """Status questions show the customer's card; a question about what a contact said
    searches their customer's notes; list reads in Chinese."""
    before = counts(testbot)
    reply = testbot(who, text)
    assert reply.status != "confirm", reply.text
    assert counts(testbot) == before
    with testbot.session_factory() as s:
        user = s.scalar(select(User).where(User.external_id == who))
        assert user is not None
        ctx = Ctx(s, user, testbot.dispatcher.pipeline, "USD", testbot.dispatcher.clock)
        outcome = testbot.dispatcher.interpreter.interpret(ctx, text)
    assert isinstance(outcome, Proposal) and outcome.verb.name == verb, outcome
    assert not outcome.writes


def test_a_period_the_grammar_cannot_read_is_read_loosely(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "win rate by rep this qtr?" runs as `win rate by rep this quarter`."""
    reply = testbot("bob", "win rate by rep this qtr?")
    assert reply.status == "ok", reply.text


def test_an_edit_takes_the_open_deal_of_a_shared_title(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """Last year's lost "2026 renewal" and this year's open one: the amount moves on the open
    one; "45k" in a mixed sentence keeps the deal's own currency, "填30万" is yuan."""
    testbot("alice", "new deal Acme: 2026 renewal 10k")
    testbot("alice", "move Acme / 2026 renewal to lost: budget")
    testbot("alice", "new deal Acme: 2026 renewal 12k stage proposal")
    with testbot.session_factory() as s:
        open_id = s.scalar(
            select(Deal.id).where(Deal.title == "2026 renewal", Deal.stage != "lost")
        )
    line = command(testbot, "alice", "Acme 的 2026 renewal amount 改成 45k")
    assert line == f"edit deal #{open_id}: amount 45000 USD", line
    line = command(testbot, "wei", "华东物流仓储系统那个单子金额还空着，填30万")
    assert line == f"edit deal #{book['仓储系统升级']}: amount 300000 CNY", line


@pytest.mark.parametrize(
    ("who", "text", "start"),
    [
        (
            "alice",
            "hey bot, set a reminder for Dec 14 to check if Acme signed the renewal",
            "remind me",
        ),
        ("wei", "帮忙建个提醒，12月20号追华东物流的回款", "remind me"),
        ("wei", "每周五下午5点提醒我更新商机", "remind me"),
        ("wei", "华东物流 记个笔记：何霞下个月休产假，对接人换成杨敏", "log #"),
    ],
)
def test_reminders_and_notes_in_other_orders(
    testbot: TestBot, book: dict[str, int], who: str, text: str, start: str
) -> None:
    """ "check if" is an errand, not a supposition; the time may come before 提醒我; the
    customer may come before 记个笔记 and the note after its colon (whole)."""
    line = command(testbot, who, text)
    assert line.startswith(start), line
    if start == "log #":
        assert line == f"log #{book['华东物流有限公司']}: 何霞下个月休产假，对接人换成杨敏", line


@pytest.mark.parametrize(
    ("who", "text", "title"),
    [
        ("alice", "whats the status of the acme label printers", "Label printers expansion"),
        (
            "alice",
            "what happened with the Acme analytics dashboard deal",
            "Analytics dashboard rollout",
        ),
        ("wei", "华东物流车队管理系统采购那个单子现在什么阶段？", "车队管理系统采购"),
    ],
)
def test_a_question_about_a_named_deal_shows_the_deal(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str
) -> None:
    """Status, stage, 阶段 with the deal's title words: the deal's card, nothing written."""
    with testbot.session_factory() as s:
        user = s.scalar(select(User).where(User.external_id == who))
        assert user is not None
        ctx = Ctx(s, user, testbot.dispatcher.pipeline, "USD", testbot.dispatcher.clock)
        outcome = testbot.dispatcher.interpreter.interpret(ctx, text)
    assert isinstance(outcome, Proposal) and outcome.command == f"deal #{book[title]}", outcome


@pytest.mark.parametrize(
    ("who", "text", "field"),
    [
        ("alice", "David Taylor's email is david@acme.com, please save it", "email david@acme.com"),
        ("wei", "华东物流何霞的电话是13912345678，帮我更新下", "phone 13912345678"),
        ("wei", "華東物流何霞的電話是13912345678，幫我更新下", "phone 13912345678"),
    ],
)
def test_a_contacts_email_or_phone_is_the_address_alone(
    testbot: TestBot, book: dict[str, int], who: str, text: str, field: str
) -> None:
    """The courtesy after the address is not part of it."""
    line = command(testbot, who, text)
    assert line.startswith("edit contact #") and line.endswith(field), line


def test_a_new_deal_with_its_stage_and_a_contact_named_with_at(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "stage qualified" / "阶段 方案" set the stage; "@" and a dash are not a contact's name."""
    line = command(
        testbot,
        "alice",
        "Could you create a deal for Acme called Label pilot, 9,500 EUR, stage qualified",
    )
    assert " 9500 EUR" in line and line.endswith(" stage qualified"), line
    line = command(testbot, "wei", "给华东物流建个商机 冷链监控 30万 阶段 方案")
    assert line.endswith(" stage proposal"), line
    line = command(
        testbot, "alice", "pls add a new contact @ acme - Tom Reyes, CFO, +1 602 555 0199"
    )
    assert line.startswith(f"contact add #{book['Acme Logistics']}: Tom Reyes"), line


@pytest.mark.parametrize(
    "text",
    [
        "刚跟杨敏通完电话，她说仓储升级预算下来了",
        "剛跟楊敏通完電話，她說倉儲升級預算下來了",
    ],
)
def test_a_deal_named_by_pieces_of_its_chinese_title(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """仓储 + 升级 name "仓储系统升级" (two pieces of its title): the note is attached to it."""
    line = command(testbot, "wei", text)
    assert f", deal #{book['仓储系统升级']}" in line, line
    assert line.startswith("log call #"), line


def test_a_person_after_the_customers_short_name_is_with(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "跟华东杨总开了视频会": 杨总 is 杨敏 of 华东物流, met in a video meeting."""
    line = command(testbot, "wei", "帮我记个会议：跟华东物流杨总开了视频会，讨论明年合作框架")
    assert line.startswith("log meeting #") and ", with #" in line, line


def test_a_person_after_a_space_is_with(testbot: TestBot, book: dict[str, int]) -> None:
    """ "跟 Karen Johansson 談預算": a space between 跟 and a Latin name."""
    line = command(testbot, "alice", "今天拜訪了 Acme，跟 Karen Johansson 談預算")
    assert line.startswith("log visit #") and ", with #" in line, line


@pytest.mark.parametrize(
    "text",
    ["new customer Zenith city Chicago tags fleet, west", "新客户 华南物流 城市 广州 标签 a, b"],
)
def test_a_new_customer_line_with_the_grammars_keywords_is_the_grammars(
    testbot: TestBot, text: str
) -> None:
    """Keywords before the first comma: the grammar creates it at once (tags "fleet, west")."""
    reply = testbot("alice", text)
    assert reply.status == "ok", reply.text
    assert testbot.count(Customer) == 1


def test_a_comma_in_a_new_customers_own_name_is_kept(testbot: TestBot) -> None:
    """ "Smith, Jones & Co": nothing after the comma is an industry, owner or tag."""
    reply = testbot("alice", "new customer Smith, Jones & Co")
    assert reply.status == "ok", reply.text
    with testbot.session_factory() as s:
        assert s.scalar(select(Customer.name)) == "Smith, Jones & Co"
