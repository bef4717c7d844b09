"""Messages that ask for nothing though they hold a write's words (loose14, issue 17): a day's work
said to be in the book already, a request taken back in the same message, a note not worth
writing, a record said to stay as it is, a change put off until something happens, words in
quotes, a forwarded request explained away, a done deed, someone else's words, a colleague spoken
to by name, the bot talked about. Each has a request beside it that still gives its card."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.db import unit_of_work
from crm_core.models import User
from crm_core.services.users import add_user
from crm_core.text import char_view
from handlers import loose_words as w
from tests.conftest import TestBot
from tests.handlers.conftest import command

BOOK = (
    ("alice", "new customer Bolt Freight"),
    ("alice", "new deal Bolt Freight: Reefer fleet 20000 USD close 2027-01-15"),
    ("alice", "contact add Bolt Freight: Dana Ruiz, VP Ops, dana@bolt.example, +1 617 555 0100"),
    ("alice", "ticket Bolt Freight: the gate scanner drops every third label"),
    ("wei", "新客户 福建海风茶业"),
    ("wei", "new deal 福建海风茶业: 礼盒定制 300000 CNY close 2027-02-01"),
    ("wei", "contact add 福建海风茶业：林建国, 总经理, lin@haifeng.example"),
    ("wei", "remind me tomorrow 10am 给林建国回电话"),
)


def _nothing(testbot: TestBot, who: str, text: str) -> None:
    reply = testbot(who, text)
    assert reply.status != "confirm", (text, reply.to_json().get("command"))


# -- a day's work said to be in the book already ---------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (
            "alice",
            "recap: called Dana at Bolt Freight, moved the reefer fleet to proposal. all logged",
        ),
        (
            "alice",
            "today: visited Bolt Freight, emailed Dana. Everything is already in the system.",
        ),
        ("alice", "this week I saw Bolt Freight twice and called Dana; both already in the notes"),
        ("wei", "今天：拜访福建海风茶业，给林建国打了电话，上述都已录入"),
        ("wei", "今日：去咗福建海风茶业、同林建国通咗电话，都入咗系统"),
        ("wei", "福建海风茶业的礼盒定制金额改过了，记录里也已经有记录，不用重复"),
        ("alice", "EOD: called Dana, sent Bolt Freight the quote. everything's logged"),
        ("wei", "今天：1. 福建海风茶业电话 2. 林建国报价 都录进去了"),
        ("alice", "update: called Dana, sent Bolt Freight the crating quote. logged both"),
    ],
)
def test_a_day_s_work_already_in_the_book_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A status report that says its items are logged already asks for nothing."""
    _nothing(testbot, who, text)


def test_a_log_beside_a_logged_remark_is_still_proposed(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "logged" alone is no report of all the day's work: the call is still logged."""
    bolt = book["Bolt Freight"]
    assert command(testbot, "alice", "called Bolt Freight, Dana wants the logged hours") == (
        f"log call #{bolt}, with #{book['Dana Ruiz']}: Dana wants the logged hours"
    )


# -- a request taken back --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "move the Bolt reefer fleet deal to won - wait, no. Dana hasn't signed"),
        ("alice", "move Bolt reefer fleet to negotiation... nah, still waiting on the quote"),
        ("alice", "log a call with Bolt Freight... never mind. wrong number"),
        ("wei", "把福建海风茶业的礼盒定制推到谈判 算了 林总还没看报价"),
        ("wei", "帮我记一下福建海风茶业……嗯不用了 打错电话了"),
        ("wei", "把福建海风茶业的礼盒定制推到赢单 哎不对 林总还没签"),
        ("alice", "move Bolt reefer fleet to won lol jk, Dana is still thinking"),
        ("alice", "ignore my last message about moving Bolt reefer fleet to lost"),
        ("wei", "礼盒定制推到谈判，当我没说"),
        ("alice", "Put Bolt reefer fleet on won. Nee, wacht - Dana is still checking"),
        ("alice", "move o Bolt reefer fleet pra won... não, pera, a Dana ainda não assinou"),
    ],
)
def test_a_request_taken_back_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A "no" that ends its own clause after the request withdraws it."""
    _nothing(testbot, who, text)


def test_a_no_that_corrects_or_answers_keeps_the_request(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "they said no" is what was told, not a retraction; "no budget" is a note; "不对，还是…"
    corrects a value and the request after it stands."""
    deal = book["Reefer fleet"]
    assert command(testbot, "alice", "Dana said no. move the Bolt reefer fleet to lost: price") == (
        f"move #{deal} to lost: price"
    )
    assert "no budget" in command(testbot, "alice", "called Bolt Freight, no budget this year")
    # The correction is read by the edit readers, never as a request taken back.
    for said in ("城市改成 厦门？不对，还是福州", "move it to won, no, to lost", "不对，改成福州"):
        assert not w.ASKS_NOTHING.search(char_view(said)), said


# -- nothing worth a note, or the note left to someone else ------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "Dana from Bolt Freight called about the weather; nothing there worth logging"),
        ("alice", "visited Bolt Freight, Carol ran the meeting, she'll log it herself"),
        ("wei", "下午去了福建海风茶业 喝茶聊天 没啥好记的"),
        ("wei", "小王陪林建国吃了饭，细节让他自己记"),
        ("wei", "今日見咗林建国 傾咗啲閒偈 冇嘢要記"),
    ],
)
def test_a_note_not_worth_writing_gives_no_log(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A story told with "nothing worth a note" (or the note left to another) logs nothing."""
    _nothing(testbot, who, text)


# -- a record said to stay as it is -------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "the Bolt scanner ticket stays open, waiting on their IT"),
        ("alice", "Bolt reefer fleet remains in lead for now, Dana is on leave"),
        ("alice", "move Bolt reefer fleet to proposal? not yet. leave it in lead"),
        ("alice", "my digest is staying as it is, thanks everyone"),
        (
            "alice",
            "Se a Bolt Freight fechar o contrato, a gente sobe o valor. Por enquanto fica 20k.",
        ),
        ("wei", "福建海风茶业的礼盒定制先维持，林总下月才定"),
        ("alice", "Team: the digest stays at 8. Nobody touch it."),
    ],
)
def test_a_record_said_to_stay_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """ "stays open", "remains in lead", "leave it in lead", "fica", 维持: nothing changes."""
    _nothing(testbot, who, text)


@pytest.mark.parametrize(
    "text",
    [
        "called Bolt Freight, they want to stay with us for the reefers next year",
        "liguei pra Dana da Bolt Freight, ela disse que o reefer fleet fica pra janeiro",
        "visited Bolt Freight, Dana said all logged pallets arrived fine",
    ],
)
def test_news_with_the_same_words_is_still_logged(
    testbot: TestBot, book: dict[str, int], text: str
) -> None:
    """ "stay with us", "fica pra janeiro", "all logged pallets" told of a call or visit: a log."""
    got = command(testbot, "alice", text)
    assert got.startswith(("log call", "log visit")), got


def test_staying_with_a_rival_is_still_a_lost_move(testbot: TestBot, book: dict[str, int]) -> None:
    """The customer "staying with" someone else is why the deal is lost, not a hold."""
    deal = book["Reefer fleet"]
    got = command(
        testbot, "alice", "mark Bolt reefer fleet as lost, Dana says they're staying with Maersk"
    )
    assert got.startswith(f"move #{deal} to lost"), got


# -- a change put off until something happens, or only then -----------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("wei", "福建海风茶业的礼盒定制 若是下周订金到账 才推去赢单"),
        ("wei", "礼盒定制的成交日期要改 等林总邮件确认了再改"),
        ("wei", "福建海风茶业礼盒定制 合同盖章了才推到谈判"),
        ("alice", "Si el cliente firma, move Bolt reefer fleet to won"),
        ("alice", "caso a Bolt Freight assine, move Bolt reefer fleet to won"),
        ("alice", "kalau Dana approve budget, move Bolt reefer fleet to won"),
    ],
)
def test_a_change_put_off_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """若是, 等…再改, …才推, Spanish "si el …": a plan, not a request."""
    _nothing(testbot, who, text)


# -- words in quotes, a forwarded request explained away ---------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        (
            "alice",
            "is it 'contact add' or 'add contact' for Bolt Freight's new buyer? asking for carol",
        ),
        (
            "alice",
            "Dana emailed 'please cancel friday' - she means the truck slot, not anything in here",
        ),
        (
            "wei",
            "林建国发来微信：“请把礼盒定制的交期改到三月” 这里说的是他们的出货，不是我们的商机",
        ),
    ],
)
def test_quoted_or_explained_requests_give_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A write's words inside quotes are mentioned; a pasted request explained as meaning
    something outside the book asks for nothing."""
    _nothing(testbot, who, text)


def test_a_quoted_note_after_a_log_is_still_logged(testbot: TestBot, book: dict[str, int]) -> None:
    """Quotes inside the note of a request leave the request as it is."""
    got = command(testbot, "alice", "called Bolt Freight, Dana said 'move fast on the quote'")
    assert got.startswith(f"log call #{book['Bolt Freight']}"), got


# -- done already, by the writer or another ------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("wei", "福建海风茶业的礼盒定制我已经推到谈判了"),
        ("wei", "海风茶业ㄉ礼盒定制 我已經推到議價ㄌ"),
        ("alice", "went to close the Bolt scanner ticket but Carol had already done it"),
    ],
)
def test_a_deed_done_already_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """我已经…了 (with Zhuyin ㄌ for 了), "had already done it": a report."""
    _nothing(testbot, who, text)


def test_zhuyin_particles_read_as_their_characters() -> None:
    """ㄌ is 了 and ㄉ is 的 in the view the loose reader matches on (same length)."""
    assert char_view("簽ㄌ") == "签了"
    assert char_view("信和ㄉ尾牙") == "信和的尾牙"


# -- someone else's words, a dialect "don't" -----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("wei", "他说日报关掉"),
        ("wei", "她说日报改到早上九点"),
        ("wei", "林建国說日報關掉比較好 我覺得還好"),
        ("wei", "莫取消给林建国回电话那个提醒 他还没回"),
        ("wei", "莫把福建海风茶业的礼盒定制推到赢单 合同还没签"),
        ("wei", "给林建国回电话那个提醒 莫慌着取消 他还没回"),
        ("wei", "福建海风茶业礼盒定制推到赢单 莫急莫急 订金还冇到"),
        ("wei", "福建海风茶业礼盒定制 佢話推去贏單 不過未收到訂金 咪住先"),
    ],
)
def test_reported_words_and_dialect_dont_give_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A third person's 说 before one's own setting, and 莫 before a verb, ask for nothing."""
    _nothing(testbot, who, text)


def test_the_writer_s_own_requests_still_stand(testbot: TestBot, book: dict[str, int]) -> None:
    """The same settings and moves asked by the writer still give their cards; 莫 before
    给我发 is quiet hours asked for."""
    assert command(testbot, "wei", "日报关掉") == "digest off"
    assert command(testbot, "wei", "晚上十点到早上七点 莫给我发消息") == "quiet 22:00-07:00"
    assert command(testbot, "wei", "把福建海风茶业的礼盒定制推到谈判") == (
        f"move #{book['礼盒定制']} to negotiation"
    )
    # News of a deal told in someone's words is still its move.
    assert command(testbot, "wei", "福建海风茶业的礼盒定制 林总说老板点头了 可以算成交了") == (
        f"move #{book['礼盒定制']} to won"
    )


# -- a colleague spoken to by name, the bot talked about -----------------------------------------


def test_a_colleague_named_first_and_spoken_to_gives_no_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "Carol, you ..." and a Chinese given name ("雅琴 你…") then "you": said to them."""
    with unit_of_work(testbot.session_factory) as s:
        yaqin = add_user(s, "yaqin", "陈雅琴", role="rep", team="East", locale="zh")
        s.flush()
        testbot.users["yaqin"] = yaqin.id
    _nothing(testbot, "alice", "Carol, you should log the Bolt Freight call from this morning")
    _nothing(testbot, "wei", "雅琴 你明天给福建海风茶业回电话 打完记得记一下")
    # Named, but not spoken to: the sender's own request.
    with testbot.session_factory() as s:
        assert s.scalar(select(User.id).where(User.external_id == "yaqin")) is not None
    got = command(testbot, "alice", "Carol's call with Bolt Freight today: they want a demo")
    assert got.startswith("log call"), got
    # Greeted, then talked about: the request is the bot's.
    got = command(testbot, "admin", "Hi Carol, hope you're well. please turn Carol's digest off")
    assert got == "digest @carol off", got


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("alice", "Dana DM'd me at midnight and the bot kept quiet, good bot"),
        ("wei", "林建国晚上打电话来 这个机器人没吵我 不错"),
    ],
)
def test_the_bot_talked_about_gives_no_card(
    testbot: TestBot, book: dict[str, int], who: str, text: str
) -> None:
    """A remark about the bot itself is no log of the contact in it."""
    _nothing(testbot, who, text)


# -- a score told as it was ---------------------------------------------------------------------


def test_a_score_told_as_it_was_gives_no_feedback(testbot: TestBot, book: dict[str, int]) -> None:
    """ "之前的NPS是7分", "nps was 7 last time": a remark; today's score is still recorded."""
    _nothing(testbot, "wei", "福建海风茶业之前的NPS是8分，林总嫌交期慢")
    _nothing(testbot, "alice", "Bolt Freight's nps was 6 last time, let's see")
    got = command(testbot, "alice", "Bolt Freight gave us a 9 on nps today")
    assert got == "feedback Bolt Freight: nps 9", got
