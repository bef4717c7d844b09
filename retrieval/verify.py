"""Answer verification: whether the best notes hold what the question asks, read together."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from crm_core.text import to_simplified
from retrieval.notes import Cited
from retrieval.passages import indexed_text, sentences
from retrieval.tokens import has_cjk, normalize, tokens

# The best notes the gate reads.
READ_NOTES = 3
_NUMBER = re.compile(
    r"\d|[一二两三四五六七八九十百千万亿]+\s*[%％个人台家元条天周月年次位件套]|百分"
)
# Questions whose answer is a quantity: its sentence must hold a number.
_WANTS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|big|large|often)\b|\bwhat (?:price|percentage|percent|discount|"
    r"amount|budget|rate|number|volume|size|quantity|headcount|fee|cost)\b|\bper[- ]\w+ price\b"
    r"|多少|几[个台家条次天周月年人位]|价格|单价|报价|折扣|预算|数量|比例|百分"
    r"|幾[個台家條次天週月年人位]|幾多",
)
# Questions whose answer is a time: its sentence must hold a date, a month, a weekday or so.
_WANTS_TIME = re.compile(r"^\s*when\b|\bwhat (?:date|day|time)\b|什么时候|何时|哪天|几号|幾時|何時")
_TIME_WORD = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:mon|tues|wednes|"
    r"thurs|fri|satur|sun)day\b|\b(?:week|month|quarter|year|q[1-4]|tomorrow|today|yesterday|"
    r"end of|next|after|before|by)\b|[一二三四五六七八九十]+月|月底|月初|年底|年初|下周|下个月|"
    r"明年|今年|季度|周[一二三四五六日]|星期|[上下]旬",
)

# Questions whose answer is a person or a named thing (vendor, brand, system, model): a sentence
# holding the question's topic must hold one that the question does not name itself.
_WANTS_SLOT = {
    "person": re.compile(
        r"^\s*who\b|\bwho(?:'s| is| was| makes| signs| decides| will)\b"
        r"|\bname of (?:the|their|our)\b|谁|誰|邊個|叫什么名字|叫什麼名字"
    ),
    "named": re.compile(
        r"\bwhich (?:vendor|company|supplier|competitor|integrator|brand|carrier|provider|bank|"
        r"firm|partner|erp|system|software|platform|model|product|customer)\b|\bwhat (?:brand|"
        r"vendor|model|erp|system|software|platform)\b|哪家|哪一家|哪款|什么牌子|什么品牌|什么型号|"
        r"哪个(?:牌子|品牌|厂商|厂家|供应商|系统|平台|公司|运营商|型号|客户)|叫啥|叫什么"
    ),
}
_ROLE = (
    r"经理|总监|主任|部长|科长|主管|工程师|老板|董事长|总裁|负责人|总经理|处长|院长|校长|店长"
    r"|C[EFIOT]O|\bVP\b|[\u4e00-\u9fff]总"
)
_SLOT_IN_SENTENCE = {
    # A capitalised name (not the sentence's first word), a title, or a Chinese role by a name.
    "person": re.compile(
        rf"(?<=[\s,;:(（，：、])[A-Z][a-z]+(?:\s[A-Z][a-z]+)?|\b(?:Mr|Ms|Mrs|Dr)\.?\s|{_ROLE}"
    ),
    # A Latin word or code in Chinese text, a capitalised word, a brand in quotes or brackets.
    "named": re.compile(
        r"(?<=[\s,;:(（，：、\u4e00-\u9fff])[A-Z][\w&.-]+|[\u4e00-\u9fff][A-Za-z][\w-]*"
        r"|[《「“\"].+?[》」”\"]|[\u4e00-\u9fff]{2,}(?:公司|集团|软件|科技|电子|电信|移动|联通)"
    ),
}


@dataclass(frozen=True)
class Reading:
    """What reading the question with its best notes found: how much of it they hold."""

    cover: float  # best share of the topic terms one of the best notes holds
    weighted: float  # the same, each term weighted by its rarity among the passages one may see
    sentence: float  # best rarity-weighted share held by one sentence of one best note
    foreign: float  # rarity-weighted share of topic terms no note one may see holds at all
    typed: bool  # the answer kind the question wants (a number, a time) is in that sentence
    typed_best: bool  # ...in one of the sentences holding most of the question, not its own
    typed_share: float  # best rarity-weighted share of the topic held by a sentence of that kind
    slotted: bool  # a person or named thing asked for is in a sentence holding the topic
    unknown: tuple[str, ...]  # names in the question (capitalised, other script) no note holds
    rarest: bool  # the question's rarest topic term is in a best note


@dataclass(frozen=True)
class Evidence(Reading):
    """What the gate weighs: the reading, the notes' language and the vector match."""

    crosslingual: bool  # the best note is written in the other language than the question
    dense_top: float | None  # cosine of the best vector match among the best notes
    dense_margin: float | None  # that match over the median of the vector candidates


def idf(passages: int, df: int) -> float:
    """BM25's term weight (Lucene's form), over the passages one may see."""
    return math.log(1 + (passages - df + 0.5) / (df + 0.5))


def script(text: str) -> str:
    """ "zh" when Chinese characters make up a good part of the letters, else "en"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    return "zh" if sum(1 for ch in letters if has_cjk(ch)) * 3 >= len(letters) else "en"


def note_sentences(note: Cited) -> list[str]:
    """A note's sentences as answers quote them."""
    text = indexed_text(note.text)
    return sentences(text) or [text]


_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_LATIN = re.compile(r"[A-Za-z][\w'’&.-]*")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def names(question: str, topic: set[str]) -> list[tuple[str, list[str]]]:
    """Parts of a question that name something, with their index terms.

    A capitalised or upper-case word of an English question (not its first), or a run in the
    other script than the question's (a Chinese name in an English question, a Latin one in a
    Chinese question): rare words a note would repeat if it spoke of the same thing. (Chinese
    runs words together: a name inside a Chinese sentence is not told apart from its
    neighbours by this.)
    """
    asked = script(question)
    out: list[tuple[str, list[str]]] = []
    if asked == "en":
        words = _LATIN.findall(question)
        for i, w in enumerate(words):
            if (i > 0 and w[0].isupper()) or (len(w) > 1 and w.isupper()):
                out.append((w, [t for t in tokens(w) if t in topic]))
        out += [(run, [t for t in tokens(run) if t in topic]) for run in _HAN_RUN.findall(question)]
    else:
        out += [(w, [t for t in tokens(w) if t in topic]) for w in _LATIN.findall(question)]
    return [(w, terms) for w, terms in out if terms]


def wanted(question: str) -> re.Pattern[str] | None:
    """What the answer's sentence must hold for this question (a number, a time), if anything."""
    q = normalize(question)
    if _WANTS_NUMBER.search(q):
        return _NUMBER
    if _WANTS_TIME.search(q):
        return _TIME_WORD
    return None


def slot(question: str) -> str | None:
    """The kind of name the question asks for ("person", "named"), if any."""
    q = normalize(question)
    if len(re.findall(r"[?？]", q)) > 1 or re.search(r"\band\b|以及|还有|和谁", q):
        # Several things asked at once ("budget and who signs off?"): a note may hold any.
        return None
    for kind, pattern in _WANTS_SLOT.items():
        if pattern.search(q):
            return kind
    return None


def holds_slot(kind: str, sentence: str, question: str) -> bool:
    """Whether `sentence` names a `kind` the question does not name itself."""
    asked = normalize(question)
    for m in _SLOT_IN_SENTENCE[kind].finditer(to_simplified(sentence)):
        found = normalize(m.group(0)).strip(' 《》「」“”"')
        if found and found not in asked:
            return True
    return False


def read_together(
    question: str,
    notes: list[Cited],
    topic: set[str],
    *,
    passages: int,
    df: dict[str, int],
    book_df: dict[str, int],
) -> Reading:
    """How much of the question its best notes hold, read sentence by sentence.

    `df` counts passages under the question's filter (its customer), `book_df` every passage the
    asker may see: a term no note in the book holds names something the notes never mention.
    """
    want = wanted(question)
    if not topic:
        return Reading(0.0, 0.0, 0.0, 0.0, want is None, want is None, 0.0, True, (), False)
    weights = {t: idf(passages, df.get(t, 0)) for t in topic}
    total = sum(weights.values()) or 1.0
    foreign = sum(w for t, w in weights.items() if book_df.get(t, 0) == 0) / total
    cover = weighted = best = typed_share = 0.0
    asks = slot(question)
    slotted = asks is None
    typed = want is None
    crosslingual = bool(notes) and script(indexed_text(notes[0].text)[:300]) != script(question)
    unknown = tuple(
        w for w, terms in names(question, topic) if all(not book_df.get(t) for t in terms)
    )
    rare = max(topic, key=lambda t: (weights[t], t))
    rarest = False
    own = set(_DIGITS.findall(normalize(question)))
    shares: list[tuple[float, bool]] = []
    for note in notes:
        have = topic & set(tokens(indexed_text(note.text)))
        rarest = rarest or rare in have
        cover = max(cover, len(have) / len(topic))
        weighted = max(weighted, sum(weights[t] for t in have) / total)
        for s in note_sentences(note):
            share = sum(weights[t] for t in topic & set(tokens(s))) / total
            holds = False
            if want is not None:
                folded = normalize(s)
                # The question's own numbers ("the 10-building pilot") answer nothing.
                for n in own:
                    folded = folded.replace(n, " ")
                holds = want.search(folded) is not None
            # Across languages no term is shared: any sentence of the note may hold the answer.
            if (share > 0 or crosslingual) and holds:
                typed = True
            if holds or want is None:
                typed_share = max(typed_share, share)
            if asks is not None and (share > 0 or crosslingual) and not slotted:
                slotted = holds_slot(asks, s, question)
            shares.append((share, holds))
            best = max(best, share)
    typed_best = want is None or any(h for sh, h in shares if sh > 0 and sh >= best / 2)
    if crosslingual:
        typed_best = typed
    return Reading(
        cover, weighted, best, foreign, typed, typed_best, typed_share, slotted, unknown, rarest
    )
