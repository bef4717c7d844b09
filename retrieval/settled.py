"""Whether the best sentences settle a question of whether something happened or can happen.

A near miss speaks of the thing asked without saying it: "facilities will fix it by June 10"
for "did they fix it?", "he asked us not to bill the wait" for "did we bill the wait?", "问我们
在新加坡有没有合作仓库" for "我们在新加坡有没有合作仓库?". The note holds every word of the
question; what it lacks is the deed (or the answer to the question it only repeats).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.tokens import normalize, tokens

# A question whether a thing happened or how it went (folded text): "did they ...", "has it
# ...", "how did the trial go", "did it go ok", 了吗, 结果怎么样, 顺利吗.
_DEED_ASKED = re.compile(
    r"^\s*(?:did|has|have|had)\b"
    r"|^\s*how (?:did|was|were|has|have)\b.*\b(?:go|goes|gone|turn(?:ed)? out|work(?:ed)? out)\b"
    r"|\bgo (?:ok|okay|well|smoothly|fine|alright)\b"
    r"|了\s*(?:吗|没|未)|过\s*(?:吗|没)|咗\s*(?:未|吗|没)|结果(?:怎么样|如何|点样)|进展如何|顺利吗"
    r"|顺不顺利|怎么样了|成功了?吗"
)
# A question whether a thing is so, can or will be ("can we release ...", 够不够, 有没有, 能不能,
# 可以...吗): a note that only repeats it as someone's question does not answer it.
_YES_NO_ASKED = re.compile(
    r"^\s*(?:can|could|is|are|was|were|will|would|do|does|should|did|has|have|had)\b"
    r"|吗\s*[?？]?\s*$|有没有|能不能|够不够|可不可以|行不行|是不是|是否|会不会|要不要|没\s*[?？]?\s*$"
)
# A question about the asking itself ("what did Hank ask", 客户问了什么): the question repeated
# in a note is then its answer.
_ABOUT_ASKING = re.compile(
    r"\b(?:ask|asks|asked|asking|question|questions|wonder\w*|concern\w*|request\w*|want\w*|need\w*)\b"
    r"|问|关心|想知道|要求|想要|需要"
)
# Someone asking a question, reported: what follows is the question, not its answer.
_EN_ECHO = re.compile(
    r"\b(?:asked|asks|asking|ask|wondered|wonders|wondering|wants to know|wanted to know|"
    r"checking|checked|inquired|enquired)\s+(?:us\s+|me\s+|him\s+|her\s+|them\s+)?"
    r"(?:whether|if|when|how|what|why|which|where)\b"
)
_ZH_ECHO = re.compile(
    r"(?:问|询问|咨询|打听|想知道|确认|看看)[^，,。；;！!？?]*?"
    r"(?:有没有|能不能|够不够|可不可以|行不行|是不是|是否|会不会|要不要|吗|呢|多少|几|什么|哪|怎么)"
)
# Words that put the next verb in a plan or a request, not a deed: "will fix", "'ll send",
# "asked us not to bill", "wants to move", "planning to", "is opening" (a thing under way).
_GOVERNS = re.compile(
    r"(?:\b(?:will|would|should|could|can|might|shall|gonna|must)\s+(?:be\s+)?(?:\w+ly\s+)?"
    r"|'ll\s+(?:be\s+)?"
    r"|\b(?:going|asks?|asked|wants?|wanted|needs?|needed|plans?|planned|planning|hopes?|hoped|"
    r"expects?|expected|promised|tries|trying|intends?|aims?|likely|ready|about)\s+"
    r"(?:us\s+|me\s+|him\s+|her\s+|them\s+|you\s+)?(?:not\s+)?to\s+(?:be\s+)?"
    r")$"
)
# A thing asked for: what follows is wanted, not had ("asked for a quarterly report").
_REQUESTED = re.compile(
    r"\b(?:asked for|asks for|asking for|requested|requests|request for|wants|wanted|needs|needed|"
    r"would like|looking for)\s+(?:a |an |the |some |our |their |more |another |new )?$"
)
# Past forms of asking and planning: no deed done to the thing asked for.
_ASKING_PAST = frozenset(
    ["asked", "requested", "wanted", "needed", "planned", "hoped", "expected", "scheduled"]
)
# A thing set for later ("trial planned for April 15", "kickoff scheduled on Monday"): the
# clause holding it speaks of a plan.
_SET_FOR = re.compile(
    r"\b(?:planned|scheduled|slated|pencil+ed|booked|tentatively set|set)\s+(?:for|on|in|to)\b"
)
# Words that answer whether it happened though the asked verb is not among them: "not yet",
# "went well", "no excursions".
_SETTLES = re.compile(
    r"\b(?:not yet|didn't|did not|haven't|has not|hasn't|have not|never|still no|already|done|"
    r"completed?|finished|went (?:well|fine|smoothly|ok)|success\w*|passed|failed|fine|smooth\w*)\b"
)
_ZH_PLAN = re.compile(r"想|要|打算|计划|准备|希望|将|预计|安排|需要|考虑")
# Said as done, or as not done yet (with the yes/no frames taken out: 有没有 holds 没有).
_ZH_DEED = re.compile(r"已|了|过|完成|还没|没有|尚未|顺利|成功")
_ZH_FRAMES = re.compile(r"有没有|能不能|够不够|可不可以|行不行|是不是|会不会|要不要")
_ZH_CLAUSE = re.compile(r"[，,。；;！!？?：:]")
_EN_CLAUSE = re.compile(
    r"[,;:!?]|\.(?:\s|$)|\s[—–-]+\s|\b(?:and|but|while|though|although|whereas|then|so|plus)\b"
)
# Past forms that do not end in -ed ("sent", "paid"): a deed of the verb asked.
_IRREGULAR_PAST = frozenset(
    [
        "began",
        "begun",
        "bent",
        "bought",
        "brought",
        "built",
        "came",
        "caught",
        "chose",
        "chosen",
        "did",
        "done",
        "driven",
        "drove",
        "fell",
        "felt",
        "flew",
        "flown",
        "forgot",
        "fought",
        "found",
        "gave",
        "given",
        "gone",
        "got",
        "gotten",
        "grew",
        "grown",
        "heard",
        "held",
        "hid",
        "hit",
        "hung",
        "kept",
        "knew",
        "known",
        "laid",
        "led",
        "left",
        "lent",
        "let",
        "lit",
        "lost",
        "made",
        "meant",
        "met",
        "paid",
        "put",
        "quit",
        "ran",
        "read",
        "rode",
        "rose",
        "rung",
        "said",
        "sang",
        "sank",
        "sat",
        "saw",
        "seen",
        "sent",
        "set",
        "shook",
        "shot",
        "shut",
        "signed",
        "slept",
        "sold",
        "spent",
        "split",
        "spoke",
        "spoken",
        "spread",
        "stole",
        "stood",
        "struck",
        "stuck",
        "swam",
        "swept",
        "swore",
        "swung",
        "taken",
        "taught",
        "thought",
        "threw",
        "thrown",
        "told",
        "took",
        "tore",
        "understood",
        "went",
        "woke",
        "won",
        "wore",
        "wound",
        "written",
        "wrote",
    ]
)


# Deeds a question may ask whether they happened, each with the words a note may say it in
# (stems, as the index folds them: "paid" and "payment" are "pay" and "payment"). A question
# whose deed none of the best notes' sentences says in any of these words, nor settles ("not
# yet", "done"), is a near miss: "has poole paid PPA-5521?" over "Invoice PPA-5521", "did we
# sort the overspray complaint?" over "one complaint about overspray".
_DEEDS: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(tokens(asked)), frozenset(tokens(said)))
    for asked, said in (
        (
            "pay paid settle settled",
            "pay payment settle clear receive remit transfer wire credit balance outstanding"
            " overdue chase",
        ),
        (
            "sort fix solve resolve repair rectify",
            "sort fix solve resolve repair rectify replace handle address close redo credit"
            " refund apologise apologize",
        ),
        (
            "confirm",
            "confirm agree accept approve book sign commit lock firm ok okay decline refuse"
            " cancel reject",
        ),
        (
            "accept approve agree",
            "accept approve agree sign confirm ok okay decline refuse reject counter push award",
        ),
        (
            "reach arrive land",
            "reach arrive land deliver receive come drop collect ship short missing",
        ),
        ("deliver", "deliver arrive reach receive drop ship land collect short missing"),
        ("receive", "receive get arrive deliver land come reach"),
        ("send ship dispatch mail email", "send ship dispatch mail email post forward deliver"),
        (
            "win award",
            "win award lose select choose pick shortlist go contract sign",
        ),
        ("sign", "sign signature contract agree countersign execute"),
        ("renew", "renew renewal extend extension sign"),
        ("cancel", "cancel drop terminate stop"),
        ("install fit", "install fit mount commission"),
        ("order buy purchase", "order buy purchase po"),
    )
)
# The same in Chinese (matched as text): 付清了吗 over a note that only says 开票.
_ZH_DEEDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("付清", "付款", "付了", "结清", "拨款", "到账", "打款", "汇款", "付钱"),
        ("付", "结清", "结算", "到账", "收款", "收到款", "打款", "汇款", "拨款", "欠", "催款"),
    ),
    (
        ("中标", "中了", "得标", "拿下", "赢了"),
        ("中标", "中了", "得标", "授标", "拿下", "赢", "输", "丢", "落标", "定了", "签", "给了"),
    ),
    (("签约", "签了", "签合同"), ("签", "盖章", "合同")),
    (("确认", "敲定", "落实"), ("确认", "确定", "敲定", "定了", "同意", "答应", "落实", "取消")),
    (("同意", "答应", "批准", "批了", "通过"), ("同意", "答应", "批", "通过", "拒绝", "不同意")),
    (
        ("到货", "送到", "收到", "到了"),
        ("到", "送达", "交付", "交货", "收到", "签收", "少了", "缺"),
    ),
    (("修好", "解决", "处理好", "搞定"), ("修好", "修复", "解决", "处理", "搞定", "更换", "换了")),
)
# The question's deed is told apart from its topic words: a stem of `_DEEDS` counts only where
# the question asks whether it happened.
_SAID_SETTLED = re.compile(r"\b(?:not yet|still (?:no|not)|no word|nothing)\b|还没|尚未|没有|未")


# Words between "did" and its verb that are neither its subject nor the deed ("did cebu
# actually invoke", "did we ever get").
_DID_ADVERBS = frozenset(
    ["actually", "ever", "finally", "already", "yet", "really", "eventually", "end", "up"]
)
_DID_OPENS = re.compile(r"^\s*(?:did|has|have|had)\s+(.*)$")


def _asked_deed(question: str, topic: set[str]) -> str | None:
    """The deed an English "did ..." question asks of, past its subject: the first topic word
    after "did" (the customer's name is no topic word): "accept" in "did foothills accept
    the quote?", "invoke" in "did they actually invoke the penalty clause?"."""
    m = _DID_OPENS.match(question)
    if m is None:
        return None
    for word in re.findall(r"[a-z][a-z'-]*", m.group(1)):
        if word in _DID_ADVERBS:
            continue
        found = [t for t in tokens(word) if t in topic]
        if found:
            return found[0]
    return None


def _says_a_deed(sentence: str) -> bool:
    """Whether a folded English sentence says something was done (a past form other than
    asking or planning for it: "fixed", "sent"; not "asked for", "planned")."""
    return any(
        (w.endswith("ed") or w in _IRREGULAR_PAST) and w not in _ASKING_PAST
        for w in re.findall(r"[a-z][a-z'-]*", sentence)
    )


def deed_unsaid(
    said: list[tuple[str, float]],
    question: str,
    topic: set[str] | None = None,
    alias: Callable[[str], frozenset[str]] | None = None,
) -> bool:
    """Whether a question whether a deed happened names a deed no sentence of the best notes
    says (in any of its words), and no sentence holding the topic settles ("not yet").

    `said` holds each sentence with its share of the question's topic. A note that talks
    about the thing asked ("invoice PPA-5521", "one complaint about the overspray") and never
    says it was paid or sorted does not answer "has it been paid?". A deed with no words of
    its own here ("did they invoke the penalty clause?", "did chinook get the gloves?") is
    said by its own word or another name of it (`alias`, the glossary) in the best notes,
    or no sentence holding the topic says any deed ("asked for XS gloves").
    """
    q = normalize(question)
    if not said or _ABOUT_ASKING.search(q) or not _DEED_ASKED.search(q):
        return False
    folded = [normalize(s) for s, _ in said]
    topical = [normalize(s) for s, share in said if share > 0]
    if re.search(r"[\u4e00-\u9fff]", q):
        zh_words = [words for asked, words in _ZH_DEEDS if any(a in q for a in asked)]
        if not zh_words or any(_SAID_SETTLED.search(s) for s in topical):
            return False
        return not any(_zh_said(s, w) for s in folded for words in zh_words for w in words)
    q_terms = set(tokens(q))
    en_words = [words for asked, words in _DEEDS if asked & q_terms]
    if not en_words and topic:
        deed = _asked_deed(q, topic)
        # Said in other words ("fixed the invoice error" for "did they address it?"): any
        # deed in a sentence holding most of the topic may be it; only asking for the thing
        # is none ("asked for nitrile gloves in XS", while another sentence's delivery
        # "moved" speaks of something else).
        top = max(share for _, share in said)
        closest = [normalize(s) for s, share in said if share > 0 and share >= 0.75 * top]
        if deed is not None and not any(_says_a_deed(s) for s in closest):
            en_words = [frozenset({deed}) | (alias(deed) if alias is not None else frozenset())]
    if not en_words:
        return False
    if any(_SETTLES.search(s) or _SAID_SETTLED.search(s) for s in topical):
        return False
    held = set().union(*(tokens(s) for s in folded))
    return not any(words & held for words in en_words)


# Words before a deed in its clause that make it awaited or asked for: "等吴敏确认数量".
_ZH_AWAITED = re.compile(r"等|待|要|想|需|希望|请|让|打算|准备|计划|还没|尚未")


def _zh_said(sentence: str, word: str) -> bool:
    """Whether a Chinese sentence says `word` as a deed (not awaited: "等吴敏确认")."""
    at = sentence.find(word)
    while at >= 0:
        clause = _ZH_CLAUSE.split(sentence[:at])[-1]
        if not _ZH_AWAITED.search(clause):
            return True
        at = sentence.find(word, at + 1)
    return False


def _clauses(text: str) -> list[str]:
    """`text` cut into clauses: at punctuation and conjunctions (Chinese at commas too)."""
    cut = _ZH_CLAUSE if re.search(r"[\u4e00-\u9fff]", text) else _EN_CLAUSE
    return [c for c in cut.split(text) if c and c.strip()]


def _terms(text: str) -> set[str]:
    """Index terms of `text`."""
    return set(tokens(text))


def _en_forms(clause: str, asked: set[str]) -> tuple[set[str], set[str], set[str], set[str]]:
    """Question words a clause puts in a plan or a reported question, those it only asks for
    ("asked for a quarterly report"), those it says done (in a past form), and those in a
    clause saying something happened ("samples arrived")."""
    planned: set[str] = set()
    wanted: set[str] = set()
    done: set[str] = set()
    echo = _EN_ECHO.search(clause)
    set_for = _SET_FOR.search(clause)
    for m in re.finditer(r"[a-z][a-z'-]*", clause):
        word = m.group(0)
        stems = set(tokens(word)) & asked
        if not stems:
            continue
        before = clause[: m.start()]
        under_way = word.endswith("ing") and re.search(r"\b(?:is|are|am)\s+$", before)
        if (echo and m.start() >= echo.end()) or _GOVERNS.search(before) or under_way:
            planned |= stems
        elif set_for and m.start() < set_for.start():
            # "trial planned for April 15": the trial is a plan; its date is not a deed either.
            planned |= stems
        elif set_for and m.start() >= set_for.end():
            planned |= stems
        elif word.endswith("ed") or word in _IRREGULAR_PAST:
            done |= stems
        elif _REQUESTED.search(before):
            wanted |= stems
    # "Samples arrived on Tuesday": a clause saying something happened to the thing asked for
    # says it came, in its own verb.
    deeds = [
        w
        for w in re.findall(r"[a-z][a-z'-]*", clause)
        if (w.endswith("ed") or w in _IRREGULAR_PAST) and w not in _ASKING_PAST
    ]
    told = (set(tokens(clause)) & asked) if deeds else set()
    return planned, wanted, done, told


def _zh_unsettled(clause: str, topic: set[str]) -> bool | None:
    """Whether a Chinese clause holding the topic only plans it or repeats it as a question.

    None when the clause does not hold the topic.
    """
    held = topic & _terms(clause)
    if not held:
        return None
    echo = _ZH_ECHO.search(clause)
    # The topic after the asking word is the question repeated.
    if echo and not topic & _terms(clause[: echo.start()]):
        return True
    bare = _ZH_FRAMES.sub(" ", clause)
    if _ZH_DEED.search(bare):
        return False
    return _ZH_PLAN.search(bare) is not None


def unsettled(sentences: list[str], question: str, topic: set[str]) -> bool:
    """Whether the sentences closest to a yes/no question leave it open.

    For a question whether something happened ("did we bill the wait?", "how did the trial
    go?"): a question word the sentences only plan, request or repeat as a question ("asked us
    not to bill the wait", "will fix by June 10", "trial planned for April 15"), and never say
    done. For a question whether something is or can be ("can we release the bins?", 够不够):
    the sentences only repeat it as someone's question. A question about the asking itself
    ("what did Hank ask?") is answered by the question repeated.
    """
    q = normalize(question)
    if not sentences or _ABOUT_ASKING.search(q):
        return False
    deed = _DEED_ASKED.search(q) is not None
    if not deed and not _YES_NO_ASKED.search(q):
        return False
    asked = _terms(q) & topic
    if not asked:
        return False
    if re.search(r"[\u4e00-\u9fff]", q):
        return all(_zh_open(normalize(s), asked, deed=deed) for s in sentences)
    planned: set[str] = set()
    requested: set[str] = set()
    done: set[str] = set()
    told: set[str] = set()
    for s in sentences:
        folded = normalize(s)
        if deed and _SETTLES.search(folded):
            return False
        if not deed:
            # Only a repeated question leaves "can we ...?" open: "we can release them Nov 28"
            # answers it.
            if not _echoed(folded, asked):
                return False
            continue
        for clause in _clauses(folded):
            p, w, d, t = _en_forms(clause, asked)
            planned |= p
            requested |= w
            done |= d
            told |= t
    if not deed:
        return True
    # A thing only asked for ("he asked for a quarterly generator report") is not sent, unless
    # it is said to have come ("samples arrived") or the verb asked is said done ("sent the
    # report; he wants a quarterly one too").
    return bool(planned - done) or bool(requested - told and not done)


def _zh_open(sentence: str, asked: set[str], *, deed: bool) -> bool:
    """Whether a Chinese sentence leaves the question open: each clause holding it plans it or
    repeats it as a question, and (for a question whether it can be) one repeats it."""
    verdicts = [(c, _zh_unsettled(c, asked)) for c in _clauses(sentence)]
    held = [(c, v) for c, v in verdicts if v is not None]
    if not held or not all(v for _, v in held):
        return False
    return deed or any(_ZH_ECHO.search(c) for c, _ in held)


def _echoed(sentence: str, asked: set[str]) -> bool:
    """Whether a sentence holds the question's words mostly inside a question it repeats."""
    inside: set[str] = set()
    outside: set[str] = set()
    for clause in _clauses(sentence):
        if echo := _EN_ECHO.search(clause):
            # The one asking ("Hank asked when ...") is no part of the question repeated.
            inside |= _terms(clause[echo.end() :]) & asked
        else:
            outside |= _terms(clause) & asked
    return bool(inside) and len(inside) >= len(outside - inside)
