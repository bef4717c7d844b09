"""Stages labelled per locale in the configuration: shown in each reader's words, typed in any."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.models import Deal
from crm_core.stages import Pipeline, parse_stages
from tests.conftest import TestBot

SPEC = (
    "lead:10:线索:線索,demo:40:演示,won:100:won:赢单:贏單,"
    "lost:0:lost:zh=丢单:zh-Hant=丟單:en=dropped"
)


@pytest.fixture
def labelled(testbot: TestBot) -> TestBot:
    """The dispatcher on a labelled pipeline; alice's Acme; wei (zh) and mei (zh-Hant)."""
    testbot.dispatcher.pipeline = Pipeline(parse_stages(SPEC))
    testbot.add_user("wei", locale="zh", role="admin", team=None)
    testbot.add_user("mei", locale="zh-Hant", role="admin", team=None)
    testbot("alice", "new customer Acme")
    return testbot


def test_parse_labels() -> None:
    """`线索:線索` are the Simplified and Traditional labels; `locale=label` names any locale."""
    lead, demo, won, lost = parse_stages(SPEC)
    assert lead.label("zh") == "线索" and lead.label("zh-Hant") == "線索"
    assert demo.labels == (("zh", "演示"),) and won.won and won.label("zh-Hant") == "贏單"
    assert lost.lost and lost.label("en") == "dropped"
    for bad in ("lead:10:maybe", "lead:10:klingon=x", "lead:10:一:二:三"):
        with pytest.raises(ValueError, match="stage 'lead:10"):
            parse_stages(bad + ",won:100:won,lost:0:lost")


def test_labels_in_replies_buttons_and_errors(labelled: TestBot) -> None:
    """Each reader sees their label; the English reader sees the English one where given."""
    made = labelled("wei", "新商机 Acme：Fleet 100")
    assert "线索" in made.text
    assert [b.label for b in made.buttons] == ["→ 演示", "→ 赢单", "→ 丢单"]
    card = labelled("mei", "商機詳情 Fleet")
    assert "線索" in (card.text + " ".join(f.value for f in card.fields))
    refused = labelled("mei", "推進 Fleet 到 談判")
    assert refused.status == "error" and "線索, 演示, 贏單, 丟單" in refused.text
    english = labelled("alice", "move Fleet to nowhere")
    assert "lead, demo, won, dropped" in english.text


@pytest.mark.parametrize(
    ("who", "line", "stage"),
    [
        ("wei", "推进 Fleet 到 演示", "demo"),
        ("mei", "推進 Fleet 到 贏單", "won"),
        ("wei", "推进 Fleet 到 贏單", "won"),
        ("alice", "move Fleet to dropped: price", "lost"),
        ("alice", "move Fleet to 丢单: price", "lost"),
    ],
)
def test_any_label_is_typed(labelled: TestBot, who: str, line: str, stage: str) -> None:
    """A stage is typed by its name or any locale's label, in either script."""
    labelled("alice", "new deal Acme: Fleet 100")
    reply = labelled(who, line)
    assert reply.status == "ok", reply.text
    assert labelled.query(select(Deal.stage)) == [stage]
