"""Loose reading, the third blind set's classes of miss: a name's first word shared by another
company, a colleague's reminder, days said loosely, deal titles typed in part or translated."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from crm_core.models import Contact, Deal, Interaction, Reminder, User
from handlers.reply import Reply
from tests.conftest import TestBot
from tests.handlers.conftest import command
from tests.handlers.test_loose_rules import BOOK, counts

# The loose rules' book, typed by the `book` fixture (tests/handlers/conftest.py).
__all__ = ["BOOK"]


def _named_wang_wei(testbot: TestBot) -> None:
    """wei's staff record carries his romanized name, as a real directory's does."""
    with testbot.session_factory() as s, s.begin():
        s.execute(update(User).where(User.external_id == "wei").values(name="Wang Wei"))


def test_a_first_word_shared_with_another_company_is_not_that_customer(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """dave's "Beacon Logistics" is not the "beacon express" he typed (carol's, hidden from
    him): no card for his own customer, and the answer is the one a made-up name gets."""
    testbot("dave", "new customer Beacon Logistics Inc.")
    testbot("carol", "new customer Beacon Express")
    before = counts(testbot)
    said = testbot("dave", "log a call with laura at beacon express, she's back from leave")
    made_up = testbot("dave", "log a call with laura at zorblat express, she's back from leave")
    assert said.status != "confirm", said.text
    assert (said.status, said.text) == (made_up.status, made_up.text.replace("zorblat", "beacon"))
    assert counts(testbot) == before
    # Its own words still name it, in part or whole.
    for text in ("called beacon logistics, all good", "called beacon, they want a demo"):
        assert command(testbot, "dave", text).startswith("log call #"), text


def test_a_reminder_for_a_named_colleague_is_theirs(testbot: TestBot, book: dict[str, int]) -> None:
    """ "提醒王伟周三前..." from his manager is Wang Wei's reminder (not the sender's with his
    name in its words); "让/叫 X ...", "ping X ..." too; a rep is told they remind only
    themself; "ping" a customer's contact is the sender's own reminder to ping them."""
    _named_wang_wei(testbot)
    # His name said in characters only sounds like "Wang Wei": a card showing who, not a write.
    assert command(testbot, "bob", "提醒王伟周三前把华东的报价发出去") == (
        "remind @wei 周三前把华东的报价发出去"
    )
    assert testbot.count(Reminder) == 0
    reply = testbot("bob", "remind @wei 周三前把华东的报价发出去")
    assert reply.status == "ok", reply.text
    owners = testbot.query(select(Reminder.owner_id))
    assert owners == [testbot.users["wei"]]
    assert command(testbot, "bob", "让王伟明天给华东打个电话").startswith("remind @wei 明天")
    assert command(testbot, "bob", "叫 carol 周五前跟进 Acme 的报价").startswith("remind @carol")
    assert command(testbot, "bob", "ping alice tomorrow about the acme quote").startswith(
        "remind @alice tomorrow"
    )
    assert command(testbot, "alice", "ping david tomorrow about the invoice") == (
        "remind me tomorrow ping david about the invoice"
    )
    before = counts(testbot)
    for text in ("ping bob tomorrow about the acme quote", "让王伟明天给华东打个电话"):
        refused = testbot("alice", text)
        assert refused.status != "confirm" and "remind" in refused.text, refused.text
    assert testbot("alice", "提醒王伟明天跟进华东").status == "error"
    assert counts(testbot) == before


def test_a_contact_sounding_like_a_colleague_is_no_colleague(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "提醒汪薇明天..." with 汪薇 a contact and "Wang Wei" a rep: the sender's own reminder
    with the contact's name kept, typed or loose; wei reminding about his own contact too."""
    _named_wang_wei(testbot)
    testbot("wei", "contact add 华东物流：汪薇")
    reply = testbot("bob", "提醒汪薇明天给华东物流打电话")
    assert reply.status == "ok", reply.text
    assert testbot.rows(select(Reminder.owner_id, Reminder.text)) == [
        (testbot.users["bob"], "汪薇给华东物流打电话")
    ]
    assert command(testbot, "bob", "请提醒汪薇明天给华东物流打电话") == (
        "remind me 明天 汪薇 给华东物流打电话"
    )
    reply = testbot("wei", "提醒汪薇明天回电话")
    assert reply.status == "ok", reply.text
    assert testbot.query(
        select(Reminder.text).where(Reminder.owner_id == testbot.users["wei"])
    ) == ["汪薇回电话"]


def test_days_said_loosely_are_read(testbot: TestBot, book: dict[str, int]) -> None:
    """ "close end of march", "12/18 前", "一月十五號", "before wed": the day, not an error."""
    deal = book["Label printers expansion"]
    reply = testbot("alice", "new deal Acme: Dock scheduling 40k close end of march")
    assert reply.status == "ok", reply.text
    closes = testbot.query(select(Deal.expected_close).where(Deal.title == "Dock scheduling"))
    assert closes == [date(2027, 3, 31)]
    assert command(testbot, "alice", "Acme 的 Label printers 案子結案日改成一月十五號") == (
        f"edit deal #{deal}: close 2027-01-15"
    )
    assert testbot("bob", "提醒 alice 12/18 前把 Acme 的 PO 追回来").status == "ok"
    reply = testbot("alice", "remind me before wed to chase the acme PO")
    assert reply.status == "ok", reply.text
    texts = testbot.query(select(Reminder.text).order_by(Reminder.id))
    dues = testbot.query(select(Reminder.due_at).order_by(Reminder.id))
    assert [d.date() for d in dues] == [date(2026, 12, 18), date(2026, 11, 25)]
    assert texts[1] == "chase the acme PO"


def test_a_deal_named_in_part_or_translated_is_attached(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """A note naming one open deal as the customer's by one telling word of its title ("the
    Acme dashboard"), or in the other language ("Acme 的看板", "华东物流的仓储"), is logged on it;
    a generic word ("the Acme upgrade") or a word said apart from the name is not."""
    dash, store = book["Analytics dashboard rollout"], book["仓储系统升级"]
    line = command(testbot, "alice", "called David, the Acme dashboard demo went well")
    assert f"deal #{dash}" in line, line
    line = command(testbot, "alice", "called David at Acme, they want the dashboard by May")
    assert "deal #" not in line, line
    line = command(testbot, "alice", "跟 David 通了电话，Acme 的看板他们还要再改改")
    assert f"deal #{dash}" in line, line
    line = command(testbot, "wei", "和杨敏通了电话，华东物流的仓储那边要加预算")
    assert f"deal #{store}" in line, line
    line = command(testbot, "alice", "called David, the Acme upgrade went fine")
    assert "deal #" not in line, line
    assert testbot.count(Interaction) == 0


def test_a_read_the_grammar_refused_runs_as_read(testbot: TestBot, book: dict[str, int]) -> None:
    """ "销售漏斗给我瞅瞅", "everyone's win rate ... per rep", "各團隊贏單率",
    "cycle time by rep 2026", "按行业看成交周期报表": the report they name (the same reply as its
    grammar line), never a card; a read with words that are not asking to see it keeps the
    grammar's answer."""
    same = {
        ("wei", "销售漏斗给我瞅瞅"): "funnel",
        ("bob", "how's everyone's win rate looking this quarter, per rep"): (
            "win rate by rep this quarter"
        ),
        ("bob", "本季各團隊贏單率？？"): "win rate by team this quarter",
        ("bob", "cycle time by rep 2026"): "report cycle by rep 2026",
        ("bob", "按行业看成交周期报表"): "report cycle by industry",
    }
    for (who, text), line in same.items():
        said, typed = testbot(who, text), testbot(who, line)
        assert typed.status == "ok", (line, typed.text)
        assert (said.status, said.text) == (typed.status, typed.text), text
    assert testbot("bob", "pipeline of doom").status == "error"
    assert testbot("bob", "report funnel by team").status == "error"


def test_a_quota_said_loosely_is_a_card(testbot: TestBot, book: dict[str, int]) -> None:
    """A quota for a quarter, its person and amount in any order and language, is a card of
    `quota`; the quarter with no year is the next one; a question about a quota is none."""
    assert command(testbot, "bob", "set alice's Q1 quota to 300k USD") == (
        "quota @alice 2027-Q1 300000 USD"
    )
    assert command(testbot, "bob", "carol quota 2027 q3 280k") == "quota @carol 2027-Q3 280000"
    assert command(testbot, "bob", "給 wei 設 2027 年第二季指標 30萬美元") == (
        "quota @wei 2027-Q2 300000 USD"
    )
    assert command(testbot, "bob", "set my own quota for next quarter to 250k gbp") == (
        "quota @bob 2027-Q1 250000 GBP"
    )
    before = counts(testbot)
    assert testbot("bob", "what's alice's Q1 quota? is 300k too much?").status != "confirm"
    assert counts(testbot) == before


def test_a_one_record_line_with_its_reason_runs_without_the_reason(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "archive acme, they went with contoso" and "麻烦把 Acme 归档" are `archive Acme` (its own
    confirm card, nothing archived yet); a reason that says not to is no archive."""
    card = testbot("alice", "archive acme logistics")
    assert card.status == "info" and card.buttons, card.text
    for text in ("archive acme logistics, they went with contoso", "麻烦把 Acme Logistics 归档 🙏"):
        assert testbot("alice", text).text == card.text, text
    assert testbot("alice", "archive acme logistics, no wait, don't").text != card.text


def test_a_stage_spelt_off_or_said_last_moves_the_deal(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "to negotation pls", "-> negotiaton", "acme analytics qualifed" move the named deal; a
    stage word as a noun ("the acme label printers proposal") is no card."""
    label, dash = book["Label printers expansion"], book["Analytics dashboard rollout"]
    assert command(testbot, "alice", "move acme label printers to negotation pls") == (
        f"move #{label} to negotiation"
    )
    assert command(testbot, "alice", "acme label printers -> negotiaton") == (
        f"move #{label} to negotiation"
    )
    assert command(testbot, "alice", "acme analytics dashboard negotiation") == (
        f"move #{dash} to negotiation"
    )
    for text in ("the acme label printers proposal", "what about the acme label printers proposl"):
        assert testbot("alice", text).status != "confirm", text


def test_a_digest_time_said_loosely_is_a_card_of_its_time(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "digest at 7:30 please, ..." is `digest at 07:30` (not "at at"); "每天早上8:30发摘要给我",
    "日报改到晚上7点半", "日报改成只在工作日发" are the digest's time and days."""
    assert command(testbot, "alice", "digest at 7:30 please, 8 is too late") == "digest at 07:30"
    assert command(testbot, "wei", "每天早上8:30發摘要給我就好") == "digest at 08:30"
    assert command(testbot, "wei", "日报改到晚上7点半") == "digest at 19:30"
    assert command(testbot, "wei", "日报改成只在工作日发") == "digest weekdays"
    assert testbot("wei", "摘要是什么时候发的？").status != "confirm"


def test_a_reminder_number_first_is_done_cancel_or_snooze(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "#N 搞定了 ✅", "#N 那個提醒取消，...", "#N推迟到下周二上午9点" on the sender's own pending
    reminder are cards of done, cancel and snooze; another person's number is none of them."""
    assert testbot("wei", "提醒我 明天 给杨敏打电话").status == "ok"
    (rid,) = testbot.query(select(Reminder.id))
    assert command(testbot, "wei", f"#{rid} 搞定了 ✅") == f"done #{rid}"
    assert command(testbot, "wei", f"#{rid} 那個提醒取消，華東已經回了") == f"cancel #{rid}"
    assert command(testbot, "wei", f"#{rid}推迟到下周二上午9点") == f"snooze #{rid} 下周二上午9点"
    assert testbot("alice", f"#{rid} 搞定了").status != "confirm"


def test_a_contacts_new_title_said_as_news_is_their_title(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "moved to head of legal" (not a city), "is now CFO at acme" (the title alone), "is now
    COO, <email> still works" (the title, not the address), "got promoted to CIO", "升职了！现在
    是董事长", "title 改 X": the contact's title."""
    people = dict(testbot.rows(select(Contact.name, Contact.id)))
    david, yang = people["David Taylor"], people["杨敏"]
    said = {
        ("alice", "david taylor at acme moved to head of legal, update his title"): (
            f"edit contact #{david}: title head of legal"
        ),
        ("alice", "david taylor is now CFO at acme"): f"edit contact #{david}: title CFO",
        ("alice", "david taylor is now COO, david@acme.example still works"): (
            f"edit contact #{david}: title COO"
        ),
        ("alice", "david taylor got promoted to CIO"): f"edit contact #{david}: title CIO",
        ("wei", "杨敏升职了！现在是董事长 👏"): f"edit contact #{yang}: title 董事长",
        ("wei", "杨敏 title 改 Chief Digital Officer"): (
            f"edit contact #{yang}: title Chief Digital Officer"
        ),
    }
    for (who, text), line in said.items():
        assert command(testbot, who, text) == line, text
    assert command(testbot, "alice", "acme moved to boston, fyi").endswith("city boston")


def test_a_link_code_or_a_new_owner_said_loosely_is_a_card(
    testbot: TestBot, book: dict[str, int]
) -> None:
    """ "need a telegram link code for carol", "给王伟生成一个绑定码"; "move acme logistics over to
    me with all the deals", "reasign acme logistics to carol", "华东物流的负责人改成 bob"."""
    _named_wang_wei(testbot)
    acme, huadong = book["Acme Logistics"], book["华东物流有限公司"]
    assert command(testbot, "admin", "need a telegram link code for carol") == (
        "link code for @carol"
    )
    assert command(testbot, "admin", "给王伟生成一个绑定码") == "link code for @wei"
    assert command(testbot, "bob", "move acme logistics over to me with all the deals") == (
        f"reassign #{acme} to @bob with deals"
    )
    assert command(testbot, "bob", "reasign acme logistics to carol, alice is swamped") == (
        f"reassign #{acme} to @carol"
    )
    assert command(testbot, "admin", "华东物流的负责人改成 bob") == f"reassign #{huadong} to @bob"
    assert testbot("alice", "what is a link code?").status != "confirm"


def test_a_negated_handover_writes_nothing(testbot: TestBot, book: dict[str, int]) -> None:
    """ "华东物流 不给 alice 接手": a bare 不/没/别 before the 给 or the verb is no handover."""
    before = counts(testbot)
    for text in (
        "华东物流 不给 alice 接手",
        "华东物流 别给 alice 接手",
        "华东物流 没给 alice 接手",
        "华东物流 不要给 alice 接手",
        "华东物流 不转给 alice",
    ):
        said = testbot("bob", text)
        assert said.status != "confirm", (text, said.text)
    assert counts(testbot) == before
    assert command(testbot, "bob", "华东物流 给 alice 接手").startswith("reassign ")


def _archives(reply: Reply) -> bool:
    """Whether a reply offers to archive (its prompt's button runs `archive ...`)."""
    return any(str(b.payload.get("text", "")).startswith("archive") for b in reply.buttons)


def test_a_past_archive_remark_writes_nothing(testbot: TestBot, book: dict[str, int]) -> None:
    """ "上周已经把华东物流归档了" reports what was done; "把华东物流归档吧" still asks for it."""
    before = counts(testbot)
    for text in ("上周已经把华东物流归档了", "已经把华东物流归档了", "昨天把华东物流归档了"):
        said = testbot("wei", text)
        assert said.status != "confirm" and not _archives(said), (text, said.text)
    assert counts(testbot) == before
    assert _archives(testbot("wei", "把华东物流归档吧"))


def test_a_past_quota_remark_writes_nothing(testbot: TestBot, book: dict[str, int]) -> None:
    """ "alice's quota for 2027-Q1 was 400k last year" says what it was: no quota card."""
    before = counts(testbot)
    for text in (
        "alice's quota for 2027-Q1 was 400k last year",
        "alice's quota for 2027-Q1 had been 400k",
    ):
        said = testbot("bob", text)
        assert said.status != "confirm", (text, said.text)
    assert counts(testbot) == before
    assert command(testbot, "bob", "alice's quota for 2027-Q1 is 400k").startswith("quota @alice")


def test_a_close_day_is_never_past_nor_impossible(testbot: TestBot, book: dict[str, int]) -> None:
    """On 2026-11-23 "close mid november" is next year's; "early this month" and "2月30号" are
    refused with what to type; "下个月" and "next month" are both the 1st of December."""
    deal = book["Label printers expansion"]

    def close() -> date | None:
        return testbot.query(select(Deal.expected_close).where(Deal.id == deal))[0]

    assert testbot("alice", f"edit deal #{deal}: close mid november").status == "ok"
    assert close() == date(2027, 11, 15)
    for text in (f"edit deal #{deal}: close early this month", f"修改商机 #{deal}: close 2月30号"):
        refused = testbot("alice", text)
        assert refused.status == "error" and "2026-12-15" in refused.text, (text, refused.text)
        assert close() == date(2027, 11, 15)
    for text in (f"修改商机 #{deal}: close 下个月", f"edit deal #{deal}: close next month"):
        testbot("alice", f"edit deal #{deal}: close end of march")
        assert testbot("alice", text).status == "ok", text
        assert close() == date(2026, 12, 1), text
    assert command(testbot, "alice", "acme label printers closing mid november").endswith(
        "close 2027-11-15"
    )


def test_an_expected_close_with_its_time_is_not_won(testbot: TestBot, book: dict[str, int]) -> None:
    """ "仓储系统升级 预计本月初成交" says when it should close: no move to won."""
    before = counts(testbot)
    for text in ("华东物流仓储系统升级预计本月初成交", "仓储系统升级 预计下个月成交"):
        said = testbot("wei", text)
        assert "move " not in str(said.to_json().get("command")), (text, said.text)
    assert counts(testbot) == before
    assert command(testbot, "wei", "华东物流仓储系统升级成交了").endswith("to won")
