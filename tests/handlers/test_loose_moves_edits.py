"""Deal moves, field edits, logs, forecast categories and reads said loosely, worded apart from
the evaluation sets: each gives the exact grammar command, on the demo book, the coffee book
(set 5) and the facility-services book (set 6). The causes fixed, not the lines: Chinese short
names that leave words out (和平小學), a name said in two pieces, Traditional contact names,
Taiwan and Hong Kong titles (課長, 老闆), stage words of Taiwan, Hong Kong and Manila, close
dates said as signing dates, amounts in 萬/w and in patacas, titles with the company in front,
honorifics stored in a contact's name (Dr), Cantonese and Tagalog days and verbs."""

from __future__ import annotations

from typing import Any

import pytest

# `runners` (one per evaluation book) is tests/handlers/conftest.py's.

# (book, who, message, the card's command; free text after a colon is not compared).
WRITES = [
    # Forecast categories.
    (
        "book5",
        "olly",
        "bang the ken grand barista training into best case for the forecast",
        "forecast #92 best case",
    ),
    ("book5", "xiao", "鹿角季节限定拼配 预测改成 commit", "forecast #3 commit"),
    ("book5", "hui", "駁二的季節限定配方 預測放到 best case 吧", "forecast #55 best case"),
    ("book5", "tsz", "大館咖啡師培訓 forecast 擺 commit", "forecast #39 commit"),
    (
        "book",
        "carol",
        "please slot the falcon label printers deal in commit",
        "forecast #20 commit",
    ),
    (
        "book",
        "alice",
        "mark the initech yard management rollout as pipeline in the forecast",
        "forecast #17 pipeline",
    ),
    # Moves: 合格 (qualified), 推去 (Cantonese "push to"), 掉了 (lost), 推倒 typed for 推到.
    ("book5", "hui", "港都咖啡的咖啡師培訓 升到合格", "move #42 to qualified"),
    ("book5", "tsz", "雲雀 咖啡師培訓 推去 negotiation", "move #25 to negotiation"),
    (
        "book5",
        "hui",
        "內湖科技園區的季節限定配方那個案子掉了 預算被凍結",
        "move #57 to lost: 預算被凍結",
    ),
    ("book", "wei", "联创培训服务二期 推倒谈判", "move #104 to negotiation"),
    # A name in two pieces; a Chinese short name leaving words out.
    ("book5", "xiao", "深圳南山那个腾跃 挂耳包定制 推到方案", "move #9 to proposal"),
    ("book6", "yating", "和平小學那個開荒清潔 升到 proposal", "move #36 to proposal"),
    ("book6", "tama", "waitemata linen -> proposal", "move #82 to proposal"),
    # A deal named by title with one of its customer's people, no customer.
    ("book5", "xiao", "王磊说挂耳包定制可以了 先推到方案", "move #9 to proposal"),
    # Dictation: amounts and days in words, an address spelt out.
    (
        "book",
        "alice",
        "initech 2026 renewal set the amount to forty two thousand",
        "edit deal #15: amount 42000 USD",
    ),
    (
        "book",
        "alice",
        "push initech 2026 renewal close date to march fifteenth",
        "edit deal #15: close 2027-03-15",
    ),
    (
        "book",
        "alice",
        "tomasz rossi new email tomasz dot rossi at initech dot example",
        "edit contact #8: email tomasz.rossi@initech.example",
    ),
    # Deal edits: signing dates, 报价, 萬/w, patacas.
    (
        "book5",
        "hui",
        "綠川烘焙坊 咖啡師培訓 預計簽約日改成 3/20",
        "edit deal #47: close 2027-03-20",
    ),
    ("book5", "xiao", "白鸽烘焙坊年度咖啡豆供货 报价改成 12万", "edit deal #13: amount 120000 CNY"),
    ("book5", "xiao", "腾跃的办公室茶水间咖啡金额调到8.8w", "edit deal #8: amount 88000 CNY"),
    ("book6", "kaho", "培德白蟻檢查改做 9萬 澳門幣", "edit deal #56: amount 90000 MOP"),
    # Contact edits: Traditional names, 課長 / 老闆, a title with the company in front.
    ("book5", "hui", "內湖的鄭課長手機 0922-111-333", "edit contact #27: phone 0922-111-333"),
    ("book5", "tsz", "雲雀陳老闆嘅電話 +852 9123 4567", "edit contact #13: phone +852 9123 4567"),
    ("book5", "hui", "許文彥升官了 現在是餐飲部總監", "edit contact #22: title 餐飲部總監"),
    ("book", "wei", "杨敏调岗了 现在是华东物流董事长", "edit contact #5: title 董事长"),
    (
        "book5",
        "tsz",
        "張美玲 升咗做 Facilities Manager",
        "edit contact #16: title Facilities Manager",
    ),
    (
        "book5",
        "olly",
        "change david's phone to 020 7946 0000",
        "edit contact #42: phone 020 7946 0000",
    ),
    # A surname typed loosely is still theirs.
    (
        "book",
        "dave",
        "set paul bakers mobile to +1 312 555 0199",
        "edit contact #11: phone +1 312 555 0199",
    ),
    # Customer edits.
    ("book5", "tsz", "大館改城市做 中環", "edit customer #14: city 中環"),
    (
        "book5",
        "olly",
        "tag ken grand as vip and london",
        "edit customer #32: tags hotel, Ken Grand, vip, london",
    ),
    (
        "book",
        "alice",
        "could you change Initech's city to Austin? They moved HQ last month.",
        "edit customer #5: city Austin",
    ),
    # Logs: kinds said in other words, Cantonese and Tagalog days, a title stored in the name.
    (
        "book",
        "wei",
        "给联创记一笔：今天和高磊开会，他们想加一期培训",
        "log meeting #37, with #67",
    ),
    ("book5", "tsz", "琴日喺海景同李嘉欣開會，佢哋想試新豆", "log meeting #8, 昨天, with #12"),
    ("book5", "xiao", "今天去鹿角转了一圈，金志明说想加一款拼配", "log visit #1, with #1"),
    (
        "book5",
        "june",
        "kahapon nag-meeting kami ni Farah, gusto nila ng bagong blend",
        "log meeting #39, yesterday, with #50",
    ),
    (
        "book5",
        "june",
        "log call jurong lake with doctor wendy koh, she asked about a tasting in march",
        "log call #40, with #51",
    ),
]


# A second review (loose10): the right command where a wrong one was proposed.
WRITES += [
    # Dropped into a forecast category: a forecast card, never "delete deal".
    ("book", "carol", "drop the falcon label printers deal to pipeline for the forecast",
     "forecast #20 pipeline"),
    ("book", "carol", "drop the falcon label printers deal into best case for the forecast",
     "forecast #20 best case"),
    # "look up X and <write>": the write, not a search for its words.
    ("book", "alice", "look up initech and move the yard management rollout to negotiation",
     "move #17 to negotiation"),
    # A worded day said day first.
    ("book", "alice", "initech yard management rollout close date the thirty first of march",
     "edit deal #17: close 2027-03-31"),
    # After 记一笔, an event not had, asked or told by someone stays a note (no kind, no one).
    ("book", "wei", "给联创记一笔：今天没跟高磊开会，改期了", "log #37"),
    ("book", "wei", "给联创记一笔：林杰问能不能拜访他们", "log #37"),
    ("book", "wei", "给联创记一笔：高磊说下次再call了", "log #37"),
    # Still read: 报价 set plainly, an amount in whole words.
    ("book", "wei", "联创培训服务二期 报价改成28万", "edit deal #104: amount 280000 CNY"),
    ("book", "alice", "set initech yard management rollout amount to two hundred fifty k",
     "edit deal #17: amount 250000 USD"),
]  # fmt: skip


@pytest.mark.parametrize(("book", "who", "text", "command"), WRITES)
def test_a_loose_write_gives_the_exact_command(
    runners: dict[str, Any], book: str, who: str, text: str, command: str
) -> None:
    """The card names the grammar command with the right records and values."""
    ran = runners[book].run(who, text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    got = str(ran.reply.to_json()["command"])
    assert got == command or got.startswith(command + ":"), (text, got)


# (book, who, message, the read that runs).
READS = [
    ("book5", "hui", "駁二有哪些案子", "deals #19"),
    ("book5", "tsz", "海風改過啲乜", "history #12"),
    ("book5", "olly", "what's my close rate this quarter", "win rate this quarter"),
    ("book", "carol", "look up bluebird for me", "find bluebird"),
    ("book5", "june", "hanapin mo nga yung sentosa", "find sentosa"),
    ("book5", "xiao", "白鸽都改过些啥子", "history #5"),
]


@pytest.mark.parametrize(("book", "who", "text", "line"), READS)
def test_a_loose_read_runs_the_exact_read(
    runners: dict[str, Any], book: str, who: str, text: str, line: str
) -> None:
    """A read runs at once, as its grammar line."""
    kind, got = runners[book].run(who, text).outcome
    assert (kind, got) == ("read", line), text
