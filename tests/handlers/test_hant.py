"""Traditional Chinese: the converted catalogue, and every verb's replies to a zh-Hant user."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm_core.models import (
    Contact,
    Customer,
    CustomField,
    Deal,
    Interaction,
    Reminder,
    Ticket,
    TicketEvent,
    User,
)
from crm_core.text import simplified_only, to_simplified
from handlers.i18n import (
    FIXES,
    HANT,
    _fixes_file,
    catalogue,
    client_locale,
    detect,
    fixes,
    placeholders,
    traditional,
    word_fixes,
)
from handlers.reply import Reply
from handlers.verbs import all_verbs, default_registry
from tests.conftest import TestBot


def test_every_key_has_a_traditional_rendering_without_simplified_characters() -> None:
    """zh-Hant holds every zh key, with the same placeholders, and no Simplified-only character."""
    zh, hant = catalogue("zh"), catalogue(HANT)
    assert set(hant) == set(zh)
    assert [k for k in zh if placeholders(zh[k]) != placeholders(hant[k])] == []
    leaks = {k: sorted(simplified_only(v)) for k, v in hant.items() if simplified_only(v)}
    assert leaks == {}
    # Converted, not copied: the Traditional catalogue differs where the script differs.
    assert hant["field.customer"] != zh["field.customer"] or "客户" not in zh["field.customer"]
    assert sum(hant[k] != zh[k] for k in zh) > len(zh) // 2
    # Taiwan wording: the word fixes apply to every message, new keys included.
    assert hant["slot.email"] == "電子郵件" and hant["slot.account"] == "帳號"
    assert "查詢" not in hant["error.customer_not_found"].split("`")[1]


def test_fixes_name_real_keys_and_keep_placeholders() -> None:
    """A hand fix for a key zh.json no longer has, or with other placeholders, fails."""
    zh = catalogue("zh")
    assert sorted(set(fixes()) - set(zh)) == [], FIXES
    assert all(not simplified_only(w) for w in word_fixes().values())
    assert [k for k, v in fixes().items() if placeholders(v) != placeholders(zh[k])] == []
    assert [k for k, v in fixes().items() if simplified_only(v)] == []


def _taiwan_code(command: str) -> str:
    """A Simplified command with the fix list's code words in their Taiwan form."""
    for wrong, right in _fixes_file().get("code_words", {}).items():
        command = command.replace(to_simplified(wrong), to_simplified(right))
    return command


@pytest.mark.parametrize(
    ("mainland", "taiwan"),
    [
        ("营销活动列表", "行銷活動列表"),
        ("结束营销活动 春节回访", "結束行銷活動 春节回访"),
        ("添加联系人 华东物流：王芳", "添加聯絡人 华东物流：王芳"),
        ("设置", "設定"),
        ("反馈", "回饋"),
        ("客户列表", "客戶清單"),
    ],
)
def test_taiwan_words_name_the_same_verb(mainland: str, taiwan: str) -> None:
    """The Taiwan word a zh-Hant message shows in a command runs the verb the Mainland one does."""
    registry = default_registry()
    ours, theirs = registry.match(mainland), registry.match(taiwan)
    assert ours is not None and theirs is not None, (mainland, taiwan)
    assert theirs[0] is ours[0]


def test_commands_in_messages_still_parse() -> None:
    """A command quoted in backticks converts character by character: it folds back to the
    Simplified command the grammar reads (`查找` must not become the word `查詢`)."""
    zh, hant = catalogue("zh"), catalogue(HANT)
    for key in zh:
        ours = re.findall(r"`[^`]*`", zh[key])
        theirs = re.findall(r"`[^`]*`", hant[key])
        if key in fixes():
            continue
        # Taiwan words that are aliases of the same verb (營銷活動 -> 行銷活動) aside.
        assert [to_simplified(c) for c in theirs] == [_taiwan_code(c) for c in ours], key
    assert traditional("试试 `查找 {query}`") == "試試 `查找 {query}`"
    # Outside commands the wording is Taiwan's, with corner quotes.
    assert traditional("找不到“{query}”的文件") == "找不到「{query}」的檔案"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("客户 华东物流", "zh"),
        ("客戶 華東物流", HANT),
        ("記錄 拜訪 華東物流：客戶關心價格", HANT),
        ("customer Acme", "en"),
        ("#12", None),
        ("帮助", "zh"),
    ],
)
def test_detect(text: str, lang: str | None) -> None:
    """Chinese by its characters, Traditional by more Traditional-only than Simplified-only."""
    assert detect(text) == lang


def _words(reply: Reply) -> str:
    """Every piece of text a person sees in a reply."""
    parts = [reply.text, reply.title or ""]
    parts += [f"{f.label} {f.value}" for f in reply.fields]
    parts += reply.items
    parts += [s.title + " " + " ".join(s.lines) for s in reply.sections]
    parts += [b.label for b in reply.buttons]
    return "\n".join(parts)


def _data(testbot: TestBot) -> str:
    """What people typed into the book: names, titles and notes are shown as written."""
    texts = testbot.query(select(Customer.name))
    texts += testbot.query(select(Customer.city)) + testbot.query(select(Customer.industry))
    texts += testbot.query(select(Deal.title)) + testbot.query(select(Contact.name))
    texts += testbot.query(select(Contact.title)) + testbot.query(select(Interaction.text))
    texts += testbot.query(select(Reminder.text)) + testbot.query(select(CustomField.name))
    texts += [c for choices in testbot.query(select(CustomField.choices)) for c in choices]
    texts += testbot.query(select(Ticket.subject)) + testbot.query(select(Ticket.description))
    texts += testbot.query(select(TicketEvent.text))
    for model in (Customer, Contact, Deal):
        texts += [str(v) for custom in testbot.query(select(model.custom)) for v in custom.values()]
    return " ".join(t for t in texts if t)


def _reset_language(testbot: TestBot, handle: str) -> bool:
    """Put `handle` back to zh-Hant (not auto); whether an example had changed that."""
    with testbot.session_factory.begin() as session:
        user = session.scalars(select(User).where(User.external_id == handle)).one()
        changed = user.locale != HANT
        user.locale, user.locale_auto = HANT, False
    return changed


def test_every_example_answers_a_hant_user_in_traditional(testbot: TestBot) -> None:
    """Each verb's examples, typed by a zh-Hant admin, answer with no Simplified-only character
    beyond what people typed, and in Chinese."""
    testbot.add_user("mei", role="admin", team=None, locale="zh-TW", timezone="Asia/Taipei")
    testbot("alice", "new customer Acme city Boston")
    testbot("alice", "contact add Acme: Dana Ruiz, VP Ops, dana@acme.example")
    testbot("alice", "new deal Acme: Fleet renewal 48000 USD close 2026-12-15")
    testbot("alice", "log call Acme: Dana wants 12% off")
    testbot("alice", "remind me tomorrow 3pm call Dana about Acme")
    chinese = 0
    extra = ["remind me every monday 9am call Dana", "reminders", "digest"]
    for verb in all_verbs():
        for example in [*verb.examples, *(extra if verb.name == "help" else [])]:
            reply = testbot("mei", example)
            if _reset_language(testbot, "mei"):
                # `语言 简体` answers in the language just chosen, by design.
                continue
            words = _words(reply)
            leaked = simplified_only(words) - simplified_only(example + " " + _data(testbot))
            assert leaked == set(), (example, sorted(leaked), words)
            chinese += bool(re.search(r"[\u4e00-\u9fff]", words))
    # Nearly every reply carries Chinese words (a few only echo a record's English name).
    examples = sum(len(v.examples) for v in all_verbs())
    assert chinese >= examples * 0.8


def test_traditional_user_types_traditional_and_reads_traditional(testbot: TestBot) -> None:
    """Locale zh-HK is Traditional; replies, buttons and help read Traditional."""
    testbot.add_user("ho", locale="zh-HK", timezone="Asia/Hong_Kong")
    created = testbot("ho", "新客戶 華東物流 行業 物流 城市 上海")
    assert created.text.startswith("已建立 華東物流"), created.text
    logged = testbot("ho", "記錄 拜訪 華東物流：客戶希望下月試用")
    assert [b.label for b in logged.buttons] == ["撤銷", "開啟"]
    help_reply = testbot("ho", "幫助")
    assert not simplified_only(_words(help_reply))
    assert any(item.startswith("客戶") for item in help_reply.items)


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        ("zh-TW", HANT),
        ("zh-hk", HANT),
        ("zh-hant", HANT),
        ("zh_Hant_TW", HANT),
        # Written Cantonese is Traditional (rev13 fault 17).
        ("yue", HANT),
        ("yue-Hant-HK", HANT),
        ("zh-yue", HANT),
        ("yue-hans", "zh"),
        ("zh-hans", "zh"),
        ("zh-CN", "zh"),
        ("zh", "zh"),
        ("en-GB", "en"),
        ("fr", "en"),
        (None, "en"),
    ],
)
def test_client_language_tags(code: str | None, locale: str) -> None:
    """A Telegram client's language (or any IETF tag) as one of ours; others are English."""
    assert client_locale(code) == locale


def test_reviewed_wording() -> None:
    """Places where OpenCC's phrase tables pick the wrong Taiwan word, fixed once for all keys."""
    hant = catalogue(HANT)
    currency = hant["error.currency_invalid"]
    assert "代碼" in currency and "程式碼" not in currency
    assert "權限" in hant["telegram.anonymous"]
    assert "綁定碼" in hant["telegram.link_usage"] and "繫結" not in hant["telegram.link_usage"]
    # 类型 on a card is 類型 (a kind of note, record or field); 型別 is a programmer's word.
    assert hant["loose.arg.kind"] == "類型" and hant["form.log.kind"] == "類型"


def test_a_typo_is_pointed_at_the_verb_in_the_readers_words(testbot: TestBot) -> None:
    """`新客護 Acme` (a typo) suggests `新客戶` to a zh-Hant reader, `新客户` to a zh one."""
    testbot.add_user("mei", locale="zh-Hant")
    testbot.add_user("wei", locale="zh")
    assert "`新客戶`" in testbot("mei", "新客護 Acme").text
    assert "`新客户`" in testbot("wei", "新客护 Acme").text
    assert "`customer`" in testbot("alice", "custmer Acme").text


def test_taiwan_words_for_verbs_are_read(testbot: TestBot) -> None:
    """What the zh-Hant prose calls a command (查詢, 新增客戶, 檢視商機) can be typed back."""
    testbot.add_user("mei", locale="zh-Hant")
    created = testbot("mei", "新增客戶 華東物流")
    assert created.status == "ok" and created.text.startswith("已建立 華東物流")
    found = testbot("mei", "查詢 華東")
    assert found.status == "ok" and "華東物流" in _words(found)
    testbot("mei", "新商機 華東物流：倉儲系統 50萬 元")
    assert testbot("mei", "檢視商機 #1").title == "#1 倉儲系統"
    help_page = testbot("mei", "幫助 查詢")
    assert help_page.title == "查找"
