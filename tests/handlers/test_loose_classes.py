"""Loose reading by classes of sentence: Chinese short names, same-named customers told apart,
outcomes told inside a note, who a call was with, contact fields, reads and amounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Contact, Customer, Deal, Interaction, Reminder, StageChange
from tests.conftest import TestBot
from tests.handlers.conftest import command

TABLES = (Customer, Contact, Deal, Interaction, Reminder, StageChange)


# The `book` fixture (tests/handlers/conftest.py) types these lines:
# alice's two Allen customers (one deal and one contact each) and wei's 青岛联创.
BOOK = (
    ("alice", "new customer Allen Harvest Corp. city Stockholm"),
    ("alice", "new customer Allen Manufacturing GmbH city Phoenix"),
    ("alice", "new deal Allen Harvest: Yard management rollout 20k stage proposal"),
    ("alice", "new deal Allen Manufacturing: Annual support contract 8k stage lead"),
    ("alice", "contact add Allen Harvest: Olga Roberts, COO"),
    ("alice", "contact add Allen Manufacturing: Michael Young, CFO, michael@allen.example"),
    ("alice", "new customer Sterling Care"),
    ("alice", "contact add Sterling Care: Karen Johansson, IT Manager"),
    ("wei", "新客户 青岛联创制造有限公司"),
    ("wei", "新商机 青岛联创制造有限公司：车队管理系统采购 30万 元 阶段 方案"),
    ("wei", "contact add 青岛联创制造有限公司：林杰"),
)


def counts(testbot: TestBot) -> tuple[int, ...]:
    """Rows in the tables a loose write could touch."""
    return tuple(testbot.count(t) for t in TABLES)


def test_a_chinese_company_is_named_without_its_place(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "联创" names 青岛联创制造有限公司; its trade word alone ("制造") names nothing."""
    reply = testbot("wei", "联创有哪些商机")
    assert reply.status == "ok"
    assert "青岛联创制造有限公司" in (reply.title or "")
    line = command(testbot, "wei", "联创车队管理系统 成交了！！🎉")
    assert line == f"move #{book['车队管理系统采购']} to won"
    assert testbot("wei", "制造业最近怎么样").status != "confirm"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("allen annual support contract -> qualified", "move #{Annual support contract} to"),
        ("called allen, Olga Roberts wants the yard plan in writing", "log call #{Allen Harvest},"),
        ("allen in phoenix: call with michael, budget is fine", "log call #{Allen Manufacturing},"),
    ],
)
def test_same_named_customers_are_told_apart_by_a_deal_contact_or_city(
    testbot: TestBot, book: dict[str, int], text: str, expected: str
) -> None:
    """ "allen" is two customers; the deal, contact or city named with it picks one."""
    names = {
        "Annual support contract": book["Annual support contract"],
        "Allen Harvest": book["Allen Harvest Corp."],
        "Allen Manufacturing": book["Allen Manufacturing GmbH"],
    }
    want = expected
    for name, rid in names.items():
        want = want.replace("{" + name + "}", str(rid))
    assert command(testbot, "alice", text).startswith(want)


def test_same_named_customers_with_nothing_to_tell_them_apart_are_asked(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """No deal, contact or city of either: a question with both as buttons, nothing written."""
    before = counts(testbot)
    reply = testbot("alice", "called allen today, budget approved")
    assert reply.status == "info"
    labels = " ".join(b.label for b in reply.buttons)
    assert "Allen Harvest" in labels and "Allen Manufacturing" in labels
    assert counts(testbot) == before


@pytest.mark.parametrize(
    "text",
    ["联创那边开了会，林杰说车队系统下周签约", "聯創那邊開了會，林杰說車隊系統下週簽約"],
)
def test_an_outcome_planned_inside_a_note_is_the_notes(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """ "下周签约" after a meeting is what was said, not a move to won."""
    line = command(testbot, "wei", text)
    assert line.startswith(f"log meeting #{book['青岛联创制造有限公司']}"), line
    assert f"with #{book['林杰']}" in line


def test_another_company_is_not_a_negation(testbot: TestBot, book: dict[str, int]) -> None:
    """ "选了别家" (chose another vendor) is a lost reason, not "别" (don't)."""
    line = command(testbot, "wei", "联创的车队管理系统采购丢了，客户选了别家")
    assert line == f"move #{book['车队管理系统采购']} to lost: 客户选了别家"


@pytest.mark.parametrize(
    ("text", "with_karen"),
    [
        ("called sterling care, Karen wants a demo", True),
        ("note on sterling care: Karen says the budget is approved", True),
        ("note on sterling care: Karen is on leave until January", False),
    ],
)
def test_who_a_call_was_with(
    testbot: TestBot, book: dict[str, int], text: str, with_karen: bool
) -> None:
    """In a call the customer's contact named is the one spoken with; in a note, only when
    quoted."""
    line = command(testbot, "alice", text)
    assert (f"with #{book['Karen Johansson']}" in line) is with_karen, line


@pytest.mark.parametrize(
    ("who", "text", "contact", "body"),
    [
        ("alice", "Olga Roberts has a new email olga.roberts@allen.example", "Olga Roberts",
         "email olga.roberts@allen.example"),
        ("alice", "allen harvest's olga — new phone +46 8 555 0101", "Olga Roberts",
         "phone +46 8 555 0101"),
        ("alice", "Michael Young at Allen Manufacturing is COO now", "Michael Young", "title COO"),
        ("alice", "Karen Johansson 的職稱改成 VP Procurement", "Karen Johansson",
         "title VP Procurement"),
        ("wei", "林杰手机换了，新号 +86 139 1234 5678", "林杰", "phone +86 139 1234 5678"),
        ("wei", "林杰升了，现在是董事长，改一下职位", "林杰", "title 董事长"),
        ("wei", "联创的林杰生日是1972年8月8号", "林杰", "birthday 1972-08-08"),
    ],
)  # fmt: skip
def test_a_contacts_news_is_an_edit_of_that_contact(
    testbot: TestBot, book: dict[str, int], who: str, text: str, contact: str, body: str
) -> None:
    """A new address, number, title or birthday said as news is `edit contact` (a card)."""
    before = counts(testbot)
    assert command(testbot, who, text) == f"edit contact #{book[contact]}: {body}"
    assert counts(testbot) == before


def test_an_address_of_someone_else_is_not_the_named_contacts(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """The address belongs to the new person named after the contact: no edit of the contact."""
    reply = testbot(
        "alice", "Olga Roberts left Allen Harvest, new COO is Sam Ortiz, sam.ortiz@allen.example"
    )
    assert not str(reply.to_json().get("command") or "").startswith("edit contact")


def test_two_contacts_of_one_name_are_told_apart_by_their_customer(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """Two Olgas: the customer named with the name picks one; with none it is asked."""
    testbot("alice", "contact add Sterling Care: Olga Roberts, Nurse")
    other = testbot.query(select(Contact.id).where(Contact.customer_id == book["Sterling Care"]))
    olga = max(other)
    line = command(
        testbot, "alice", "sterling care's Olga Roberts has a new email olga@sterling.example"
    )
    assert line == f"edit contact #{olga}: email olga@sterling.example"
    assert testbot("alice", "Olga Roberts has a new email olga@x.example").status == "info"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Karen Johansson's number?", "Karen Johansson"),
        ("who's Michael Young again", "Michael Young"),
    ],
)
def test_a_question_about_a_person_finds_them(
    testbot: TestBot, book: dict[str, int], text: str, words: str
) -> None:
    """ "X's number?" searches for X, and the answer shows their title, phone and email."""
    reply = testbot("alice", text)
    assert reply.status == "ok"
    assert words in (reply.title or "")
    if words == "Michael Young":
        assert any("michael@allen.example" in f.value for f in reply.fields)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("note on Sterling Care: escalated their ticket to engineering", "log #{S}: escalated"),
    ],
)  # fmt: skip
def test_a_log_line_the_grammar_refuses_is_read_as_a_sentence(
    testbot: TestBot, book: dict[str, int], text: str, start: str
) -> None:
    """ "note on X:" (the grammar's `note` takes a number): the sentence's card, not an error."""
    want = start.replace("{S}", str(book["Sterling Care"])).replace(
        "{K}", str(book["Karen Johansson"])
    )
    assert command(testbot, "alice", text).startswith(want)


def test_a_maybe_inside_the_note_is_the_notes(testbot: TestBot, book: dict[str, int]) -> None:
    """What was done, then what was said: the note's "maybe" / "可能" does not stop the log;
    a maybe before the request still does."""
    line = command(testbot, "alice", "called sterling care, Karen says maybe they sign in March")
    assert line.startswith(f"log call #{book['Sterling Care']}")
    line = command(testbot, "wei", "拜访了联创，林杰说明年可能扩大采购")
    assert line.startswith(f"log visit #{book['青岛联创制造有限公司']}")
    before = counts(testbot)
    assert testbot("alice", "if sterling care signs, call Karen").status != "confirm"
    assert counts(testbot) == before


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("add Lena Hoffmann to sterling care, she's their new IT lead, lena@sterling.example",
         "Lena Hoffmann, IT lead, lena@sterling.example"),
        ("sterling care — add Omar Haddad, procurement lead, +1 602 555 4471",
         "Omar Haddad, procurement lead, +1 602 555 4471"),
        ("add Lena Hoffmann as procurement lead at sterling care, lena@sterling.example",
         "Lena Hoffmann, procurement lead, lena@sterling.example"),
    ],
)  # fmt: skip
def test_a_new_person_with_an_address_is_a_contact_add(
    testbot: TestBot, book: dict[str, int], text: str, body: str
) -> None:
    """A full name that is no contact yet, with an address or a number, and their title."""
    assert command(testbot, "alice", text) == f"contact add #{book['Sterling Care']}: {body}"


@pytest.mark.parametrize(
    "text", ["reassign sterling care to bob, deals too", "Sterling Care 转给 bob 吧，连单子一起"]
)
def test_reassign_with_its_deals(testbot: TestBot, book: dict[str, int], text: str) -> None:
    """ "deals too", "连单子一起": the customer moves with its deals."""
    line = command(testbot, "admin", text)
    assert line == f"reassign #{book['Sterling Care']} to @bob with deals"


def _ran(testbot: TestBot, who: str, text: str) -> str:
    """The grammar line a read ran as (its reply must be a read's)."""
    reply = testbot(who, text)
    assert reply.status in ("ok", "info"), (text, reply.status, reply.text)
    assert reply.status != "confirm"
    return reply.title or reply.text


@pytest.mark.parametrize(
    ("who", "text", "fragment"),
    [
        ("alice", "which of my deals close soonest?", "open deals"),
        ("wei", "我这个季度的赢单率多少", "赢单率"),
        ("wei", "按月份看贏單率，今年的", "赢单率"),
        ("wei", "车队管理系统采购这单谁改过金额？", "车队管理系统采购"),
        ("wei", "看下联创的变更历史", "青岛联创制造有限公司"),
        ("admin", "全部客戶第一頁", "1"),
        ("admin", "我是用哪個帳號登入的", ""),
    ],
)
def test_questions_with_a_writes_words_are_reads(
    testbot: TestBot, book: dict[str, int], who: str, text: str, fragment: str
) -> None:
    """赢单率 is not 赢单, "close soonest" is not a close, "谁改过" is a history: reads, no card."""
    before = counts(testbot)
    assert fragment in _ran(testbot, who, text)
    assert counts(testbot) == before


def test_a_win_rate_chart_is_never_a_move(testbot: TestBot, book: dict[str, int]) -> None:
    """ "按季度的赢单率图" is a chart, not "赢单" (won) of some deal."""
    reply = testbot("wei", "給我一張按季度的贏單率圖")
    assert reply.status != "confirm"
    assert reply.image is not None or reply.status in ("ok", "info")


@pytest.mark.parametrize(
    ("who", "text", "owner"),
    [
        ("alice", "make bob the owner of the allen yard management deal", "bob"),
        ("alice", "allen harvest yard management deal - make me the owner", "alice"),
        ("wei", "联创的车队管理系统这单先交给 alice 跟", "alice"),
    ],
)
def test_one_deal_handed_over_is_a_deal_owner_edit(
    testbot: TestBot, book: dict[str, int], who: str, text: str, owner: str
) -> None:
    """A deal named and handed to someone changes that deal's owner, not the customer's."""
    deal = book["Yard management rollout"] if who == "alice" else book["车队管理系统采购"]
    assert command(testbot, who, text) == f"edit deal #{deal}: owner @{owner}"


@pytest.mark.parametrize(
    ("who", "text", "expected"),
    [
        ("wei", "联创车队管理系统采购 金额改成 1.3万新币", "amount 13000 SGD"),
        ("wei", "联创车队管理系统采购 金额改成 2万欧", "amount 20000 EUR"),
        ("wei", "联创车队管理系统采购 金额改成30万瑞典克朗", "amount 300000 SEK"),
        ("alice", "allen yard management deal 金額改成五千二", "amount 5200 SEK"),
    ],
)
def test_amounts_in_chinese_with_their_currency(
    testbot: TestBot, book: dict[str, int], who: str, text: str, expected: str
) -> None:
    """新币 / 欧 / 瑞典克朗 name a currency; 五千二 with none keeps the deal's own."""
    assert command(testbot, who, text).endswith(expected)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("log mtg w/ Karen at sterling care - wants pricing per site", "log meeting #"),
        ("note on Sterling Care: I met Karen at a dinner, bigger rollout next year", "log #"),
        ("前天和林杰吃了个饭，聊了下联创明年的预算", "log meeting #"),
    ],
)
def test_the_kind_a_log_says(testbot: TestBot, book: dict[str, int], text: str, start: str) -> None:
    """ "mtg" is a meeting, a "note on X:" stays a note, 吃了个饭 is a meeting."""
    who = "wei" if not text.isascii() else "alice"
    assert command(testbot, who, text).startswith(start)


def test_a_new_deals_stage_said_in_words(testbot: TestBot, book: dict[str, int]) -> None:
    """ "already qualified" is the new deal's stage, not part of its title."""
    line = command(
        testbot, "alice", "open a deal at sterling care — dock pilot 12k, already qualified"
    )
    assert line == f"new deal #{book['Sterling Care']}: dock pilot 12000 USD stage qualified"


@pytest.mark.parametrize(
    ("who", "text", "expected"),
    [
        ("alice", "new customer Pinecrest Labs, healthcare, out of Austin",
         "new customer Pinecrest Labs industry Healthcare city Austin"),
        ("alice", "new customer Lakeshore Foods, food & bev, Milwaukee, give it to bob",
         "new customer Lakeshore Foods industry Food & Beverage city Milwaukee owner @bob"),
        ("wei", "新客户：深圳鹏达供应链有限公司，做物流的，在深圳，给 alice",
         "new customer 深圳鹏达供应链有限公司 industry Logistics city 深圳 owner @alice"),
    ],
)  # fmt: skip
def test_a_new_customers_parts_in_words(
    testbot: TestBot, book: dict[str, int], who: str, text: str, expected: str
) -> None:
    """ "out of Austin", "give it to bob", "做物流的", "在深圳", "给 alice": the parts."""
    assert command(testbot, who, text) == expected


@pytest.mark.parametrize(
    ("who", "text", "body"),
    [
        ("alice", "sterling care moved HQ to Austin fyi, update their city", "city Austin"),
        ("alice", "sterling care moved, they're in Evanston now", "city Evanston"),
        ("alice", "Sterling Care renamed itself Sterling Health Co., please update",
         "name Sterling Health Co."),
        ("alice", "tag sterling care as renewal as well pls", "tags renewal"),
        ("alice", "Sterling Care 加上 strategic 標籤", "tags strategic"),
        ("wei", "联创的城市写错了，应该是宁波", "city 宁波"),
        ("wei", "联创的城市改成济南，不是烟台", "city 济南"),
    ],
)  # fmt: skip
def test_a_customers_news_is_an_edit_of_that_customer(
    testbot: TestBot, book: dict[str, int], who: str, text: str, body: str
) -> None:
    """A move, a rename or a tag said as news; "as well" is not "we'll"; "不是X" is dropped."""
    name = "Sterling Care" if who == "alice" else "青岛联创制造有限公司"
    assert command(testbot, who, text) == f"edit customer #{book[name]}: {body}"


def test_a_nudge_for_someone_else_is_their_reminder(testbot: TestBot, book: dict[str, int]) -> None:
    """ "alice needs a nudge tomorrow at 10 about X" from her manager reminds alice, shown on a
    card; from a rep (who reminds only themself) it says so at once, with no card."""
    line = command(testbot, "bob", "alice needs a nudge tomorrow at 10 about the allen contract")
    assert line.startswith("remind @alice tomorrow at 10")
    reply = testbot("alice", "bob needs a nudge tomorrow at 10 about the allen contract")
    assert reply.status == "info" and "Bob" in reply.text and "remind" in reply.text


def test_a_new_deals_title_leaves_out_the_companys_legal_form(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "new deal for 青岛联创制造有限公司 48k ...": 有限公司 is the name's, not the title's."""
    line = command(
        testbot, "wei", "new deal for 青岛联创制造有限公司 48k fleet renewal closing mid January"
    )
    assert line.startswith(f"new deal #{book['青岛联创制造有限公司']}: fleet renewal 48000"), line


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "I already logged the call with Sterling Care, no need to log it again"),
        ("alice", "sterling care visit - don't log that again, it's in there"),
        ("wei", "联创那次拜访我已经记过了，不用再记"),
        ("wei", "联创的电话我记好了，别再记一遍"),
        ("wei", "聯創那通電話已經記過了，不必再記"),
    ],
)
def test_a_write_said_to_be_done_already_is_none(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """ "Already logged, no need to log again": no confirm card and nothing written (the clause
    after the comma was read as the note of a new log)."""
    before = counts(testbot)
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))
    assert counts(testbot) == before


@pytest.mark.parametrize(
    "text",
    [
        "log a call with olga roberts at zephyr freight, she wants a demo",
        "called Karen Johansson from Brightline, budget approved",
    ],
)
def test_a_person_at_a_company_not_found_is_not_their_own_customer(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """A contact named "at" a company that is not found (missing, or another book's) does not
    turn the card into that contact's own customer: it is asked, and nothing is written."""
    before = counts(testbot)
    reply = testbot("alice", text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))
    assert counts(testbot) == before


def test_a_person_at_their_own_company_by_its_first_word_is_a_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "at sterling" names Karen's own customer: the card is made."""
    text = "log a call with Karen Johansson at sterling at 3pm, budget ok"
    line = command(testbot, "alice", text)
    assert line.startswith(f"log call #{book['Sterling Care']}"), line
