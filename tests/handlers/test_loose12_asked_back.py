"""Writes that were answered with a question (or a read) and now get their card: a deal put in
a forecast category with no putting verb, a customer's tags listed or added, a feedback score
said before its scale, a customer called by the words after its shop's kind ("Boa Vida" for
Farmácia Boa Vida), accented names, a new deal said as 开新单 / nova oportunidade, a month's end
with no month, lost / called / visited / done in other languages, a ticket's priority or
assignee in other words. Each with a message of the same words that asks nothing and still
gets no card. Wording is the tests' own, on the book of loose set 8."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from crm_core.mentions import words_of
from tests.handlers.conftest import ROOT, loose_evaluator


@pytest.fixture(scope="module")
def book8(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An evaluation runner on the book of loose set 8 (book date 2026-12-05)."""
    le = loose_evaluator()
    wd = tmp_path_factory.mktemp("book8")
    yield le.Runner(le.book_database(wd, ROOT / "tests" / "data" / "loose_book8.jsonl"), wd)
    shutil.rmtree(wd, ignore_errors=True)


# (who, message, the card's command): each was asked back or read before loose12.
CARDS = [
    # Forecast: the deal, then the category, the forecast named; no putting verb.
    ("mathieu", "Tealeaf sampler boxes -> commit for the forecast", "forecast #74 commit"),
    (
        "mathieu",
        "Tealeaf Christmas gift tins into best case in the forecast",
        "forecast #75 best case",
    ),
    ("mathieu", "Tealeaf sampler boxes commit in the forecast pls", "forecast #74 commit"),
    ("tang", "锦里的月饼铁盒 预测放commit 很稳", "forecast #13 commit"),
    # Tags: listed after "tags:", or one added ("add the tag", "+=", 标签加上 two words).
    ("mathieu", "Beaumont tags: vip, lyon", "edit customer #26: tags vip, lyon"),
    ("mathieu", "Beaumont, add the tag vip", "edit customer #26: tags beaumont, vip"),
    ("mathieu", "Beaumont tags += key account", "edit customer #26: tags beaumont, key account"),
    ("hejing", "白云山花茶厂 标签加上 Tea Garden", "edit customer #21: tags 白云花茶, Tea Garden"),
    # Feedback: the score before its scale; the scale named wins over a pleased word.
    ("mathieu", "Northbound rated us 8 for nps", "feedback Northbound Goods Co.: nps 8"),
    ("mathieu", "Northbound gave us a 4 on csat", "feedback Northbound Goods Co.: csat 4"),
    ("tang", "白鹿的净推荐值打了8分，很满意", "feedback 成都白鹿化妆品有限公司: nps 8, 很满意"),
    # An accented name, and a name said without the shop's kind that leads it.
    ("luana", "Farmácia Boa Vida gave us csat 4", "feedback Farmácia Boa Vida: csat 4"),
    ("luana", "Boa Vida nps 9", "feedback Farmácia Boa Vida: nps 9"),
    ("camille", "Bellard tags: bakery, lyon", "edit customer #35: tags bakery, lyon"),
    # A new deal said as a new order or case, or in Portuguese.
    (
        "tang",
        "帮锦里月饼厂开个新单子 端午礼盒 三万五 明年四月底",
        "new deal #5: 端午礼盒 35000 CNY close 2027-04-30",
    ),
    (
        "wenhsin",
        "鳳梨酥工坊開新案 春節禮盒 二十萬台幣 明年一月底",
        "new deal #12: 春節禮盒 200000 TWD close 2027-01-31",
    ),
    (
        "luana",
        "Casa Bonita nova oportunidade: gift bags 8k, close end of march",
        "new deal #32: gift bags 8000 BRL close 2027-03-31",
    ),
    # The month's end with no month; an amount's last digit is not a month; the currency
    # code before the amount is not part of the title.
    (
        "kinlok",
        "金蓮花開新單 新年糖果盒 MOP 三萬五 月尾",
        "new deal #14: 新年糖果盒 35000 MOP close 2026-12-31",
    ),
    (
        "kinlok",
        "金蓮花開新單 新年糖果盒 四萬 下個月底",
        "new deal #14: 新年糖果盒 40000 MOP close 2027-01-31",
    ),
    # Lost in other words: the customer went elsewhere (the words are the reason), perdu,
    # perdido, fechou com concorrente.
    ("wenhsin", "港都電商品牌膠帶 客戶找了別家", "move #37 to lost: 找了別家"),
    ("luana", "Lojinha Verde mailer boxes perdido, preço alto", "move #89 to lost: preço alto"),
    (
        "luana",
        "Lojinha Verde holiday mailer fechou com concorrente",
        "move #91 to lost: fechou com concorrente",
    ),
    ("mathieu", "Northbound void fill inserts perdu, trop cher", "move #77 to lost: trop cher"),
    # A call or visit told in Portuguese, French or Irish English.
    (
        "luana",
        "liguei pro Carlos da Boa Vida, querem amostras",
        "log call #31, with #43: querem amostras",
    ),
    (
        "mathieu",
        "j'ai appelé Sam chez Northbound, he wants kraft",
        "log call #28, with #39: he wants kraft",
    ),
    (
        "mathieu",
        "visite at Northbound, Sam wants kraft",
        "log visit #28, with #39: Sam wants kraft",
    ),
    (
        "declan",
        "I'm after ringing Siobhan at Dublin Bay Teas, she wants more caddies.",
        "log call #38, with #53: she wants more caddies.",
    ),
    # A reminder named by its words said done: 弄完了, 用好了, c'est fait.
    ("tang", "锦里铁盒打样那个提醒 弄完了", "done #2"),
    ("mathieu", "the Hope Mills call reminder, c'est fait", "done #9"),
    # A ticket's priority set with a Chinese changing verb; taken by "me" in other words.
    ("tang", "锦里铁盒盖子那个工单 改为高", "priority #1 high"),
    ("kinlok", "手提袋印錯地址嗰張工單 我自己嚟處理", "assign #3 to me"),
    ("luana", "the cake boxes ticket at Doce Lar, leave it with me", "assign #5 to me"),
    # The name where it stands first, not its shop's kind said later as a tag.
    (
        "camille",
        "Bellard tags: bellard, boulangerie, bio",
        "edit customer #35: tags bellard, boulangerie, bio",
    ),
    # Quiet hours said as "don't disturb me" between two times; the digest "not sent any more".
    ("kinlok", "唔該 晚上十一點到朝早七點唔好嘈我", "quiet 23:00-07:00"),
    ("tang", "晚上十点到第二天八点 莫给我发消息", "quiet 22:00-08:00"),
    ("tang", "摘要不用再发给我了", "digest off"),
    # "half seven" is 7:30 in British and Irish English.
    ("declan", "Digest at half seven please", "digest at 07:30"),
]


@pytest.mark.parametrize(("who", "text", "command"), CARDS)
def test_write_said_loosely_gets_its_card(book8: Any, who: str, text: str, command: str) -> None:
    """The card's command, records by #id."""
    kind, line = book8.run(who, text).outcome
    assert (kind, line) == ("write", command)


# The same words asking for nothing: no card.
NO_CARD = [
    ("mathieu", "we moved Tealeaf sampler boxes into commit for the forecast"),
    ("mathieu", "should Tealeaf sampler boxes go into commit for the forecast?"),
    ("mathieu", "what tags does Beaumont have?"),
    ("mathieu", "Northbound wants to give a 9 on nps"),
    ("tang", "锦里的月饼铁盒 预测放commit 了"),
    ("tang", "锦里月饼厂开单了吗"),
    ("mathieu", "Northbound void fill inserts went with another supplier for the cups"),
    ("tang", "锦里铁盒打样那个提醒 还没弄完"),
    ("tang", "锦里铁盒盖子那个工单 要不要调成紧急？"),
    ("tang", "老板说晚上十点到早上八点别打扰我"),
    ("tang", "日报要不要别发了？"),
    ("declan", "the digest comes at half eight"),
]


@pytest.mark.parametrize(("who", "text"), NO_CARD)
def test_same_words_asking_nothing_get_no_card(book8: Any, who: str, text: str) -> None:
    """A report, a question, a wish: nothing to confirm."""
    kind, line = book8.run(who, text).outcome
    assert kind != "write", (text, line)


def test_accented_letters_are_inside_a_word() -> None:
    """An accented letter is inside a word: Farmácia is one word, not farm and cia."""
    assert [w.text for w in words_of("Farmácia Lumière Gaúcha")] == [
        "farmácia",
        "lumière",
        "gaúcha",
    ]
