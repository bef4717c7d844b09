"""Loose reading of a new book's ways of speaking: customers by short names and tags, stages
said without a stage word, a wish to leave a record as it is, quotas by display name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import Contact, Customer, Deal, Interaction, Reminder, StageChange, User
from tests.conftest import TestBot
from tests.handlers.conftest import command

TABLES = (Customer, Contact, Deal, Interaction, Reminder, StageChange)

BOOK = (
    ("alice", "new customer Northgate Timber Yards tags Northie, warehouse"),
    ("alice", "new deal Northgate Timber: Pallet racking refit 30k stage qualified"),
    ("alice", "new customer Quayside Ropeworks tags Northie"),
    ("alice", "new customer Quayside Chandlery tags Northie"),
    ("alice", "new customer Bellweather Storage tags warehouse"),
    ("alice", "new deal Bellweather Storage: Forklift lease 12k stage lead"),
    ("wei", "新客户 杭州西湖青藤茶业有限公司"),
    ("wei", "新商机 杭州西湖青藤茶业有限公司：年度茶叶采购 20万 元 阶段 lead"),
    ("wei", "新客户 香港港灯贸易有限公司 tags Harbour Lights, 港灯"),
    ("wei", "新商机 香港港灯贸易有限公司：Pantry coffee 5万 元 阶段 proposal"),
    ("wei", "contact add 香港港灯贸易有限公司：Angela Fung"),
)


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows in the tables a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


def test_a_customer_is_named_by_its_short_name_tag_or_inner_words(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A capitalised tag ("Northie"), the English half of a bilingual name ("Harbour Lights")
    and a Chinese name's words after its city and district ("青藤") name the customer."""
    assert command(testbot, "alice", "called northie, they want a site survey").startswith(
        f"log call #{book['Northgate Timber Yards']}:"
    )
    tea = book["年度茶叶采购"]
    assert command(testbot, "wei", "青藤的年度茶叶采购金额改成25万") == (
        f"edit deal #{tea}: amount 250000 CNY"
    )
    pantry = book["Pantry coffee"]
    assert command(testbot, "wei", "Harbour Lights 個 pantry coffee 冇咗, 佢哋揀咗 Nespresso") == (
        f"move #{pantry} to lost: 佢哋揀咗 Nespresso"
    )


def test_a_tag_many_share_or_a_lowercase_tag_names_no_customer(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "warehouse" is a kind of customer, not a name; a Chinese trade word after the city
    ("茶业") names nothing; nothing is written."""
    before = counts(testbot)
    reply = testbot("alice", "called warehouse, they want a quote for racking")
    assert f"#{book['Bellweather Storage']}" not in str(reply.to_json().get("command"))
    assert testbot("wei", "茶业的年度茶叶采购金额改成25万").status != "confirm"
    assert counts(testbot) == before


def test_a_tag_of_three_customers_is_no_name(testbot: TestBot, book: dict[str, int]) -> None:
    """ "Northie" on three customers... is asked about or ignored, never taken for one."""
    with unit_of_work(testbot.session_factory) as s:
        for c in s.scalars(select(Customer).where(Customer.name.like("Quayside%"))):
            c.tags = ["Northie"]
    reply = testbot("alice", "called northie, they want a site survey")
    assert f"#{book['Northgate Timber Yards']}" not in str(reply.to_json().get("command"))


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("northgate pallet racking refit is dead, they bought second hand", "lost"),
        ("northgate pallet racking refit quote went out this morning", "proposal"),
        ("northgate pallet racking refit fell through - budget cut", "lost"),
    ],
)
def test_a_stage_said_without_its_word_moves_the_named_deal(
    testbot: TestBot, book: dict[str, int], text: str, stage: str
) -> None:
    """ "is dead", "quote went out", "fell through": the stage the words mean, for the deal
    named by its own title words."""
    assert command(testbot, "alice", text).startswith(
        f"move #{book['Pallet racking refit']} to {stage}"
    )


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("青藤年度茶叶采购 报价发过去了", "proposal"),
        ("青藤的年度茶叶采购 客户确认有预算了", "qualified"),
        ("青藤年度茶叶采购凉了 他们换了供应商", "lost"),
        ("青藤年度茶叶采购 王总刚签字", "won"),
    ],
)
def test_a_chinese_stage_said_without_its_word_moves_the_named_deal(
    testbot: TestBot, book: dict[str, int], text: str, stage: str
) -> None:
    """报价发过去了 (proposal), 确认有预算了 (qualified), 凉了 (lost), 签字 (won)."""
    assert command(testbot, "wei", text).startswith(f"move #{book['年度茶叶采购']} to {stage}")


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "has the northgate pallet racking refit quote went out?"),
        ("alice", "if the northgate pallet racking refit is dead we lose the yard"),
        ("alice", "the northgate pallet racking refit buyer is off sick today"),
        ("wei", "青藤年度茶叶采购 还没确认预算"),
        ("wei", "青藤年度茶叶采购 要等签字"),
        ("alice", "is the office kettle dead?"),
    ],
)
def test_a_stage_word_missing_never_writes_a_question_negation_or_plan(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A question, a supposition, a negation or a wait is no move."""
    before = counts(testbot)
    reply = testbot(who, text)
    assert reply.status != "confirm" or "move" not in str(reply.to_json().get("command")), text
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (
            "alice",
            "leave the northgate pallet racking refit where it is, finance is still checking",
        ),
        ("wei", "青藤那单先别动 王总还在走流程"),
        ("wei", "青藤先唔好郁住，王总仲未覆"),
    ],
)
def test_leaving_a_record_as_it_is_is_neither_a_write_nor_a_read(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """ "leave X where it is", "先别动", "唔好郁住": nothing to do, not the record's card."""
    reply = testbot(who, text)
    assert reply.status == "info", (text, reply.status, reply.text)
    assert not reply.to_json().get("command")


def _named(testbot: TestBot, handle: str, name: str) -> None:
    """A rep of East whose display name is not their handle."""
    testbot.add_user(handle)
    with unit_of_work(testbot.session_factory) as s:
        user = s.scalar(select(User).where(User.external_id == handle))
        assert user is not None
        user.name = name


def test_a_quota_names_its_person_by_display_name_or_in_characters(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "Oliver's Q1 number", "the first quarter of 2027", a currency before its amount or in
    words after it, a year's quota, and a romanized name said in characters ("美玲", "小安")."""
    _named(testbot, "olly", "Oliver Pike")
    _named(testbot, "mei", "Lau Mei-ling")
    _named(testbot, "anxiao", "Xiao An")
    assert command(testbot, "bob", "Oliver's Q3 number: £38k.") == "quota @olly 2027-Q3 38000 GBP"
    assert command(
        testbot,
        "bob",
        "Oliver's target for the second quarter of 2027 is 50,000 Australian dollars",
    ) == ("quota @olly 2027-Q2 50000 AUD")
    assert command(testbot, "bob", "美玲 2027年第二季度配额：港币一百二十万") == (
        "quota @mei 2027-Q2 1200000 HKD"
    )
    assert command(testbot, "bob", "明年三季度小安的指标定为 40 万人民币") == (
        "quota @anxiao 2027-Q3 400000 CNY"
    )
    assert command(testbot, "bob", "olly 明年全年指标 九百万人民币") == (
        'quota @olly "2027" 9000000 CNY'
    )
    before = counts(testbot)
    for text in ("What was Oliver's Q3 number?", "Oliver's Q3 number was 40k last year"):
        assert testbot("bob", text).status != "confirm", text
    assert counts(testbot) == before


def _reminder(testbot: TestBot, who: str, text: str) -> int:
    """A reminder of `who`, by its number."""
    testbot(who, text)
    with testbot.session_factory() as s:
        found = s.scalar(select(Reminder.id).order_by(Reminder.id.desc()).limit(1))
    assert found is not None
    return found


def test_a_reminder_by_number_and_what_became_of_it_is_done_cancel_or_snooze(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "#N sorted, ...", "reminder #N can go", "kill #N please", "#N 搞掂，...", "#N 唔使提喇",
    "#N 往后挪到周三下午两点 客户出差" (the time only), "第N个提醒可以完成"."""
    n = _reminder(testbot, "alice", "remind me tomorrow 9am to ring northgate")
    assert command(testbot, "alice", f"#{n} sorted, dropped the racking specs off") == f"done #{n}"
    assert command(testbot, "alice", f"reminder #{n} can go, they rang me") == f"done #{n}"
    assert command(testbot, "alice", f"kill #{n} please, the call got folded in") == f"cancel #{n}"
    z = _reminder(testbot, "wei", "提醒我明天上午十点 给青藤打电话")
    assert command(testbot, "wei", f"#{z} 搞掂，王总收到样品") == f"done #{z}"
    assert command(testbot, "wei", f"#{z} 唔使提喇，王总今朝已经回覆咗") == f"cancel #{z}"
    assert command(testbot, "wei", f"#{z} 往后挪到周三下午两点 王总出差") == (
        f"snooze #{z} 周三下午两点"
    )
    assert command(testbot, "wei", f"样品送到了第{z}个提醒可以完成") == f"done #{z}"


@pytest.mark.parametrize(
    "text",
    ["#{n} 搞掂未", "is #{n} done?", "don't cancel #{n}", "#{n} 唔使提前", "#{n} done or not"],
)
def test_a_reminder_asked_about_or_kept_is_no_write(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """A question ("搞掂未", "done?"), a negation or 不用提前 (no need to be early) is none."""
    n = _reminder(testbot, "wei", "提醒我明天上午十点 给青藤打电话")
    assert testbot("wei", text.format(n=n)).status != "confirm"


def test_an_amount_with_no_currency_keeps_the_deals_own(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "改做 18 萬" on a Hong Kong dollar deal is HK$180,000; a currency said is kept."""
    pantry = book["Pantry coffee"]
    with unit_of_work(testbot.session_factory) as s:
        deal = s.get(Deal, pantry)
        assert deal is not None
        deal.currency = "HKD"
    assert command(testbot, "wei", "Harbour Lights pantry coffee 個 amount 改做 18 萬") == (
        f"edit deal #{pantry}: amount 180000 HKD"
    )
    assert command(testbot, "wei", "Harbour Lights pantry coffee 金额改成 18 万人民币") == (
        f"edit deal #{pantry}: amount 180000 CNY"
    )


def test_a_remark_of_what_was_done_keeps_to_its_clause(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A request after a remark (done already, someone's words, "already") is read; the remark
    alone, or someone else's plan, is still none."""
    refit = book["Pallet racking refit"]
    line = command(
        testbot,
        "alice",
        "I already logged the northgate call, remind me tomorrow 3pm to chase the PO",
    )
    assert line.startswith("remind me tomorrow 3pm")
    assert command(
        testbot,
        "alice",
        "they said it's gone, so move the northgate pallet racking refit to lost: cost",
    ) == (f"move #{refit} to lost: cost")
    assert command(
        testbot, "alice", "specs already sent, visited northgate today, they want a site survey"
    ).startswith(f"log visit #{book['Northgate Timber Yards']}")
    before = counts(testbot)
    for text in (
        "I already logged the northgate call, no need to log it again",
        "they said they'd move the northgate pallet racking refit to lost",
        "I moved the northgate pallet racking refit to negotiation yesterday, so all good",
    ):
        assert testbot("alice", text).status != "confirm", text
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "show me the northgate pallet racking refit, the one they signed last year"),
        ("wei", "Angela 話佢哋 partner 下個月先開會傾"),
        ("wei", "log a visit for Kowloon Ferry Works, met angela fung"),
    ],
)
def test_a_read_a_reported_plan_or_another_company_is_no_write(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """ "show me ..., the one they signed": a read; "Angela 話 ... 下個月先開會" (someone's plan);
    a visit "for" a company that is not the contact's: none is a write."""
    before = counts(testbot)
    assert testbot(who, text).status != "confirm", text
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("who", "text", "kind"),
    [
        ("wei", "啱啱同 Angela 傾完電話, 港灯想 CNY 前要多两箱", "call"),
        ("wei", "头先打畀 Angela，港灯话价钱 ok", "call"),
        ("wei", "昨天下午跟Angela Fung电话 港灯想试冷萃", "call"),
        ("wei", "刚从港灯出来，Angela 说年底要加单", "visit"),
        ("wei", "Angela 寄email来说港灯想试新豆", "email"),
        ("wei", "昨天晚上LINE港灯的Angela，想要一台咖啡机", "chat"),
        ("alice", "popped into northgate this arvo, they want a site survey", "visit"),
    ],
)
def test_cantonese_and_dictated_events_are_logged(
    testbot: TestBot, book: dict[str, int], who: str, text: str, kind: str
) -> None:
    """傾完電話, 打畀, 跟X电话 (calls), 刚从X出来, popped into (visits), 寄email (email), LINE
    X (chat): what happened, logged with its kind."""
    assert command(testbot, who, text).startswith(f"log {kind} #"), text


def test_a_phone_number_asked_is_no_call(testbot: TestBot, book: dict[str, int]) -> None:
    """ "跟 Angela 电话号码多少" asks a number; nothing is logged."""
    assert testbot("wei", "Angela Fung电话多少").status != "confirm"


def test_a_customer_field_said_with_a_particle_or_please(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "行业改成 X 吧 不是 Y" is industry X; "行业请改为 X" too; the city said with the place
    and the company's own name apart ("青藤的城市改成杭州市西湖区") names the company."""
    tea = book["杭州西湖青藤茶业有限公司"]
    assert command(testbot, "wei", "青藤的行业改成 茶饮/零售 吧 不是纯批发") == (
        f"edit customer #{tea}: industry 茶饮/零售"
    )
    assert command(testbot, "wei", "青藤的行业请改为 茶饮连锁。") == (
        f"edit customer #{tea}: industry 茶饮连锁"
    )
    assert command(testbot, "wei", "青藤的城市改成杭州市余杭区") == (
        f"edit customer #{tea}: city 杭州市余杭区"
    )


def test_an_event_word_inside_a_customer_name_is_no_event(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "港湾会议中心的行业改为 会展" is an edit of the customer, not a meeting logged."""
    testbot("wei", "新客户 宁波港湾会议中心有限公司")
    with testbot.session_factory() as s:
        hall = s.scalar(select(Customer.id).where(Customer.name == "宁波港湾会议中心有限公司"))
    assert command(testbot, "wei", "港湾会议中心的行业请改为 会展服务") == (
        f"edit customer #{hall}: industry 会展服务"
    )


def test_a_traditional_tag_names_a_customer_whose_place_hides_its_name(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "雲雀" (a tag typed in Traditional characters, standing in the name after a three-character
    district) names 香港铜锣湾云雀茶餐厅."""
    testbot("wei", "新客户 香港铜锣湾云雀茶餐厅有限公司 tags 雲雀")
    testbot("wei", "新商机 香港铜锣湾云雀茶餐厅有限公司：Banquet coffee 5万 元 阶段 negotiation")
    # Another customer's deal of the same title: the customer must be the one named.
    testbot("wei", "新商机 香港港灯贸易有限公司：Banquet coffee 3万 元 阶段 negotiation")
    with testbot.session_factory() as s:
        deal = s.scalar(select(Deal.id).where(Deal.title == "Banquet coffee").order_by(Deal.id))
    assert command(testbot, "wei", "雲雀嗰單 banquet coffee 簽咗喇！陳生今朝親自嚟簽") == (
        f"move #{deal} to won"
    )


@pytest.mark.parametrize(
    ("who", "text", "stage"),
    [
        (
            "alice",
            "they said yes to the lot on the northgate pallet racking refit, stick it on won",
            "won",
        ),
        (
            "alice",
            "northgate pallet racking refit went up to negotiation after they haggled",
            "negotiation",
        ),
        ("wei", "青藤 的 年度茶叶采购 进 negotiation 了，王总在 push 老板", "negotiation"),
        ("wei", "青藤 年度茶叶采购 可以 qualified 了, 王总说夏天要用", "qualified"),
    ],
)
def test_a_stage_said_the_way_people_talk_moves_the_deal(
    testbot: TestBot, book: dict[str, int], who: str, text: str, stage: str
) -> None:
    """ "stick it on won" after a remark, "went up to", "进 X 了", "可以 X 了" (ready now)."""
    deal = book["Pallet racking refit"] if who == "alice" else book["年度茶叶采购"]
    assert command(testbot, who, text) == f"move #{deal} to {stage}"


@pytest.mark.parametrize(
    "text", ["青藤 年度茶叶采购 下周可以 qualified", "青藤的年度茶叶采购 跟进 proposal"]
)
def test_a_planned_or_followed_up_stage_is_no_move(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """ "下周可以 X" is a plan; "跟进" is following up, not "进" a stage."""
    assert testbot("wei", text).status != "confirm"


@pytest.mark.parametrize(
    ("who", "text", "verb"),
    [
        ("wei", "我有咩提醒未做", "reminders"),
        ("wei", "最近有什麼要追的提醒嗎", "reminders"),
        ("alice", "anything i need to chase this week?", "reminders"),
        ("alice", "what do we charge for the cold brew these days", "products"),
        ("alice", "racking bolts how much per box ah", "products"),
        ("wei", "冷萃桶装现在什么价", "products"),
        ("alice", "how much have i got open all up", "pipeline"),
    ],
)
def test_reads_said_the_way_people_talk(
    testbot: TestBot, book: dict[str, int], who: str, text: str, verb: str
) -> None:
    """Reminders, the price list and the pipeline asked for in everyday words run as reads."""
    said, typed = testbot(who, text), testbot(who, verb)
    assert (said.status, said.text) == (typed.status, typed.text), text
