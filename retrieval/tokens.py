"""Words for the lexical index: stemmed English words, Chinese character bigrams."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import Stemmer

from crm_core.text import to_simplified

# Latin words and numbers ("soc", "2", "q3", "don't"); CJK ideographs (incl. extension A
# and the compatibility block) in runs, split into bigrams below. A word stops where Chinese
# starts: "用Franke" and "WMF报价多少" hold the word "franke" and "wmf" (as one run they held
# neither, and no question naming Franke or WMF found those notes).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[^\W_{_HAN}]+(?:['’][^\W_{_HAN}]+)?|[{_HAN}]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Question and function words that carry no topic; the index drops them on both sides.
ENGLISH_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        """a about above after again all also am an and any are as at be because been before being
        below between both but by can could did do does doing down during each few for from
        further had has have having he her here hers him his how i if in into is it its itself
        just last latest let me more most my no nor not now of off on once only or other our out
        over own recent recently same say said she should so some such tell than that the their
        theirs them then there these they this those through to too under until up us very was
        we were what when where which while who whom why will with would you your
        happen happened happening discuss discussed talk talked mention mentioned anything
        something news new update updates going on""",
    )
)
# Characters that only glue a Chinese sentence together; a bigram holding one is noise.
_ZH_GLUE = frozenset("的了吗呢吧么嘛是在和与或及也都就还又很把被给对向从跟让个这那哪些们啊呀吗")
_ZH_STOP_BIGRAMS = frozenset(
    re.findall(
        r"\w+",
        "什么 怎么 怎样 如何 为何 哪里 哪个 是否 有没 没有 关于 他们 我们 你们 客户 一下 上次 最近 "
        "一次 之前 以来 时候 说过 提到 提过 讲过 沟通 进展 情况 发生 事情 内容 讨论 说了 谈了 聊了",
    )
)


# English irregular verbs, past forms to the base the stemmer meets in the present: "who did we
# lose to" and "Lost to WMF", "who is buying" and "bought" share no stem otherwise.
_IRREGULAR = {
    past: base
    for base, forms in (
        ("begin", "began begun"),
        ("break", "broke broken"),
        ("bring", "brought"),
        ("build", "built"),
        ("buy", "bought"),
        ("catch", "caught"),
        ("choose", "chose chosen"),
        ("come", "came"),
        ("deal", "dealt"),
        ("do", "did done"),
        ("drive", "drove driven"),
        ("fall", "fell fallen"),
        ("feel", "felt"),
        ("find", "found"),
        ("fly", "flew flown"),
        ("forget", "forgot forgotten"),
        ("get", "got gotten"),
        ("give", "gave given"),
        ("go", "went gone"),
        ("grow", "grew grown"),
        ("hold", "held"),
        ("keep", "kept"),
        ("know", "knew known"),
        ("lead", "led"),
        ("leave", "left"),
        ("lend", "lent"),
        ("lose", "lost"),
        ("make", "made"),
        ("mean", "meant"),
        ("meet", "met"),
        ("pay", "paid"),
        ("rise", "rose risen"),
        ("run", "ran"),
        ("say", "said"),
        ("see", "saw seen"),
        ("seek", "sought"),
        ("sell", "sold"),
        ("send", "sent"),
        ("shake", "shook shaken"),
        ("show", "shown"),
        ("speak", "spoke spoken"),
        ("spend", "spent"),
        ("stand", "stood"),
        ("take", "took taken"),
        ("teach", "taught"),
        ("tell", "told"),
        ("think", "thought"),
        ("throw", "threw thrown"),
        ("understand", "understood"),
        ("win", "won"),
        ("withdraw", "withdrew withdrawn"),
        ("write", "wrote written"),
    )
    for past in forms.split()
}
# Forms that are names or words of their own too ("Rose", "LED", the won, "left", a saw,
# "Found"): mapped only as written in lower case ("costs rose", not "what did Rose say").
_NAMES_TOO = frozenset(["rose", "led", "won", "left", "saw", "found", "lent", "met"])


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Width-, case- and script-folded text (Traditional characters become Simplified)."""
    return to_simplified(unicodedata.normalize("NFKC", text)).casefold()


def plain(word: str) -> str:
    """A Latin word without its accents: "café" and "Lübeck" are typed "cafe" and "lubeck"."""
    if word.isascii():
        return word
    parts = unicodedata.normalize("NFKD", word)
    return unicodedata.normalize("NFC", "".join(c for c in parts if not unicodedata.combining(c)))


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [] if run in _ZH_GLUE else [run]
    out = []
    for i in range(len(run) - 1):
        gram = run[i : i + 2]
        if gram[0] in _ZH_GLUE or gram[1] in _ZH_GLUE or gram in _ZH_STOP_BIGRAMS:
            continue
        out.append(gram)
    return out


def tokens(text: str, *, stopwords: bool = True) -> list[str]:
    """Index terms of `text`: English words stemmed, Chinese runs as character bigrams."""
    out: list[str] = []
    latin: list[str] = []
    written = to_simplified(unicodedata.normalize("NFKC", text))
    folded = written.casefold()
    # Folding keeps lengths but for a few letters ("ß"): then a word's case is not read.
    aligned = len(folded) == len(written)
    for m in _WORD.finditer(folded):
        word = m.group()
        if _CJK.match(word):
            out.extend(_bigrams(word))
        else:
            word = plain(word.replace("’", "'").split("'")[0])
            if word not in _NAMES_TOO or (aligned and written[m.start()].islower()):
                word = _IRREGULAR.get(word, word)
            if word and not (stopwords and word in ENGLISH_STOPWORDS):
                latin.append(word)
    out.extend(_stemmer().stemWords(latin))
    return out


def has_cjk(text: str) -> bool:
    """Whether `text` holds any Chinese character."""
    return _CJK.search(text) is not None
