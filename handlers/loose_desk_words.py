"""The words loose sentences about the service desk, reminders named by their words and one's
own settings are read by (on `crm_core.text.char_view`: lower case, Simplified, same length)."""

from __future__ import annotations

import re

# A word boundary for Latin words only: Chinese characters are word characters to `\b`, so
# "嗰個reminder搞掂" has none before "reminder".
_LATIN_EDGE = r"(?:(?<![a-z0-9_])(?=[a-z0-9_])|(?<=[a-z0-9_])(?![a-z0-9_]))"


def _re(pattern: str) -> re.Pattern[str]:
    """The pattern with each `\\b` a Latin word's edge."""
    return re.compile(pattern.replace(r"\b", _LATIN_EDGE))


# A ticket spoken of: "ticket", "case", 工单, "那张单" / "嗰张单" (a ticket, not an order).
TICKET_WORD = _re(
    r"\b(?:support\s+|service\s+)?(?:tickets?|cases?)\b|工单|(?:(?:那|这|𠮶|呢|个|一)\s*)?张\s*单(?!子|据)"
)
# A new ticket asked for: "open a ticket for BGM: ...", "raise a case", "ticket for X: ...",
# "开个工单", "開張工單", "报个修".
TICKET_NEW = _re(
    r"\b(?:open|raise|log|create|file|start|submit|put\s+in|make|cut|lodge)\s+(?:up\s+)?"
    r"(?:a\s+|an\s+|one\s+|new\s+|another\s+)*(?:new\s+)?(?:support\s+|service\s+)?(?:ticket|case)\b"
    r"|\bnew\s+(?:support\s+|service\s+)?ticket\b|^\s*ticket\s+(?:for|on|at)\b"
    r"|(?:开|建|提|起|落|新开|新建|报)\s*(?:个|张|一个|一张|条|一条)?\s*(?:新)?工单"
    r"|工单\s*(?:[:：]|一张|一个)|报(?:个)?修"
)
# What a message says of an existing ticket; each group names the verb.
TICKET_DONE = _re(
    r"\b(?:resolved|fixed|sorted(?:\s+out)?|all\s+sorted|closed(?:\s+out)?|sorted|done\s+and\s+dusted|"
    r"resolve|close\s+(?:it|that|this)(?:\s+out)?|close\s+out|close\s+the)\b|(?:处理|搞|弄|修|解决|做|执)(?:好|完|掂|妥|定)(?:了|咗|啦|喇)?"
    r"|解决(?:了|咗)|搞掂|结案|可以关(?:了|咗)?|关(?:掉|闭)(?:工单|佢|它|了)?"
)
TICKET_REPLY = _re(
    r"\b(?:replied|responded|answered|wrote\s+back|got\s+back\s+to|emailed|messaged|texted|"
    r"reply|respond|told|respondi|respondemos|r[ée]pondu|respond[ií])\b|(?:回复|答复|回覆|覆|回)(?:咗|了|过)?(?:佢哋|佢|他们|客户|对方|[:：])"
    r"|(?:同|跟|和|对)(?:佢哋|佢|他们|客户|对方)(?:讲|说)(?:咗|了)?"
)
TICKET_WAIT = _re(
    # Waiting on the customer, not on parts, a delivery or one of us ("still waiting" is a
    # remark).
    r"(?<!still\s)\b(?:waiting|wait(?:s)?)\s+(?:on|for)\s+(?!(?:the\s+|our\s+|new\s+)?(?:parts?|stock|"
    r"delivery|shipment|supplier|vendor|engineer|technician|tech|approval|us|me|it|spares?)\b)|\bon\s+hold\s+(?:for|until|till|pending)\b"
    r"|\bpending\s+(?:the\s+)?(?:customer|client|their|reply|photos|info)\b"
    r"|(?:等|等紧|等待)(?:客户|客人|对方|佢哋|佢|他们|酒店|医院|商场)"
)
TICKET_REOPEN = _re(
    r"\bre-?open(?:ed)?\b|\bopen\s+(?:it|that|this|the\s+\w+\s+ticket)\s+(?:back\s+up|again)\b"
    r"|重开|重新(?:打开|开)|再开|重启"
)
TICKET_ASSIGN = _re(
    r"\b(?:assign|give|hand|pass|route|send|allocate)\b(?P<en>.{0,60}?)\bto\s+@?(?P<who>[a-z][\w.-]*)"
    r"|(?:指派|分配|派|交|转|分)(?:给|俾|畀)\s*@?(?P<zwho>[a-z][\w.-]*|[\u4e00-\u9fff]{2,3})"
    r"|(?P<me>我(?:自己)?(?:来|嚟)?\s*(?:跟(?:进|住|返)?|接(?:手|咗|了)?|负责|处理)(?:啦|吧|喇)?\s*[!！。.]*$"
    # "leave it with me" in English, Portuguese, French, Spanish.
    r"|\b(?:leave\s+it\s+with\s+me|deix[ae]\s+comigo|je\s+m'en\s+occupe|d[ée]jamelo|lo\s+tomo\s+yo)\b)"
)
TICKET_PRIORITY = _re(
    r"\b(?:priority|prio)\b|\b(?:bump|raise|lower|drop|escalate|upgrade|downgrade|make|set|mark)\b"
    r".{0,50}?\b(?:to|as)\s+(?:an?\s+)?(?:urgent|high|normal|low|medium)\b|优先级|优先度|紧急程度"
    r"|(?:->|→|=>)\s*(?:urgent|high|normal|low|medium)\b"
    # "调成紧急", "改为高", "降到低": a level set with a Chinese changing verb.
    r"|(?:调|改|升|设|降)(?:成|为|到)\s*(?:紧急|特急|急|高|普通|一般|低)"
)
# Priority words said of a ticket (the first that fits, most pressing first).
PRIORITY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "urgent",
        _re(
            r"\b(?:urgent(?:ly)?|asap|critical|emergency|p1|top\s+priority)\b"
            r"|紧急|好急|急得很|很急|超急|非常急|十万火急|特急|急(?:件|单)|(?:调|改|升|设)(?:成|为|到)?\s*急"
            r"|优先级\s*(?:是|为|[:：])?\s*(?:最高|特急)"
        ),
    ),
    (
        "high",
        # "优先级高" as well as "调高", "高优先".
        _re(
            r"\bhigh(?:\s+priority)?\b|\bp2\b|(?:调|改|升|设|成|为|到)\s*高|高优先|优先级\s*(?:是|为|[:：])?\s*高"
        ),
    ),
    (
        "low",
        _re(
            r"\blow(?:\s+priority)?\b|\bnot\s+urgent\b|\bp4\b|(?:调|改|降|设|成|为|到)\s*低|唔急|不急"
            r"|优先级\s*(?:是|为|[:：])?\s*低"
        ),
    ),
    (
        "normal",
        _re(r"\b(?:normal|medium|standard)(?:\s+priority)?\b|\bp3\b|普通|一般|正常|中等"),
    ),
)
# Reads of the ticket queue: "my tickets", "我手上啲工單", "breaching tickets", "团队的工单".
TICKETS_PLURAL = _re(
    r"\btickets\b|\bticket\s+(?:queue|list)\b|\bqueue\b|工单列表"
    r"|(?:啲|些|哪些|所有|全部|边啲|有冇|有没有|有什么|几多|多少).{0,12}工单"
    r"|^\s*(?:我|我们|团队|组里)的\s*工单\s*$"
    r"|工单(?:有|系)?(?:哪些|边啲|几多|多少)"
)
TICKETS_MINE = _re(
    r"\b(?:my|mine|assigned\s+to\s+me|i\s+have|i'?ve\s+got|on\s+my\s+plate)\b"
    r"|我的|我手上|我手头|我负责|我跟|俾我|给我的|我(?:有|手)"
)
TICKETS_TEAM = _re(r"\bteam(?:'s)?\b|\bour\b|\bwe\s+have\b|团队|我们|我哋|组里|全组|部门")
TICKETS_BREACHING = _re(
    r"\bbreach\w*|\boverdue\b|\bpast\s+(?:due|sla)\b|\blate\b|\bsla\b|超时|逾期|违反|过期|爆咗|超过时效"
)

# A reminder spoken of, and what becomes of it.
REMINDER_WORD = _re(r"\breminders?\b|\bremind(?:er)?\s+(?:about|for|re)\b|提醒")
REMINDER_DONE_SAID = _re(
    r"\b(?:done|finished|completed?|sorted|did\s+(?:it|that)|tick(?:ed)?\s+(?:that|it|this)?\s*off|"
    r"check(?:ed)?\s+(?:that|it|this)?\s*off|cross(?:ed)?\s+(?:that|it|this)?\s*off|"
    r"clear\s+(?:that|it|this))\b"
    # French, Portuguese, Spanish: c'est fait, feito, pronto, listo, hecho, terminé, concluído.
    r"|\b(?:c'est\s+fait|(?:j'ai|déjà)\s+fait|feito|pronto|listo|hecho|termin[ée]|fini|conclu[íi]do)(?![\w'])"
    # Sichuan 弄完 / 整完, Taiwan 用好了.
    r"|弄完|整完|整好|用好了|搞完|"
    r"搞定|完成|做完|办完|办好|弄好|搞掂|处理好|处理完|ok(?:了|喇|啦)|做咗|搞咗|得咗|(?:已经?|我)\S{1,2}(?:了|咗)\s*$"
)
# A clear request to close it, with no reminder word needed: "tick that off", "mark it done",
# "done na ...", "cross that off".
REMINDER_DONE_ASKED = _re(
    r"\b(?:tick|check|cross)\s+(?:that|it|this)\s+off\b|\bmark\s+(?:that|it|this)\s+(?:as\s+)?done\b"
    r"|^\s*done\s+(?:na|with|na\s+yung)\b|(?:那个|𠮶个|那件|𠮶件|𠮶单)\s*(?:我)?(?:已经?|都)?\s*\S{1,2}(?:了|咗)\s*$"
)
REMINDER_LATER_SAID = _re(
    r"\b(?:snooze|push|postpone|delay|move|bump|defer|shift|reschedule|ilipat|i-?move|kick)\b"
    r"(?:.*?\b(?:to|until|till|til|sa|by|for|into)\b|\s+(?:it|that|this)\b)"
    r"|(?:推迟|延后|往后|推|延|挪|改|调|顺延|push)\s*(?:迟|后)?\s*(?:到|至|去|落|喺)"
)
REMINDER_CANCEL_SAID = _re(
    r"\b(?:cancel|kill|scrap|drop|delete|remove|ditch|bin)\b|取消|删掉|删除|不用提醒|唔使提|不需要了|不用了"
)
# Someone else did it, or it is not done yet: the reminder stays.
REMINDER_NOT_DONE = _re(
    r"\b(?:not|still|yet|almost|nearly|tomorrow|later|will|going\s+to|gonna|need\s+to|should|"
    r"have\s+to|has\s+to|must|forgot|forget)\b|还没|未|差不多|快要|明天|迟啲|等阵|要去|准备|打算|忘"
)

# Contact add: "add contact sa Mabuhay: ...", "new contact at manukau central: ...".
CONTACT_ADD = _re(
    r"\b(?:add|new|create|save|put\s+in)\s+(?:a\s+|an\s+|one\s+)?(?:new\s+)?contacts?\b"
    r"(?:\s+(?:sa|at|for|to|on|under|in|@))?"
    r"|(?:添加|新增|加|增加|新建|开)\s*(?:一|1)?\s*[个位名條条]?\s*(?:新)?(?:联系人|联络人)"
)

# Unarchive: a word of bringing back, an archived customer named.
UNARCHIVE = _re(
    r"\bun-?archive\b|\bbring\s+(?:\S+\s+){0,5}?back\b|\brestore\b|\breactivate\b|\brevive\b|"
    r"\bback\s+on\b(?!\s+(?:track|the\s+(?:phone|list|road)))|\bout\s+of\s+(?:the\s+)?archive\b"
    r"|取消归档|恢复|重新启用|重新激活|复活|解除归档|拿返出嚟|搬返出嚟"
)

# Quiet hours and the digest.
QUIET = _re(
    r"\bquiet\s+(?:hours?|hrs?|time|mode|period)\b|\bdnd\b|\bsilent\s+hours\b|\bmute\s+(?:me|my\s+"
    r"(?:pings|notifications))\b|免打扰|勿扰|静音时段|静音时间"
)
# Quiet hours said as "don't disturb me" between two times ("晚上十点到早上八点别吵我",
# "don't ping me 10pm-7am"): a quiet cue only with the two times said.
QUIET_DONT = _re(
    r"\bdon'?t\s+(?:ping|disturb|bother|notify|message|buzz)\s+me\b|\bno\s+(?:pings|notifications)\b"
    r"|(?:不要|别|莫|唔好|唔要|勿)\s*(?:给我|俾我|畀我|同我)?\s*(?:弹|发|推|send)?\s*(?:消息|通知|信息|讯息)"
    r"|(?:不要|别|莫|唔好|勿)\s*(?:打扰|吵|嘈|烦|骚扰)\s*(?:我|住我)"
)
QUIET_OFF = _re(r"\b(?:off|remove|clear|cancel|end|disable|no\s+more)\b|关闭|取消|关掉|不用了|唔使")
DIGEST = _re(
    r"\bdigests?\b|\b(?:morning|daily)\s+(?:summary|brief(?:ing)?|round-?up|email)\b|摘要|日报|晨报|每日简报"
)
DIGEST_WEEKDAYS = _re(
    r"\bweekdays?\b|\bwork\s*days?\b|\bbusiness\s+days\b|\bmon(?:day)?\s*(?:-|to|through|thru|til)\s*fri(?:day)?\b"
    r"|\b(?:not|no|skip|without|except)\b.{0,25}\bweekends?\b|工作日|周一到周五|礼拜一到礼拜五|星期一到星期五|返工日"
    r"|周末.{0,6}(?:不|莫|别|唔|免)|(?:不要|莫要|莫|别|唔要|不用|唔使)\s*(?:发|推|寄)?\s*周末"
)
DIGEST_DAILY = _re(
    r"\bevery\s*day\b|\bseven\s+days\b|\b7\s+days\b|\bweekends?\s+too\b|\bincluding\s+weekends\b"
    r"|每天都|天天|周末也|包括周末"
)
DIGEST_OFF = _re(
    r"\b(?:off|stop|pause|disable|unsubscribe|no\s+more)\b|关掉|关闭|停(?:掉|止|发)?|取消|暂停"
    # "日报莫发了", "摘要不用再发了", "唔好再send": don't send it any more.
    r"|(?:不要|不用|别|莫|唔好|唔使)\s*再?\s*(?:发|推|寄|send)(?:给我|俾我|畀我)?\s*(?:了|喇|啦)"
)
DIGEST_ON = _re(
    r"\b(?:turn|switch|put)\s+(?:\w+\s+){0,2}on\b|\bback\s+on\b|\bon\s*(?:again\s*)?[.!]*$|"
    # "日报一打开全是…": as soon as it is opened, a remark.
    r"\b(?:resume|restart|enable)\b|(?<!一)打开|开启|恢复|重新发|开返"
)
# The digest told as it comes now ("the digest lands at 6am", "日报每天早上七点来"): with no word
# of setting it, a remark about the setting, not a change of it.
DIGEST_ARRIVES = _re(
    r"\b(?:lands?|landed|arrives?|arrived|comes?|came|shows?\s+up|hits|goes\s+out|went\s+out|"
    r"gets?\s+(?:sent|here|in)|is\s+sent|pops\s+up|"
    # The digest telling something: "the 08:30 digest informed me that ...".
    r"informs?|informed|reminds?|reminded|tells|told|says|said|keeps|kept|showed|warns?|warned)\b"
    r"|(?<![改调調推挪移换換延设設发發寄送])(?:来|來|到|寄来|寄來|发来|發來|送来|送來)"
)
DIGEST_SET = _re(
    # Pidgin "make I manage am" (let me put up with it) asks for nothing.
    r"\bmake(?!\s+i\b)|\b(?:set|change|move|switch|put|want|prefer|like|can|could|pls|please|plz|turn|send|"
    r"update|push|shift|stop|pause|resume|only)\b"
    r"|改|设|設|调|調|换|換|(?<![摘主])要|想|希望|请|請|麻烦|麻煩|帮|幫|提前|推迟|推遲|延后|延後|挪|只|停|关|關"
)
# "I'd like ...": a request, not someone's reported words.
I_WOULD_LIKE = _re(r"\bi['’]d(?=\s+(?:like|love|prefer|want|appreciate))")
# A setting said to have been changed already, or by someone: a report, nothing to do.
SETTING_DONE = _re(
    r"\b(?:turned|switched|changed|moved|was|were|got|has\s+been|have\s+been|already|used\s+to)\b"
    r"|已经|改过|设过|以前|之前"
)

# Satisfaction said: "nps 9", "net promoter score of eight", "CSAT 俾咗4分", "满意度 5 分".
FEEDBACK = _re(
    r"\b(?:nps|net\s+promoter(?:\s+score)?|csat|satisfaction(?:\s+score)?|customer\s+satisfaction)\b"
    r"|满意度|满意分|净推荐值|淨推薦值|推荐值|推薦值|nps|csat"
)
FEEDBACK_CSAT = _re(r"\bcsat\b|satisfaction|满意|\bstars?\b|/\s*5\b|out\s+of\s+5|颗星|粒星")
FEEDBACK_NOT_GIVEN = _re(
    r"\b(?:target|goal|average|avg|usually|typically|normally|trend|went\s+up|went\s+down|dropped|"
    r"rose|improved|fell|last\s+(?:quarter|year|month|week)|benchmark|aim|wants?|hope\w*|hoping|expect\w*|"
    r"fingers\s+crossed)\b|但愿"
    r"|目标|平均|通常|一般|趋势|上升|下降|提高|降低|上个?季|去年|上个?月|希望|期望"
    # A score given before, told as it was ("闽艺之前的NPS是7分", "nps was 7 last time").
    r"|\b(?:previous(?:ly)?|earlier|last\s+time|used\s+to\s+be)\b|之前|以前|上次|上回|原来的|曾经"
)
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}

# A time zone asked for: "timezone Asia/Riyadh", "set him to Asia/Riyadh" (an IANA name is a
# zone whatever stands around it), "時區先改東京", "tz -> Tokyo".
TIMEZONE = _re(r"\btime\s*zone\b|\btz\b|时区")
IANA_ZONE = _re(
    r"(?<![\w/])(?:africa|america|asia|atlantic|australia|europe|indian|pacific)/[a-z_]+"
    r"(?:/[a-z_]+)?"
)
# The words between the cue and the zone: "先改", "set to", "->".
ZONE_LEAD = _re(
    r"\s*(?:[:：=]|->|→)?\s*(?:先|要|请|帮我)?\s*(?:改成|改到|改为|改|设成|设为|设|换成|换到|换|调成|调到|调|"
    r"set\s+to|change\s+to|switch\s+to|to|is|now|=|->|→)?\s*"
)
# The language the bot answers in: "language: Traditional Chinese", "回覆攏用繁體中文",
# "language set auto".
LANGUAGE = _re(r"\blanguage\b|\blang\b|语言")
LANGUAGE_REPLY = _re(
    r"(?:回复|回覆|回我|覆我|答我|对我|同我|跟我|bot|介面|界面|显示)[^,，。.;；!！?？]{0,6}?"
    r"(?:用|改用|改成|换成|转用|讲|講|说)\s*(?=繁体|繁中|简体|简中|英文|英语|english|中文)"
)
LANGUAGE_VALUE = _re(
    r"(?P<hant>traditional\s+chinese|zh-hant|zh-tw|繁体中文|繁体|繁中|正体)"
    r"|(?P<zh>simplified\s+chinese|zh-hans|zh\b|简体中文|简体|简中|chinese|中文)"
    r"|(?P<en>english|\ben\b|英文|英语)|(?P<auto>\bauto(?:matic)?\b|自动)"
)
