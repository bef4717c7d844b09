"""Both catalogues hold the same messages, every message the code uses exists, zh users get zh."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from sqlalchemy import select

from crm_core.models import Interaction
from handlers.i18n import LOCALE_DIR, LOCALES, catalogue, placeholders
from handlers.verbs import all_verbs, default_registry
from tests.conftest import TestBot

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z_]+\.[a-z_.]+$")


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    """A message in one catalogue and not the other, or with other placeholders, fails."""
    en, zh = catalogue("en"), catalogue("zh")
    assert sorted(set(en) ^ set(zh)) == []
    assert [k for k in en if placeholders(en[k]) != placeholders(zh[k])] == []
    assert [k for k in zh if not zh[k].strip()] == []


def _literal_keys() -> set[str]:
    """Message keys written as string literals in handlers/ and crm_core/."""
    keys: set[str] = set()
    for folder in ("handlers", "crm_core"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                first = node.args[0]
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if (
                    name in {"t", "Invalid", "NotFound", "PermissionDenied", "CrmError"}
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and KEY.match(first.value)
                ):
                    keys.add(first.value)
    return keys


def test_every_key_used_in_code_exists() -> None:
    """A message key in the code with no catalogue entry fails here, not in front of a user."""
    keys = _literal_keys()
    assert len(keys) > 50
    for locale in LOCALES:
        assert sorted(k for k in keys if k not in catalogue(locale)) == []


def test_generated_keys_exist() -> None:
    """Keys built at run time (verb help, kinds, roles, stages, ambiguity) exist too."""
    from crm_core.models import InteractionKind, Role
    from crm_core.stages import DEFAULT_STAGES

    needed = {v.help_key for v in all_verbs()} | {v.about_key for v in all_verbs()}
    needed |= {f"arg.{a.kind.value}" for v in all_verbs() for a in v.args}
    needed |= {f"kind.{k.value}" for k in InteractionKind}
    needed |= {f"role.{r.value}" for r in Role}
    needed |= {f"stage.{s.name}" for s in DEFAULT_STAGES}
    needed |= {f"ambiguous.{f}" for f in ("customer", "deal", "contact", "user")}
    needed |= {f"error.{f}_missing" for f in ("customer", "deal", "contact", "user")}
    for form in default_registry().forms():
        needed |= {form.title, form.submit_label, form.confirm}
        for f in form.fields:
            needed |= {k for k in (f.label, f.hint, f.ask, f.bad, f.skip) if k}
    for locale in LOCALES:
        assert sorted(needed - set(catalogue(locale))) == []


def test_chinese_user_gets_chinese_replies(testbot: TestBot) -> None:
    """Replies follow the user's locale, errors included."""
    testbot.add_user("wei", locale="zh", timezone="Asia/Shanghai")
    created = testbot("wei", "新客户 华东物流 行业 物流 城市 上海")
    assert created.text.startswith("已创建 华东物流")
    card = testbot("wei", "客戶 華東物流")
    assert card.title == "华东物流"
    assert [f.label for f in card.fields][:3] == ["负责人", "行业", "城市"]
    logged = testbot("wei", "记录 拜访 华东物流：客户希望下月试用")
    assert "拜访" in logged.text and [b.label for b in logged.buttons] == ["撤销", "打开"]
    missing = testbot("wei", "客户 不存在的公司")
    assert missing.status == "error" and "找不到" in missing.text
    assert "帮助" in testbot("wei", "胡说八道").text
    help_reply = testbot("wei", "帮助")
    assert help_reply.title == "我能做什么"
    (note,) = testbot.query(select(Interaction))
    assert note.text == "客户希望下月试用"


def test_every_verb_has_a_chinese_alias_and_examples() -> None:
    """Each verb can be typed in Chinese and has examples for help."""
    for verb in all_verbs():
        assert any(not a.isascii() for a in verb.aliases), verb.name
        assert verb.examples, verb.name


def test_catalogues_hold_each_key_once() -> None:
    """A key written twice keeps only its last text: two branches adding the same key must
    not leave one of them silently unused."""
    files = sorted(LOCALE_DIR.glob("*.json"))
    assert len(files) >= 2
    for path in files:
        keys = [k for k, _ in json.loads(path.read_text("utf-8"), object_pairs_hook=list)]
        assert [k for k in set(keys) if keys.count(k) > 1] == [], path.name
