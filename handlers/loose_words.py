"""The words a loose sentence is read by: fillers, negations, questions, and each verb's cues.

All patterns run on `crm_core.text.char_view` of the message: lower case, Simplified Chinese,
half-width, the same length as the message, so a match cuts the original at the same place.
"""

from __future__ import annotations

import re

from crm_core.models import InteractionKind

# Courtesy and filler before the request ("hey bot, can you please ...", "帮我", "麻烦你").
LEAD_FILLER = re.compile(
    r"^(?:\s|[,，.。!！:：~～-])*"
    r"(?:(?:hey|hi|hello|yo|ok|okay|so|um|uh|erm|bot|crmbot|@crmbot|quick one|quick q|pls|plz|"
    r"please|kindly|can you|could you|would you|will you|can u|could u|pls can you|"
    r"i need you to|i want you to|i'd like you to|go ahead and|be a dear and|help me|"
    r"i want to|i'd like to|i wanna|i need to|let's|lets|let me|"
    # Pidgin "abeg", Sheng / Swahili "tafadhali", "biko" (Igbo): "please".
    r"abeg|tafadhali|tafadali|biko|"
    # Swahili / Sheng "okay" (sawa, sawa sawa, poa), Pidgin "oya" (come on).
    r"sawa|poa|oya|"
    # A form of address before the request ("Habibi please archive ...", "boss, log ...").
    r"habibi|bro|boss|mate|chief|yaar|bhai|"
    r"帮我|帮忙|请|麻烦你|麻烦|能不能|可以|可不可以|你能|能否|劳驾|那个|嗯|好的|好)"
    # "sawa sawa! ...", "ok! ...": an exclamation after a filler word ends it too.
    r"(?=[\s,，:：!！]|$|[\u3400-\u9fff])(?:\s|[,，:：!！])*)+"
)
# Courtesy after the request ("... please 🙏", "... thanks!", "...吧").
TRAIL_FILLER = re.compile(
    r"(?:[\s,，.。!！?？~～]|\b(?:please|pls|plz|thanks|thank\s+you|thx|ty|asap|for\s+me|"
    r"if\s+you\s+can|when\s+you\s+can|cheers)\b|谢谢|谢了|多谢|吧|哈|呀|啊|哦|一下)+$"
)
# A request in question form is still a request.
POLITE = re.compile(
    r"^\s*(?:hey\s+|hi\s+|ok\s+|bot\s*,?\s*)?(?:can|could|would|will)\s+(?:you|u)\b|please|pls|plz"
    r"|(?<!谁)帮我|帮忙|帮手|麻烦|能不能|能否|可以帮|可不可以|可唔可以|请|\babeg\b|\btafadhali\b"
)
# "Don't" in the dialects the sets are written in, before a write's verb: Pidgin "no move am",
# Sheng "usicancel", romanised Cantonese "mm ho cancel" / "mai郁住", Teochew and written 勿,
# Taiwanese Hokkien 毋通 / 嘜 / 孬, Cantonese 咪 / 唔使 / 唔洗 (no need). A bare "no" or 咪 is
# read only right before a write's verb: "no" alone answers, 咪 alone is a particle.
_WRITE_VERB_EN = (
    r"(?:move|shift|push|cancel|log|change|mark|close|archive|unarchive|delete|remove|touch|put|"
    r"set|update|reassign|merge|snooze|resolve|reopen|add|create|open|drop|record|write|edit|"
    r"send|assign|transfer|restore|book|enter|kill)"
)
_DIALECT_DONT = (
    rf"|\bno\s+(?={_WRITE_VERB_EN}\b)"
    rf"|\b(?:usi|msi)(?={_WRITE_VERB_EN}|weke|fute|guse|hamishe|badilishe)"
    rf"|\b(?:mm?|ng)\s*hou?\s+(?={_WRITE_VERB_EN}\b)|\bmai\s+(?={_WRITE_VERB_EN}\b)"
    r"|勿(?!扰|擾)|毋通|毋好|唔通"
    # "No need to" only right before the verb: "reminder 唔使喇 cancel 咗佢" (not needed: cancel
    # it) asks for the cancel.
    r"|(?:咪|嘜|孬|唔使|唔洗|唔駛|唔驶|毋免)(?=\s*再?\s*(?:把|将|取消|改|推|动|删|记|归档|转|建|加|开|恢复|标|郁|碰|[a-z]))"
)
# A customer's words pasted in quotes, then the sender says to wait ("邮件原文：“预算调整为20万…”
# 金额等他们确认再说", 'Email: "please move us to the gold plan" - let's wait for the PO'):
# the pasted request is theirs, and the sender's own word is to do nothing yet.
PASTED_THEN_WAIT = re.compile(
    r"[“\"「『][^”\"」』]{6,}[”\"」』][\s\S]*?"
    r"(?:\blet'?s\s+(?:just\s+)?wait\b|\bwe(?:'ll|\s+will|\s+should|\s+can)?\s+wait\b|"
    r"\bwait\s+(?:and\s+see|for\s+(?:them|their|him|her|it|the)\b|till|until)|\bhold\s+(?:off|on)\b|"
    r"\bnothing\s+(?:to\s+do|yet)\b|\bno\s+action\b|"
    r"先等|再等|等[^，,。.!！?？;；]{0,14}(?:再说|再讲|先)|等着|等等看|观望|睇定啲|唔使住|未使住)"
)
# A request asked as "..., is that OK?" at its end (Cantonese "得唔得？", "可以吗？", "好吗？",
# "帮手 ... 好吗"): still a request. Only as a tag after a comma or a space (得唔得 anywhere at
# the end), never "这样打就可以吗" (how to type it).
TAG_REQUEST = re.compile(
    # "…改成139…，可以帮我改吗？", "…，帮我改一下好吗": the favour asked after the change.
    r"[,，]\s*(?:可以|能|能不能|可唔可以|唔该)?\s*(?:帮我|帮手|帮忙)\s*[^,，。.!！?？]{0,4}?"
    r"(?:吗|好吗|得唔得|吧)?\s*[?？]*\s*$|"
    r"(?:[,，\s]\s*)(?:(?:帮手|帮忙|麻烦)?\s*(?:设|改|搞|整|弄)?\s*(?:一下)?\s*)"
    r"(?:可以吗|可以嘛|可以不|好吗|好嘛|好唔好|得唔得|得吗|得嘛|行吗|行唔行|ok吗|okay吗)\s*"
    r"(?:[?？]+[^?？]*)?$"
    r"|得唔得\s*(?:[?？]+[^?？]*)?$"
    r"|,\s*(?:ok|okay|yeah)\s*\?\s*$"
)
# Negations that stop a write ("don't move acme yet", "不要推进", "先别记").
NEGATION = re.compile(
    r"\b(?:don'?t|dont|do\s+not|doesn'?t|didn'?t|haven'?t|hasn'?t|have\s+not|has\s+not|not|"
    r"never|no\s+need|hold\s+off|not\s+yet|"
    r"isn'?t|aren'?t|wasn'?t|won'?t|shouldn'?t|can'?t|cannot|stop|wait|nvm|never\s*mind|"
    r"forget\s+(?:it|that|about))\b"
    r"|不要|(?<![类區区级性个特分差告识辨派组鉴])别(?![家人处的样])|先不|暂时不|暂不|不用|不必|无需|还没|没有|没|不是|未|先等|等等|算了"
    # Cantonese "don't" (唔好取消), "hold off ... for now" (咪住, 咪住move住).
    r"|唔好|咪住"
    # A plan given up: "本來要取消", "原本想改" ("was going to" is a HYPOTHETICAL's).
    r"|(?:本来|本來|原本|原来|原來)(?:是)?(?:要|想|打算|准备|準備)"
    # Southwestern Mandarin "don't" (莫取消, 莫把X推到赢单): only right before a verb or 把, since
    # 莫 is also a surname (莫经理) and "莫给我发消息" asks for quiet hours.
    r"|莫(?:要|再)?(?:急着|慌着|忙着|着急)?(?=\s*(?:把|将|取消|改|推|动|删|记|归档|转|建|加|开|恢复|标|郁|碰))"
    + _DIALECT_DONT
)
# Patterns used with `.match(view, body)` have no "^": it would only match at the message's
# first character, never after a greeting ("pls log: ...").
# A request that starts by refusing ("don't ...", "not yet", "先别"): nothing to do.
# The Latin words end at a word's end: "waitemata ..." is a name, not "wait".
LEAD_NEGATION = re.compile(
    r"(?:(?:don'?t(?!\s+let\s+me\s+forget)|dont(?!\s+let\s+me\s+forget)|do\s+not|never|wait|"
    r"haven'?t|hasn'?t|didn'?t|not|no\s+need|hold\s+off|nope)(?![a-z])|no,|"
    r"不要|别(?!让我忘)|先别|先不|暂时不|暂不|不用|不必|还不|先等|唔好|咪住"
    r"|莫(?:要|再)?(?=\s*(?:把|将|取消|改|推|动|删|记|归档|转|建|加|开|恢复|标|郁|碰))"
    + _DIALECT_DONT
    + r")"
)
# The writer says it is done already or not wanted ("I already logged the Acme call, no need
# to log it again", "那通电话我已经记过了，不用再记"): nothing to write, wherever it stands, since a
# clause after a separator would otherwise be read as the note of a new log.
DECLINED = re.compile(
    r"\b(?:i\s*(?:'ve|have)?\s*already\s+(?:logged|noted|recorded|entered|added)|"
    r"no\s+need\s+to\s+(?:log|record|note|add|remind)|"
    r"(?:don'?t|do\s+not)\s+(?:need\s+to\s+)?(?:log|record)\s+(?:it|that|this)\s+again)\b"
    r"|(?:已经?|我)记(?:过|好)了?|已经?记下了|(?:不用|不必|无需|别)再?记"
    # "邕宁算力拜访两次，已记录": logged already, in a report of the week.
    r"|已经?(?:记录|登记|录入)(?:了|过|好)?(?![\u4e00-\u9fff])"
)
# Nothing asked, said outright ("nothing to add yet", "just asking", "我只是問問"), or the thing
# recorded already by anyone ("pretty sure a ticket already exists for that", "工单里也写了"):
# never a write. Read outside an explicit log's note, where the same words are the note.
ASKS_NOTHING = re.compile(
    r"\bnothing\s+(?:to\s+(?:add|log|record|note|update|change|do)|needed|new)\b"
    # "already have a reminder for karura on the 11th, don't need another one".
    r"|\b(?:don'?t|do\s+not|no)\s+need\s+(?:another|a\s+second)\s+(?:one|reminder)\b"
    # "will add him when he emails": the write itself put off until something happens.
    r"|\b(?:will|i['’]ll|gonna|going\s+to)\s+(?:add|log|enter|update|create|put|move|record)\s+"
    r"(?:him|her|them|it|this|that|the\s+\w+)\b[^.!?;。！？；]*?\b(?:when|once|after|as\s+soon\s+as)\b"
    # "…改到一月了 我刚看到 OK的", "just saw it, fine": a change seen, acknowledged.
    r"|(?:我)?(?:刚刚?|才|啱啱)看到了?\s*(?:[,，]?\s*(?:ok|okay|好|好的|收到|了解)(?:的|啦|了)?)?"
    r"[\s。.!！~～]*$"
    r"|\bjust\s+saw\s+(?:it|that|this)\b"
    # "no new deal yet", "no PO yet": the thing not there yet, nothing to write.
    r"|\bno\s+(?:new\s+)?(?:deal|opportunity|contact|ticket|order|po|quote)s?\s+yet\b"
    # "那句“move ...”只是举个例子": a command quoted as an example.
    r"|只是?(?:举|舉)个?例子?|只是个?例子"
    r"|\b(?:just|only)\s+(?:asking|wondering|curious|checking(?!\s+in))\b"
    # Sarcasm, which asks for nothing ("love how the digest reminds me ...", "Riveting.",
    # "thanks, i had forgotten for 0 seconds", "好棒棒", "打工人打工魂").
    r"|^\W*(?:i\s+)?love\s+how\b|\briveting\b|\bthanks,?\s+i\s+(?:had|would\s+have)\s+forgotten\b"
    r"|\b(?:yeah|oh)\s+right\b|\bwhat\s+a\s+(?:surprise|shock)\b|好棒棒|打工人|呵呵"
    r"|只是?问问|只是?問問|随便问问|隨便問問|问问而已|問問而已"
    r"|\b(?:ticket|note|entry|record|log)\s+(?:already\s+)?exists\b|\balready\s+exists\b"
    r"|(?:工单|工單|单子|單子|记录|記錄|系统|系統)(?:里|裡|上)?(?:也|都|已经?|已經|早就)"
    r"(?:写|寫|记|記|有|开|開)(?:过|過|好)?了"
    # A day's work listed and said to be in the book already ("..., all logged already", "All
    # already in the notes", "以上均已记录", "全部入咗系統", "也已经有记录，不必重复"): a report.
    r"|\b(?:all|everything|both)(?:\s+|(?=['’]s))(?:of\s+(?:it|them|those|these)\s+)?(?:(?:is|are|was|were|been)\s+"
    r"|['’]s\s+)?(?:already\s+)?(?:(?:logged|noted|recorded|entered)(?=\s*(?:already|too|now|"
    r"[,，.。!！;；…)—–-]|$))|in(?:\s+the)?\s+(?:notes|system|crm)\b)"
    r"|(?:以上|上述|这些|都|均|全部|全都|统统)\s*(?:都|均|也)?(?:已经?|已)(?:有)?"
    r"(?:记录|录入|记好|记下|记了|入系统|在系统|写进)"
    r"|(?:也|都|均)已经?有记录|(?:全部|都|已经?)入(?:咗|了)(?:系统|crm)|不(?:必|用)重复|无需重复"
    r"|\b(?:logged|entered|recorded)\s+(?:them\s+|it\s+)?all\b|\blogged\s+everything\b"
    r"|\blogged\s+(?:both|all\s+of\s+(?:it|them)|those|these)(?=\s*(?:[,，.。!！;；…)—–-]|$))"
    r"|\b(?:all|everything)\s+(?:is\s+|are\s+)?(?:up\s+to\s+date|entered|synced)\b"
    r"|(?:都|均|全部|全都)(?:已经?|已)?(?:记|录|登记|登|更新|同步)(?:好|上|进去|完|入)了"
    r"|(?:已|均已|都已)(?:全部)?(?:登记|录入|同步|更新)(?:到|进)?(?:系统|crm)"
    # Taken back or not meant: "ignore that", "当我没说", "撤回", "jk", "开玩笑的".
    r"|\b(?:ignore|disregard)\s+(?:that|this|me|it|everything|the\s+above|my\s+last|the\s+last)\b"
    r"|\b(?:ignore|disregard)[.!\s]*$|当我没说|当我冇讲|请?忽略|撤回(?!吗)"
    r"|\b(?:jk|j/k|just\s+kidding|kidding)\b|(?<!不是)开玩笑的|开个玩笑|讲笑|说笑"
    # Nothing in it worth writing down ("nothing on X worth a note", "没什么要记的"), or the note
    # left to the colleague who was there ("记录请她自己写", "she'll log it herself").
    r"|\bnothing\b[^.!?;。！？；]{0,40}?\bworth\s+(?:a\s+note|noting|logging|recording|"
    r"writing\s+(?:up|down)|a\s+log|an\s+entry)|\bnot\s+worth\s+(?:a\s+note|noting|logging|recording)"
    r"|没(?:什么|啥|有什么|甚么|乜)(?:好|要|可|值得)(?:记|记录|写)|不值得(?:记|写)"
    r"|冇(?:嘢|乜嘢)(?:好|要|可)?(?:记|写)|唔使(?:再)?记"
    r"|(?:请|让|叫|由)(?:她|他|他们|她们)自己(?:来)?(?:写|记|录)"
    r"|\b(?:she|he|they)(?:['’]ll|\s+will)\s+(?:log|write\s+up|note)\s+(?:it|that|this)\s+"
    r"(?:herself|himself|themselves)|\blet\s+(?:her|him|them)\s+log\s+(?:it|that|this)\b"
    # A forwarded request explained as meaning something outside the book ("ben texted 'pls
    # cancel tuesday' - he means the dock appointment, not anything in here", "“请把交货期改到…”
    # 这是说他们那边的出货 不是我们的商机"): the sender asks for nothing.
    r"|\b(?:he|she|they|it|this|that)\s+(?:means?|meant|refers?\s+to|is\s+about|was\s+about)\b"
    r"[^.!?;。！？；]{0,60}?\bnot\b"
    r"|(?:这|这里|那|他|她|他们|对方)(?:是)?(?:说|指)的?(?:是)?[^。！？!?]{0,30}?"
    r"(?:不是|并非|跟我们无关|与我们无关)"
    # Done by someone else before the writer got to it ("... and Pieter had already done it").
    r"|\b(?:had|has|have|already)\s+(?:already\s+)?(?:done|did)\s+(?:it|that|this)\b"
    r"|\bbeat\s+me\s+to\s+it\b"
    # The bot talked about, not to ("the bot stayed quiet like it should", "这个机器人老是…").
    r"|\b(?:the|this|that|our|good|bad|stupid|dumb)\s+bot\b|机器人"
    # A request taken back in the same message ("move X to won - wait no no no, ...", "— hm, no.",
    # "记一下……啊不用了"): after a mark, a "no" that ends its clause and brings no other value
    # ("..., no, to lost" corrects it and is read as it stands).
    r"|(?:[,，.。!！?？;；…]|(?<=\S)[-–—]|\s[-–—]|(?<=[\u3400-\u9fff])\s)\s*(?:(?:hm+|uh|um|er|ah|oh|lol|haha|啊|呃|嗯|哦|哎|唉|欸|诶)"
    r"[,，\s]*)?(?:(?:wait[,，\s]+)?(?:no(?:[,\s]+no)*|nope|nah|nee|não|nao|nein|never\s*mind|nvm|"
    r"scratch\s+that|"
    r"forget\s+(?:it|that)|actually\s+no|on\s+second\s+thought)(?=\s*(?:[,，.。!！;；…—–-]|$))"
    r"|(?:不用了|算了|不对(?:不对)?|还是不要了?|还是算了|唔使了|唔好喇)(?=[\s,，.。!！;；…—–-]|$))"
    r"(?![,，.。!！;；…—–\s-]*(?:to\b|make\b|i\s+mean|just\b|mark\b|move\b|put\b|set\b|log\b|"
    r"直接|就|帮我|把|给我|改|应该是|标|推|记|归档|取消|还是(?!算了|不要)))"
)
# A change the writer says they made already ("I already moved it yesterday", "I moved acme to
# won last week", "we archived them last month"): a report, nothing to do.
_DONE_VERB = (
    r"(?:moved|pushed|put|set|marked|changed|updated|created|archived|unarchived|deleted|removed|"
    r"reassigned|handed\s+over|closed\s+out)"
)
DONE_REPORT = re.compile(
    rf"\b(?:i|we)\s*(?:'ve|\s+have|\s+had)?\s+already\s+{_DONE_VERB}\b"
    rf"|\balready\s+{_DONE_VERB}\s+(?:it|that|this|them|those)\b"
    rf"|\b(?:i|we)\s+{_DONE_VERB}\b[^.!?;。！？；,，]*?\b(?:yesterday|last\s+(?:week|month|night|time|year|"
    r"mon|tue|wed|thu|fri|sat|sun)\w*|earlier(?:\s+today)?|this\s+morning|\d+\s+(?:days?|weeks?|"
    r"hours?)\s+ago|a\s+(?:while|week|month)\s+ago)\b"
    # "我已经推到议价了", "金额我已经改好了", "我已經設成 weekdays 了": done by the writer, said
    # with 了 (or Cantonese 咗) closing the deed.
    r"|我们?(?:已经?|都已经?|早就)\s*(?:把[^,，。!！;；]{0,20}?)?(?:推|改|移|放|标|设|归档|取消|关|加|建|"
    r"记|更新|录|转)[^,，。!！;；?？]{0,16}?(?:了|咗)"
)
# A request starting a clause after a remark ("I already logged the call, remind me to send the
# quote fri", "Carol said it's gone, so move the falcon deal to lost"): the remark stays in its
# own clause and the request is read.
REQUEST_AFTER = re.compile(
    r"[,，;；.。!！]\s*(?:(?:but|so|and|then)\s+|但是?|不过|所以)?\s*(?P<req>(?:(?:please|pls|plz)\s+|"
    r"(?:can|could)\s+you\s+)?(?:remind\s+me|log\s+(?:a|the|that|call|visit|meeting|note|email)|"
    r"move\s+(?:the|it|#)|snooze\s+#|create\s+a|add\s+a|new\s+deal|mark\s+(?:it|the|#)|"
    r"cancel\s+(?:the|#|reminder)|archive\s|(?:can\s+)?(?:stick|put|mark)\s+(?:it|this|that|them)\s|"
    r"(?:can\s+)?mark\s+(?:as\s+)?(?:won|lost))|(?:请|麻烦)?(?:提醒我|帮我|记一下|新建|推进到))"
)
# A request that opens by asking to see something: a read, whatever stage its words tell.
SHOW_FIRST = re.compile(
    r"(?:show\s+me|pull\s+up|bring\s+up|let\s+me\s+see|can\s+i\s+see|look\s+up|find\s+me)\b"
    r"|给我看|帮我看|帮我查|查一下|调出|列出"
)
# Done already: before an event with nothing told after it, a remark ("上個月已經拜訪過永盛了").
ALREADY = re.compile(r"\balready\b|已经|已|早就|早已")
# A second clause asking for a write after a look-up ("look up initech and move the rollout to
# negotiation", "look up ken grand, barista training is won"): the write is not swallowed.
THEN_WRITE = re.compile(
    r"(?:\s+and\s+(?:then\s+)?|\s*[,，;；]\s*(?:then\s+|and\s+)?)[^,，;；]*?"
    r"\b(?:move|push|mark|put|log|set|change|update|edit|won|lost|signed|closed)\b"
)
# Another person named by their tie to a contact ("陈老板的太太", "鄭課長的助理", "farah's
# colleague", "arjun's boss"): the details are that person's, not the contact's.
ANOTHER_PERSON = re.compile(
    r"^\s*(?:(?:的|嘅|之)\s*(?:太太|老婆|妻子|先生|老公|丈夫|助理|秘书|秘書|同事|老板|老闆|上司|领导|"
    r"領導|司机|司機|儿子|兒子|女儿|女兒|家人|朋友|接班人|接替|继任|繼任|下属|下屬|手下|副手)"
    r"|['’]?s?\s+(?:assistant|secretary|colleague|coworker|co-worker|boss|manager|husband|wife|"
    r"partner|replacement|successor|deputy|son|daughter|pa|ea|team|friend|driver)\b)"
)
# A call or meeting that did not happen as told: unanswered, cancelled, moved, an errand
# ("我call了高磊但是没人接", "nag-meeting ... pero cancelled", "popped out to the shops").
LOG_UNDONE_AFTER = re.compile(
    r"没人接|没接通|打不通|未接|没回|取消了|改期|\bcancel+ed\b|\bpostponed\b|\bno\s+answer\b|"
    r"\bvoicemail\b|\bdidn'?t\s+(?:pick\s+up|answer|happen)\b|"
    r"\bpopped\s+out\s+to\s+the\s+(?:shops?|bank|post\s+office|chemist)\b"
)
# Before the event: someone's words, a question or a "did not" ("高磊说他call了…", "林杰问能不能
# 拜访", "今天没跟高磊开会", "sana ako nag-meeting").
LOG_UNDONE_BEFORE = re.compile(
    r"说|问(?:能不能|可不可以|可以)|没有?(?:跟|和|同|去|打)|\bsana\b|\bdidn'?t\b|\bnever\b"
)
# Not decided yet, or only wished: "想改…但係未決定", "…嘅事未定", "thinking of moving to X".
UNDECIDED = re.compile(
    r"未[決决]定|未定|还没定|還沒定|未确定|未確定|考虑|考慮|諗住|谂住|(?<!理)想(?:改|换|換|搬)"
    r"|\b(?:thinking\s+(?:of|about)|not\s+(?:decided|sure)\s+yet|might|maybe)\b"
)
# Leave a record as it is ("leave the acme deal where it is", "大館先唔好郁住", "晶华先不要动",
# "我就不动了"): a wish that nothing changes, neither a write nor a read of the record.
HOLD = re.compile(
    r"\bleave\s+(?:[\w&'’-]+\s+){0,8}?(?:where\s+(?:it|they)\s+(?:is|are)|as\s+(?:it\s+)?is|alone)\b"
    r"|\b(?:don'?t|do\s+not|nobody|no\s+one)\s+(?:touch|change)\b"
    r"|(?:别|不要|唔好|唔使|先不|暂时不|不)\s*(?:郁|动|碰|改)(?!物|力|作|画|车|机|态|产|向|员|静|手)"
    # "…推到赢单 莫急莫急", "別急着關", "咪住先", "hold off", "hang on": not yet, wherever said.
    r"|(?:莫|别|不要|唔好)(?:急|慌)|咪住先|先咪住|咪住(?=\s*(?:[,，.。!！;；]|$))"
    r"|\b(?:hold\s+(?:on|off|fire)|hang\s+on)\b"
    # The request taken back in a later clause ("…推到赢单！……等一下，…先不要。", "scratch
    # that", "actually no, leave it"): nothing is asked after all.
    r"|(?<=[,，.。!！…;；\s])(?:等一下|等一等|且慢|慢着|慢住)\s*[,，!！.。…]"
    r"|(?:^|(?<=[,，.。!！…;；\s]))(?:先不要|先别|算了|唔好住|咪住先)\s*(?:[.。!！~～]|吧|啦|了)*\s*$"
    r"|\b(?:scratch\s+that|ignore\s+(?:that|this|the\s+above|my\s+last)|cancel\s+that|never\s*mind)"
    r"(?=\s*(?:[,.!;:—–-]|$))|\bactually,?\s+(?:no\b|don'?t\b)"
    # "各人自行设置，我不统一改", "I'm not changing it for everyone": a setting left to each person.
    r"|不\s*(?:统一|帮大家|替大家|帮你们|替你们|一起)\s*(?:改|动|调|设)"
    r"|\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+not\s+(?:changing|touching|setting)\s+(?:it|that|this|them|anything)"
    r"\s+for\s+(?:everyone|anyone|the\s+team|all\s+of\s+you|you\s+all)\b"
)
# The same wish said otherwise, outside an explicit log's note: a record kept, the clause ending
# there ("keep the old one.", "fine as is, ...", "就留著吧", "先忍着吧"); "keep the old one as
# backup" after a new number keeps both, a request.
KEEP = re.compile(
    r"(?:\bkeep\s+(?:the\s+old\s+(?:one|number|email|address|date)|it\s+as\s+(?:it\s+)?is)"
    r"|\b(?:fine|ok|okay|good|happy)\s+(?:with\s+it\s+)?as\s+(?:it\s+)?is)"
    r"(?=\s*(?:[,，;；.。!！]|\s[-–—]\s|$))"
    r"|(?:就|先|还是|還是)?留[着著](?:吧|先|好了)|先忍[着著]|先这样吧|先這樣吧"
    # "还是保留原来的吧", "保持原样": the old value kept.
    r"|(?:就|先|还是|還是)保留(?:原来的|原來的|原样|原樣|旧的|舊的)?(?:吧|好了)"
    r"|保持(?:原样|原樣|不变|不變)"
    # The record said to stay as it is ("ticket 4 stays resolved", "the digest time is staying as
    # it is", "leave it in proposal", "#3 can stay resolved", "por enquanto fica 271k", "blijft bij
    # mij", "先维持谈判"): nothing changes. "they're staying with the incumbent" is the customer's
    # choice, told with a write; "the deals remain with Sharon" a part of a reassign.
    r"|\b(?:stays?|staying|remains?|remaining)\s+(?:as\s+(?:it\s+)?(?:is|was)|where\s+(?:it|they)\s+"
    r"(?:is|are)|the\s+same|unchanged|put|open|resolved|closed|pending|on\s+hold"
    r"|in\s+(?:proposal|negotiation|qualified|lead|commit|pipeline|best\s+case|the\s+\w+))\b"
    r"|\b(?:stays?|staying|remains?)\s+at\s+[\w$€£¥.:]+"
    r"|\bleave\s+(?:it|them|that|this)\s+(?:in|at)\s+\w+"
    # "It stays with you" (an account kept by its owner); "they want to stay with us" is news.
    r"|\b(?:it|this\s+one|that\s+one)\s+(?:stays?|remains?)\s+with\s+(?:me|us|you|him|her)\b"
    # The same in Portuguese, Spanish and Dutch, said of the record as it stands now ("por
    # enquanto fica 271k", "fica como está", "sigue igual", "blijft bij mij"), not of a date told
    # ("ela disse que o grape reefer fica pra janeiro" is a call's news).
    r"|\b(?:por\s+enquanto|por\s+ora|por\s+agora|por\s+ahora)\s+(?:fica|continua|sigue|se\s+queda)\b"
    r"|\b(?:fica|continua|sigue|se\s+queda)\s+(?:como\s+est[aá]|assim|así|igual|parado)\b"
    r"|\bblijft\s+(?:bij|in|op|zo|staan|gewoon)\b"
    r"|维持(?:原样|现状|不变|原判)?(?=\s*(?:[,，.。!！;；]|$))|先维持|保持现状"
)
# A write verb refused with its object, anywhere outside an explicit log's note ("... but dont
# move it till the PO comes"): that verb's card is dropped, another one's stands ("move X to
# won, dont log it as a call"). The refused word, then the verbs it refuses.
REFUSED_VERB = re.compile(
    r"\b(?:don'?t|dont|do\s+not)\s+(?P<verb>move|push|mark|close|update|archive|unarchive|cancel|"
    r"delete|log|edit)\s+(?:it|that|this|them|anything)\b"
)
REFUSED_VERBS: dict[str, tuple[str, ...]] = {
    "move": ("move",),
    "push": ("move", "snooze"),
    "mark": ("move", "done"),
    "close": ("move", "resolve"),
    "update": ("edit",),
    "edit": ("edit",),
    "archive": ("archive",),
    "unarchive": ("unarchive",),
    "cancel": ("cancel",),
    "delete": ("delete",),
    "log": ("log",),
}
DONT_FORGET = re.compile(r"\bdon'?t\s+let\s+me\s+forget\b|别让我忘")
# Words of a write: in a question, a supposition or a negation they never become one.
WRITE_WORDS = re.compile(
    r"\b(?:log|logged|logging|move|moved|moving|push|pushed|remind|reminder|create|created|"
    r"creating|add|added|adding|mark|marked|delete|archive|reassign|assign|won|lost|win(?!\s*rate)|lose|"
    r"sign|signs|signed|close(?!\s+(?:soonest|soon|next|first|this|in\b|rate))|closed)\b"
    r"|记一下|记录|推进|提醒|新建|添加|删除|归档|赢单(?!率)|输单|签了|签约|成交|转给|签咗|输咗|冇咗"
)
# Reminders asked about ("最近有什么要追的提醒吗", "我本月的提醒有啥"): 提醒 is the noun there.
REMINDERS_ASKED = re.compile(
    r"(?:我|我的|本月|这个?月|这周|今天|明天|要追)的?提醒\s?(?:有|是)?(?:哪些|什么|啥|咩|几个|多少)?\s?"
    r"(?:吗|么|呢|未|[?？])?\s?[?？]?$"
    r"|有(?:什么|啥|咩|哪些)(?:要追的)?提醒"
)
# Questions and hypotheticals: they may be reads, never writes.
QUESTION_START = re.compile(
    r"^\s*(?:(?:did|do|does|have|has|was|were|is|are|am|should|shall|would|might|may|"
    r"isn't|aren't|wasn't|haven't|hasn't|didn't)\b(?!\s+(?:a|an|to|been)\b)|"
    r"(?:what|what's|whats|why|when|where|who|whom|which|how|"
    r"can\s+i|can\s+we|could\s+i|could\s+we|should\s+i|should\s+we|do\s+you\s+think)\b)"
)
# Questions about what happened or who did it: reads even with a write's words ("who logged
# the most activity?", "how long do deals take to close?", "why did we lose X?").
READ_QUESTION = re.compile(
    r"^\s*(?:who|which|how\s+many|how\s+long|how\s+much|why)\b|谁|为什么|为啥|多久"
)
# "是谁帮我改成赢单的啊？", "是谁放进commit的？": who did a change, asked, whatever is said after.
WHO_ASKED = re.compile(r"谁[^,，.。!！?？;；]*?的?\s*(?:啊|呀|呢|吗|哦)?\s*[?？]")
# A grammar verb's line that asks how to use it ("提醒可以设每个月一号吗？怎么用", "提醒咋个设成
# 每周一哦？", "add contact 的时候手机号要带+86吗"): a question about the verb, no write.
VERB_ASKED = re.compile(
    r"^\s*的?时候|^[^:：]*?(?:(?:吗|么|呢|哦|啊)\s*(?:[?？]|\s|$)|[?？]|咋|怎么(?:用|弄|设|改|加)|如何)"
)
# "提醒一下大家：拜访完当天就要记录": the team told something, no reminder set for anyone.
TEAM_TOLD = re.compile(r"^\s*(?:一下)?\s*(?:大家|各位|所有人|同事们|你们|team\b|everyone\b|all\b)")
QUESTION_END = re.compile(
    r"(?:[?？]|吗|么|呢|没有|没|多少|是什么|是多少|是啥|啥|几号|哪些|哪个|哪家(?:公司)?的?)\s*[\W_]*$"
)
# Someone else's words or plans before the action ("Carol said she'd move ..."): reported,
# not asked for.
REPORTED = re.compile(
    r"\b(?:said|says|saying|told\s+(?:me|us|him|her)|mentioned|thinks|promised|expects|hopes)\b"
    r"|(?<=[a-z])['’](?:ll|d)\b|\b(?:he|she|they)\s+(?:will|would)\b"
    # Pidgin "X dey talk say make ...": someone's words.
    r"|\btalk\s+say\b"
    # "杨总说让我们记一下": someone else asking for it, told.
    r"|(?:说|表示|提到|讲|话)(?:要|让|叫|请)(?:我们|我|咱们|你们)"
    # "林涛话冇咗预算": a person's name, then 话/讲 (Cantonese "says"), then what they said.
    r"|(?<=[\u4e00-\u9fff])(?:(?<![电通对说讲会])话(?![题费术筒])|(?<![演宣主])讲(?![解座课话台究]))"
    r"(?=[\u4e00-\u9fff])"
    # "Angela 話佢哋...": a Latin name, then 话 and what they said.
    r"|(?<=[a-z]\s)话(?=[\u4e00-\u9fff])"
)
# Someone's words before one's own setting ("他说日报关掉", "簡淑芬說日報關掉比較好"; not "我说",
# "你说"): the digest and quiet hours are the sender's own, so another's say-so is told, not
# asked. (Not for deals: "林經理說老闆點頭了可以算成交了" is news of a won deal, and a move.)
THIRD_PERSON_SAID = re.compile(r"(?<![我你])(?:说|讲|话)(?!一下|下|明|话|题|费|好|了算)")
HYPOTHETICAL = re.compile(
    # "check if", "see if", "ask if": an errand's words, not a supposition.
    r"(?<!check\s)(?<!\bsee\s)(?<!\bask\s)(?<!confirm\s)(?<!\bknow\s)(?<!find out )"
    r"\b(?:if|what\s+if|suppose|supposing|imagine|hypothetically|in\s+case|maybe|perhaps|"
    r"might|would\s+it|should\s+i|should\s+we|thinking\s+(?:of|about)|considering|"
    r"wonder|wondering|plan(?:ning)?\s+to|going\s+to|gonna|about\s+to|will\s+probably|"
    r"later|someday|eventually|probably|i['’]ll|we['’]ll|i\s+will|we\s+will)\b"
    r"|如果|假如|假设|要是|万一|要不要|是否|是不是|该不该|应不应该|打算|准备|可能|也许|或许|考虑"
    # "回头再看": later, as "later" above.
    r"|回头再|回頭再|晚点再|晚點再|改天再"
    # A wish, not a request: "好想今日就搞掂", "真想…", "i wish it were won", "if only".
    r"|好想|真想|巴不得|恨不得|但愿|\bi\s+wish\b|\bif\s+only\b"
    # More words of "if" (若是, 倘若, Portuguese "se a ...", Spanish "si el ..."), a change put off
    # until something happens ("等他邮件确认再说", "等合同盖章了再推") or done only then ("定金有到
    # 才推去赢单"): a plan, not a request.
    r"|若是|倘若|假使|假若|若然|如若"
    # "if" and "in case" in Portuguese, German and Malay/Indonesian ("caso", "falls", "kalau").
    r"|\b(?:caso|falls|wenn|kalau|kalo|jika|jikalau|apabila)\b"
    r"|(?:^|[.!?;]\s+)(?:se|si)\s+(?:a|o|os|as|el|la|los|las|eles?|elas?|ellos?|ellas?|você|vocês|"
    r"a\s+gente|nós|tiver|for|der|eu|yo|hay)\b"
    r"|等[^,，.。!！;；?？]{0,20}?再(?:说|讲|改|定|看|动|推|调|处理|弄|搞|记|建|开)"
    r"|(?<![刚方])才(?:能|可以|会|要)?\s*(?:推|改|建|动|移|标|调|恢复|归档|取消|设|记)"
    # Pidgin "I fit" (I could), "make I see how monday go first" (let me see first): a plan.
    r"|\bi\s+fit\b|\bmake\s+i\s+see\b|\blet\s+me\s+see\s+how\b"
    # A write put off to a day to come ("下週見到…再加聯絡人", "聽日再整理"): a plan.
    r"|(?:下周|下星期|下礼拜|明天|明日|后天|听日|过两天|过几天|之后|以后|到时候?|晚点|迟啲|迟下)"
    r"[^,，。.!！?？;；]{0,14}?再\s*(?:加|记|建|开|改|推|登记|录|补|整理|写|update|log|add)"
    # "Wish Kilo would answer …": a wish, not a request ("wish to" asks).
    r"|(?:^|[.!?]\s+)wish\b(?!\s+to\b)"
)
# "Noted that Tunde put X in best case": a colleague's change acknowledged (the name is checked
# to be a colleague's), nothing to write.
NOTED_DEED = re.compile(
    r"noted(?:\s*[,:：])?\s+(?:that\s+)?(?P<who>[a-z][a-z'’-]+)\s+(?:has\s+|had\s+)?"
    r"(?:put|moved|changed|set|marked|pushed|bumped|updated|added|closed|logged|reassigned|archived)\b"
)
# A message that opens by naming a colleague ("@刘洋 明天记得…", "@putri can you share …"): said
# to them, not to the bot (a mention of the bot itself, "@crmbot" or a Telegram "@acme_crm_bot",
# is courtesy).
TO_COLLEAGUE = re.compile(r"\s*@(?![\w.-]*bot\b)[^\s@,，:：]+")
# Pleasantries and reactions: no command in them.
CHIT_CHAT = re.compile(
    r"^\s*(?:thanks?|thank\s+you|thx|ty|cheers|lol|haha+|nice|great|cool|good\s+(?:morning|"
    r"night|evening|afternoon|job)|hello|hi|hey|bye|ok|okay|yes|no|sure|wow|"
    r"谢谢|多谢|你好|早上好|晚安|哈哈+|好的|嗯|拜拜|再见)\b[\W_]*$"
)

# Stage words people use (English, Chinese) -> the default pipeline's stage names.
STAGE_WORDS: dict[str, str] = {
    "closed won": "won",
    "closed-won": "won",
    "closed/won": "won",
    "won": "won",
    "signed": "won",
    "赢单": "won",
    "赢了": "won",
    "成交": "won",
    "签约": "won",
    "签了": "won",
    "拿下": "won",
    "closed lost": "lost",
    "closed-lost": "lost",
    "closed/lost": "lost",
    "lost": "lost",
    "lose": "lost",
    "dead": "lost",
    "输单": "lost",
    "输了": "lost",
    "丢单": "lost",
    "丢了": "lost",
    "黄了": "lost",
    # Cantonese: 签咗 / 赢咗 (signed, won), 输咗 / 冇咗 / 丢咗 (lost, gone).
    "签咗": "won",
    "赢咗": "won",
    "输咗": "lost",
    "冇咗": "lost",
    "丢咗": "lost",
    "negotiation": "negotiation",
    "negotiations": "negotiation",
    "negotiating": "negotiation",
    "negotiate": "negotiation",
    "nego": "negotiation",
    "谈判": "negotiation",
    "议价": "negotiation",
    "商务谈判": "negotiation",
    "proposal": "proposal",
    "proposals": "proposal",
    "方案": "proposal",
    "提案": "proposal",
    "qualified": "qualified",
    "qualify": "qualified",
    "qualification": "qualified",
    "已确认": "qualified",
    "确认": "qualified",
    # Taiwan and Hong Kong say a lead that qualifies is 合格 (ZH_MOVE keeps 合格标准, 合格率 out).
    "合格": "qualified",
    "lead": "lead",
    "线索": "lead",
}
_STAGE_ALT = "|".join(re.escape(w) for w in sorted(STAGE_WORDS, key=len, reverse=True))
_LATIN_STAGE = rf"(?<![a-z])(?P<stage>{_STAGE_ALT})(?![a-z])"

# A new deal's stage said with it: "..., stage qualified", "阶段 方案".
STAGE_SAID = re.compile(
    rf"\bstage\s*[:：]?\s*{_LATIN_STAGE}|阶段\s*[:：]?\s*(?P<zstage>{_STAGE_ALT})"
    rf"|\b(?:already|currently|starting|start(?:s|ing)?\s+(?:at|in)|at)\s+"
    rf"{_LATIN_STAGE.replace('?P<stage>', '?P<said>')}"
    rf"|已经?(?:到了?|是|在)?\s*(?P<zsaid>{_STAGE_ALT})(?:阶段)?"
)
# "move X to negotiation", "push acme into proposal", "set the deal as won".
MOVE_VERB = re.compile(
    r"\b(?:move|moving|moved|push|advance|bump|progress|shift|take|put|set|mark|change|update|"
    r"flip|get|switch|transition|promote|drag|stick|chuck|bang)\b"
)
# "... to won", "stick it on won", "can mark won" (mark with no "as").
MOVE_TO = re.compile(
    rf"(?:\b(?:to|as|into|in|at)\s+(?:the\s+)?(?:stage\s+)?|(?<=\bmark\s)|(?<=\bmark\sit\s))"
    rf"{_LATIN_STAGE}"
    # "on" only as "stick it on won" closing the request: "a note on the lead for acme", "on
    # the won deals board", "on won once the PO lands" move nothing.
    rf"|(?:(?<=\bit\s)|(?<=\bthis\s)|(?<=\bthat\s))on\s+"
    rf"{_LATIN_STAGE.replace('?P<stage>', '?P<on>')}"
    rf"(?=(?:\s*(?:please|pls|plz|thanks|thx|now|[!.~]))*\s*$)"
)
# A move asked for later, on a condition: "once legal is done, mark X as won", "mark X won when
# they pay", "after the PO arrives".
MOVE_CONDITION = re.compile(
    r"\b(?:once|unless|as\s+soon\s+as)\b|\bwhen\s+(?:they|we|he|she|it|the|legal|their)\b"
    r"|\bafter\s+(?:they|we|he|she|it|the|their)\s+(?:\w+\s+){0,2}"
    r"(?:arrives?|lands?|signs?|pays?|comes?|clears?|is|are|gets?|goes)\b"
    r"|一旦|等[^，,。；;]{1,12}(?:之后|以后|了再|再)"
)
# Waiting on something before a step forward ("won till the PO comes", "not till they sign"): a
# plan, not a move; a lost deal's reason may hold it ("lost, no budget till 2028").
MOVE_UNTIL = re.compile(r"\b(?:until|till|til)\s+(?:they|we|he|she|it|the|their|legal|after)\b")
# A state told as long since so ("上个月就签了的嘛，早就是赢单了", "that one was won months ago"):
# a remark about the past, not news to record.
LONG_SINCE = re.compile(
    r"早就|早已|早都|(?:上个?月|上周|上星期|上礼拜|去年|之前|以前|前阵子|老早)就"
    r"|\b(?:long\s+ago|ages\s+ago|months\s+ago|weeks\s+ago|years\s+ago|a\s+while\s+(?:ago|back)"
    r"|last\s+(?:year|quarter))\b"
)
# A day to come right before the moving verb ("下周推到谈判", "聽日推去 proposal"): a plan for
# then, not a move to make now.
LATER_BEFORE = re.compile(
    r"(?:(?:下周|下星期|下礼拜|下个?礼拜|下个?月|明天|后天|听日|月底|年底|明年|之后|以后|过两天|过几天|"
    r"周[一二三四五六日天]|星期[一二三四五六日天]|礼拜[一二三四五六日天])\s*(?:先|再|才|就)?"
    r"|想|打算|准备|(?:不|没|别|唔|冇)(?:要|会|想|打算)?(?:推进|推|升|转|挪)?)\s*$"
)
# A time to come after the stage ("move it to negotiation tomorrow", "... after the call next
# week"): a plan for then.
LATER_AFTER = re.compile(
    r"\b(?:tomorrow|tonight|later|next\s+(?:week|month|quarter)|after\s+the\s+(?:call|meeting|demo)"
    r"|on\s+(?:mon|tues|wednes|thurs|fri)day)\b"
)
# Told of the past, then undone: "went up to negotiation last month and then back down".
MOVED_BACK = re.compile(r"\b(?:(?:and\s+)?then\s+(?:back|dropped|fell|went\s+back)|back\s+down)\b")
# "acme fleet deal is won!", "we won the acme deal", "acme: closed won".
STATE = re.compile(
    rf"\b(?:is|are|was|now|got|went|gone|just|has\s+been|is\s+now|finally)\s+"
    rf"(?:now\s+|finally\s+|officially\s+|been\s+|up\s+)?(?:(?:at|in|to)\s+)?(?:the\s+)?{_LATIN_STAGE}"
    rf"|\b(?:we|i|they|team)\s+(?:just\s+|finally\s+|officially\s+)?(?P<verb>won|lost|signed|closed)\b"
    rf"|(?<![a-z])(?P<last>won|lost|closed[- ]won|closed[- ]lost)\s*[!.]*\s*$"
    rf"|(?:->|=>|→|>>|>)\s*{_LATIN_STAGE.replace('?P<stage>', '?P<arrow>')}"
)
# "acme fleet deal to won pls": no verb, the stage closes the request.
TO_STAGE_END = re.compile(
    rf"\b(?:to|into|as)\s+(?:the\s+)?(?:stage\s+)?{_LATIN_STAGE}(?:\s+stage)?\s*(?:[:：].*)?"
    rf"(?:\s*(?:please|pls|plz|thanks|thx|asap|now|[!.~]))*\s*$"
)
ZH_MOVE = re.compile(
    rf"(?:推进|推到|推至|移到|移至|转到|转为|转成|改到|改成|改为|进入|进到|挪到|调到|调成|设为|设成|"
    # Cantonese 推去 / 升去 / 转去 ("push to"), 升到 / 升级到; 推倒 typed for 推到 before a stage.
    rf"推去|推倒|升去|升到|升级到|转去|调去|"
    rf"标记为|标为|标成|变成|到了|(?<![达做收得])到|(?<![跟快将要没])进)\s*(?:了\s*)?(?:阶段\s*)?"
    rf"(?P<stage>{_STAGE_ALT})(?!率|周期|额|量|标准|证|品|线|日|时间|期)"
)
ZH_STATE = re.compile(
    r"(?P<stage>赢单|赢了|成交|签约|签了|拿下|输单|输了|丢单|丢了|黄了|签咗|赢咗|输咗|冇咗|丢咗)"
    # 签约日 / 签约日期 / 签约时间: the signing day (a close date), not the deal signed; 赢单评分,
    # 赢单概率, 成交机会: the deal's chances.
    r"(?!率|周期|额|量|日|时间|期|评分|分数|概率|几率|机会|可能)"
    # A Cantonese "…咗" is the outcome only ending its clause: "冇咗联络" (no contact), "签咗保密
    # 协议" (an NDA signed), "输咗两个点折扣" say something else.
    r"(?:(?<=咗)(?=\s*(?:了|啦|喇|嘞)?\s*(?:[,，。.!！;；]|$))|(?<!咗))(?:了)?"
)
# A stage said without its name ("the freo lease is dead", "quote went out", "报价发过去了",
# "预算确认了", "凉了"): taken like a bare outcome word, only with the deal's own title words
# named before it, never after a negation, a question, someone else's words or a plan.
IMPLIED_STAGE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:is|are|'s|’s|was)\s+(?:now\s+|totally\s+|officially\s+|definitely\s+)?"
            r"(?P<stage>dead|off|cancell?ed|a\s+no[- ]go)"
            # ending its clause or before a reason: "dead weight", "off sick" say something else.
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:in\s+the\s+water|now|tbh|sadly|unfortunately|i'?m\s+afraid|"
            r"and|but|so|as|because|since|cuz|they|we)\b))"
            r"|\b(?P<s2>fell\s+through|fallen\s+through|fell\s+over|pulled\s+the\s+plug|"
            r"went\s+with\s+(?:another|someone\s+else|somebody\s+else|the\s+competition|a\s+competitor)"
            # "went with another supplier" ends its clause: "... supplier for the cups" is a
            # part of the order, not the deal.
            r"(?:\s+(?:supplier|vendor|provider|company|roaster|firm|one|option|quote|offer))?"
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:now|sadly|unfortunately|and|but|so|because|since|as)\b))"
            # French, Portuguese and Spanish chat: "c'est perdu", "perdida", "perdemos", "fechou
            # com concorrente" (closed with a competitor; "fechou" alone is won).
            r"|(?:c'est\s+perdu|perdue?|perdid[ao]|perdemos|perdimos"
            r"|fech(?:ou|aram)\s+com\s+(?:o\s+|a\s+|um\s+|uma\s+)?(?:concorrente|outr[oa]))"
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:now|sadly|unfortunately|and|but|so|because|since|as|they|"
            r"cliente|ils|elle|il)\b)))\b"
            # 掉了 / 掉咗 / 飞了 (Taiwan, Hong Kong: the deal dropped), after the deal's words.
            r"|(?<![没不别])(?P<s3>凉了|凉凉|没戏了|吹了|吹咗|黄咗|输掉了|丢掉了|输给了|"
            # The customer went with someone else ("客户改用别家", "人家找了别家").
            r"(?:改用|改找|找了|选了|换了|用了|转用)(?:别家|别人家|其他家|其他供应商|竞争对手|对手)|"
            r"(?<=[个那这的单案子])\s*(?:掉了|掉咗|飞了|飞咗))"
        ),
        "lost",
    ),
    (
        # A deal lost, said in the dialects of the sets, ending its clause: Pidgin "no go happen
        # (again)", "e don scatter"; Swahili and Sheng "zimeenda" (gone), "tumepoteza" (we lost),
        # "imekufa" (died); romanised Cantonese "sei jo" (死咗), "syu jo" (输咗); Teochew 无成,
        # Hokkien 袂成 / 無成, Cantonese 唔成 / 做唔成 / 冇得倾, and 告吹 / 泡汤.
        re.compile(
            r"\b(?P<s2>no\s+go\s+happen(?:\s+again)?|(?:e\s+)?don\s+(?:scatter|spoil|cast|fall)|"
            r"(?:zime|ime|ume|tume|wame)(?:enda|kufa|anguka|poteza|potea|kwama)|"
            r"(?:sei|syu|mo)\s*(?:jo|joh|zo))"
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:o|oh|la|lah|wor|ga|now|sadly|and|but|so|because|since|as|"
            r"they|dem|we|wame|principal)\b))"
            # Hokkien 无去了 (gone: "返校日 无去了 伊选别家").
            r"|(?<![没不别唔冇])(?P<s3>(?:做|傾|倾|谈|談)?(?:无成|袂成|唔成|做唔成|冇得(?:倾|傾|谈)|告吹|泡汤"
            r"|无去了|无去矣)(?:咗|了)?)"
            r"(?!功|本|员|品|为|績|绩)"
        ),
        "lost",
    ),
    (
        # A deal won, said in the dialects of the sets, ending its clause: Pidgin "e don do", "dem
        # don sign"; Swahili and Sheng "amesign" / "wamesaini" (has signed), "tumeshinda" (we won);
        # romanised Cantonese "sign jo", "yeng jo" (赢咗); Cantonese 成咗 / 倾掂咗, Mandarin 成了,
        # Hokkien 簽落去.
        re.compile(
            r"\b(?P<s2>(?:e|it|dem|they|we)\s+don\s+(?:do|sign|land|close|happen)(?:\s+am)?|"
            r"(?:ame|wame|tume)(?:sign|saini)|tumeshinda|(?:sign|yeng|ying)\s*(?:jo|joh|zo))"
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:o|oh|la|lah|wor|now|finally|and|so|dem|they|this|today|"
            r"yesterday|leo|jana|juzi|sasa|tayari)\b))"
            r"|(?<![没不别唔冇未无袂])(?P<s3>成咗|成了|(?:倾|傾)掂咗?|簽落去了?|签落去了?)"
            r"(?=\s*(?:啦|喇|嘞|了|!|！|[,，。.;；~～]|$))"
        ),
        "won",
    ),
    (
        re.compile(
            # Ending its clause: "said yes to the demo", "is a go for monday" say something else.
            r"\b(?:they\s+|we\s+)?(?P<stage>said\s+yes|is\s+a\s+go|in\s+the\s+bag|over\s+the\s+line)"
            r"(?=\s*(?:[,.;:!~)—–-]|$|(?:now|finally|at\s+last|and|so|because|since|as)\b))"
            # 签字 finished (签字了, 签好字, 已签字), never 签字要等, 等签字, 签字页, 签字版本.
            r"|(?<![没不别等要会将])(?P<s3>签字了|签好字了?|签完字了?|(?:已经?|刚刚?)签字(?![页版要的])|签单了|"
            r"签合同了|合同签了|合同签咗|签咗合同)"
        ),
        "won",
    ),
    (
        re.compile(
            r"\b(?:quote|proposal)\s+(?P<stage>went\s+out|is\s+out|has\s+gone\s+out|(?:was\s+)?sent)\b"
            r"|\b(?P<s2>sent\s+(?:them\s+|over\s+|out\s+)?(?:the|our|a)\s+(?:quote|proposal))\b"
            r"|(?P<s3>(?:报价|提案|方案)(?:单|书)?\s*(?:今天|已经?|刚刚?)?\s*(?:发|寄|send|交)\s*"
            r"(?:咗|了|过去了|出去了|出了|过去喇|出去喇))"
        ),
        "proposal",
    ),
    (
        re.compile(
            r"\bbudget\s+(?:is\s+|was\s+|has\s+been\s+)?(?P<stage>confirmed|approved|signed\s+off)\b"
            # Confirmed, said done: 确认了预算, 已确认有预算, never 要先确认有预算 (a plan).
            r"|(?<![没不未])(?P<s3>已经?确认(?:了|有)?预算|确认了预算|确认有预算了|"
            r"预算(?:已经?)?(?:确认|批)了|有预算了|预算有了|"
            r"budget\s*有(?:喇|了|啦))"
        ),
        "qualified",
    ),
    (
        re.compile(r"(?<![没不别])(?P<s3>开始(?:谈价|议价|倾价)|先(?:议价|谈价|倾价))"),
        "negotiation",
    ),
]
# A time or intent right before an outcome word: planned, not happened ("下周签约", "能签",
# "will sign", "should close").
FUTURE_BEFORE = re.compile(
    r"(?:下周|下个?月|明天|后天|月底|年底|明年|将|会|要|能|可以|预计|准备|打算|争取|有望)\s*$"
    # "预计本月初成交": expected, with when between (the stage word's window is 6 characters).
    r"|(?:预计|预期|计划|打算|争取|有望)[^，,。；;！!]{1,4}$"
    r"|\b(?:will|would|should|could|might|may|can|expect(?:s|ed)?\s+to)\s+(?:be\s+)?$"
)
# A stage only implied is weak evidence: these make it a remark, a plan or a doubt, not a move.
# A hedge in its clause before it: "nearly in the bag", "almost fell through", "need to get X
# over the line", "差点黄了", "估计凉了", "在等老板签字".
IMPLIED_HEDGE = re.compile(
    r"\b(?:almost|nearly|practically|need\s+to|needs\s+to|have\s+to|has\s+to|got\s+to|should|"
    r"hope|hopefully|probably|likely|might|may|could|would|unless|once|until|tempted|"
    r"think|reckon|guess|not\s+sure)\b"
    r"|差点|差一点|险些|估计|感觉|好像|应该|大概|也许|希望|(?<!等)等(?!等)|快要|就要|要先|才能"
)
# A stage told with a hedge right before it in its clause ("Mabuhay linen is basically won",
# "新濠坊白蚁检查应该快赢单了"): a guess or "almost", not news to record.
STAGE_HEDGE = re.compile(
    r"\b(?:basically|pretty\s+much|almost|nearly|practically|probably|likely|all\s+but|"
    # "seems to be won", "looks like won": how it appears, not news of the move.
    r"as\s+good\s+as|seems?|seemingly|looks?\s+like|apparently|i\s+think|i\s+guess)\b"
    r"|应该|應該|估计|估計|大概|好像|似乎|差不多|基本上?|(?<!很)(?:快要?|就快)"
)
# Between a field and its value: the value hedged or told as still so ("预计成交日好像还是十二月",
# "close date is still march i think"): a remark, nothing set.
VALUE_HEDGE = re.compile(
    r"好像|似乎|應該|应该|估计|估計|大概|还是|還是|仍然|依然"
    r"|\b(?:i\s+think|probably|seems?|looks\s+like|still|maybe|i\s+guess)\b"
)
# After it in its clause: a condition or a question ("dead in the water unless ...",
# "budget is confirmed?", "先议价再说吧").
IMPLIED_AFTER = re.compile(
    r"^[^,，.。;；!！]*?(?:[?？]|\b(?:unless|if|once|until)\b|吗|吧|再说|才能|之后|以后|的话)"
)
# What follows undoes it: "quote went out, but they want changes", "budget was approved last
# year but it's frozen now", "quote went out before the price rise, need to redo it".
IMPLIED_UNDONE = re.compile(
    r"\b(?:but|though|however|although|frozen|on\s+hold|paused|withdrawn|redo|revise|before)\b"
    r"|但|不过|可是|冻结|暂停|要改|重做|重新|改一下"
)
# An event of the deal called off is not the deal lost: "demo is off", "meeting is cancelled".
EVENT_CALLED_OFF = re.compile(
    r"\b(?:demo|meeting|call|kick-?off|session|visit|tasting|trip|lunch|dinner|"
    r"workshop|presentation|appointment|event|webinar|catch-?up|sync|trial)s?\b"
    r"[^,，.;；]{0,12}$"
)
# An outcome word right after a deal's name ("acme label printers lost - budget frozen",
# "falcon label printers - won it!!"): taken only when the deal is named before it.
BARE_OUTCOME = re.compile(
    r"(?<![a-z])(?<!\bthe\s)(?P<stage>won|lost|qualified)(?![a-z])"
    # "the won deals board", "on the won acme deal": a kind of deal, not this one's outcome.
    r"(?!\s+(?:deals?|board|list|column|pile|ones?|bucket|folder|report|pipeline)\b)"
)
LOST_REASON = re.compile(
    r"(?:\bbecause(?:\s+of)?|\bdue\s+to|\bover|\bon|\breason(?:\s+was)?[:：]?|\bcuz|\bbc|"
    r"因为|原因是?[:：]?|由于|[,，:：;；]|\s[-–—]\s)\s*"
    r"(?:it\s+was\s+|it's\s+|reason(?:\s+was)?\s*[:：]?\s*|原因是?\s*[:：]?\s*)?(?P<reason>[^.!?。！？]+)"
)

# A deal put in a forecast category: "put the X renewal into commit (for the forecast)", "mark
# X as best case in the forecast", "X 预测放到 commit", "请把 X 放到 best case", "X forecast 放
# commit".
# The category words, as `forecast #12 <category>` reads them.
FORECAST_CATEGORY = {
    "commit": "commit",
    "committed": "commit",
    "承诺": "commit",
    "best case": "best case",
    "best-case": "best case",
    "bestcase": "best case",
    "最佳": "best case",
    "乐观": "best case",
    "pipeline": "pipeline",
}
_FC_ALT = r"best[\s-]?case|committed|commit|pipeline|承诺|最佳|乐观"
# English (matched where the request or one of its clauses starts): a putting verb, then the
# category after in/into/on/as/to, ending its clause or followed by "(in/for) the forecast".
FORECAST_PUT = re.compile(
    r"\s*(?:(?:please|pls|plz|kindly)\s+)?"
    r"(?P<verb>put|move|mark|set|stick|slot|flag|bump|drop|chuck|bang|pop|call|tag|change)\b"
    r"(?P<deal>[^,，;；.!?]{2,80}?)\s+(?:in|into|on|as|to|under)\s+(?:the\s+)?"
    rf"(?P<cat>{_FC_ALT})(?:\s+(?:category|bucket))?"
    r"(?P<forecast>\s+(?:in|for|on)\s+(?:the\s+|our\s+|my\s+)?(?:forecast|fcst)\b)?"
    r"(?=\s*(?:please|pls|plz|thanks|thx|now|eh|[!.~,，]|$))"
)
# Chinese: 预测/forecast before the putting verb, or 把 ... 放到/放进/列为/改成 ... the category.
FORECAST_ZH = re.compile(
    r"(?P<forecast>预测|forecast)?\s*(?:请|帮我|麻烦)?\s*"
    r"(?P<verb>放到|放进|放入|放在|放去|放|摆到|摆|列为|列入|列到|改成|改为|改到|改做|设为|设成|调到|调成|标为|标成|归到|归入|入)"
    rf"\s*(?P<cat>{_FC_ALT})(?:\s*(?:情况|情形|类|类别|分类|档|那档))?"
    # "放 pipeline 就好", "放 commit 就得": the category, then "that will do".
    r"(?:\s*(?:就好|就行|就得|就可以|即可|就ok|就OK))?"
    r"(?=\s*(?:吧|啦|喇|嘞|哈|呀|啊|谢谢|thx|thanks|得唔得|好吗|好唔好|可以吗|[!！.。~,，?？]|$)"
    r"|(?P<spaced>\s+)[\u4e00-\u9fff])"
)
# The forecast named right by its category, in any word order and dialect: "forecast am as best
# case abeg" (Pidgin), "weka commit kwa forecast" (Sheng: put commit in the forecast), "Forecast
# the bed linen deal as commit", "forecast pipeline ok la". The deal is named elsewhere.
FORECAST_SAID = re.compile(
    r"(?:^|(?<=[\s,，:：;；.]))(?:(?P<verb>forecast|fcst)\b(?P<what>\s+(?:am|it|this|that|them|"
    r"the\s+[^,，;；.!?]{1,50}?))?\s*(?:as|to|in|into|under|=|:|->|→)?\s*"
    rf"(?P<cat>{_FC_ALT})\b"
    r"|(?:weka|put|tia|seti)\s+(?P<cat2>best[\s-]?case|commit|pipeline)\s+"
    r"(?:kwa|kwenye|for|in|on|into)\s+(?:the\s+)?(?P<verb2>forecast|fcst)\b)"
    r"(?=\s*(?:please|pls|plz|abeg|tafadhali|thanks|thx|ok|okay|la|lah|o|now|[!.~,，]|$))"
)
# No putting verb, the deal then the category and the forecast named: "X -> commit for the
# forecast", "X into best case in the forecast", "X best case in the forecast", "X → commit
# pour le forecast" (French and Portuguese chat say "pour le"/"no" for "for the"/"in the").
# The forecast must be named.
FORECAST_BARE = re.compile(
    r"\s*(?P<deal>[^,，;；.!?→]{2,80}?)\s*(?P<verb>→|->|=>|\binto\b|\bin\b|\bas\b|(?<=\S)\s)\s*(?:the\s+)?"
    rf"(?P<cat>{_FC_ALT})(?:\s+(?:category|bucket))?"
    r"(?P<forecast>\s+(?:in|for|on|pour|dans|para|no|na)\s+(?:the\s+|our\s+|my\s+|le\s+|la\s+|o\s+)?"
    r"(?:forecast|fcst)\b)"
    r"(?=\s*(?:there|please|pls|plz|thanks|thx|svp|merci|now|[!.~,，]|$))"
)
# Words that make the deal's part of a bare form a report of what happened, not a request:
# "we moved X into commit for the forecast", "X went into commit in the forecast".
FORECAST_BARE_TOLD = re.compile(
    r"\b(?:i|we|he|she|they|you|was|were|is|are|been|went|got|moved|put|has|have|had|already|"
    r"still|did|should|would|could|will|can|may|might)\b"
)
# The category in a clause of its own at the end, after the deal: "AV rig. Commit.", "Kauri staff
# conf. Best case.", "X, put it in best case", "X, put in commit only", "X - commit it". A bare
# "pipeline" is left out ("Acme. Pipeline." asks to see it), as is "committed" (told, not asked).
FORECAST_CLAUSE = re.compile(
    r"(?:[,，;；.。!！:：]|\s[-–—>→]+|\n)\s*"
    r"(?:(?:please|pls|plz|kindly|just)\s+)?"
    r"(?:(?P<verb>put|move|mark|set|slot|pop|stick|bump|drop|make)\s+"
    r"(?:(?:it|this|that|this\s+one|them)\s+)?(?:(?:in|into|as|to|under|on)\s+)?(?:the\s+)?"
    r"(?P<cat>best[\s-]?case|commit|pipeline)"
    r"|(?P<bare>best[\s-]?case|commit))"
    r"(?:\s+(?:it|this|that|category|bucket|only|please|pls|plz|thanks|thx|now|then))*"
    r"[\s.!。！~]*$"
)
# Said as done, or by someone else: "已经放到 commit 了", "Carol put it in commit".
FORECAST_DONE = re.compile(r"(?:已经?|早就|刚才?)\s*(?:把\S*\s*)?$")
# Before the putting verb, words that make it someone's words, a plan, an opinion or a request
# to another person: "老板说…", "你觉得…放 commit 吧", "下周再放 commit", "我会放进 commit",
# "请高磊把…放到 commit", "tomorrow, put X in commit".
FORECAST_NOT_NOW = re.compile(
    r"说|觉得|認為|认为|表示|提到|以为|下周|下星期|下礼拜|下个?月|明天|后天|听日|之后|以后|过两天|"
    r"打算|准备|想|会(?<=[我他她们你咱就也还应该可能将要都]会)|再|(?:请|叫|让|麻烦)(?!你|您|帮)[\u4e00-\u9fffa-z]{2,4}把"
    r"|\b(?:tomorrow|tonight|later|next\s+(?:week|month|quarter|time)|on\s+(?:mon|tue|wed|thu|fri)\w*"
    r"|said|says|told|asked|thinks?|wants?|will|going\s+to|gonna)\b"
)
# Writing down what happened ("log that I called ...", "记一下：今天拜访了 ...").
LOG_CUE = re.compile(
    r"(?:log|(?:quick\s+)?note(?:\s+(?:on|for|about|re))?|record|jot(?:\s+down)?|"
    r"write\s+(?:down|up)|add\s+a\s+note(?:\s+(?:on|for|to))?|put\s+down|fyi|"
    r"记一下|记录一下|记一笔|记下|记录|备注一下|备注|记个|记(?!得|住|性))"
    r"(?:\s+(?:that|this|down|it|a\s+note))?\s*(?:[:：,，-]\s*)?"
)
# The customer named first, then the cue and a colon: "华东物流 记个笔记：...", "Acme note: ...".
LOG_CUE_AFTER_NAME = re.compile(
    r"(?<=\S)\s*(?:记个笔记|记个备注|记一下|记录一下|记一笔|备注一下|\bnote|\blog)\s*[:：]\s*"
)
LOG_EVENT: list[tuple[re.Pattern[str], InteractionKind]] = [
    (
        re.compile(
            r"\b(?:called|calld|caled|callled|phoned|rang|spoke\s+(?:to|with)|spoke|"
            r"talked\s+(?:to|with)|"
            r"had\s+a\s+(?:call|phone\s+call)|got\s+off\s+the\s+phone|on\s+the\s+phone\s+with|"
            r"call\s+with|(?:quick\s+|phone\s+)?call\s+w/?(?=\s)|returned\s+\w+(?:'s)?\s+call|"
            r"gave\s+(?:\w+\s+){1,3}a\s+(?:call|ring)|rung)\b"
            # Irish "I'm after ringing X" (just rang); Portuguese, French and Spanish reps:
            # liguei (pra), falei com, j'ai appelé, téléphoné à, llamé a, hablé con.
            r"|\b(?:(?:i'?m|i\s+am|just)\s+after\s+(?:ringing|calling|phoning)|liguei|falei\s+com|"
            r"j'ai\s+appel[ée]|appel[ée]\s+(?!par\b)|t[ée]l[ée]phon[ée]\s+[àa]|llam[ée]\s+a|"
            r"habl[ée]\s+con)(?![\w'])"
            r"|打了?个?电话|通了?个?电话|通完电话|电话沟通|电话聊|来电|电话里|打给|打过去|通话|"
            # Hong Kong and Taiwan: 打咗/打过电话 (made a call), 打来说 (called to say), 致电, 回电.
            r"打[咗过]电话|打来|致电|回电|倾咗电话|倾完电话|打畀"
            # Mixed: "今天call了高明", "call咗陈生".
            r"|(?<![a-z])call(?:了|咗|过)"
            # "同梁小姐 call 完" (a call finished), Hokkien "今仔日电话讲" (said on the phone).
            r"|(?<![a-z])call\s?完|(?<=[\u4e00-\u9fff])电话(?:讲|说)(?=[\u4e00-\u9fff])"
            # Swahili "nilipiga simu" (I called), romanised Cantonese "call jo" (call咗).
            r"|\b(?:nilipiga|tulipiga|nimepiga|tumepiga)\s+simu\b|(?<![a-z])call\s?(?:jo|joh|zo)\b"
            # "跟赵敏电话" (a call with a person, said with no verb), never a phone number asked.
            # Not a conference call moved (电话会议) nor one that did not go through (打不通).
            r"|(?:跟|同|和)\s?(?:[^\s，,。；;！!？?a-z]{1,6}?|[a-z]+(?:\s[a-z]+)?)\s?电话"
            r"(?![号码里会])(?!\s*(?:打不通|没打通|没人接|没接|不接|占线|接不通))"
        ),
        InteractionKind.call,
    ),
    (
        re.compile(
            r"\b(?:met\s+with|met|had\s+a\s+meeting|meeting\s+with|sat\s+down\s+with|"
            r"demo(?:ed)?\s+(?:to|for|with)|video\s+(?:call|chat|meeting)|zoom(?:\s+call)?|"
            r"(?:had\s+)?(?:lunch|dinner|breakfast|coffee|drinks)\s+w(?:ith\b|/)|"
            r"(?:teams|zoom|webex|google\s+meet|video|online)\s+(?:call|meeting)|"
            r"(?:had\s+a\s+)?sit-?\s?down\s+w(?:ith\b|/)|sat\s+down\s+w(?:ith\b|/))\b"
            r"|开了?会|开了个会|开咗个会|见了|见面|会议|开会|视频会|吃饭|吃了个?饭|午饭|午餐|晚饭|晚餐|喝咖啡"
            # Taglish: "nag-meeting kami ni ...".
            r"|\bnag-?(?:meeting|meet)\b|\bnakipag-?meeting\b"
            # 视讯 (Taiwan: video call), 见咗 / 开咗会 / 食咗饭 / 饮茶 (Cantonese).
            r"|视讯|视像|视频通话|见咗|见过|开咗会|食咗?饭|饮咗?茶|会面"
            # "跟王磊碰了个头", "碰咗面": met.
            r"|碰了个?头|碰个头|碰头|碰了?面|碰咗面"
        ),
        InteractionKind.meeting,
    ),
    (
        re.compile(
            r"\b(?:visited|visted|visitted|dropped\s+by|stopped\s+by|went\s+to\s+see|site\s+visit|"
            r"on\s+site\s+at|swung\s+by|popped\s+(?:in|by|into|over|out\s+to)|"
            # "went for UoC visit", "went for a site visit at X".
            r"went\s+for\s+(?:an?\s+|the\s+)?(?:[\w'’-]+\s+){0,3}visit|"
            # Taglish: "kakagaling ko lang sa ..." (just came from).
            r"(?:kakagaling|kagagaling|galing)\s+(?:ko|kami|ako)\b)\b"
            # visitei / visitamos (Portuguese), j'ai visité, "visite (ici) at/chez X" (French).
            r"|\b(?:visitei|visitamos|visit[ée]|visite\s+(?:\w+\s+)?(?:chez|at|à|a)\b)(?![\w'])"
            r"|拜访|走访|(?<![过出回进上下无])去了|上门|探访|到访|(?<![过出回进上下])去咗"
            # A past day, then 去 and the place ("昨日去潮阳人医", "昨天去港都醫院"; not Cantonese
            # 琴日去, which tells stories as often as visits); romanised
            # Cantonese "heoi jo" (去咗).
            # (A meeting said after it is the meeting's: "前天去精準製藥開會".)
            r"|(?:昨天|昨日|前天)\s*去(?![了咗过看想要])"
            r"(?![^，,。;；\s]{0,12}(?:开会|开咗会|见面|吃饭|食饭|饮茶))"
            # Pidgin "I enter Eko Towers yesterday", "I waka go X".
            r"|\bi\s+(?:enter|waka\s+go|reach)\b"
            r"|\b(?:heoi|hui)\s?(?:jo|joh|zo)\b"
            # 场勘 / 勘场 (Taiwan: a site survey).
            r"|场勘|勘场"
            # "去锦城酒店转了一圈", "去咗维港湾行咗一转": went round their place.
            r"|去[^\s，,。；;！!？?]{2,12}?(?:转了一圈|转一圈|转了转|走了一趟|跑了一趟|行咗一转|行咗个圈)"
            # "刚从白鸽烘焙坊出来", "啱啱由海景出嚟": just out of their place.
            r"|(?:刚刚?|啱啱|头先)(?:从|由)[^\s，,。；;！!？?]{2,12}?(?:出来|出嚟)"
        ),
        InteractionKind.visit,
    ),
    (
        re.compile(
            r"\b(?:emailed|e-mailed|emaild|emalied|mailed|sent\s+(?:an?\s+)?e-?mail|email\s+from|"
            r"fwd'?d|forwarded|(?:by|via)\s+e-?mail)\b|发了?邮件|邮件|寄了?信|发了?信"
            # 电邮 (Hong Kong: e-mail), 覆咗 email (Cantonese: replied by e-mail).
            r"|电邮|覆咗?\s*e-?mail"
            # "email to farah just now", "寄email来说", "Email 咗份报价俾 Angela".
            # "email to" with when it went ("... keeps bouncing" is no e-mail sent); "email 咗未"
            # asks whether it was.
            r"|\be-?mail\s+to\b(?=[^,.;!?]*\b(?:just\s+now|today|yesterday|this\s+morning|"
            r"this\s+afternoon|earlier|last\s+\w+|sent|went\s+out)\b)"
            r"|寄\s?e-?mail|(?<![a-z])e-?mail\s?咗(?!\s*(?:未|吗|么|没|\?|？))"
        ),
        InteractionKind.email,
    ),
    (
        re.compile(
            r"\b(?:texted|messaged|pinged|chatted\s+(?:with|w/?)|whatsapp(?:ed)?|wechat(?:ed)?|slacked|"
            r"(?:teams|slack|line|telegram|signal)\s+(?:chat|message|msg)|chat\s+w(?:ith\b|/)|"
            r"dm'?e?d|sms(?:ed)?|viber(?:ed)?|nag-?(?:chat|text|message)|nakipag-?chat)\b"
            r"|微信|聊了|聊天|短信|讯息|私讯|倾咗|倾偈|line\s*(?:了|上|讯息)"
            # "昨天晚上LINE郭经理", "琴日 WhatsApp 陈生": the app, then the person in characters.
            r"|(?<![a-z])(?:line|whatsapp|wechat)\s?(?=[\u4e00-\u9fff])(?!群|组|羣)"
        ),
        InteractionKind.chat,
    ),
]

# Before an event word in its clause, a time to come or a note to self: "明天跟联创电话",
# "聽日打畀陳生", "記得 WhatsApp 陳生", "remember to call ...": a plan (a reminder), not a note.
LOG_NOT_YET = re.compile(
    r"明天|明日|听日|后天|下周|下星期|下礼拜|下个?月|今晚|等阵|稍后|待会|记得|别忘了|要|准备|打算|"
    r"\b(?:tomorrow|tmrw|tonight|next\s+(?:week|month|mon|tue|wed|thu|fri)\w*|later|remember\s+to|"
    r"don'?t\s+forget\s+to|need\s+to|have\s+to|going\s+to|gonna|will)\b"
)
# After an event word in its clause, the event moved or called off: "电话会议改到周五".
LOG_CHANGED = re.compile(
    r"改到|改期|改成|推迟|延期|延后|取消|\b(?:rescheduled|postponed|moved\s+to|cancell?ed|pushed)\b"
)
# Words that put a person in the meeting, call or message ("met Rahul", "跟高磊", "w/ Karen").
WITH_BEFORE = re.compile(
    r"(?:\bwith|\bw/|\bw|\bmet(?:\s+with)?|\bspoke\s+(?:to|with)|\btalked\s+(?:to|with)|\bcalled|"
    r"\bemailed|\bvisited|\bsaw|\bphoned|\bpinged|\btexted|打给|拜访了?|约了)\s*$"
    # "跟永盛马总开了会": the customer's short name may stand between 跟 and the person.
    r"|(?:跟|和|与|见了|见|给)\s*[\u4e00-\u9fff]{0,6}\s*$"
)
# Words after a person that make them the one spoken with ("Mateo says ...", "何霞说").
SAID_AFTER = re.compile(
    r"\s*(?:says|said|told\s+(?:me|us)|mentioned|confirmed|asked|replied|说|表示|提到|告诉|确认)"
)
REMIND_CUE = re.compile(
    r"\b(?:remind\s+(?P<who>me|myself|@?[a-z][\w.-]*)|set\s+(?:up\s+)?a\s+reminder|"
    r"reminder\s*(?:to|:|for)|don'?t\s+let\s+me\s+forget(?:\s+to)?|ping\s+me)\b"
    r"|提醒(?P<zh>我|一下)(?!的)|(?:设|建|加|定|设置)个提醒|别让我忘了"
    # Someone else: "提醒 alice 12/18 前...", "提醒王伟周三前...", "叫王伟明天...", "让 carol
    # 周五前...", "carol needs a nudge tomorrow", "ping priya tomorrow about ..." (a colleague,
    # else a reminder to ping that person).
    r"|(?:提醒|(?<![\u4e00-\u9fff])[叫让])\s*@?(?P<zwho>[a-z][\w.-]*|[\u4e00-\u9fff]{2,3}?)"
    r"(?=\s*(?:\d|明天|后天|下周|下星期|下礼拜|周|星期|礼拜|今天|今晚|月底|下个?月|这周|本周))"
    r"|\bping\s+@?(?P<ping>[a-z][\w.-]*)(?=\s+(?:tmrw|tomorrow|today|tonight|this|next|on\s|by\s|"
    r"before\s|in\s+\d|at\s+\d|mon|tue|wed|thu|fri|sat|sun|\d))"
    r"|\b(?P<nudge>[a-z][\w.-]*)\s+needs\s+(?:a\s+)?(?:nudge|reminder|ping)\b"
)

NEW_DEAL_CUE = re.compile(
    r"\b(?:new\s+(?:deal|opp|opportunity)|(?:create|creating|open|opening|add|adding|start|log|"
    r"set\s+up|make)\s+"
    r"(?:a\s+|an\s+|new\s+)*(?:deal|opp|opportunity))\b"
    r"|(?:建|新建|创建|开|加|添加|新增|录|录入)(?:一)?个?(?:新)?商机|新商机|新\s*(?:deal|opp)\b"
    # "开个新单子", "開新案", "新开一个单": a new order or case is a new deal (开单 alone is
    # writing up an order, not one).
    r"|开(?:一)?个?新的?(?:单子|单|案子|案)|新开(?:一)?个?(?:单子|单|案子|案)"
    # "nova oportunidade", "nouvelle opportunité", "nuevo negocio", "novo negócio".
    r"|\b(?:nova|novo|nouvelle|nouveau|nueva|nuevo)\s+(?:oportunidade|opportunit[ée]|oportunidad|"
    r"negócio|negocio|deal)\b"
)
NEW_CUSTOMER_CUE = re.compile(
    r"\b(?:new\s+(?:customer|client|account)|(?:create|add|set\s+up|open|make)\s+(?:a\s+|an\s+|new\s+)*"
    r"(?:customer|client|account))\b"
    r"|(?:建|新建|创建|加|添加|新增|录入)(?:一)?个?(?:新)?客户|新客户"
)
# A new customer's listed parts: "owner dave", "tag new-logo", "负责人 wei", "标签 vip".
CUSTOMER_PART = re.compile(
    r"(?P<key>owner|owned\s+by|give\s+it\s+to|assign(?:ed)?\s+to|rep|tags?|tagged|industry|city|负责人|负责|"
    r"归属|归|交给|给|标签|行业|城市)(?![a-z])\s*[:：]?\s*"
)
CUSTOMER_PART_KEYS = {
    "owner": "owner", "owned by": "owner", "rep": "owner", "负责人": "owner", "负责": "owner",
    "归属": "owner", "归": "owner", "给": "owner", "give it to": "owner", "assign to": "owner",
    "assigned to": "owner", "交给": "owner", "tag": "tags", "tags": "tags", "tagged": "tags",
    "标签": "tags",
    "industry": "industry", "行业": "industry", "city": "city", "城市": "city",
}  # fmt: skip
# Industry words people type (English, Chinese) -> the English name a book keeps.
INDUSTRY_WORDS = {
    **dict.fromkeys(("logistics", "物流", "物流业", "物流行业", "运输", "运输业"), "Logistics"),
    **dict.fromkeys(("manufacturing", "制造", "制造业", "制造行业"), "Manufacturing"),
    **dict.fromkeys(("healthcare", "health care", "medical", "医疗", "医疗业", "医药", "医疗健康"),
                    "Healthcare"),
    **dict.fromkeys(("food & beverage", "food and beverage", "food & bev", "food&bev", "f&b",
                     "食品", "餐饮", "食品饮料", "餐饮业"), "Food & Beverage"),
    **dict.fromkeys(("retail", "零售", "零售业"), "Retail"),
    **dict.fromkeys(("technology", "tech", "科技", "技术", "信息技术"), "Technology"),
    **dict.fromkeys(("construction", "建筑", "建筑业", "建设"), "Construction"),
    **dict.fromkeys(("energy", "能源", "能源业"), "Energy"),
    **dict.fromkeys(("agriculture", "农业"), "Agriculture"),
    **dict.fromkeys(("wholesale", "批发", "批发业"), "Wholesale"),
}  # fmt: skip
# A new-customer line listing its parts by commas ("new customer X, logistics, Rotterdam"):
# read as a sentence before the grammar takes the whole line as the name.
# A line using the grammar's keywords ("new customer Acme city Chicago tags fleet, west",
# "新客户 华东物流，行业：物流") is the grammar's.
LISTED_CUSTOMER = re.compile(
    r"^(?!.*(?:\b(?:industry|city|owner|tags?)|行业|城市|负责人|标签)\s*[:：])\s*(?:new\s+customer|add\s+(?:a\s+)?customer|新客户|新建客户|新增客户|加个客户)\s*[:：]?\s*"
    r"(?:(?!\b(?:industry|city|owner|tags?)\b|行业|城市|负责人|标签)[^,，])+[,，]"
)
CONTACT_CUE = re.compile(
    r"\b(?:new\s+contact|add\s+(?:a\s+)?(?:new\s+)?contact|as\s+a\s+(?:new\s+)?contact|"
    r"add\s+.{1,40}?\s+(?:to|at)\s+.{1,40}?\s+as\s+(?:a\s+)?contact)\b"
    r"|(?:添加|新增|加)(?:一)?[个位名]?(?:新)?(?:联系人|联络人)|新(?:联系人|联络人)"
)
# "add Lukas Brandt to jetstream", "highland pharma — add Omar Haddad, CFO" (on the text: the
# capitals say it is a name).
ADD_PERSON = re.compile(
    r"\b(?:add|Add)\s+(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,2})\s*(?:[,，]|\s+(?:to|at|as)\b)"
)
# A deal's amount or close day being set: the field's word, or a verb and "to / at / ->"
# right before the amount ("put X at 30k", "X -> 185k", "金额改成9万", "填30万").
# 报价 (the quote) is the amount only when it is set: "报价改成28万", never "报价单" or "报价发了".
AMOUNT_WORD = re.compile(
    r"\b(?:amount|value|worth|deal\s+size|price)\b|金额|价格|价钱|报价金额"
    r"|报价(?=\s*(?:改成|改为|改到|改做|调到|调成|调整为|更新为|变成|提高到|降到|涨到))"
)
# Before an amount, words that make it no setting of ours: refused ("报价不能改成28万"), someone
# else's words or quote ("高磊说…", "对方报价降到28万").
AMOUNT_NOT_SET = re.compile(
    r"不能|不可以|不会|不要|别|没法|无法|唔可以|唔能够|说|讲|表示|提到|"
    r"(?:对方|他们|客户|竞争对手|竞品|对手|供应商)的?(?:报价|金额|价格|出价)"
    r"|\b(?:can'?t|cannot|won'?t|said|says|told|they\s+quoted|they\s+offered)\b"
)
# After an amount, a condition: "改成28万就签", "28万的话", "at 50k if they sign".
AMOUNT_IF_AFTER = re.compile(
    r"\s*(?:元|块|rmb|usd)?\s*(?:就签|就能签|就会签|才签|才会签|就成交|的话|就可以签|\bif\b|\band\s+they'?ll\b)"
)
AMOUNT_SET = re.compile(
    r"(?:\b(?:to|at|now|actually|now\s+at|is\s+at|is|it'?s)|->|=>|→|=|:|改成|改为|改到|改|调到|调成|"
    r"调整为|调整到|填|更新为|变成|提高到|降到|涨到|改做|改咗做|改去)\s*(?:~|about|around|roughly)?\s*$"
)
SET_WORD = re.compile(r"\b(?:to|now|change|update|set)\b|改|调|填")
CLOSE_WORD = re.compile(
    r"\b(?:close\s+date|closing\s+date|expected\s+close|close|closes|closing|slips?|slipped|"
    r"pushed\s+out|pushed\s+back)\b|结单|结案|成交日期|成交时间|结单日期|签约日期|预计成交"
    # 预计签约(日), 签约日, 签约时间: when it is expected to be signed.
    r"|预计签约日?|签约日|签约时间|预计签单|(?<=[底末号日初中旬])\s*签(?![了咗过])"
    # Taiwan / Hong Kong: 關閉日期 (close date), 結案日.
    r"|关闭日期|预计关闭|关闭日|结案日|截止日期"
)
REASSIGN_CUE = re.compile(
    r"\b(?:re-?ass?ign|transfer|hand(?:\s+over)?|give|assign|move)\b.+?(?:\bto\s+|给\s*)@?"
    r"(?P<who>[a-z][\w.-]*)"
    # Cantonese gives with 畀 / 俾 ("转畀佳慧跟").
    r"|(?:转|交|分|转交)(?:给|畀|俾)\s*@?(?P<zh>我|[\w.-]+)"
    # "X 的负责人改成 erin", "X 给 alice 接手".
    r"|(?:负责人|所有人|owner)\s*(?:改成|改为|换成|换为|改到|设为|是)\s*@?(?P<zh2>我|[a-z][\w.-]*)"
    r"|给\s*@?(?P<zh3>[a-z][\w.-]*)\s*(?:接手|接管|来管)"
    # The customer alone, then to whom: "clark imports 給 alice 吧", "stonegate → carol",
    # "Williams Fuels -> me for now" (taken only when nothing but the name stands before).
    r"|(?:给|归|转)\s*@?(?P<zh4>我|[a-z][\w.-]*)\s*(?:吧|啦|了|跟进|负责|管)?\s*[!！。.]*$"
    # Nothing but an end after the name: "acme -> carol called about the invoice" hands nothing.
    r"|(?:->|→|=>)\s*@?(?P<arrow>me|[a-z][\w.-]*)\b(?=\s*(?:for\s+now|吧)?(?:\s*,?\s*with\s+(?:its\s+|their\s+|the\s+)?deals)?\s*[.!。！]*$)"
)
# A link code for someone: "need a telegram link code for carol", "给王伟生成一个绑定码".
LINK_CODE_CUE = re.compile(r"\blink(?:ing)?\s+code\b|绑定码|链接码")
# A deal's owner changed: "make carol the owner of the acme erp deal", "make me the owner",
# "这单先交给 carol 跟", "改成 bob 负责".
DEAL_OWNER_CUE = re.compile(
    r"\bmake\s+(?P<who>me|myself|@?[a-z][\w.-]*)\s+(?:the\s+)?(?:deal\s+)?owner\b"
    r"|\b(?:owner|owned\s+by)\s*(?:to|is|=|->|→|:)?\s*@?(?P<who2>[a-z][\w.-]*)\s*[.!]*$"
    r"|(?:交给|转给|转交给|给|改成|改为|换成|换给)\s*@?(?P<zh>我|[a-z][\w.-]*|[\u4e00-\u9fff]{1,3}?)\s*"
    r"(?:来)?(?:跟进|跟|负责|接手|管)"
)
DONE_CUE = re.compile(
    r"\b(?:done\s+with|finished|completed|mark(?:ed)?|tick\s+off|check\s+off)\b.*?#\s*(?P<id>\d+)"
    r"|#\s*(?P<id2>\d+)\s+(?:is\s+)?(?:done|finished|completed)\b(?!\s*(?:or\b|yet\b|[?？]))"
    r"|完成了?\s*#?\s*(?P<id3>\d+)"
)

# Reads: each pattern -> the verb it asks for.
READ_CUES: list[tuple[re.Pattern[str], str]] = [
    # A chart of a report ("funnel chart by region", "按季度的赢单率图").
    (
        re.compile(
            r"\bchart\b|\bgraph\b|\bplot\b|图表|(?:赢单率|漏斗|预测)(?:的)?(?:趋势)?图|画(?:个|一张)?图"
        ),
        "chart",
    ),
    # Reports the other verbs do not name: activity, cycle time, a report "in USD".
    (
        re.compile(
            r"\bactivity\s+report\b|\breport\b.*\bactivity\b|\blogged\s+the\s+most\b|"
            r"\bmost\s+activity\b|\b(?:how\s+long|cycle\s+time|sales\s+cycle)\b.*\b(?:close|closing|cycle)\b|"
            r"\bcycle\s+time\b|\bactivity\s+(?:by|per|this|last|for)\b|"
            r"活动报表|活动报告|活动量|谁.{0,6}(?:记录|记)得?最多|销售周期|成交周期"
            r"|\bwin[\s-]*rate\s+report\b|\breport\b.*\bwin[\s-]*rate\b|赢单率报表"
        ),
        "report",
    ),
    # "my close rate", "how many have i won vs lost".
    (
        re.compile(
            r"\bwin[\s-]*rate\b|\bwin\s+ratio\b|赢单率|胜率|赢得最多|\bclos(?:e|ing)\s+rate\b"
            r"|\bwon\s+(?:vs\.?|versus|and|or)\s+lost\b"
        ),
        "win rate",
    ),
    (re.compile(r"\bforecast\b|预测"), "forecast"),
    (re.compile(r"\bfunnel\b|漏斗"), "funnel"),
    (
        re.compile(
            r"\bpipeline\b|\bpipe\b|管道|销售管道"
            # "how much have i got open all up", "团队各阶段商机汇总".
            r"|\bhow\s+much\s+(?:have\s+)?(?:i|we)\s+(?:got\s+)?open\b|各阶段(?:的)?商机"
        ),
        "pipeline",
    ),
    (
        re.compile(
            r"\breminders\b|\bto-?do(?:s|\s+list)?\b|\bwhat'?s\s+due\b|提醒列表|我的提醒|待办"
            r"|^我(?:还)?有(?:哪些|什么|啥)提醒"
            # "我有咩提醒未做", "我本月的提醒 有啥", "有什么要追的提醒", "anything i need to chase
            # this week?", "what i need to follow up ah, list me".
            r"|我(?:还)?有(?:咩|乜嘢?|边啲)提醒|我(?:本月|这个?月|这周|今天|明天)的?提醒"
            r"|要追的提醒|\b(?:anything|what)\s+(?:do\s+)?i\s+(?:need|have)\s+to\s+"
            r"(?:chase|follow[\s-]?up)\b"
        ),
        "reminders",
    ),
    # "仁爱嘅deals", "X有哪些单子在跟", "X有哪些案子", Taglish "ano pa open sa X".
    (
        re.compile(
            r"(?<![a-z])(?:deals|opps|opportunities)(?![a-z])|商机"
            r"|有(?:哪些|什么|啥子?|咩|边啲|几个|几多)(?:单子?|案子|生意)|\bano\s+(?:pa\s+)?(?:ang\s+)?open\b"
        ),
        "deals",
    ),
    (
        re.compile(
            r"\b(?:price\s*list|products|pricing\s+list)\b|价格表|价目表|产品列表"
            r"|^how\s+much\s+(?:is|are|does)\s+our\b"
            # "what do we charge for the decaf", "how much per kg", "冷萃桶装现在什么价".
            r"|\bwhat\s+do\s+we\s+charge\b|\bhow\s+much\s+per\s+(?:kg|bag|unit|box|case)\b"
            r"|(?:现在|而家)?(?:什么|咩|乜)价(?:钱|格)?\s*[?？]?$|报价单上的\S{0,6}价格"
        ),
        "products",
    ),
    (
        re.compile(
            r"\bwho\s+am\s+i\b|我是谁|我(?:现在)?是(?:什么|啥)角色|我的角色|(?:哪个|什么)(?:账号|帐号|帐户|账户)"
        ),
        "whoami",
    ),
    (re.compile(r"\b(?:duplicates|dupes|duplicate\s+customers)\b|查重|重复的?客户"), "duplicates"),
    (
        re.compile(
            r"\b(?:history|who\s+changed|what\s+changed|everything\s+that\s+changed|changelog|"
            r"who\s+(?:edited|touched|updated))\b|变更历史|变更记录|修改记录|历史|谁(?:改过|动过|改了|修改过|更新过)"
            # "X都改过些啥子", "X最近有什么变更", "睇下X改过啲乜".
            r"|改过(?:些|啲|了)?(?:啥子?|什么|乜嘢?|咩)|有(?:什么|啥子?|咩|乜)(?:变更|改动|更改|修改)"
        ),
        "history",
    ),
    (
        re.compile(
            r"\bdigest\b|\bwhat'?s\s+on\s+(?:my\s+plate|today)\b|\bmy\s+day\b|"
            r"\bwhat\s+do\s+i\s+have\s+today\b|摘要|日报|今天有什么"
        ),
        "digest",
    ),
    (
        re.compile(
            r"\b(?:my\s+customers|my\s+accounts|my\s+clients|list\s+(?:of\s+)?customers|"
            r"all\s+customers)\b|客户列表|(?:所有|全部)客户"
            r"|我(?:的)?(?:所有|全部)?(?:的)?客户"
        ),
        "customers",
    ),
]
# Words after a read's own name that only ask to see it ("销售漏斗给我瞅瞅", "管道看下").
SHOW_ONLY = re.compile(
    r"^(?:[\s,，.。!！?？~～]|给我|帮我|发我|瞅瞅|瞅一瞅|瞅一下|瞧瞧|看下|看一下|看看|来一下|来个|一下|"
    r"吧|呗|呀|啊|谢谢|\b(?:show\s+me|let\s+me\s+see)\b)+$"
)
SHOW_CUE = re.compile(
    r"\b(?:show|pull\s+up|open|look\s+up|lookup|tell\s+me\s+about|what\s+about|info\s+on|"
    r"details\s+(?:on|for|of)|card|overview|status\s+of|how'?s|how\s+is|what'?s\s+up\s+with|"
    r"give\s+me|let\s+me\s+see|check\s+on)\b"
    r"|查一下|查查|看看|看一下|查看|打开|显示|情况|怎么样|资料|信息"
)
# Questions the customer's card answers (latest news, owner, contacts, last touch), not
# a search of the notes: "what's the latest with X", "who owns X", "X 最近有什么进展".
STATUS_CUE = re.compile(
    r"\b(?:latest|going\s+on|status|tracking|who\s+owns|owner|who\s+is|who'?s\s+the\s+\w+(?:\s+\w+)?\s+(?:at|for)|"
    r"contacts?\s+(?:at|for)|last\s+(?:talk|talked|spoke|contact|touch)|update)\b"
    r"|最近有(?:什么|啥)|进展|近况|谁负责|负责人|联系人是谁"
)
# Questions a deal's card answers, when the sentence names one of the customer's deals.
DEAL_READ_CUE = re.compile(
    r"\b(?:status|stage|what\s+happened|where\s+are\s+we|details?)\b|阶段|详情|进展|什么\s*stage"
)
CONTACT_FIELD_CUE = re.compile(
    r"\b(?:number|phone|mobile|cell|email|e-mail|contact\s+info|title)\b|电话|手机|邮箱|号码|职位"
)
# "who's Lisa King again", "who is Aisha Perez", "Kathleen 是干嘛的": who a person is.
WHO_IS = re.compile(
    r"^\s*(?:who'?s|who\s+is|who\s+was)\b|是(?:干嘛|做什么|干什么)的|是谁|(?:什么|啥)职位"
    r"|是哪(?:家|个公司|间)(?:公司)?的"
)
PERIOD = re.compile(
    r"\b(?:this|last|next)\s+(?:quarter|qtr|month|year|week)\b|\b(?:19|20)\d\d(?:-q[1-4])?\b|"
    r"\bq[1-4](?:\s+(?:19|20)\d\d)?\b|本季度|这个季度|本季|这季|上季度|上个季度|本月|这个月|上个?月|今年|去年"
)
PERIOD_WORDS = {
    "this qtr": "this quarter",
    "last qtr": "last quarter",
    "next qtr": "next quarter",
    "本季度": "this quarter",
    "这个季度": "this quarter",
    "本季": "this quarter",
    "这季": "this quarter",
    "上个季度": "last quarter",
    "这个月": "this month",
    "上季度": "last quarter",
    "本月": "this month",
    "上月": "last month",
    "上个月": "last month",
    "今年": "this year",
    "去年": "last year",
}
BY = re.compile(
    r"\b(?:by|per|for\s+each|each)\s+(?P<by>rep|team|manager|region|product|industry|month|quarter)s?\b"
    r"|按(?P<zh>团队|月份|月|季度|销售|产品|行业|地区|区域)"
    r"|(?P<zh2>哪个行业|各行业|每个行业|各团队|每个团队|各地区|各区域|各产品|每个产品|各业务|各销售"
    r"|每个销售|所有人|每个人|大家)"
)
# A report per person said without "by": "everyone's win rate", "who on the team logged the
# most", "我们 team 的 activity".
BY_REP = re.compile(
    r"\b(?:everyone'?s?|every\s+rep|all\s+reps|each\s+rep|who\s+on\s+the\s+team|the\s+team'?s|"
    r"our\s+team'?s?|(?:my|our)\s+reps)\b|我们\s*team|团队的|我们团队"
)
BY_ZH = {
    "地区": "region",
    "区域": "region",
    "各团队": "team",
    "每个团队": "team",
    "各地区": "region",
    "各区域": "region",
    "各产品": "product",
    "每个产品": "product",
    "各业务": "rep",
    "各销售": "rep",
    "每个销售": "rep",
    "所有人": "rep",
    "每个人": "rep",
    "大家": "rep",
    "月份": "month",
    "哪个行业": "industry",
    "各行业": "industry",
    "每个行业": "industry",
    "团队": "team",
    "月": "month",
    "季度": "quarter",
    "销售": "rep",
    "产品": "product",
    "行业": "industry",
}

# Words of a sentence rather than of a grammar line: a line the grammar refused is read
# loosely only when it has some ("move acme to negotiation please", "new deal for Acme ...").
SENTENCE_WORDS = re.compile(
    r"\b(?:please|pls|plz|thanks|thx|ty|asap|thank\s+you|for|that|the|my|our|i|i'm|we|he|"
    r"she|they|it|this|can|could|would|just|is|are|was|were|has|been)\b|->|=>|→"
    r"|请|帮我|一下|吧|了|今天|刚"
)

# Courtesy anywhere in a line: such a line is read as a sentence before the grammar tries it
# (the grammar would look for a deal called "the acme deal ... please" first).
COURTESY = re.compile(
    r"\b(?:please|pls|plz|thanks|thx|asap|can\s+you|could\s+you|would\s+you)\b"
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF]|请|帮我|麻烦"
)

# "David Taylor's new phone is ...", "update Ryan's email to ...", "把何霞的电话改成 ...".
CONTACT_FIELD = re.compile(
    r"\b(?P<field>phone(?:\s+number)?|number|mobile|cell|e-?mail(?:\s+address)?|title|role|"
    r"job\s+title|position)\b"
    r"(?:\s+(?:is\s+now|is|to|now|changed\s+to|should\s+be|=)(?![a-z])"
    # Cantonese and spoken Chinese: 改咗 / 改做 / 换咗 (changed to), 係 (is).
    r"|\s*(?:[:：]|是|为|改成|改为|换成|改咗做|改咗|改做|改了|换咗|换了|系|係))"
    r"\s*(?P<value>.+?)\s*[.!]*$"
    # 信箱 / 电邮 (Taiwan, Hong Kong: email), "的信箱改 x@y" (改 alone, before the value).
    r"|(?P<zfield>电话|手机|邮箱|信箱|电邮|职位|职务|职称)(?:号码)?\s*"
    r"(?:改成|改为|换成|更新为|变成|改咗做|改咗|改做|换咗|是|系|係|：|:|改(?=\s))\s*(?P<zvalue>.+?)\s*$"
)
# News of a changed address or number ("has a new email", "新号", "换了手机号码").
NEWS_WORD = re.compile(
    # Tagalog "bagong" (new): "bagong number ni Joy".
    r"\b(?:new|changed|updated|now|switched|moved\s+to|bagong)\b|换了|换成|改成|改为|新号|新的|更新"
    # Swahili "mpya" (new): "email mpya ni ..."; "换手机了" / "换咗电话" (changed the phone).
    r"|\bmpya\b|换(?:手机|电话|号码?|邮箱|信箱)了|换咗(?:手机|电话|号码?|邮箱|信箱)?"
)
# The field's word right before the value ("Kenji Roberts's mobile +61 ...", "林涛手机号 +86 ..."):
# the sentence gives the person's number (a question about it holds no number).
FIELD_BEFORE = re.compile(
    r"(?:\b(?:mobile|phone|cell|number|whatsapp|e-?mail|email\s+address)\b|手机号?码?|电话(?:号码)?|号码|邮箱)"
    r"\s*(?:is|:|：|是|为)?\s*$"
)
# "Jennifer Gonzalez ... is CIO now", "is now Director of Procurement", "职称改成 VP Procurement",
# "现在是董事长，改一下职位".
# Words that make a phrase a job title ("head of legal", "CIO", "chief digital officer").
_TITLE_WORD = (
    r"(?:head|director|vp|chief|manager|lead|officer|president|chair\w*|partner|founder|"
    r"c[a-z]o|evp|svp|gm|engineer|buyer|controller|counsel|coordinator|specialist|analyst)"
)
TITLE_NEWS = re.compile(
    r"\bis\s+(?:now\s+)?(?:the\s+|our\s+|their\s+)?(?P<value>(?:[a-z]{2,5}|(?:head|director|vp|chief|"
    r"manager|lead)\b[a-z &-]*?))\s+now\s*[.!]*$"
    r"|\bis\s+now\s+(?:the\s+|our\s+|their\s+)?(?P<nvalue>[a-z][a-z &-]{1,60}?)"
    r"(?:\s+(?:at|@)\s+[a-z][\w&.' -]*)?\s*(?:[.!]*$|[,;]\s)"
    # "moved to head of legal, update her title", "got promoted to CIO", "title 改 X".
    rf"|\b(?:promoted|moved|moves|moving|stepped\s+up|switched)\s+(?:up\s+)?(?:to|as)\s+"
    rf"(?:the\s+)?(?:role\s+of\s+)?(?P<pvalue>(?:[a-z]+\s+){{0,3}}{_TITLE_WORD}(?:\s+of\s+[a-z]+)?)\b"
    r"|\btitle\s*(?:改成?|改为|换成|to|is|:|：)\s*(?P<tvalue>[^,，。;；]+?)\s*(?:[,，。;；].*)?$"
    # 升官 (promoted), 换岗 / 调岗 / 转岗 (changed post), Cantonese 升咗职 / 转咗工.
    r"|(?:升职了?|升了|晋升了?|升官了?|换岗了?|调岗了?|转岗了?|调职了?|升咗职?|转咗工)"
    r"[!！,，。\s]*(?:现在)?(?:是|当上了?|做|做咗)\s*"
    r"(?P<zvalue3>[a-z][a-z &-]*[a-z]|[^,，。!！\s]+)"
    r"|(?:职称|职位|职务|头衔)\s*(?:改成|改为|换成|更新为|变成|是)\s*(?P<zvalue>[^,，。]+?)\s*(?:[,，。].*)?$"
    r"|现在是\s*(?P<zvalue2>[^,，。\s]+)\s*[,，].*(?:改一下|更新)(?:他的|她的)?(?:职位|职称|职务)"
)
BIRTHDAY_NEWS = re.compile(r"(?:生日|birthday)\s*(?:是|为|系|係|:|：|is|on)?\s*(?P<value>.+)$")
CONTACT_FIELDS = {
    "phone": "phone", "phone number": "phone", "number": "phone", "mobile": "phone",
    "cell": "phone", "email": "email", "e-mail": "email", "email address": "email",
    "e-mail address": "email", "title": "title", "role": "title", "job title": "title",
    "position": "title", "电话": "phone", "手机": "phone", "邮箱": "email", "职位": "title",
    "职务": "title", "职称": "title", "信箱": "email", "电邮": "email",
}  # fmt: skip
# One tag added: "tag Driftwood as at-risk too", "Beacon should be tagged at-risk",
# "add the tag vip to Acme", "华东物流加个标签 strategic", "给永盛电子打个标签 vip".
TAG_CUE = re.compile(
    r"\b(?:tag|tagged|label|labelled|labeled|mark)\s+(?:(?:it|them|.{1,60}?)\s+)?(?:as|with)\s+"
    r"['\"“]?(?P<tag>[a-z0-9][\w-]*)['\"”]?"
    # A second tag with it: "tag manukau as key-account and xmas-rush".
    r"(?:\s*(?:,|and|&|\+)\s*['\"“]?(?P<tagb>[a-z0-9][\w-]*)['\"”]?)?"
    r"(?:\s+too|\s+as\s+well)?(?:\s+(?:please|pls|plz|thanks))?\s*[.!]*$"
    r"|\b(?:should\s+be|be|is|now)\s+tagged\s+['\"“]?(?P<tag2>[a-z0-9][\w-]*)"
    r"|(?:加|添加|打|贴)(?:一)?个?标签\s*[:：]?\s*(?P<ztag>[\w-]+)"
    r"|(?:加|添加|打|贴|加上)(?:一)?个?\s*(?P<ztag2>[a-z0-9][\w-]*|[\u4e00-\u9fff]{1,6}?)\s*(?:的)?标签"
    # "标签加上 战略客户", "客户标签加一个 重点", "tags: add vip".
    # "tags += vip", "标签加上 Baiyun Tea": a tag of a few words ends the message.
    r"|(?:标签|\btags?)\s*[:：]?\s*(?:加上|加|添加|多加|\badd\b|\+=?)(?:一)?个?\s*[:：]?\s*"
    r"['\"“]?(?P<ztag3>[\w-]+(?:\s+[\w-]+){0,3})['\"”]?\s*[.!。！]*$"
    # "Acme, add the tag vip", "add a tag key-account on Acme" (the customer before it).
    r"|\badd\s+(?:the\s+|a\s+|an\s+)?tag\s+['\"“]?(?P<tag4>[\w-]+)['\"”]?(?=\s*(?:[,.!;]|please|pls|$))"
)
# All of a customer's tags said anew: "汇通医药 标签改成 重点客户, referral", "set acme's tags to
# fleet, west".
TAGS_SET = re.compile(
    # The tags start and end on a non-space, so the spaces around them split one way only (a
    # lazy run between two \s* was cubic in a long run of spaces).
    # "Acme tags: a, b, c" lists them all, as the grammar's `tags` field does ("tags: add vip"
    # adds one).
    r"(?:标签|\btags)\s*(?:改成|改为|换成|设为|设成|更新为|(?P<to>\bto\b)|->|→|=|[:：](?!\s*(?:add\b|加)))\s*"
    r"(?P<tags>[^。.!！\s](?:[^。.!！]*[^。.!！\s])?)\s*[.!。！]*$"
)
# "Acme moved to Boston", "change Initech's industry to Healthcare", "华东物流的城市改成苏州".
CUSTOMER_FIELD = re.compile(
    r"\b(?P<field>city|industry|sector|name)\b(?:\s+(?:is\s+now|is|to|now|changed\s+to|"
    r"should\s+be)|\s*[:：])\s*(?P<value>.+?)\s*[.!]*$"
    r"|\b(?:moved|relocated|is\s+moving|has\s+moved)(?:\s+(?:their\s+|its\s+)?(?:hq|headquarters|office|offices))?"
    rf"\s+to\s+(?!(?:[a-z]+\s+){{0,3}}{_TITLE_WORD}\b)"
    r"(?P<city>[a-z][\w .'-]+?)\s*(?:[,.!;]|\bfyi\b|$)"
    r"|\bmoved\b.{0,20}?\b(?:they'?re|they\s+are|now)\s+(?:now\s+)?(?:in|based\s+in)\s+"
    r"(?P<city2>[a-z][\w .'-]+?)"
    r"(?:\s+now)?\s*(?:[,.!;]|$)"
    r"|\brenamed?\b.*?\bto\s+(?P<rename>.+?)\s*(?:[.!]*$|[,;]\s+(?:they|it|as|since|because|after)\b.*$)"
    # "Allen Manufacturing 改名叫 Allen Mfg Holdings", "永盛 更名为 永盛科技".
    # "改名的事还没定": the renaming talked about, no new name.
    r"|(?:改名(?:叫|为|成)?|更名为|更名成|名字改成|名称改为)\s*(?![的事])(?P<zrename>[^,，。；;]+?)\s*(?:[,，。；;].*)?$"
    r"|\brenamed\s+(?:itself|themselves)\s+(?P<rename2>.+?)\s*(?:[,.!;]\s*(?:please|pls).*)?[.!]*$"
    # "维港湾改城市做 九龙": the changing verb before the field.
    r"|改(?P<zfield2>城市|行业|名称)\s*(?:做|成|为|到)\s*"
    r"(?P<zvalue2>[^,，。!！?？\s]+?)\s*(?:吧|啦|喇|喔|哦|呀)?\s*(?:[,，。!！?？].*)?$"
    r"|(?P<zfield>城市|行业|名称)(?:写错了|错了|不对)?\s*[,，]?\s*(?:请|麻烦)?\s*"
    r"(?:改成|改为|改做|换成|更新为|变成|应该是|是)\s*"
    # A closing particle and what it is not are no part of the value ("X 吧 不是纯办公室").
    r"(?P<zvalue>.+?)\s*(?:吧|啦|喇|喔|哦|呀)?\s*(?:[,，\s]\s*(?:不是|而不是|唔系).*)?[。.!！]*$"
)
# A time where a city would stand ("the go-live moved to feb", "demo moved to the 14th"): no
# move of the customer.
NOT_A_CITY = re.compile(
    r"^(?:the\s+)?(?:\d[\d/.-]*(?:st|nd|rd|th)?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|"
    r"dec)[a-z]*(?:\s+\d+\w*)?|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?|"
    r"(?:next|this|last|end\s+of|early|mid|late)\b.*|tomorrow|today|tonight|q[1-4]\b.*|"
    r"(?:19|20)\d\d\b.*)$"
)
CUSTOMER_FIELDS = {
    "city": "city", "industry": "industry", "sector": "industry", "name": "name",
    "城市": "city", "行业": "industry", "名称": "name",
}  # fmt: skip
# A reminder by its number, then what became of it in the same clause: "#2 sorted, dropped the
# samples", "reminder #3 can go", "#7 ok了", "#10 搞掂", "第十二个提醒可以完成", "#9 唔使提喇",
# "#8 往后挪到周三下午两点". A question ("#10 搞掂未", "#2 done?") is none.
_ZH_NUM = r"\d{1,9}|[一二三四五六七八九十]{1,3}"
REMINDER_REF = re.compile(
    r"(?:\breminder\s*#?\s*|(?<![\w#])#\s*)(?P<id>\d{1,9})(?![\d/.-])"
    rf"|提醒\s*#?\s*(?P<zid>{_ZH_NUM})\s*[号]?\s*(?:那个|这个|嘅|个)?"
    rf"|第\s*(?P<zid2>{_ZH_NUM})\s*(?:个|条)?\s*提醒"
)
_NOT_ASKED = r"(?!\s*(?:未|吗|么|没|了没|了吗|呢|嘛|\?|？|yet\b|or\b))"
REMINDER_DONE = re.compile(
    r"\s*(?:is\s+|can\s+be\s+|has\s+been\s+|可以\s*|已经?\s*)?"
    r"(?:sorted|done|finished|completed|can\s+go|ok(?:了|喇|啦)|搞掂(?:咗)?|搞定(?:了)?|完成(?:了)?|做完了?)"
    + _NOT_ASKED
)
REMINDER_CANCEL = re.compile(
    r"(?:\s*(?:can\s+be\s+|is\s+)?(?:cancell?ed|killed|scrapped|not\s+needed)\b"
    r"|\s*(?:唔使提(?!前)|不用提醒|不用提了|可以取消|取消(?:咗|了)?|删掉|可以删))" + _NOT_ASKED
)
# "can go" / "can be done" close their clause: "#2 can go to proposal now", "#1 can go out
# tomorrow once legal signs", "#2 can be done after the call" say something else.
REMINDER_CAN_TAIL = re.compile(
    r"\s*(?:(?:now|please|pls|plz|thanks|thx|ty|cheers)\b\s*)*(?:[,，:：;；.!~—–-]|$)"
)
# A number that is another thing's: "invoice #2", "PO #1", "step #2", "ticket #2".
NOT_REMINDER_BEFORE = re.compile(
    r"\b(?:invoice|po|order|ticket|step|item|deal|quote|case|issue|bug|task|line|row|page|"
    r"table|room|unit|lot|version|v|no\.?|number|phase)\s*$|(?:发票|订单|工单|步骤|第)\s*$"
)
# A deal spoken of: with a #N that is also a deal's number, the deal may be meant.
DEAL_TALK = re.compile(
    r"\b(?:signed|won|lost|proposal|negotiation|qualified|contract|deal|closed)\b"
    r"|签|合同|赢单|输单|丢单|成交|商机"
)
# Said as a wish, a plan or a doubt, not done: "tempted to kill #4", "need to get #2 done by
# friday", "#4 not needed yet I think".
REMINDER_HEDGE = re.compile(
    r"\b(?:tempted|thinking\s+(?:of|about)|might|maybe|probably|i\s+think|i\s+guess|"
    r"need\s+to|needs\s+to|have\s+to|has\s+to|got\s+to|gotta|must|should|want\s+to|"
    r"going\s+to|gonna|by\s+(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|next|end)|"
    r"after|once|when|tomorrow|tmrw|later)\b|可能|也许|应该|打算|想|估计"
)
CANCEL_BEFORE_REF = re.compile(r"\b(?:kill|cancel|scrap|bin|ditch)\s+(?:the\s+|my\s+)?$")
REMINDER_LATER = re.compile(
    r"\s*(?:往后|往後|再)?\s*(?:挪|延|推迟|推|改|调)(?:到|至|去)\s*(?P<when>[^，,。；;！!？?]+)"
)
SNOOZE_CUE = re.compile(
    r"\b(?:snooze|push|postpone|delay|move|bump|defer)\s+(?:the\s+)?(?:reminder\s+)?#\s*(?P<id>\d+)"
    r"\s+(?:to|until|till|by|for)?\s*(?P<when>.+?)\s*[.!]*$"
    # A reminder's number says #, or 提醒 before it: "改到 1 月 20 日" is a day, not reminder 1.
    r"|(?:推迟|延后|改到)\s*(?:提醒\s*#?|#)\s*(?P<zid>\d+)\s*(?:到)?\s*(?P<zwhen>.+)$"
)
CANCEL_CUE = re.compile(
    r"\b(?:cancel|delete|remove|drop|kill)\s+(?:the\s+|my\s+)?reminder\s+#?\s*(?P<id>\d+)"
    r"|(?:取消|删除|删掉)\s*提醒\s*#?\s*(?P<zid>\d+)"
)
DELETE_DEAL_CUE = re.compile(
    r"\b(?:delete|remove|drop)\b.*\bdeal\b|删除.*商机|删掉.*商机"
    # "删除青岛联创的月台预约系统升级", "刪掉 Quarry Wind 的 Fleet tracking 那筆": a deal named by
    # its title, no "deal" said (taken only when its title is named).
    r"|(?P<bare>(?:删除|删掉|移除))"
)
# Where a deal is dropped or moved to: a forecast, a category, a stage ("drop the X deal to
# pipeline for the forecast", "drop X into best case"); the deal stays.
PUT_SOMEWHERE = re.compile(
    rf"\b(?:forecast|fcst)\b|预测|\bdeal\s+(?:down\s+|back\s+)?(?:to|into|in|as|under)\s+"
    rf"(?:the\s+)?(?:{_FC_ALT}|{_LATIN_STAGE})"
)
DIGEST_CUE = re.compile(
    r"\b(?:turn|switch)\s+(?P<onoff>off|on)\s+(?:my\s+|the\s+)?(?:morning\s+|daily\s+)?digest\b"
    r"|\b(?:stop|pause)\s+(?:sending\s+)?(?:me\s+)?(?:my\s+|the\s+)?(?:morning\s+|daily\s+)?digest\b"
    r"|\bdigest\s+(?:at|every\s+day\s+at)\s+(?P<at>\d{1,2}:\d{2})\b"
    r"|(?P<zoff>关闭|关掉|停止|取消)(?:我的)?(?:每日)?摘要|(?P<zon>打开|开启)(?:我的)?(?:每日)?摘要"
    # "每天早上8:30发摘要给我", "日报改到早上7点半", "日报改成只在工作日发".
    r"|(?:每天)?(?P<zpart>早上|上午|下午|晚上)?\s*(?P<zat>\d{1,2}(?:[:：]\d{2}|点半?))\s*"
    r"(?:发|送|推)(?:给我)?(?:的)?(?:摘要|日报)"
    r"|(?:摘要|日报)(?:改到|改成|改为|调到|换到)\s*(?P<zpart2>早上|上午|下午|晚上)?\s*"
    r"(?P<zat2>\d{1,2}(?:[:：]\d{2}|点半?))"
    r"|(?:摘要|日报).{0,6}(?P<zweek>工作日|周一到周五)"
)
FIND_CUE = re.compile(
    r"(?:search\s+for|look\s+for|look\s+up|find\s+me|find|search|any\s+customers?\s+(?:called|named|in)|"
    # Taglish "hanapin mo nga yung ..." (find ...).
    r"hanapin(?:\s+mo)?(?:\s+nga)?(?:\s+(?:yung|ang|si))?)\s+"
    r"(?:customers?\s+)?(?:called\s+|named\s+|in\s+)?(?P<words>.+?)(?:\s+for\s+me)?\s*[?.!]*$"
    # Sichuan 搜一哈, Cantonese 搵下 / 搵吓 / 搵一搵.
    r"|(?:搜索|搜一下|搜一哈|搜下|搜搜|搵下|搵吓|搵一搵|查找|找一下|找找|查一下(?=.+的客户\s*$))\s*"
    r"(?P<zwords>.+?)(?:的客户)?\s*$"
)

# A sales quota set: "set dave's Q1 quota to 400k", "carol quota 2027 q1 280k", "给 wei 设 2027
# 年一季度指标 30万美元", "設定 Dave 2027 第一季配額 35萬英鎊", "set erin's q1 target to 500k gbp".
QUOTA_CUE = re.compile(r"\b(?:quota|target|number)s?\b|配额|指标|业绩目标|销售目标")
# "number" as a quota only in a request to set it: "Q1 numbers: carol did 400k", "my number is
# like 400k", "should be around 400k i reckon" tell or guess a figure.
NUMBER_SET = re.compile(r"\b(?:set|make|put|change|update|bump|raise|lower|give)\b")
NUMBER_TOLD = re.compile(
    r"\b(?:numbers|did|came\s+in|closed|close|like|around|about|roughly|reckon|should\s+be|"
    r"big|hit|made|was|were|will\s+be|hard)\b"
)
# After the quota's words, a wish or a judgement rather than the figure to set: "指标别小于300万",
# "不能小于去年的300万", "300万还是很难", "八百万太高了", "too high".
QUOTA_NOT_SET = re.compile(
    r"别|不能|不要|不会|不得|不该|小于|大于|低于|高于|少于|多于|至少|最少|太高|太低|很难|难度|"
    r"\b(?:too\s+(?:high|low|much)|at\s+least|no\s+less|no\s+more|hard|tough|unrealistic)\b"
)
# A name read by its sound stands where a name does: first, after 给/帮/把/设, before 的, the
# period or 指标; never inside other words ("别小于300万" is "not less than").
SOUND_NAME_BEFORE = re.compile(r"(?:^|给|帮|把|设|设定|替|为|年|季度|季|q[1-4])\s*$")
SOUND_NAME_AFTER = re.compile(
    r"\s*(?:的|嘅|q[1-4]|20\d\d|明年|今年|全年|下季|本季|这季|第|[一二三四]季|指标|配额|设|业绩|目标)"
)
# The year a quarter is in, said around it: "Q1 next year", "明年一季度".
NEXT_YEAR = re.compile(r"\bnext\s+year\b|明年")
# A past figure between the quota's words and its amount ("... was 400k last year").
WAS_BEFORE_AMOUNT = re.compile(
    r"\b(?:was|were|had(?:\s+been)?|used\s+to\s+be)\b|原来是|以前是|曾经是"
)
QUARTER = re.compile(
    # "the first quarter of 2027", "2nd quarter"
    r"\b(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter(?:\s+of\s+(?P<y3>20\d\d))?\b"
    # "全年", "明年全年", "for the full year 2027": a year's quota
    r"|(?:(?P<zyear>明年|今年)\s?)?全年|\b(?:full|whole)[- ]year(?:\s+(?P<y4>20\d\d))?\b"
    r"|(?<![a-z0-9])(?:(?P<y1>20\d\d)\s*[-/ ]?\s*)?q(?P<q>[1-4])(?:\s*[-/ ]?\s*(?P<y2>20\d\d))?"
    r"(?![a-z0-9])"
    r"|(?:(?P<zy>20\d\d)\s*年?\s*)?第?(?P<zq>[一二三四1-4])\s*(?:季度|季)"
    r"|\b(?P<rel>this|next)\s+(?:quarter|qtr)\b|(?P<zrel>本|这个?|下个?)季度?"
)
# The sender themself as the quota's person.
MY_OWN = re.compile(r"\b(?:my|my\s+own|me|myself)\b|我的|给我|我自己")
# A line of a one-record verb, then why ("archive rainier bakery, they went with contoso",
# "undo edit #345, wrong customer", "撤销#805 记错客户了").
WHY_AFTER = re.compile(r"\s*(?:[,，;；]|\s[-–—]\s|(?<=\d)\s+(?=[\u4e00-\u9fff]))\s*")
# "麻烦把 Rossi Fuels 归档", "把 Highland Pharma 恢复/取消归档": the verb after its customer.
ZH_ARCHIVE = re.compile(
    r"把\s*(?P<name>.+?)\s*(?P<verb>取消归档|恢复归档|重新启用|恢复|归档|存档)(?:吧|了|一下|掉)?\s*[!！。.]*$"
)
# "rossi 歸檔", "torres stores 归档吧 已经关店了": the customer alone, then the verb, maybe why.
ZH_ARCHIVE_BARE = re.compile(
    # "澄海宏兴可唔可以归档？佢哋搬去越南了": asked as a favour, then why.
    r"(?P<name>[^,，。;；把]+?)\s*(?:可唔可以|可不可以|能唔能|能不能)?\s*"
    r"(?P<verb>取消归档|恢复归档|归档|存档)(?!了)(?:吧|一下|掉)?"
    r"\s*(?:[!！。.?？]*$|[\s,，;；?？]+\S.*$)"
)
# Before "把 X 归档了": words that make it a report of the past ("上周已经把 X 归档了").
ZH_DONE_BEFORE = re.compile(
    r"已经|已|早就|早已|之前|以前|上周|上星期|上礼拜|上个?月|昨天|前天|去年|刚才|刚刚|那天"
)
# A reminder's number first, then what to do with it: "#10 搞定了 ✅", "#2 那个提醒取消，...",
# "#10那个提醒不用了 取消吧", "#11 推迟到下周二上午9点".
REMINDER_FIRST = re.compile(
    r"^\s*#\s*(?P<id>\d+)\s*(?:那个|这个|的)?\s*(?:提醒)?\s*(?:"
    r"(?P<done>搞定|完成|做完|弄好|办完|办好|处理好|处理完)"
    r"|(?P<cancel>取消|不用了|不要了|不需要了|删了|删掉|作废)"
    r"|(?:推迟|延后|延到|推到|改到|挪到|顺延)\s*(?:到)?\s*(?P<when>.+)"
    # "#11 晚兩個小時再提醒", "#3 遲半個鐘": later by a length.
    r"|(?=(?:晚|迟|延迟|再过)\s*(?:半|[一二两三四五六七八九十\d]))(?P<later>.+))"
)
