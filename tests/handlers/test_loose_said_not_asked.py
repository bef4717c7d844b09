"""Messages that ask for nothing, read against the evaluation books: a review's 159 probes
(remarks, plans, hedges, other things' numbers, places, names heard in other words) never give
a write card; the requests next to them still give theirs, to the right record and currency."""

from __future__ import annotations

from typing import Any

import pytest

# `runners` (one per evaluation book) is tests/handlers/conftest.py's.

# (book, who, message): none asks for a write.
SAYS_NOTHING = [
    ("book", "alice", "invoice #2 is sorted, they paid on friday"),
    ("book", "alice", "need to get #2 done by friday"),
    ("book", "alice", "#2 can be done after the call tomorrow"),
    ("book", "alice", "#2 can go to hell lol"),
    ("book", "alice", "#1 can go out tomorrow once legal signs"),
    ("book", "alice", "is #2 sorted"),
    ("book", "alice", "#2 sorted?"),
    ("book", "alice", "#2 done or not"),
    ("book", "alice", "step #2 done, waiting on legal for step 3"),
    ("book", "carol", "we should kill #4 maybe"),
    ("book", "carol", "tempted to kill #4 tbh"),
    ("book", "carol", "might kill #4 later"),
    ("book", "carol", "bob said to kill #4"),
    ("book", "carol", "if they call back, kill #4"),
    ("book", "carol", "don't kill #4 yet"),
    ("book", "carol", "#4 killed or not"),
    ("book", "carol", "#4 not needed yet I think"),
    ("book", "wei", "#10 搞掂未"),
    ("book", "wei", "#10 应该搞掂了吧"),
    ("book", "wei", "#10 明天搞定"),
    ("book", "wei", "#10 搞定了没有"),
    ("book", "wei", "第十个提醒可以完成了吗"),
    ("book", "wei", "#10 完成了吗"),
    ("book", "alice", "#4 sorted"),
    ("book", "alice", "kill #7"),
    ("book5", "xiao", "#8 可能要改到周三"),
    ("book5", "xiao", "#8 改到周三吗"),
    ("book5", "xiao", "第一个提醒搞定了"),
    ("book5", "hui", "第一个提醒搞定了"),
    ("book5", "dev", "PO #1 sorted, they finally sent it"),
    ("book5", "dev", "ticket #2 done, the grinder is fixed"),
    ("book", "alice", "the acme erp connector quote went out months ago, they're haggling now"),
    ("book", "alice", "acme fleet tracking quote went out last month and they ghosted"),
    ("book", "alice", "acme erp connector demo is off, rescheduling to next week"),
    ("book", "alice", "the acme erp connector meeting is cancelled, moving it to friday"),
    ("book", "alice", "acme fleet tracking call is off"),
    ("book", "alice", "acme fleet tracking: they said yes to the demo"),
    ("book", "alice", "acme fleet tracking kickoff is a go for monday"),
    ("book", "alice", "acme fleet tracking is nearly in the bag"),
    ("book", "alice", "we need to get acme fleet tracking over the line this month"),
    ("book", "alice", "is acme fleet tracking dead?"),
    ("book", "alice", "acme fleet tracking is dead in the water unless they find budget"),
    ("book", "alice", "acme fleet tracking isn't dead"),
    ("book", "alice", "acme erp connector budget was approved last year but it's frozen now"),
    ("book", "alice", "acme erp connector budget is confirmed? not sure"),
    ("book", "dave", "globex route optimisation almost fell through last week but we saved it"),
    ("book", "dave", "globex route optimisation nearly fell over, phew"),
    ("book", "carol", "falcon label printers: dana thinks it's a no-go"),
    ("book", "wei", "联创车队管理系统签字要等下周"),
    ("book", "wei", "联创车队管理系统的合同在等老板签字"),
    ("book", "wei", "联创车队管理系统合同签字页还没回来"),
    ("book", "wei", "联创车队管理系统签字版本发我一下"),
    ("book", "wei", "联创车队管理系统那单感觉凉了"),
    ("book", "wei", "联创车队管理系统估计凉了"),
    ("book", "wei", "联创车队管理系统差点凉了"),
    ("book", "wei", "联创车队管理系统凉了吗"),
    ("book", "wei", "联创车队管理系统的报价发过去了吗"),
    ("book", "wei", "联创车队管理系统报价还没发过去"),
    ("book", "wei", "汇通司机端应用采购还要确认有预算没有"),
    ("book", "wei", "汇通司机端应用采购得先确认有预算"),
    ("book", "wei", "汇通司机端应用采购先议价再说吧"),
    ("book", "wei", "汇通司机端应用采购下周开始谈价"),
    ("book", "wei", "联创培训服务二期的报价发过去了, 但他们说要改"),
    ("book5", "xiao", "松湖冷萃桶装供应的报价上个月就发过去了, 现在在谈价"),
    ("book5", "xiao", "鹿角季节限定拼配签字要等金总回来"),
    ("book5", "tsz", "雲雀 banquet coffee service 簽字要等老闆返嚟"),
    ("book5", "tsz", "雲雀 banquet coffee service 差啲吹咗"),
    ("book5", "dev", "freo grinder upgrade quote went out ages ago, we're negotiating now"),
    ("book5", "dev", "the freo grinder upgrade demo is off, chef is sick"),
    ("book", "alice", "stick it on won if they sign"),
    ("book", "alice", "acme fleet tracking, stick it on won if they sign"),
    ("book", "alice", "acme fleet tracking, stick it on won once the PO lands"),
    ("book", "alice", "you can mark acme fleet tracking won when they pay"),
    ("book", "alice", "we can mark acme fleet tracking won after the PO arrives"),
    ("book", "alice", "put a note on the won acme fleet tracking deal: invoice sent"),
    ("book", "alice", "acme fleet tracking went up to negotiation last month and then back down"),
    ("book", "wei", "联创车队管理系统下周可以 negotiation 了"),
    ("book", "wei", "联创车队管理系统应该可以 negotiation 了吧"),
    ("book", "wei", "联创车队管理系统快进 negotiation 了"),
    ("book", "wei", "联创车队管理系统什么时候进 negotiation 了?"),
    ("book", "wei", "联创车队管理系统还没进 negotiation 了"),
    ("book", "wei", "联创培训服务二期 下个月可以 proposal 了"),
    ("book", "alice", "先别动 我再想想"),
    ("book", "alice", "acme fleet tracking 先别动 我再想想"),
    ("book", "alice", "leave acme fleet tracking where it is for now"),
    ("book", "alice", "don't change the acme fleet tracking amount yet"),
    ("book5", "tsz", "大館先唔好郁住"),
    ("book", "dave", "Q1 next year will be hard"),
    ("book", "dave", "Q1 next year will be hard, my number is like 400k"),
    ("book", "bob", "carol closed a 400k deal in Q1, big number"),
    ("book", "bob", "Q1 numbers: carol did 400k"),
    ("book", "bob", "carol's Q1 numbers came in at 400k"),
    ("book", "bob", "dave's Q1 number next year should be around 400k i reckon"),
    ("book", "bob", "what's dave's Q1 number, 400k?"),
    ("book5", "zhou", "我的Q1指标别小于300万"),
    ("book5", "zhou", "明年Q1指标不能小于去年的300万"),
    ("book5", "zhou", "今年全年指标完成了八百万"),
    ("book5", "zhou", "明年全年指标还没定, 大概八百万"),
    ("book5", "zhou", "小雨下了一天, 明年Q1指标300万还是很难"),
    ("book5", "zhou", "雅慧说她明年全年指标八百万太高了"),
    ("book5", "harriet", "olly's number for Q1 was 90k last year"),
    ("book5", "harriet", "Q1 next year olly needs to beat 90k"),
    ("book5", "xiao", "下周去杭州参加云栖大会"),
    ("book5", "xiao", "昨天去了云栖大会, 认识了几个潜在客户"),
    ("book5", "hui", "今天去了晶華酒店跟朋友吃飯"),
    ("book5", "hui", "週末去了一間老宅改建的咖啡店, 老闆說想試我們的豆"),
    ("book5", "tsz", "琴日去咗個藝文活動, 識咗個新客"),
    ("book5", "tsz", "今日去咗海邊吹海風, 好舒服"),
    ("book5", "tsz", "今日去咗睇海景, 好靚"),
    ("book5", "dev", "popped into a new place in freo, owner wants samples"),
    ("book5", "dev", "haven't popped into freo in ages"),
    ("book5", "dev", "should pop into freo next week"),
    ("book5", "dev", "I'll email to the freo chef tomorrow"),
    ("book5", "dev", "email to the freo chef keeps bouncing"),
    ("book", "wei", "明天跟联创电话"),
    ("book", "wei", "跟联创电话会议改到周五"),
    ("book", "wei", "跟联创电话打不通"),
    ("book", "wei", "跟联创电话号码是多少"),
    ("book5", "tsz", "WhatsApp 陳生問下幾時得閒"),
    ("book5", "tsz", "email 咗未?"),
    ("book5", "tsz", "聽日打畀雲雀陳生"),
    ("book5", "tsz", "記得打畀雲雀陳生"),
    ("book5", "xiao", "刚从白鸽出来? 没有, 还没去"),
    ("book", "alice", "#2 can go to proposal now"),
    ("book5", "xiao", "#8 搞定了, 腾跃签了合同"),
    ("book5", "xiao", "#7 取消了, 客户不租咖啡机了"),
    ("book", "carol", "#5 can go, they signed last week"),
    ("book", "alice", "if the PO arrives, move the acme fleet tracking deal to won"),
    ("book", "alice", "when they sign, move the acme fleet tracking deal to won"),
    ("book", "alice", "once legal is done, mark acme fleet tracking as won"),
    ("book", "carol", "dana said, and i quote, move the falcon label printers deal to lost"),
    ("book", "alice", "I'm not sure, move the acme fleet tracking to won?"),
    ("book", "alice", "stick a note on the lead for acme fleet tracking: call back friday"),
    ("book", "alice", "can you mark proposal v2 as final for acme fleet tracking"),
    ("book", "alice", "put the acme fleet tracking quote on the won deals board for reference"),
    ("book5", "tsz", "明天 WhatsApp 陳生"),
    ("book5", "tsz", "記得 WhatsApp 雲雀陳生"),
    ("book5", "tsz", "雲雀 LINE 群組有人問價"),
    ("book5", "hui", "晶華那邊有人在LINE群組問價錢嗎"),
    ("book5", "hui", "明天要LINE許經理"),
    ("book", "wei", "刚从联创出来吗?"),
    ("book5", "tsz", "大館 email 咗未"),
    ("book5", "dev", "popped into the shops on the way back from freo"),
    ("book5", "dev", "freo lads will pop over next week"),
    ("book5", "olly", "olly here, ken grand is dead quiet this week"),
    ("book5", "olly", "the ken grand barista training session is off, trainer is sick"),
    ("book5", "olly", "ken grand barista training: they said yes to a tasting"),
    (
        "book5",
        "olly",
        "ken grand barista training quote went out before the price rise, need to redo it",
    ),
    ("book5", "dev", "freo grinder upgrade, they went with another supplier for the cups"),
    ("book5", "june", "marina bay office pantry coffee budget was approved in 2024, now frozen"),
    ("book5", "hui", "晶華咖啡師培訓 合約還在等總經理簽字"),
    ("book5", "hui", "晶華辦公室咖啡吧 報價單今天寄錯了"),
    ("book5", "hui", "晶華辦公室咖啡吧 報價今天已經寄了? 我再確認"),
    ("book5", "xiao", "松湖冷萃桶装供应 还没确认有预算"),
    ("book5", "xiao", "松湖冷萃桶装供应 要先确认有预算才能报价"),
    ("book", "alice", "I already logged the call, can you remind me?"),
    ("book", "alice", "jane said no, move on"),
    ("book", "alice", "acme fleet tracking kickoff is cancelled, they want to restart in january"),
    (
        "book",
        "alice",
        "the acme fleet tracking proposal was sent to the wrong jane, resending today",
    ),  # Forecast categories, moves, edits and logs said as done, planned, hedged, asked or refused
    # (branch loose10): a put into commit told or asked, 合格 of a quality check, a signing day
    # not set, an errand by WhatsApp or LINE, a move for next week.
    ("book5", "xiao", "鹿角季节限定拼配 预测已经放到 commit 了"),
    ("book5", "xiao", "鹿角季节限定拼配 要不要放到 commit"),
    ("book5", "xiao", "鹿角季节限定拼配 先别放 commit"),
    ("book5", "xiao", "如果鹿角签了就把季节限定拼配放到 best case"),
    ("book5", "olly", "the ken grand barista training might go in best case next month"),
    ("book5", "olly", "should I bang the ken grand barista training into best case?"),
    ("book5", "olly", "don't put the ken grand barista training in best case yet"),
    ("book5", "hui", "港都咖啡的咖啡師培訓早就合格了"),
    ("book5", "hui", "品質檢測達到合格標準了"),
    ("book5", "hui", "港都咖啡的咖啡師培訓要升到合格嗎"),
    ("book5", "hui", "駁二的季節限定配方上個月就掉了啦"),
    ("book5", "xiao", "鹿角冷萃桶装供应的签约日期还没定"),
    ("book5", "xiao", "鹿角冷萃桶装供应 预计签约日要改吗"),
    ("book5", "xiao", "白鸽烘焙坊的报价改成多少合适"),
    ("book5", "xiao", "腾跃那边说预算大概8.8w"),
    ("book5", "hui", "鄭課長的手機號碼是多少"),
    ("book5", "tsz", "雲雀陳老闆話佢嘅電話 +852 9123 4567 唔再用"),
    ("book5", "hui", "許文彥可能會升官 做餐飲部經理"),
    ("book5", "hui", "許文彥升官了嗎"),
    ("book5", "tsz", "聽日喺海景同李嘉欣開會"),
    ("book5", "xiao", "明天去鹿角转一圈"),
    ("book5", "xiao", "要去鹿角转一圈看看"),
    ("book5", "tsz", "WhatsApp 李嘉欣問下幾時得閒"),
    ("book5", "hui", "line 許文彥 問一下報價"),
    ("book5", "olly", "should we tag ken grand as vip and london?"),
    ("book5", "olly", "don't tag ken grand as vip"),
    ("book5", "tsz", "大館改城市做中環？唔係啩"),
    ("book5", "xiao", "深圳南山那个腾跃 挂耳包定制 早就推到方案了"),
    ("book", "carol", "I put the falcon label printers deal in commit yesterday"),
    ("book", "carol", "who put the falcon label printers deal in commit?"),
    ("book", "carol", "put the falcon label printers deal in commit once legal signs"),
    ("book", "carol", "put the falcon label printers deal in commit if they sign"),
    ("book", "carol", "the falcon label printers deal is in commit already"),
    ("book", "carol", "we need to commit to the falcon label printers upgrade"),
    ("book", "bob", "carol put the falcon label printers deal in commit"),
    ("book", "carol", "mark my words, falcon will sign"),
    ("book", "alice", "did initech change their city to austin?"),
    ("book", "alice", "initech moved to austin? can't be right"),
    ("book", "wei", "联创培训服务二期 下周推到谈判"),
    ("book", "wei", "杨敏会不会调岗"),
    ("book", "alice", "the initech 2026 renewal amount was forty two thousand last year"),
    ("book", "alice", "the initech 2026 renewal amount was 42000 last year"),
    ("book", "alice", "tomasz rossi's email is tomasz dot rossi at initech dot example?"),
    ("book5", "xiao", "王磊说挂耳包定制下周推到方案"),
    ("book5", "xiao", "王磊说签了"),
    ("book5", "xiao", "看看鹿角季节限定拼配的赢单评分"),
    ("book", "wei", "联创车队管理系统采购的成交概率有多少"),
    # Another person's surname after a contact's first name: not that contact.
    ("book5", "olly", "change david harrison phone to 020 7946 0000"),
    # Tickets, reminders named by their words, contacts, archived customers, settings and
    # scores, said of, asked about, hoped for or someone else's doing (branch loose9).
    ("book6", "tama", "the manukau ticket got closed yesterday by ryan"),
    ("book6", "tama", "should we reopen the manukau dispenser ticket?"),
    ("book6", "ryan", "don't add will price as a contact"),
    ("book6", "tama", "did anyone reply to the manukau dispensers ticket?"),
    ("book6", "tama", "ryan resolved the manukau ticket last night"),
    ("book6", "tama", "the manukau ticket isn't sorted yet, still waiting on parts"),
    ("book6", "tama", "if grant calls again we might need to reopen that ticket"),
    ("book6", "fiona", "who is the lakeshore pillowcase ticket assigned to?"),
    ("book6", "fiona", "was the lakeshore grand ticket already resolved?"),
    ("book6", "ryan", "i'll reply on the lakeshore pillowcase ticket tomorrow"),
    ("book6", "ryan", "how do i open a ticket?"),
    ("book6", "ryan", "how do i snooze a reminder?"),
    ("book6", "ryan", "the dawn field reminder went off at 9, annoying"),
    ("book6", "ryan", "should i snooze the dawn field reminder?"),
    ("book6", "ryan", "will price reminder isn't done yet"),
    ("book6", "tama", "not sure if i should push the grant washroom quote reminder"),
    ("book6", "tama", "the ponsonby grammar archive was a mistake imo"),
    ("book6", "tama", "what happened to ponsonby grammar? was it archived?"),
    ("book6", "tama", "don't unarchive ponsonby grammar yet"),
    ("book6", "fiona", "maybe quiet hours from 9pm would help the team"),
    ("book6", "fiona", "what are my quiet hours?"),
    ("book6", "harlan", "does the digest come out at 8?"),
    ("book6", "harlan", "ryan turned his digest off last week"),
    ("book6", "fiona", "the digest was late this morning"),
    ("book6", "jun", "srmc's nps target is 9 this year"),
    ("book6", "jun", "what was srmc's nps last quarter?"),
    ("book6", "jun", "hopefully SRMC gives us nps 10 after the audit"),
    ("book6", "tama", "the waitemata rats ticket from last month was a nightmare"),
    ("book6", "gang", "蜀都的工单昨天已经被刘刚处理好了"),
    ("book6", "gang", "蜀都那个工单要不要重开？"),
    ("book6", "gang", "别给锦城广场加联系人"),
    ("book6", "gang", "给向东打电话那个提醒还没搞定"),
    ("book6", "gang", "免打扰怎么设置？"),
    ("book6", "lan", "日报是几点发的？"),
    ("book6", "kaho", "仁愛嗰張單搞掂未？"),
    ("book6", "kaho", "濠江嗰張單琴日已經解決咗"),
    ("book6", "yating", "晴光那邊如果再找我們 再恢復"),
    ("book6", "yating", "松德的 NPS 目標是 9 分"),
    ("book6", "lan", "如果仁爱医院的工单超时了就升成紧急"),
    ("book6", "kaho", "仁愛嗰張工單應該點跟？"),
    ("book", "alice", "the initech redlines reminder isn't done yet"),
    ("book", "alice", "should I push the initech redlines reminder to monday?"),
    ("book", "alice", "carol finished the northwind quote reminder"),
    ("book", "wei", "给杨经理打电话那个提醒 明天再弄"),
    ("book", "alice", "the initech redlines reminder, still need to chase them"),
]


@pytest.mark.parametrize(("book", "who", "text"), SAYS_NOTHING)
def test_a_remark_plan_or_doubt_gives_no_write_card(
    runners: dict[str, Any], book: str, who: str, text: str
) -> None:
    """Quotas heard in other words (小于 = less than), a deal's event called off, a stage
    hedged or in the past, a reminder's number that is an invoice's, a place named like a
    customer, a call to make: no card, nothing written."""
    kind, line = runners[book].run(who, text).outcome
    assert kind != "write", (text, line)


# (book, who, message, the card's command): requests said the same ways still propose.
STILL_ASKED = [
    ("book", "alice", "#2 sorted, they sent the redlines", "done #2"),
    ("book", "carol", "kill #4 please", "cancel #4"),
    ("book", "alice", "reminder #2 can go", "done #2"),
    ("book", "alice", "logged, #2 can go", "done #2"),
    ("book", "wei", "#10 搞掂, 杨经理收到了", "done #10"),
    ("book", "wei", "第十个提醒可以完成", "done #10"),
    ("book5", "tsz", "#9 唔使提喇, 佢已經覆咗", "cancel #9"),
    ("book5", "tsz", "#9 往后挪到周三下午两点", "snooze #9 周三下午两点"),
    ("book", "alice", "the acme driver app quote went out", "move #2 to proposal"),
    ("book", "wei", "联创培训服务二期 报价发过去了", "move #104 to proposal"),
    ("book", "wei", "汇通司机端应用采购凉了, 客户选了别家", "move #87 to lost: 客户选了别家"),
    ("book", "alice", "acme fleet tracking, stick it on won", "move #3 to won"),
    ("book", "wei", "联创车队管理系统进 negotiation 了", "move #102 to negotiation"),
    ("book", "alice", "acme fleet tracking went up to negotiation", "move #3 to negotiation"),
    (
        "book",
        "alice",
        "acme fleet tracking is dead, they bought elsewhere",
        "move #3 to lost: they bought elsewhere",
    ),
    (
        "book",
        "alice",
        "acme fleet tracking fell through - budget cut",
        "move #3 to lost: budget cut",
    ),
    ("book", "wei", "联创车队管理系统已经签字了", "move #102 to won"),
    ("book", "wei", "联创车队管理系统 合同签好字了", "move #102 to won"),
    ("book5", "zhou", "雅慧明年全年指标 八百万台币", 'quota @hui "2027" 8000000 TWD'),
    ("book5", "zhou", "小于 Q1 指标 200万", "quota @xiao 2027-Q1 2000000 CNY"),
    # Carol is a contact too: a quota's figure is no phone number.
    ("book", "bob", "set carol's Q1 number to 400k", "quota @carol 2027-Q1 400000"),
    ("book5", "zhou", "给雅慧设明年Q1指标 300万台币", "quota @hui 2027-Q1 3000000 TWD"),
    ("book5", "zhou", "hui's Q1 quota 3m new taiwan dollars", "quota @hui 2027-Q1 3000000 TWD"),
    (
        "book5",
        "hui",
        "晶華咖啡師培訓金額改成 800,000 new taiwan dollars",
        "edit deal #44: amount 800000 TWD",
    ),
    ("book5", "hui", "晶華咖啡師培訓 金額改成 80萬元", "edit deal #44: amount 800000 TWD"),
    (
        "book5",
        "hui",
        "台北信義晶華商旅 咖啡師培訓 金額改成 80萬塊",
        "edit deal #44: amount 800000 TWD",
    ),
    (
        "book5",
        "tsz",
        "香港銅鑼灣雲雀茶餐廳 banquet coffee service 金額改做 18萬",
        "edit deal #26: amount 180000 HKD",
    ),
    (
        "book5",
        "tsz",
        "香港銅鑼灣雲雀茶餐廳 banquet coffee service 金額改做 $180,000",
        "edit deal #26: amount 180000 HKD",
    ),
    (
        "book5",
        "dev",
        "fremantle dockside grinder upgrade amount $50k",
        "edit deal #70: amount 50000 AUD",
    ),
    (
        "book5",
        "olly",
        "ken grand espresso machine lease amount 30k quid",
        "edit deal #94: amount 30000 GBP",
    ),
    (
        "book5",
        "june",
        "marina bay office pantry coffee amount $40k",
        "edit deal #100: amount 40000 SGD",
    ),
    ("book5", "dev", "popped into freo, jane wants the quote redone", "log visit #24"),
]


@pytest.mark.parametrize(("book", "who", "text", "command"), STILL_ASKED)
def test_a_request_next_to_them_still_gives_its_card(
    runners: dict[str, Any], book: str, who: str, text: str, command: str
) -> None:
    """A reminder closed by its number, a stage said without its name, a quota by a name in
    characters, an amount in the deal's own currency (元 on a Taiwan dollar deal, $ on an
    Australian one, "new taiwan dollars")."""
    ran = runners[book].run(who, text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    got = str(ran.reply.to_json()["command"])
    assert got == command or got.startswith(command + ":"), (text, got)


# A second review (loose10): a customer that cannot be found or seen before a deal's title, a
# forecast category in someone's words, planned, an opinion or asked of a colleague, "tag X as",
# an amount refused, conditional or someone else's, worded amounts read out in pieces or counts,
# another person's details by their tie to a contact, a job title the contact does not hold,
# calls unanswered, meetings cancelled, errands, moves not made or planned, undecided changes,
# a write after "look up", close days that do not exist or told as past.
SAYS_NOTHING_REVIEW = [
    ("book", "alice", "put the globex route optimisation upgrade into commit for the forecast"),
    ("book", "alice", "move the globex route optimisation upgrade to negotiation"),
    ("book", "alice", "move the zyxwvut route optimisation upgrade to negotiation"),
    ("book", "alice", "mark the globex route optimisation upgrade as best case for the forecast"),
    ("book", "carol", "bob: put the falcon label printers deal into commit for the forecast"),
    ("book", "carol", "the falcon label printers deal - bob: put it in commit for the forecast"),
    ("book", "carol", "tomorrow, put the falcon label printers deal in commit for the forecast"),
    (
        "book",
        "carol",
        "next week, put the falcon label printers deal in best case for the forecast",
    ),
    ("book", "carol", "bob, put the falcon label printers deal into commit for the forecast"),
    ("book", "carol", "tag falcon as best case"),
    ("book", "wei", "老板说华东物流续约 预测放 commit"),
    ("book", "wei", "华东物流的人说他们内部预测放到乐观"),
    ("book", "wei", "华东物流续约 下周再放 commit"),
    ("book", "wei", "华东物流的事情你放心，我会放进 commit"),
    ("book", "wei", "请高磊把联创培训服务二期放到commit吧"),
    ("book", "wei", "高磊：联创培训服务二期预测放 commit"),
    ("book", "wei", "联创培训服务二期 你觉得预测放 commit 吧"),
    ("book", "wei", "老板说联创培训服务二期预测放乐观"),
    ("book", "wei", "联创培训服务二期 明天再放 commit"),
    ("book", "wei", "联创培训服务二期 报价不能改成28万"),
    ("book", "wei", "联创培训服务二期 高磊说报价改成28万就签"),
    ("book", "wei", "联创培训服务二期 对方报价降到28万了"),
    ("book", "wei", "联创培训服务二期 报价不可以改成30万"),
    ("book", "wei", "联创培训服务二期 客户的报价降到25万了"),
    ("book", "wei", "联创培训服务二期 金额改成30万就能签"),
    ("book", "alice", "initech yard management rollout amount? they mentioned two thousand seats"),
    (
        "book",
        "alice",
        "initech yard management rollout value - three thousand users signed up, amazing",
    ),
    (
        "book",
        "alice",
        "initech yard management rollout: amount stays, they hired two thousand staff",
    ),
    ("book", "alice", "set initech yard management rollout amount to one point five million"),
    ("book", "alice", "set initech yard management rollout amount to two point five k"),
    ("book", "alice", "set initech yard management rollout amount to twelve fifty k"),
    ("book", "alice", "set initech yard management rollout amount to three point two million"),
    ("book", "alice", "initech yard management rollout amount - five thousand licences"),
    ("book", "alice", "set initech yard management rollout value to nineteen ninety k"),
    ("book5", "xiao", "陈老板的太太手机是 138 0000 1111"),
    ("book5", "hui", "鄭課長的助理手機是 0912 000 111"),
    ("book5", "hui", "鄭校長手機改成 0912 000 111"),
    ("book5", "xiao", "陈老板的助理手机是 138 0000 2222"),
    ("book5", "hui", "鄭課長的同事手機是 0912 000 222"),
    ("book5", "hui", "鄭院長手機改成 0912 000 333"),
    ("book", "wei", "高磊说他call了我们老板"),
    ("book", "wei", "我call了高磊但是没人接"),
    ("book5", "june", "kahapon pa sana ako nag-meeting kay Farah pero cancelled"),
    ("book5", "olly", "popped out to the shops, ken grand barista training is fine"),
    ("book", "wei", "我打给高磊但是没人接"),
    ("book", "wei", "林杰说他们call了高磊"),
    ("book", "wei", "联创培训服务二期 不推去谈判"),
    ("book", "wei", "联创培训服务二期 下个礼拜先推去谈判"),
    ("book", "wei", "联创培训服务二期 下周先推到谈判"),
    ("book", "wei", "联创培训服务二期 不想推到谈判"),
    ("book", "wei", "联创培训服务二期 之后推到谈判"),
    ("book", "wei", "联创培训服务二期 过两天推到谈判"),
    ("book", "wei", "联创培训服务二期 周五推到谈判"),
    ("book", "wei", "联创培训服务二期 高磊想推到谈判"),
    ("book", "wei", "联创培训服务二期 不推到谈判"),
    ("book", "wei", "联创培训服务二期 不推进到谈判"),
    ("book5", "tsz", "大館想改城市做九龍，但係未決定"),
    ("book5", "tsz", "大館改名做大館2.0嘅事未定"),
    ("book5", "tsz", "大館想搬去九龍，未定"),
    ("book5", "tsz", "大館改名嘅事未確定"),
    ("book5", "olly", "look up ken grand, barista training is won"),
    ("book", "alice", "initech yard management rollout close date to june the thirty first"),
    ("book", "alice", "initech yard management rollout close date to june 31"),
    ("book", "alice", "initech yard management rollout close date april thirty first"),
    ("book", "alice", "initech yard management rollout close date february the twenty ninth"),
    ("book", "alice", "initech yard management rollout close date to september 31"),
    ("book", "alice", "initech yard management rollout close date was january thirty first"),
    ("book", "alice", "initech yard management rollout close date was march 3rd"),
    ("book", "alice", "initech yard management rollout moved to negotiation a while back"),
    ("book", "alice", "initech yard management rollout: move it to negotiation tomorrow"),
    (
        "book",
        "alice",
        "move initech yard management rollout to negotiation after the call next week",
    ),
    ("book", "alice", "carol moved initech yard management rollout to negotiation"),
    ("book", "alice", "bob pushed initech yard management rollout to negotiation"),
    ("book5", "june", "dr koh's husband phone is +65 6000 0000"),
    ("book5", "june", "dr koh's assistant phone is +65 6000 1111"),
    ("book", "alice", "nancy perez title is still ops manager right"),
    ("book", "alice", "nancy perez title is ops manager right"),
    ("book", "alice", "initech yard management rollout to proposal on friday"),
]


@pytest.mark.parametrize(("book", "who", "text"), SAYS_NOTHING_REVIEW)
def test_a_second_review_s_messages_give_no_write_card(
    runners: dict[str, Any], book: str, who: str, text: str
) -> None:
    """None of them proposes a write (each did before; a question or a "changed nothing")."""
    kind, line = runners[book].run(who, text).outcome
    assert kind != "write", (text, line)


# Probe set 8's causes (fix11), each by its shape, on lines other than the probes' own: a record
# said to exist already, "nothing to add", "just asking"; a record kept as it is ("keep the old
# one", "fine as is", "留着吧", "先忍着吧"); a write verb refused with its object ("dont move it")
# or waiting on "till"; a question in the middle of the message; the digest told as it comes
# now; a plan given up ("本来想取消"); a stage hedged ("basically won", "应该快赢单了"); a close
# day hedged or told as still so, or left for later ("回头再看").
SAYS_NOTHING_PROBES8 = [
    # Told to a colleague: recorded already, nothing to add, kept as it is.
    (
        "book6",
        "tama",
        "Grant from manukau called about the bins, I think a ticket already exists for it",
    ),
    (
        "book6",
        "tama",
        "manukau rang again abt the level 2 dispensers, pretty sure a ticket already exists for"
        " that",
    ),
    ("book6", "gang", "蟑螂那单我电话里已经回复过高厂长了，工单里也写了。"),
    ("book6", "jun", "visited bonifacio grand mall today, nothing to log yet"),
    (
        "book6",
        "jun",
        "met a new guy at Bonifacio Grand Mall, didnt get his card so nothing to add yet",
    ),
    (
        "book6",
        "tama",
        "grant from manukau emailed from a new address but says its temporary, keep the old one",
    ),
    # A question mid-message, or "just asking".
    ("book6", "tama", "can anyone unarchive ponsonby? just asking"),
    ("book6", "yating", "unarchive 晴光 要 admin 嗎？我只是問問"),
    ("book6", "lan", "日报周末也发吗？还是只有工作日"),
    ("book6", "yating", "摘要週末也會寄嗎，還是只有平日"),
    # The digest as it comes now, or kept.
    ("book6", "tama", "my digest arrives at 7am, bit early"),
    ("book6", "ryan", "the digest hits my inbox at 6am every day"),
    ("book6", "kaho", "日報朝早七點到 好早"),
    ("book6", "lan", "日报早上八点到 还行"),
    ("book6", "tama", "digest is fine as is, weekdays only suits me"),
    ("book6", "gang", "日报每天早上七点 有点早 先忍着吧"),
    # A plan given up, a record kept.
    ("book6", "yating", "本來要取消福樂那個提醒的"),
    ("book6", "lan", "太古里续签那个提醒本来想取消的 算了 留着吧"),
    # A move refused with its object, waiting on "till", or a stage hedged.
    ("book6", "tama", "manukau linen is pretty much won, dont move it"),
    ("book6", "jun", "mabuhay linen to won till the PO comes"),
    ("book6", "jun", "Mabuhay linen is basically won"),
    ("book6", "lan", "太古里除虫合约估计快赢单了"),
    ("book6", "lan", "新濠坊白蚁检查应该快赢单了"),
    # A close day hedged, still so, or left for later.
    ("book6", "lan", "太古里除虫合约预计成交日应该还是一月"),
    ("book6", "lan", "太古里除虫合约的预计成交日是一月 回头再看"),
]


@pytest.mark.parametrize(("book", "who", "text"), SAYS_NOTHING_PROBES8)
def test_probe_set_8_shapes_give_no_write_card(
    runners: dict[str, Any], book: str, who: str, text: str
) -> None:
    """None of them proposes a write (each did before fix11)."""
    kind, line = runners[book].run(who, text).outcome
    assert kind != "write", (text, line)


# The requests next to them, with the same words: still a card each.
STILL_ASKED_PROBES8 = [
    (
        "book6",
        "jun",
        "visited bonifacio grand mall today, met Leo the new facilities guy",
        "log visit #24",
    ),
    ("book6", "tama", "unarchive ponsonby, they're back", "unarchive #41"),
    ("book6", "tama", "set my digest to 6am", "digest at 06:00"),
    ("book6", "gang", "日报改到早上八点", "digest at 08:00"),
    ("book6", "lan", "日报只要工作日", "digest weekdays"),
    ("book6", "yating", "取消福樂那個提醒", "cancel #4"),
    ("book6", "jun", "move mabuhay linen to won", "move #71 to won"),
    # "until" in a lost deal's reason is the reason, not a wait.
    ("book6", "jun", "mabuhay linen is lost - no budget until the new year", "move #71 to lost"),
    ("book6", "jun", "mabuhay linen is won!", "move #71 to won"),
    ("book6", "lan", "新濠坊白蚁检查赢单了", "move #60 to won"),
    ("book6", "lan", "太古里除虫合约预计成交日改到一月底", "edit deal #22: close 2027-01-31"),
    ("book6", "jun", "Joy Santos new mobile is +63 917 555 0199", "edit contact #31"),
    # The old one kept beside the new one; a close day "rather" changed (还是改到); another verb
    # refused than the one asked.
    (
        "book6",
        "jun",
        "update joy santos phone to +63 917 555 0199, keep the old one as backup",
        "edit contact #31",
    ),
    ("book6", "lan", "太古里除虫合约预计成交日还是改到一月底吧", "edit deal #22: close 2027-01-31"),
    ("book6", "tama", "move manukau linen to won, dont log it as a call", "move #88 to won"),
]


@pytest.mark.parametrize(("book", "who", "text", "command"), STILL_ASKED_PROBES8)
def test_probe_set_8_requests_still_give_their_card(
    runners: dict[str, Any], book: str, who: str, text: str, command: str
) -> None:
    """A log, an unarchive, digest settings, a cancel, moves and edits asked outright."""
    ran = runners[book].run(who, text)
    assert ran.reply.status == "confirm", (text, ran.reply.text)
    got = str(ran.reply.to_json()["command"])
    assert got == command or got.startswith(command + ":"), (text, got)
