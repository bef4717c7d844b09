"""zh-Hant users type the words the bot shows them: every Chinese alias, field word and example
of every verb, written in Traditional (character by character, and in Taiwan's words), reads
as its Simplified form does."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import Contact, Ticket, TicketPriority
from crm_core.text import to_traditional
from handlers.args import Kind, option_words
from handlers.grammar import take_keywords
from handlers.reply import Reply
from handlers.verbs import all_verbs, default_registry
from tests.conftest import TestBot, empty_database


def _scripts(text: str) -> set[str]:
    """`text` as a Traditional writer types it: converted by character, and in Taiwan's words."""
    return {to_traditional(text, phrases=False), to_traditional(text)} - {text}


def test_every_chinese_alias_in_traditional_is_its_verb() -> None:
    """回覆 (what help's prose says) and 回復 (what its commands show) are both `reply`."""
    registry = default_registry()
    missed = []
    for verb in all_verbs():
        for alias in verb.chinese:
            for typed in _scripts(alias):
                found = registry.match(f"{typed} #1")
                if found is None or found[0].name != verb.name:
                    missed.append((verb.name, typed, found and found[0].name))
    assert missed == []


def test_every_chinese_field_word_in_traditional_is_read() -> None:
    """Each argument's Chinese keyword (職位, 電子郵件, 優先順序 ...) names the same argument."""
    missed = []
    for verb in all_verbs():
        words = {w: a.name for a in verb.args for w in a.words}
        if not words:
            continue
        keywords = option_words(verb.args)
        for arg in verb.args:
            if arg.kind == Kind.choice:
                continue
            for word in (w for w in arg.words if not w.isascii()):
                for typed in _scripts(word):
                    _, found = take_keywords(f"名字 {typed} 值", keywords)
                    if found.get(arg.name) != "值":
                        missed.append((verb.name, arg.name, typed, found))
    assert missed == []


def _book(testbot: TestBot) -> None:
    """The records the Chinese examples name (华东物流, 王芳, deal #1, ticket #1 ...)."""
    testbot("mei", "新客户 华东物流 行业 物流 城市 上海")
    testbot("mei", "添加联系人 华东物流：王芳，采购经理，wangfang@example.cn")
    testbot("mei", "新商机 华东物流：仓储系统 50万 元")
    testbot("mei", "记录 电话 华东物流：王经理想要报价")
    testbot("mei", "工单 华东物流：打印机卡纸，优先级 高")
    testbot("mei", "提醒我 明天上午10点 给王芳回电话")


def _run(testbot: TestBot, script: str) -> list[tuple[str, str, str]]:
    """Every Chinese example of every verb typed by mei (zh-Hant admin) in `script`."""
    out = []
    for verb in all_verbs():
        for example in (e for e in verb.examples if not e.isascii()):
            typed = {
                "zh": example,
                "char": to_traditional(example, phrases=False),
                "taiwan": to_traditional(example),
            }[script]
            reply: Reply = testbot("mei", typed)
            out.append((example, typed, reply.status, reply.text or reply.title or ""))
    return out


def test_every_chinese_example_in_traditional_is_read_as_in_simplified(testbot: TestBot) -> None:
    """Typed in Traditional, no example is refused that Simplified runs (same book each time)."""
    bind = testbot.session_factory.kw["bind"]
    runs = {}
    for script in ("zh", "char", "taiwan"):
        empty_database(bind)
        testbot.users.clear()
        for handle, role in (("alice", "rep"), ("carol", "rep"), ("bob", "manager")):
            testbot.add_user(handle, role=role)
        testbot.add_user("dave", team="West")
        testbot.add_user("admin", role="admin", team=None)
        testbot.add_user("mei", role="admin", team=None, locale="zh-Hant", timezone="Asia/Taipei")
        _book(testbot)
        runs[script] = _run(testbot, script)
    refused = [
        (typed, status, text, simp_status, simp_text)
        for script in ("char", "taiwan")
        for (_, typed, status, text), (_, _, simp_status, simp_text) in zip(
            runs[script], runs["zh"], strict=True
        )
        if status != simp_status
    ]
    assert refused == [], "\n".join(map(str, refused))


def test_a_taiwan_rep_edits_tickets_reports_and_hands_over_in_traditional(testbot: TestBot) -> None:
    """The review's lines: each is read, none writes the keyword into a value."""
    testbot.add_user("wei", locale="zh-Hant", timezone="Asia/Taipei")
    testbot.add_user("ming", role="manager", locale="zh-Hant", timezone="Asia/Taipei")
    testbot("wei", "新客戶 台灣精密 城市 台中")
    testbot("wei", "添加聯絡人 台灣精密：陳美玲，採購經理")
    for line in ("職位 採購主管", "電話 02-2345-6789", "電子郵件 chen@example.tw"):
        edited = testbot("wei", f"修改聯絡人 陳美玲：{line}")
        assert edited.status == "ok", (line, edited.text)
    assert testbot.rows(select(Contact.title, Contact.phone, Contact.email)) == [
        ("採購主管", "02-2345-6789", "chen@example.tw")
    ]
    opened = testbot("wei", "工單 台灣精密：機台異音，優先級 高")
    assert opened.status == "ok"
    assert testbot.rows(select(Ticket.subject, Ticket.priority)) == [
        ("機台異音", TicketPriority.high)
    ]
    assert testbot("wei", "優先順序 #1 緊急").status == "ok"
    assert testbot("wei", "工單 台灣精密：斷電，優先順序 低").status == "ok"
    assert testbot.query(select(Ticket.priority).order_by(Ticket.id)) == [
        TicketPriority.urgent,
        TicketPriority.low,
    ]
    assert testbot("wei", "回覆 #1：明天派技術員").status == "ok"
    assert testbot("wei", "分配 #1 給 @wei").status == "ok"
    for line in ("報表 贏單率 按團隊", "報表 贏單率 按銷售", "報表 工單", "報表 工單 按優先順序"):
        assert testbot("wei", line).status == "ok", line
    testbot("wei", "新商機 台灣精密：設備採購 30萬 元")
    assert testbot("wei", "歷史 商機 #1").status == "ok"
    assert testbot("wei", "歷史 聯絡人 陳美玲").status == "ok"
    handed = testbot("bob", "轉給 台灣精密 給 @alice")
    assert handed.status == "ok", handed.text
    # The refusal teaches the form with the customer it was about, not a fixed example.
    refused = testbot("ming", "轉給 台灣精密 給 @dave")
    assert "`轉給 台灣精密 給 @<使用者名稱>`" in refused.text, refused.text
