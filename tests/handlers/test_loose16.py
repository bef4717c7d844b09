"""Loose readings of loose16: "don't" and won / lost in dialects, requests asked as "is that
OK?", colleagues named by their Chinese given name, a reason after a courteous line, settings for
a colleague (markdown headings too), time zone and language said in words, and what must stay
no card (sarcasm, a pasted email then "let's wait", a request taken back)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from crm_core.models import User
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Bolt Freight"),
    ("alice", "new deal Bolt Freight: Reefer fleet 20000 USD close 2027-01-15"),
    ("alice", "new deal Bolt Freight: Depot lighting 8000 USD close 2027-02-15"),
    ("alice", "new customer Quarry Lane Bakery"),
    ("alice", "new customer Kestrel Holdings"),
    ("wei", "新客户 福建海风茶业"),
    ("wei", "new deal 福建海风茶业: 新品发布会 300000 CNY close 2027-02-01"),
    ("wei", "new deal 福建海风茶业: 年会茶歇 50000 CNY close 2027-01-10"),
)


def _chinese_colleague(testbot: TestBot) -> None:
    """meiling, a rep of East whose stored name is 陈美玲."""
    uid = testbot.add_user("meiling", locale="zh", timezone="Asia/Shanghai")
    with testbot.session_factory() as s:
        s.execute(update(User).where(User.id == uid).values(name="陈美玲"))
        s.commit()


# -- "don't" in dialects: never a card --------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "abeg no move bolt reefer fleet to lost o, dem still dey think"),
        ("alice", "usimove bolt reefer fleet to won, bado hawajasign"),
        ("alice", "mm ho move bolt depot lighting to lost la, still talking"),
        ("wei", "勿把海风茶业新品发布会推到谈判 还没谈好"),
        ("wei", "海风茶业年会茶歇毋通推到赢单 伊还未签"),
        ("wei", "咪推海风茶业新品发布会去谈判住"),
    ],
)
def test_dialect_dont_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """Pidgin "no move", Sheng "usi-", Cantonese "mm ho" / 咪, written 勿, Hokkien 毋通."""
    assert testbot(who, text).status != "confirm"


def test_do_not_disturb_is_no_dont(testbot: TestBot, book: dict[str, int]) -> None:
    """勿扰 names quiet hours: "我的勿扰时间改成…" is still a request."""
    assert command(testbot, "wei", "我的勿扰时间改成晚上十一点到早上七点") == "quiet 23:00-07:00"


# -- won and lost in dialects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text", "title", "stage"),
    [
        ("alice", "Bolt reefer fleet e don do!! dem sign am today", "Reefer fleet", "won"),
        ("alice", "bolt reefer fleet sign jo la", "Reefer fleet", "won"),
        ("alice", "Bolt reefer fleet deal, Juma amesign leo", "Reefer fleet", "won"),
        ("wei", "海风茶业年会茶歇 成咗！", "年会茶歇", "won"),
    ],
)
def test_dialect_won(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str, stage: str
) -> None:
    """Pidgin "e don do", romanised Cantonese "sign jo", Swahili "amesign", Cantonese 成咗."""
    assert command(testbot, who, text) == f"move #{book[title]} to {stage}"


@pytest.mark.parametrize(
    ("who", "text", "title", "reason"),
    [
        ("alice", "bolt reefer fleet no go happen again, dem buy from Dubai", "Reefer fleet",
         "dem buy from Dubai"),
        ("alice", "Bolt reefer fleet sei jo, ga chin too high", "Reefer fleet", "ga chin too high"),
        ("wei", "海风茶业年会茶歇 袂成啦 預算砍了", "年会茶歇", "預算砍了"),
        ("wei", "海风茶业年会茶歇 无成 伊揾了别家", "年会茶歇", "伊揾了别家"),
    ],
)  # fmt: skip
def test_dialect_lost_with_reason(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str, reason: str
) -> None:
    """Pidgin "no go happen", "sei jo" (死咗), Hokkien 袂成, Teochew 无成: lost, with why."""
    assert command(testbot, who, text) == f"move #{book[title]} to lost: {reason}"


@pytest.mark.parametrize(
    "text",
    [
        "海风茶业新品发布会 唔知成唔成",
        "海风茶业新品发布会 应该袂成啦",
        "bolt reefer fleet go sign jo soon?",
    ],
)
def test_dialect_outcome_hedged_or_asked_is_no_card(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """A guess or a question about the outcome moves nothing."""
    who = "alice" if text.isascii() else "wei"
    assert testbot(who, text).status != "confirm"


# -- "..., is that OK?" is still a request; a colleague by their given name -------------------


def test_request_with_is_that_ok_tag(testbot: TestBot, book: dict[str, int]) -> None:
    """ "…，得唔得？" / "…，可以吗？" after the request asks for it."""
    deal = book["年会茶歇"]
    said = command(testbot, "wei", "海风茶业年会茶歇推到谈判，得唔得？")
    assert said == f"move #{deal} to negotiation"
    said = command(testbot, "wei", "海风茶业年会茶歇推到提案，可以吗？")
    assert said == f"move #{deal} to proposal"


def test_colleague_named_by_chinese_given_name(testbot: TestBot, book: dict[str, int]) -> None:
    """美玲 is 陈美玲: her quota, and a customer handed to her with Cantonese 畀."""
    _chinese_colleague(testbot)
    assert command(testbot, "bob", "美玲Q1指标设八十万人民币，可以吗？") == (
        "quota @meiling 2027-Q1 800000 CNY"
    )
    assert command(testbot, "bob", "福建海风茶业转畀美玲跟，好吗？") == (
        f"reassign #{book['福建海风茶业']} to @meiling"
    )


def test_given_name_inside_a_contact_name_is_no_colleague(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """美玲 inside a contact's name (王美玲) names the contact, not the colleague."""
    _chinese_colleague(testbot)
    testbot("wei", "contact add 福建海风茶业: 王美玲, 采购")
    reply = testbot("bob", "王美玲Q1指标设八十万人民币")
    assert not (reply.status == "confirm" and "@meiling" in str(reply.to_json()["command"]))


# -- a courteous line, then why ------------------------------------------------------------------


def test_courteous_line_then_a_reason(testbot: TestBot, book: dict[str, int]) -> None:
    """A form of address, "please", the line, then why: the line alone is the card."""
    # archive and merge answer with their own card (what it does, then Confirm).
    reply = testbot("admin", "Boss please archive Quarry Lane Bakery, the shop has shut")
    assert reply.status == "info"
    assert "Quarry Lane Bakery" in (reply.title or "") + (reply.text or "")
    reply = testbot(
        "admin", "Kindly merge Kestrel Holdings into Quarry Lane Bakery, one client twice"
    )
    assert reply.status == "info" and "Kestrel Holdings" in str(reply.to_json())


# -- settings for a colleague, time zone and language in words ---------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("## Digest\n**Dave**: weekdays only.", "digest @dave weekdays"),
        ("## Quiet hours\n**Carol**: 22:00 to 07:00.", "quiet @carol 22:00-07:00"),
        (
            "## Time zone\n**Dave** is moving to Tokyo, set him to **Asia/Tokyo**.",
            "timezone @dave Asia/Tokyo",
        ),
        ("## Language\nSet **Carol** to Traditional Chinese.", "language @carol zh-Hant"),
    ],
)
def test_admin_sets_a_colleagues_setting(testbot: TestBot, text: str, line: str) -> None:
    """A heading names the setting, the bold name whose it is."""
    assert command(testbot, "admin", text) == line


def test_time_zone_and_language_said_in_words(testbot: TestBot, book: dict[str, int]) -> None:
    """ "时区先改东京", "回复都用英文啦": the sender's own zone and language."""
    assert command(testbot, "wei", "下周去东京出差 时区先改东京") == "timezone Asia/Tokyo"
    assert command(testbot, "wei", "以后回复都用英文啦 我在练英文") == "language en"


@pytest.mark.parametrize(
    "text",
    [
        "客户要繁体中文的报价单",  # the customer's document, not the bot's language
        "东京的时区比我们快一个小时",  # a fact about a zone
        "my timezone was changed to Asia/Tokyo last week",  # done already
    ],
)
def test_no_setting_card_for_remarks(testbot: TestBot, book: dict[str, int], text: str) -> None:
    """Words about a language or a zone that set nothing."""
    who = "alice" if text.isascii() else "wei"
    assert testbot(who, text).status != "confirm"


# -- no card: sarcasm, a pasted email then "let's wait", a request taken back --------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "the 07:45 digest told me Bolt reefer fleet closes in January. Riveting."),
        ("alice", "love how the digest reminds me bolt depot lighting closes on the 15th"),
        ("wei", "我的免打扰是9点到9点 随叫随到"),
        (
            "alice",
            'Email from Bolt: "please cut the reefer fleet amount to 15000" - let\'s wait for '
            "their PO before touching it",
        ),
        ("wei", "海风茶业邮件：“年会茶歇预算改成六万，请更新报价。” 等他们盖章再说"),
        ("wei", "海风茶业年会茶歇推到赢单！等一下，他们还要走流程，先不要。"),
        ("alice", "move bolt reefer fleet to won. scratch that, PO not in yet"),
    ],
)
def test_no_card_for_remarks_pastes_and_takebacks(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """Sarcasm about a setting, a pasted customer request then "wait", a request taken back."""
    assert testbot(who, text).status != "confirm"


# -- a forecast category named with the forecast, in any order and dialect ----------------------


@pytest.mark.parametrize(
    ("who", "text", "title", "category"),
    [
        ("alice", "Bolt reefer fleet, forecast am as commit abeg", "Reefer fleet", "commit"),
        ("alice", "bolt reefer fleet weka best case kwa forecast", "Reefer fleet", "best case"),
        ("alice", "Forecast the reefer fleet deal as best case, Bolt Freight.", "Reefer fleet",
         "best case"),
        ("wei", "海风茶业年会茶歇，帮我放去best case得唔得？", "年会茶歇", "best case"),
    ],
)  # fmt: skip
def test_forecast_named_with_its_category(
    testbot: TestBot, book: dict[str, int], who: str, text: str, title: str, category: str
) -> None:
    """The forecast and its category together, the deal by its title elsewhere."""
    assert command(testbot, who, text) == f"forecast #{book[title]} {category}"


@pytest.mark.parametrize(
    "text",
    [
        "Bolt Freight, forecast am as commit",  # no deal named by its title
        "carol says bolt reefer fleet, forecast as commit",  # someone else's words
        "don't forecast the bolt reefer fleet as commit yet",
    ],
)
def test_forecast_named_without_deal_or_request_is_no_card(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """No card without a deal named by its title, or with someone's words or a "don't"."""
    reply = testbot("alice", text)
    assert not (reply.status == "confirm" and "forecast" in str(reply.to_json()["command"]))


# -- a close day without 日 / 号, a number alone is no day, an amount from old to new ----------


def test_close_day_said_without_its_day_mark(testbot: TestBot, book: dict[str, int]) -> None:
    """ "改到一月十五" is January 15th; "1/20啦" is January 20th; a title's 2027 is no day."""
    deal = book["年会茶歇"]
    assert command(testbot, "wei", "海风茶业年会茶歇 预计签约改到二月十五") == (
        f"edit deal #{deal}: close 2027-02-15"
    )
    assert command(testbot, "wei", "海风茶业年会茶歇 结案日改到2/20啦") == (
        f"edit deal #{deal}: close 2027-02-20"
    )


def test_amount_from_old_to_new_takes_the_new(testbot: TestBot, book: dict[str, int]) -> None:
    """ "金额5w改成6w", "九万改十二万", "from 20k to 26k": the figure after the change."""
    tea, fleet = book["年会茶歇"], book["Reefer fleet"]
    assert command(testbot, "wei", "海风茶业年会茶歇 金额5w改成6w") == (
        f"edit deal #{tea}: amount 60000 CNY"
    )
    assert command(testbot, "wei", "海风茶业年会茶歇 金额九万改十二万") == (
        f"edit deal #{tea}: amount 120000 CNY"
    )
    assert command(testbot, "alice", "bolt reefer fleet amount from 20k to 26k") == (
        f"edit deal #{fleet}: amount 26000 USD"
    )


# -- more that must stay no card -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "carol wrote `remind me friday 9am call Bolt` in the wiki as an example"),
        ("wei", "本周小结：1. 海风茶业拜访一次，已记录；2. 年会茶歇报价已发。"),
        ("wei", "下周见到海风茶业新的采购再加联系人 现在名字都不知道"),
        ("wei", "今日去咗海风茶业 同佢哋倾咗年会茶歇 听日再整理"),
        ("alice", "Wish Bolt would answer an NPS survey for once. Any number."),
    ],
)
def test_no_card_for_examples_reports_and_plans(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A command shown in backticks, a week's report of logged work, a write put off, a wish."""
    assert testbot(who, text).status != "confirm"


# -- a contact's new phone or email in dialect and Taiwan words; dictated numbers and emails ----


def _contacts(testbot: TestBot) -> None:
    """Two people at the customers of the book."""
    testbot("alice", "contact add Bolt Freight: Amina Otieno, Buyer")
    testbot("wei", "contact add 福建海风茶业: 郑晓雯, 采购")


def test_contact_news_in_swahili_and_chinese(testbot: TestBot, book: dict[str, int]) -> None:
    """ "email mpya ni …" (Swahili: new email is), "换手机了 …", "的信箱改 …",
    "…，可以帮我改吗？"."""
    _contacts(testbot)
    got = command(testbot, "alice", "Amina Otieno email mpya ni amina.otieno@bolt.example")
    assert got.endswith("email amina.otieno@bolt.example")
    assert command(testbot, "wei", "海风茶业个郑晓雯换手机了 13900001111").endswith(
        "phone 13900001111"
    )
    assert command(testbot, "wei", "郑晓雯的信箱改 xiaowen.zheng@haifeng.example").endswith(
        "email xiaowen.zheng@haifeng.example"
    )
    assert command(testbot, "wei", "郑晓雯电话改成13900002222，可以帮我改吗？").endswith(
        "phone 13900002222"
    )


def test_dictated_email_and_phone(testbot: TestBot, book: dict[str, int]) -> None:
    """ "amina dot otieno at bolt dot example", "plus two five four seven … double three …"."""
    _contacts(testbot)
    assert command(
        testbot, "alice", "amina otieno's email is amina dot otieno at bolt dot example"
    ).endswith("email amina.otieno@bolt.example")
    assert command(
        testbot,
        "alice",
        "amina otieno's phone number is now plus two five four seven one two double three four "
        "five six seven",
    ).endswith("phone +254712334567")


def test_place_said_with_at_is_no_email() -> None:
    """ "lena at pohutukawa pharma" has no dotted domain: left as said."""
    from handlers.loose_dictation import undictated

    assert undictated("met lena at harbour foods today") == "met lena at harbour foods today"
    assert undictated("one two three is the order") == "one two three is the order"


# -- a couple's two surnames as the customer's short name --------------------------------------


def test_couple_named_by_their_two_surnames(testbot: TestBot) -> None:
    """The tag 宋罗婚宴 of 宋子豪罗美琪婚宴 names it, and so its one open deal."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    testbot("wei", "新客户 宋子豪罗美琪婚宴 tags 宋罗婚宴")
    testbot("wei", "new deal 宋子豪罗美琪婚宴: 婚宴十八桌 180000 CNY close 2027-01-20")
    got = command(testbot, "wei", "宋罗婚宴加一桌 金额改成十九万")
    assert got.endswith("amount 190000 CNY")


# -- a request inside a paragraph ----------------------------------------------------------------


def test_please_line_inside_a_paragraph(testbot: TestBot, book: dict[str, int]) -> None:
    """ "Dear all, … so please archive X for now; we can bring it back if they return." """
    reply = testbot(
        "admin",
        "Dear all, sadly the bakery has shut its doors, so please archive Quarry Lane Bakery "
        "for now; we can restore it if they reopen. Thanks, Alice, for the heads-up.",
    )
    assert reply.status == "info"
    assert any("archive" in str(b.payload) for b in reply.buttons)


def test_paragraph_that_refuses_is_no_card(testbot: TestBot, book: dict[str, int]) -> None:
    """A paragraph whose "please" line is refused or supposed: nothing."""
    for text in (
        "Dear all, please don't archive Quarry Lane Bakery yet; they may reopen.",
        "If the bakery never reopens, please archive Quarry Lane Bakery.",
    ):
        reply = testbot("admin", text)
        # No card: neither a confirm card nor the archive's own (its button runs the archive).
        assert reply.status != "confirm", text
        assert not any("archive" in str(b.payload) for b in reply.buttons), text


def test_setting_said_with_her_is_the_colleagues_or_none(testbot: TestBot) -> None:
    """ "Dave is in Tokyo this month, so kindly set his time zone to Asia/Tokyo": Dave's, never
    the sender's own; with nobody named, no card."""
    got = command(
        testbot,
        "admin",
        "Quick note: Dave is in Tokyo this month, so kindly set his time zone to Asia/Tokyo.",
    )
    assert got == "timezone @dave Asia/Tokyo"
    reply = testbot("admin", "She moved offices, so kindly set her time zone to Asia/Tokyo.")
    assert reply.status != "confirm"


def test_no_need_then_the_verb_is_a_request(testbot: TestBot, book: dict[str, int]) -> None:
    """ "…嗰個 reminder 唔使喇 cancel 咗佢": not needed, so cancel it; "唔使取消" is a "don't"."""
    testbot("wei", "remind me tomorrow 9am 跟进海风茶业报价")
    assert command(testbot, "wei", "海风茶业报价嗰个 reminder 唔使喇 cancel 咗佢").startswith(
        "cancel #"
    )
    assert testbot("wei", "唔使取消海风茶业报价嗰个 reminder").status != "confirm"


# -- calls and visits told in dialect ------------------------------------------------------------


def test_calls_and_visits_in_dialect(testbot: TestBot, book: dict[str, int]) -> None:
    """Swahili "nilipiga simu", "call jo", "昨日去X" (Teochew: yesterday went to), "heoi jo"."""
    _contacts(testbot)
    bolt, tea = book["Bolt Freight"], book["福建海风茶业"]
    got = command(testbot, "alice", "nilipiga simu Amina Otieno wa Bolt Freight, wanataka quote")
    assert got.startswith(f"log call #{bolt}")
    assert command(testbot, "alice", "call jo Amina at Bolt Freight, PO coming").startswith(
        f"log call #{bolt}"
    )
    got = command(testbot, "wei", "昨日去福建海风茶业 郑晓雯呾年会茶歇欲加点心")
    assert got.startswith(f"log visit #{tea}, 昨天")
    got = command(testbot, "alice", "kam yat heoi jo Bolt Freight visit, they want more trucks")
    assert got.startswith(f"log visit #{bolt}, yesterday")


def test_tomorrows_visit_is_no_log(testbot: TestBot, book: dict[str, int]) -> None:
    """ "明天去X" is a plan: no log card."""
    reply = testbot("wei", "明天去福建海风茶业 看看年会场地")
    assert not (reply.status == "confirm" and "log" in str(reply.to_json()["command"]))


def test_lost_visit_meeting_and_a_favour_after_a_value(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """无去了 is lost, not a visit; "前天去X开会" is a meeting; "…，可以帮手吗？" is no part of a
    city."""
    tea = book["年会茶歇"]
    assert command(testbot, "wei", "海风茶业年会茶歇 无去了 伊选别家") == (
        f"move #{tea} to lost: 伊选别家"
    )
    assert command(testbot, "wei", "前天去福建海风茶业开会 聊年会茶歇").startswith("log meeting")
    assert command(testbot, "wei", "福建海风茶业嘅城市改成福州，可以帮手吗？").endswith("city 福州")
