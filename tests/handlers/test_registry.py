"""Verbs declared as data: matching, aliases, help generated from the declarations."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import handlers.verbs
from handlers.i18n import Translator
from handlers.registry import Registry, Verb
from handlers.reply import Reply
from handlers.verbs import all_verbs, default_registry
from tests.conftest import TestBot


@pytest.mark.parametrize(
    ("text", "verb", "rest"),
    [
        ("customer Acme", "customer", "Acme"),
        ("Customer: Acme", "customer", "Acme"),
        ("customers", "customers", ""),
        ("customers page 2", "customers", "page 2"),
        ("客户 华东", "customer", "华东"),
        ("客戶 華東", "customer", "華東"),
        ("客户华东", "customer", "华东"),
        ("客户列表", "customers", ""),
        ("new   customer Acme", "new customer", "Acme"),
        ("log call Acme: hi", "log", "call Acme: hi"),
        ("記錄 電話 華東：你好", "log", "電話 華東：你好"),
        ("帮助", "help", ""),
        ("who am i", "whoami", ""),
    ],
)
def test_match(text: str, verb: str, rest: str) -> None:
    """The longest verb form wins; Traditional characters match; the rest is kept verbatim."""
    found = default_registry().match(text)
    assert found is not None
    assert (found[0].name, found[1]) == (verb, rest)


@pytest.mark.parametrize("text", ["customerx Acme", "logcall Acme", "", "???"])
def test_no_match(text: str) -> None:
    """A Latin verb must end at a word boundary."""
    assert default_registry().match(text) is None


def test_examples_match_their_verb() -> None:
    """Every declared example is parsed as its own verb."""
    registry = default_registry()
    for verb in all_verbs():
        for example in verb.examples:
            found = registry.match(example)
            assert found is not None and found[0].name == verb.name, example


def _every_verb_tried(registry: Registry, text: str) -> tuple[Verb, str] | None:
    """`Registry.match` as it was before its first-character index: every pattern tried."""
    from crm_core.text import char_view

    view = char_view(text)
    best: tuple[int, Verb] | None = None
    for patterns in ("pattern", "taiwan_pattern"):
        for verb in registry:
            pattern = getattr(verb, patterns)
            m = pattern.match(view) if pattern is not None else None
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), verb)
        if best is not None:
            break
    return None if best is None else (best[1], text[best[0] :].strip())


def test_first_character_index_finds_what_every_pattern_finds() -> None:
    """Trying only the verbs a line's first character may begin answers as trying them all,
    case-folded letters outside ASCII ("İ" matches "i") and Taiwan's words included."""
    registry = default_registry()
    lines = ["", "   ", "\u3000客户 华东", "İmport x", "KUSTOMERS", "LOG call Acme: hi", "查詢 x"]
    for verb in registry:
        for form in (verb.name, *verb.aliases, *verb.taiwan):
            lines += [form, f"  {form.upper()}: x", f"{form}x", f"İ{form[1:]}", f"x{form}"]
    for text in lines:
        assert registry.match(text) == _every_verb_tried(registry, text), text

    def handler(_req: object) -> Reply:
        return Reply()

    # No shipped verb starts with "i": one that does, for a letter outside ASCII that folds.
    own = Registry([Verb("item", handler, (), (), False, aliases=("项目",))])  # type: ignore[arg-type]
    for text in ("İtem x", "ITEM x", "項目 x", "xitem"):
        assert own.match(text) == _every_verb_tried(own, text), text
    assert own.match("İtem x") is not None


def test_a_verb_added_later_is_matched() -> None:
    """The first-character index is rebuilt when a verb is declared after a match."""

    def handler(_req: object) -> Reply:
        return Reply()

    registry = Registry([Verb("alpha", handler, (), (), False)])  # type: ignore[arg-type]
    assert registry.match("alpine x") is None
    registry.add(Verb("alpine", handler, (), (), False))  # type: ignore[arg-type]
    found = registry.match("alpine x")
    assert found is not None and found[0].name == "alpine"


def test_duplicate_alias_is_refused() -> None:
    """Two verbs cannot share a form."""

    def handler(_req: object) -> Reply:
        return Reply()

    registry = Registry([Verb("alpha", handler, (), (), False, aliases=("甲",))])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reuses"):
        registry.add(Verb("beta", handler, (), (), False, aliases=("甲",)))  # type: ignore[arg-type]


def test_help_lists_every_verb_and_details_one(testbot: TestBot) -> None:
    """help is generated from the declarations; help X shows usage, aliases and examples."""
    reply = testbot("alice", "help")
    assert len(reply.items) == len(all_verbs())
    detail = testbot("alice", "help new deal")
    assert detail.title == "new deal"
    assert "new deal Acme: Fleet renewal 48000 USD close 2026-12-15" in detail.items
    assert {f.label for f in detail.fields} == {"Usage", "Also"}
    assert testbot("alice", "help 记录").title == "log"


def test_whoami(testbot: TestBot) -> None:
    """whoami shows handle, role and team."""
    fields = {f.label: f.value for f in testbot("bob", "whoami").fields}
    assert (fields["Handle"], fields["Role"], fields["Team"]) == ("@bob", "manager", "East")


HELP_ORDER = [
    "customer",
    "find",
    "customers",
    "new customer",
    "list customers",
    "save segment",
    "segments",
    "segment",
    "follow segment",
    "unfollow segment",
    "delete segment",
    "campaign",
    "campaigns",
    "campaign tasks",
    "task",
    "end campaign",
    "edit customer",
    "duplicates",
    "merge",
    "reassign",
    "archive",
    "unarchive",
    "history",
    "contact add",
    "edit contact",
    "contact remove",
    "log",
    "edit",
    "undo",
    "ask",
    "note",
    "deals",
    "new deal",
    "move",
    "deal",
    "edit deal",
    "undo deal edit",
    "delete deal",
    "undo edit",
    "score",
    "products",
    "field add",
    "fields",
    "field remove",
    "pipeline",
    "report",
    "forecast",
    "funnel",
    "win rate",
    "chart",
    "quota",
    "care",
    "cares",
    "care remove",
    "tiers",
    "tier",
    "ticket",
    "tickets",
    "assign",
    "reply",
    "wait",
    "resolve",
    "reopen",
    "priority",
    "feedback",
    "channel",
    "channels",
    "team",
    "sla",
    "remind",
    "reminders",
    "done",
    "snooze",
    "cancel",
    "digest",
    "settings",
    "language",
    "timezone",
    "quiet",
    "link",
    "link code",
    "webhooks",
    "webhook add",
    "webhook remove",
    "webhook resume",
    "help",
    "whoami",
]


def test_help_order_is_declared() -> None:
    """The verb modules are found by scanning the package and ordered by their ORDER number."""
    assert [v.name for v in all_verbs()] == HELP_ORDER


EXTRA_MODULE = """
from handlers.registry import Verb
from handlers.reply import Reply

ORDER = {order}


def frob(req):
    return Reply(text="frobbed " + req.args)


VERBS = [Verb("frobnicate", frob, (), examples=("frobnicate Acme",), writes=False)]
"""


@pytest.fixture
def extra_verbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder that the handlers.verbs package also scans, as if a module had been added."""
    monkeypatch.setattr(handlers.verbs, "__path__", [*handlers.verbs.__path__, str(tmp_path)])
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("handlers.verbs.zz_")]:
        del sys.modules[name]


def test_a_new_verb_module_is_found(extra_verbs: Path) -> None:
    """Dropping a module that declares VERBS into the package adds its verbs, in ORDER place."""
    (extra_verbs / "zz_frob.py").write_text(textwrap.dedent(EXTRA_MODULE.format(order=55)))
    (extra_verbs / "zz_helpers.py").write_text("SHARED = 1\n")  # no VERBS: not a verb module
    names = [v.name for v in all_verbs()]
    assert names.index("move") < names.index("frobnicate") < names.index("pipeline")
    assert len(names) == len(HELP_ORDER) + 1
    found = default_registry().match("frobnicate Acme")
    assert found is not None and found[0].name == "frobnicate" and found[1] == "Acme"


def test_a_verb_module_without_order_is_refused(extra_verbs: Path) -> None:
    """Help order never depends on file names on disk: a verb module must say where it goes."""
    source = textwrap.dedent(EXTRA_MODULE.format(order=1)).replace("ORDER = 1\n", "")
    (extra_verbs / "zz_unordered.py").write_text(source)
    with pytest.raises(TypeError, match="zz_unordered declares VERBS but no ORDER"):
        all_verbs()


@pytest.mark.parametrize("locale", ["en", "zh", "zh-Hant"])
def test_help_lists_every_chinese_alias(testbot: TestBot, locale: str) -> None:
    """Each line of help names the verb, every Chinese alias (in the reader's script) and the
    usage built from its args, with Chinese placeholders for a Chinese reader."""
    testbot.add_user("reader", locale=locale)
    reply = testbot("reader", "help")
    t = Translator(locale)
    for verb, item in zip(all_verbs(), reply.items, strict=True):
        assert verb.chinese, verb.name
        for form in (verb.name, *verb.chinese):
            assert t.command(form) in item, (form, item)
        assert verb.usage_for(t) in item
    if locale != "en":
        new_deal = next(i for i in reply.items if i.startswith(t.command("新商机")))
        assert "<客户>" in new_deal or "<客戶>" in new_deal
        assert "<customer>" not in new_deal


def test_help_page_in_chinese(testbot: TestBot) -> None:
    """help X for a Chinese reader: the Chinese usage line, the English one, Chinese examples."""
    testbot.add_user("wei", locale="zh")
    page = testbot("wei", "帮助 新商机")
    assert page.title == "新商机"
    usage = {f.label: f.value for f in page.fields}
    assert usage["用法"].startswith("新商机 <客户>: <标题> [<金额> [币种]]")
    assert usage["英文用法"].startswith("new deal <customer>: <title>")
    assert page.items[0] == "新商机 华东物流：仓储系统 50万 元 预计成交 2026-12-31"
    assert page.sections[0].lines[0].startswith("<客户>: 名称")


def test_help_page_explains_each_argument(testbot: TestBot) -> None:
    """help X lists the verb's arguments from its declaration, optional ones marked."""
    page = testbot("alice", "help new deal")
    (section,) = page.sections
    assert section.title == "Arguments"
    assert section.lines[0].startswith("<customer>: a name, the start of it, or #12")
    assert "close <date>: a day: 2026-12-15, next friday, May 3 (optional)" in section.lines
    assert "amounts like `48k`" in page.text
    zh = testbot.add_user("wei", locale="zh")
    assert zh
    page = testbot("wei", "帮助 推进")
    assert page.sections[0].title == "参数"
    assert any("（可选）" in line for line in page.sections[0].lines)
    assert testbot("alice", "help whoami").sections == []


def test_chinese_usage_words_are_typed_as_shown(testbot: TestBot) -> None:
    """The choices a Chinese usage line shows (电话, 关闭, …) are words the verb reads."""
    testbot.add_user("wei", locale="zh")
    page = testbot("wei", "帮助 记录")
    usage = {f.label: f.value for f in page.fields}["用法"]
    assert usage.startswith("记录 [电话|会议|拜访|邮件|聊天|备注] <客户>")
    testbot("wei", "新客户 华东物流")
    for word in ("电话", "会议", "拜访", "邮件", "聊天", "备注"):
        assert testbot("wei", f"记录 {word} 华东物流：试用").status == "ok", word
    digest = {f.label: f.value for f in testbot("wei", "帮助 摘要").fields}["用法"]
    assert digest.startswith("摘要 [@<用户>] [关闭|开启|工作日|每天|")
    for word in ("关闭", "开启", "工作日", "每天"):
        assert testbot("wei", f"摘要 {word}").status == "ok", word
    assert testbot("wei", "免打扰 关闭").status == "ok"
