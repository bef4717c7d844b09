"""history reads as sentences: a phrase per action, amounts as on the card, merges summarised."""

from __future__ import annotations

from tests.conftest import TestBot


def _history(testbot: TestBot, who: str, text: str) -> str:
    return "\n".join(testbot(who, text).items)


def test_reassign_undo_and_merge_read_as_phrases_with_formatted_amounts(testbot: TestBot) -> None:
    """No raw keys (deal.reassign, deal.undo_edit, customer.merge) nor stored decimals."""
    testbot("alice", "new customer Acme Logistics")
    testbot("alice", "new customer Harbour Freight")
    testbot("alice", "contact add Harbour Freight: Dana Ruiz, dana@acme.example")
    testbot("alice", "new deal Acme Logistics: Fleet renewal 48000 USD")
    edit = testbot("alice", "edit deal #1: amount 52k")
    testbot.press("alice", next(b for b in edit.buttons if b.label == "Undo"))
    testbot("bob", "reassign Acme Logistics to @carol")
    merge = testbot("bob", "merge #2 into #1")
    done = testbot.press("bob", merge.buttons[0]) if merge.buttons else merge
    assert done.status == "ok", (merge.text, done.text)
    text = _history(testbot, "admin", "history Acme Logistics")
    for raw in ("deal.reassign", "deal.undo_edit", "customer.merge", "52000.00", "{'contacts'"):
        assert raw not in text, text
    assert "reassigned: owner: Alice → Carol" in text
    assert "edit undone: amount: 52,000 USD → 48,000 USD" in text
    assert "merged in customer #2: 1 contact(s) moved" in text


def test_chinese_deal_title_change_is_labelled_title_not_job_title(testbot: TestBot) -> None:
    """A deal's title is 标题; a contact's title stays 职位."""
    testbot.add_user("li", locale="zh")
    testbot("li", "new customer 华东物流")
    testbot("li", "new deal 华东物流: 续约 10k")
    testbot("li", "edit deal 续约: title 续约二期")
    text = _history(testbot, "li", "历史 商机 #1")
    assert "标题: 续约 → 续约二期" in text and "职位" not in text, text
