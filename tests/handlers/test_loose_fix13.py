"""Messages of loose set 8 and probe set 9 that ask for nothing (a Cantonese "don't", a how-to
question about a verb, "who changed it?", "a bit later" with no time, the team told something)
give no write card; the requests with the same words still give theirs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.handlers.conftest import book_runners

BOOKS = {"book8": "loose_book8.jsonl", "book9": "loose_book9.jsonl"}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One evaluation runner per book of sets 8 and 9."""
    yield from book_runners(tmp_path_factory, BOOKS)


# (book, who, message): none asks for a write (each gave a card before fix13).
SAYS_NOTHING = [
    # Cantonese "don't ... for now".
    ("book8", "kinlok", "唔好取消金蓮花個提醒住"),
    ("book9", "ahkit", "咪住move住"),
    # A how-to question about a grammar verb.
    ("book8", "tang", "提醒咋个设成每周一哦？"),
    ("book8", "wenhsin", "提醒可以設每個月一號嗎？怎麼用"),
    ("book9", "bowen", "add contact 的时候手机号要带+86吗 还是不带也行 凤岭那个"),
    # Who made a change, asked.
    ("book9", "peiyu", "義成教室冷氣那案是誰幫我改成贏單的啊？我記得我還沒按欸"),
    ("book9", "peiyu", "海灣百貨冰水主機是誰放進commit的？我記得我放在best case"),
    # "A bit later": no time said, none invented.
    ("book9", "peiyu", "摘要的時間想改晚一點，等這週港都的案子結束再說。"),
    # The team told something.
    ("book9", "meifang", "提醒一下大家：拜访完当天就要记录，别攒到周五一起补，云谷和前海尤其是。"),
    # Recorded already, nothing new; not there yet; someone's words (Pidgin "talk say").
    ("book9", "tunde", "Lekki NPS 8 already recorded since 1 Dec, nothing new"),
    ("book9", "wanjiru", "westlands hinted at HVAC but theres no budget so no new deal yet"),
    ("book9", "tunde", "Zainab dey talk say make Westlands move to me, I never agree sha"),
    ("book9", "wanjiru", "already have a reminder for karura on the 11th, don't need another one"),
    # A command quoted as an example; "as soon as it opens" (一打开), no switch.
    ("book9", "bowen", "帮助里那句“move 凤岭 风管清洗 to won”只是举个例子吧，还是线索阶段。"),
    ("book9", "bowen", "日报一打开全是邕北医院 我都快成医院员工了🤣"),
]


@pytest.mark.parametrize(("book", "who", "text"), SAYS_NOTHING)
def test_sets_8_and_9_shapes_give_no_write_card(
    books: dict[str, Any], book: str, who: str, text: str
) -> None:
    """None of them proposes a write."""
    kind, line = books[book].run(who, text).outcome
    assert kind != "write", (text, line)


# The requests with the same words: still a card each.
STILL_ASKED = [
    ("book8", "kinlok", "取消金蓮花個提醒", "cancel #5"),
    ("book8", "tang", "提醒我每周一打给锦里月饼厂", "提醒我"),
    ("book8", "wenhsin", "提醒我每個月一號寄府城茶行報價", "提醒我"),
    ("book9", "peiyu", "義成教室冷氣那案改成贏單", "move #26 to won"),
    ("book9", "peiyu", "海灣百貨冰水主機放進commit", "forecast #21 commit"),
    ("book9", "peiyu", "摘要的時間改到早上八點", "digest at 08:00"),
    ("book9", "meifang", "提醒我明天拜访云谷后记录", "提醒我"),
    ("book9", "tunde", "Lekki NPS 8", "feedback Lekki Palms Hotel: nps 8"),
    ("book9", "wanjiru", "new deal for westlands: HVAC for the new maternity wing", "new deal #21"),
    ("book9", "tunde", "move Westlands to me", "reassign #21 to @tunde"),
    ("book9", "bowen", "move 凤岭 风管清洗 to won", "move #17 to won"),
    ("book9", "bowen", "关掉日报", "digest off"),
    ("book9", "wanjiru", "remind me on the 11th about karura", "remind"),
]


@pytest.mark.parametrize(("book", "who", "text", "command"), STILL_ASKED)
def test_sets_8_and_9_requests_still_give_their_card(
    books: dict[str, Any], book: str, who: str, text: str, command: str
) -> None:
    """A cancel, reminders, a move, a forecast and a digest time asked outright."""
    kind, line = books[book].run(who, text).outcome
    assert kind == "write", (text, line)
    assert str(line).startswith(command), (text, line)
