"""Records named inside a sentence: which visible customer, deal, contact or user it mentions.

`crm_core.resolve` reads a name typed where the grammar expects one; a loose sentence
("can you move the Acme fleet deal to won") names records somewhere in its words. These
functions find them among the records the actor may see only, with the span each one covers,
and say whether the words were the record's own (`exact`) or only close to them (a typo),
so the caller never writes to a guessed record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise, product
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from crm_core.access import book_filter, customer_filter
from crm_core.context import Ctx
from crm_core.models import Contact, Customer, Deal, User
from crm_core.name_index import NameBook, name_book
from crm_core.names_zh import TITLES
from crm_core.resolve import TAG_SHARED_BY, actor_owners, contains
from crm_core.services.duplicates import CN_PLACES
from crm_core.text import char_view, has_cjk, name_key, to_traditional

# Latin words (with inner apostrophes, dots and dashes) or runs of CJK characters. Accented
# letters are letters ("Farmácia", "Lumière", "Gaúcha"), not breaks inside a word.
_L = "a-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_WORD = re.compile(rf"[{_L}][{_L}'’&]*[{_L}]|[{_L}]|[\u3400-\u9fff]+")
# Words that name no record even when a name contains them.
_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "for",
        "to",
        "at",
        "in",
        "on",
        "with",
        "by",
        "from",
        "about",
        "me",
        "my",
        "our",
        "we",
        "i",
        "you",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "deal",
        "deals",
        "opportunity",
        "opp",
        "customer",
        "client",
        "account",
        "company",
        "new",
        "add",
        "log",
        "note",
        "call",
        "called",
        "meeting",
        "met",
        "visit",
        "visited",
        "email",
        "emailed",
        "that",
        "this",
        "they",
        "she",
        "he",
        "her",
        "him",
        "them",
        "his",
        "their",
        "please",
        "pls",
        "can",
        "could",
        "would",
        "will",
        "should",
        "let",
        "us",
        "just",
        "today",
        "tomorrow",
        "yesterday",
        "next",
        "last",
        "week",
        "month",
        "move",
        "push",
        "stage",
        "won",
        "lost",
        "up",
        "down",
        "off",
        "out",
        "over",
        "into",
        "as",
        "set",
        "mark",
        "show",
        "tell",
        "what",
        "whats",
        "how",
        "who",
        "when",
        "where",
        "why",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "get",
        "got",
        "want",
        "wants",
        "wanted",
        "need",
        "needs",
        "said",
        "says",
        "say",
        "quote",
        "group",
        "systems",
        "system",
        "services",
    ]
)
_CANDIDATE_ROWS = 3000
_TYPO = 84.0
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Mention:
    """One record a sentence names: its id, how it is shown, where, and how surely."""

    id: int
    label: str
    start: int
    end: int
    exact: bool
    # Words of the record's name matched (Latin words, or CJK characters / 2).
    weight: float
    owner_id: int | None = None
    # The record's whole name was said (every word, or every character), not its start.
    whole: bool = False


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int


def words_of(text: str) -> list[_Word]:
    """The words of `text` (on its character view), each with its span in `text`."""
    view = char_view(text)
    out = []
    for m in _WORD.finditer(view):
        word = m.group(0)
        end = m.end()
        for tail in ("'s", "’s"):
            if word.endswith(tail):
                word, end = word[: -len(tail)], end - len(tail)
        out.append(_Word(word.strip(".'’-"), m.start(), end))
    return out


def _patterns(words: list[_Word], *, typos: bool = False) -> list[str]:
    """Substrings a mentioned name's key must contain, for a cheap SQL prefilter: whole
    words, or (`typos`) their first three letters, which a misspelt name still shares."""
    found: list[str] = []
    for w in words:
        if _CJK.match(w.text):
            found += [w.text[i : i + 2] for i in range(max(1, len(w.text) - 1))]
        elif len(w.text) >= 3 and w.text not in _COMMON and not w.text.isdigit():
            found.append(w.text[:3] if typos else w.text)
    return list(dict.fromkeys(p for p in found if p))[:40]


# Words that say a company's trade or legal form ("Beacon *Express*", "Quarry *Retail*"): typed
# right after a name's first word in place of its own next word, they name another company.
_TRADE = frozenset(
    re.findall(
        r"[a-z]+",
        """express logistics retail group manufacturing digital power fuels fuel imports import
    exports export traders trading stores store market markets shipping materials concrete
    construction tooling components bakery pharma pharmaceuticals healthcare depot fabrication
    machine works utilities corporation corp inc ltd llc gmbh co company holdings partners
    industries labs solutions services foods energy motors freight transport transportation
    international global technologies tech software electronics mining metals steel chemicals
    farms airlines insurance consulting media telecom networks warehousing distribution
    enterprises ventures plc ag bv sa srl spa pty""",
    )
)


def _other_company(words: list[_Word], after: int, key_words: list[str], n: int) -> bool:
    """Whether the word after a partial name match is a trade word that is not the name's own
    next word ("beacon express" is not Beacon Logistics Inc.)."""
    if n >= len(key_words) or after >= len(words):
        return False
    word = words[after].text
    own = key_words[n]
    return word in _TRADE and word != own and fuzz.ratio(word, own) < _TYPO


def _latin_match(
    words: list[_Word], key_words: list[str], *, whole: bool = False
) -> tuple[int, int, int, bool] | None:
    """The longest run of the text's words equal to the name's first words (a typo allowed in
    a long first word): (start, end, words matched, exact). With `whole` (company names), a run
    followed by another trade word than the name's own is no match."""
    best: tuple[int, int, int, bool] | None = None
    for i, w in enumerate(words):
        first = key_words[0]
        if w.text == first:
            exact = True
        elif len(first) >= 4 and len(w.text) >= 4 and fuzz.ratio(w.text, first) >= _TYPO:
            exact = False
        else:
            continue
        n = 1
        while n < len(key_words) and i + n < len(words) and words[i + n].text == key_words[n]:
            n += 1
        if first in _COMMON and n == 1 and len(key_words) > 1:
            continue
        if whole and _other_company(words, i + n, key_words, n):
            continue
        cand = (w.start, words[i + n - 1].end, n, exact)
        if best is None or (n, exact) > (best[2], best[3]):
            best = cand
    return best


def _cjk_match(text_view: str, key: str) -> tuple[int, int, int] | None:
    """The longest prefix (two characters or more) of a CJK name found in the text."""
    for size in range(len(key), 1, -1):
        at = text_view.find(key[:size])
        if at >= 0:
            return at, at + size, size
    return None


# Places a company's name starts with: the provinces and large cities, and Taiwan's cities.
_PLACES = (*CN_PLACES, "台中", "台南", "高雄", "新竹", "桃园", "彰化", "嘉义", "基隆", "屏东")

# Words of a Chinese company name that say its trade or legal form, not which company it is:
# "青岛联创制造有限公司" is named "联创", never "制造" or "有限公司".
_ZH_GENERIC = re.compile(
    r"^(?:有限|公司|股份|集团|控股|实业|工业|发展|国际|贸易|物流|运输|制造|医药|医疗|电子|科技|技术|"
    r"信息|软件|网络|食品|餐饮|能源|建筑|建设|零售|商贸|供应链|冷链|仓储|设备|机械|化工|汽车)"
)


# Words of a company's trade that stand right after its place and district as often as its own
# name does ("深圳鹿角咖啡": 咖啡 is the trade): never the words that name it.
_ZH_TRADE = re.compile(
    r"^(?:咖啡|酒店|饭店|宾馆|餐厅|餐馆|茶餐|烘焙|面包|律师|会计|会议|会展|度假|精品|连锁|共享|办公|"
    r"文创|创意|文化|传媒|广告|咨询|服务|管理|教育|培训|健康|生物|环保|地产|置业|投资|金融|银行|"
    r"保险|证券|电器|家居|服饰|服装|农业|酒业|茶业|商旅|商务|旅游|旅行|物业|园区|医院|诊所|药业|"
    r"百货|超市|商场|广场|中心|大厦|工作|娱乐|影视|体育|运动|汽配|五金|印刷|包装|纺织|新能源|艺文|文艺|"
    # A solar or power company's trade is also what its deals are called ("屋頂光電").
    r"光电|光伏|储能|电力|太阳能)"
)
# Two characters of a name that are a common word too, standing in another thing's name or as
# the thing itself: "云栖大会" (a conference), "晶华酒店" (another hotel), "老宅改建", "吹海风",
# "睇海景". Two characters alone count only when none of these is around them.
_ZH_OTHER_AFTER = re.compile(
    r"大会|酒店|饭店|活动|改建|公园|景区|夜市|老街|博物馆|展览|展会|论坛|峰会|音乐节|庙会|市集|集市|"
    r"海边|沙滩|小镇|古镇|机场|车站"
)
_ZH_SIGHT_BEFORE = re.compile(r"(?:吹|睇|看|望|赏|游|逛|去咗睇|去看)$")


# What a name's two pieces may not stand across: a break between clauses or words.
_PIECE_BREAK = re.compile(r"[\s,，。.;；!！?？]")


def _match(
    text: str, view: str, words: list[_Word], key: str
) -> tuple[int, int, bool, float] | None:
    if not key:
        return None
    if _CJK.match(key):
        hit = _cjk_match(view, key)
        core = None
        if len(key) >= 6 and not _ZH_GENERIC.match(key[2:]):
            # A company name after its place: "联创" names "青岛联创制造有限公司".
            core = _cjk_match(view, key[2:])
        if (
            core is None
            and len(key) >= 8
            and not _ZH_GENERIC.match(key[4:])
            and not _ZH_TRADE.match(key[4:])
        ):
            # After its city and district: "腾跃" names "深圳南山腾跃科技有限公司".
            core = _cjk_match(view, key[4:])
        if core is None and 4 <= len(key) < 6:
            # A short key after its legal form went ("台中精機股份有限公司" keys as 台中精机):
            # its own name after a place it starts with ("精機").
            place = next((p for p in _PLACES if key.startswith(p)), None)
            own = key[len(place) :] if place else ""
            if len(own) >= 2 and not _ZH_GENERIC.match(own) and not _ZH_TRADE.match(own):
                core = _cjk_match(view, own)
        if hit is None:
            hit = core
        elif core is not None and hit[2] == 2 and (core[1] <= hit[0] or hit[1] <= core[0]):
            # Its place and its own name apart ("駁二的城市改成高雄市..."): both count, and the
            # name is where it stands.
            return core[0], core[1], True, (core[2] + hit[2]) / 2
        if hit is None:
            return None
        rest = key[hit[2] :]
        if hit[2] >= 2 and len(rest) >= 2 and not _ZH_GENERIC.match(rest):
            # The name said in two pieces with a word or two between ("四川华西那个康宁医院"):
            # both pieces count, so it outweighs a shorter name holding only the second.
            gap = view[hit[1] : hit[1] + 4 + len(rest)]
            later = _cjk_match(gap, rest)
            between = gap[: later[0]] if later is not None else ""
            if later is not None and later[0] <= 4 and not _PIECE_BREAK.search(between):
                return hit[0], hit[1] + later[1], True, (hit[2] + later[2]) / 2
            # Or the second piece first ("康宁医院（四川华西那个）").
            lead = view[max(0, hit[0] - 4 - len(rest)) : hit[0]]
            before = _cjk_match(lead, rest)
            if (
                before is not None
                and len(lead) - before[1] <= 4
                and not _PIECE_BREAK.search(lead[before[1] :])
            ):
                start = hit[0] - len(lead) + before[0]
                return start, hit[1], True, (hit[2] + before[2]) / 2
        if (
            hit[1] - hit[0] == 2
            and (
                _ZH_OTHER_AFTER.match(view, hit[1])
                # "吹海風, ...", "睇海景, 好靚": the scene ending its clause ("看看汇通的..."
                # names a customer).
                or (
                    _ZH_SIGHT_BEFORE.search(view, 0, hit[0])
                    and re.match(r"\s*(?:[,，。.!！;；~]|$)", view[hit[1] :])
                )
            )
        ):
            return None
        return hit[0], hit[1], True, hit[2] / 2
    found = _latin_match(words, key.split(), whole=True)
    after = _after_lead_trade(words, key.split())
    if after is not None and (
        found is None or (after[2], after[3], -after[0]) > (found[2], found[3], -found[0])
    ):
        # "Bellard tags: bellard, boulangerie": the name where it stands first, not its
        # shop's kind said later as a word.
        found = after
    if found is None:
        return None
    start, end, n, exact = found
    return start, end, exact, float(n)


# A shop's kind that leads its name in French, Portuguese, Spanish or Italian ("Farmácia Boa
# Vida", "Boulangerie Bellard", "Pharmacie des Terreaux"): people call it by the words after it.
_LEAD_TRADE = frozenset(
    re.findall(
        r"\S+",
        """farmácia farmacia pharmacie drogaria boulangerie pâtisserie patisserie confiserie
    chocolaterie fromagerie épicerie epicerie vinícola vinicola domaine château chateau bodega
    bodegas cantina clínica clinica clinique laboratoire laboratório laboratorio padaria
    confeitaria doceria mercearia supermercado empório emporio loja livraria papelaria
    restaurante ristorante trattoria osteria brasserie pousada distillerie cervejaria fazenda
    quinta tenuta azienda librairie imprimerie""",
    )
)
# The little words between the shop's kind and its own name ("Pharmacie *des* Terreaux").
_NAME_ARTICLES = frozenset(re.findall(r"\S+", "de des du d la le les da do das dos di del della"))


def _after_lead_trade(
    words: list[_Word], key_words: list[str]
) -> tuple[int, int, int, bool] | None:
    """The name said without the shop's kind leading it ("Boa Vida" for Farmácia Boa Vida):
    all of its own words, exactly, and at least two of them or one long uncommon one."""
    if len(key_words) < 2 or key_words[0] not in _LEAD_TRADE:
        return None
    rest = key_words[1:]
    while rest and rest[0] in _NAME_ARTICLES:
        rest = rest[1:]
    if not rest or (len(rest) == 1 and (len(rest[0]) < 5 or rest[0] in _COMMON | _TRADE)):
        return None
    found = _latin_match(words, rest, whole=True)
    if found is None or not found[3] or found[2] < len(rest):
        return None
    return found


def find_customers(ctx: Ctx, text: str) -> list[Mention]:
    """Visible customers the text names, best first (longest match, exact before typo).

    Names holding one of the text's words first; only when none is named exactly, names
    sharing a word's first letters (the typos, offered as a question, never taken).
    """
    words = words_of(text)
    view = char_view(text)
    found: list[Mention] = []
    for typos in (False, True):
        patterns = _patterns(words, typos=typos)
        if not patterns:
            return found
        rows = ctx.session.execute(
            select(Customer.id, Customer.name, Customer.name_key, Customer.owner_id)
            .where(
                customer_filter(ctx.actor),
                or_(*(contains(Customer.name_key, p) for p in patterns)),
            )
            .limit(_CANDIDATE_ROWS)
        ).all()
        found = _ranked(text, view, words, [(r[0], r[1], r[2], r[3]) for r in rows])
        if any(m.exact for m in found):
            return _with_tag_clashes(ctx, text, view, words, found)
        if not typos:
            # No name said in full: a short name the customer is tagged with ("Freo", "鹿角").
            tagged = _by_tag(ctx, text, view, words)
            if tagged:
                return tagged
    return found


def find_archived_customers(ctx: Ctx, text: str) -> list[Mention]:
    """Archived customers of the actor's book the text names, by name or short-name tag, best
    first: the ones `unarchive` may bring back (lists and searches never show them)."""
    words = words_of(text)
    view = char_view(text)
    rows = ctx.session.execute(
        select(Customer.id, Customer.name, Customer.name_key, Customer.owner_id, Customer.tags)
        .where(
            book_filter(ctx.actor),
            Customer.merged_into.is_(None),
            Customer.archived_at.is_not(None),
        )
        .limit(_CANDIDATE_ROWS)
    ).all()
    found = _ranked(text, view, words, [(r[0], r[1], r[2], r[3]) for r in rows])
    named = {m.id for m in found if m.exact}
    for rid, label, _key, owner, tags in rows:
        if rid in named:
            continue
        for tag_key in name_tags(label, tags):
            hit = _match(text, view, words, tag_key)
            if hit is not None and hit[2]:
                found.append(Mention(rid, label, hit[0], hit[1], True, hit[3], owner))
                break
    found.sort(key=lambda m: (-m.weight, not m.exact, m.id))
    return found


def _with_tag_clashes(
    ctx: Ctx, text: str, view: str, words: list[_Word], found: list[Mention]
) -> list[Mention]:
    """`found` (names said) with the customers whose tag is said where the start of another's
    name is: "harbour" is Harbour Foods' first word and Kowloon Bay Hotel's tag, so both are
    mentioned there, as surely, and the caller asks instead of taking the named one.

    A tag only ties: it is weighed as the name it clashes with (a nickname tag that says more
    words, "Harbour Lights" over Harbour Foods' "harbour", outweighs it), and never against a
    whole name said ("Harbour Foods" in full, or a customer called just "Harbour"), which names
    one record: see resolve._one_named_exactly.
    """
    said = [m for m in found if m.exact]
    if all(m.whole for m in said):
        return found  # whole names only: no tag can tie with them, and no scan is needed
    ids = {m.id for m in found}
    added: list[Mention] = []
    for tag, short in _tag_hits(ctx, text, view, words, any_tag=True):
        over = [m for m in said if m.start < tag.end and tag.start < m.end]
        if tag.id in ids or not over:
            continue
        if any(m.whole and m.weight >= tag.weight for m in over):
            continue
        best = max(m.weight for m in over)
        if tag.weight < best:
            continue  # the name says more of itself than the tag does
        weight = tag.weight if short else best
        added.append(Mention(tag.id, tag.label, tag.start, tag.end, True, weight, tag.owner_id))
        ids.add(tag.id)
    if not added:
        return found
    out = found + added
    out.sort(key=lambda m: (-m.weight, not m.exact, m.id))
    return out


# A tag carried by more customers than this is a kind of customer ("hotel"), not a short name.
_TAG_SHARED_BY = TAG_SHARED_BY


def name_tags(name: str, tags: list[str] | None) -> list[str]:
    """The tags that are short names of a customer, as keys: a Latin tag written with a capital
    ("Freo", "Ken Grand", "CGP"), or Chinese characters standing in its name ("鹿角")."""
    spaced = name_key(name)
    key = spaced.replace(" ", "")
    out = []
    for tag in tags or []:
        if not isinstance(tag, str):
            continue
        tag_key = name_key(tag)
        if not tag_key or tag_key in _COMMON:
            continue
        if _CJK.search(tag_key):
            if len(tag_key) >= 2 and _abbreviates(tag_key.replace(" ", ""), key):
                out.append(tag_key)
        elif len(tag_key.replace(" ", "")) < 3:
            continue
        elif any(ch.isupper() for ch in tag) or _latin_short_name(tag, tag_key, spaced):
            out.append(tag_key)
    return out


def _abbreviates(tag: str, key: str) -> bool:
    """Whether a Chinese tag is the name's own characters, in order: a piece of it ("康宁医院")
    or its usual short form, leaving words out ("锦城酒店" of 成都锦城国际酒店, "和平小学" of
    台北市和平实验小学); its first two characters stand together in the name, or its first
    character opens the name (a couple's surnames: "陈黄婚宴" of 陈志伟黄淑芬婚宴)."""
    if tag in key:
        return True
    # A couple's two surnames, then the event ("陈黄婚宴" of 陈志伟黄淑芬婚宴, "林張婚禮" of
    # 林冠宇張雅筑婚禮): the first character opens the name, the rest stand in it in order.
    if len(tag) < 3 or (tag[:2] not in key and tag[0] != key[:1]):
        return False
    at = 0
    for ch in tag:
        at = key.find(ch, at) + 1
        if at == 0:
            return False
    return True


def _latin_short_name(tag: str, tag_key: str, name: str) -> bool:
    """A lowercase Latin tag that is a short name: the English name of a Chinese-named customer
    in two words or more ("harbour lights"), the initials of its name ("cgp"), or a clipping
    sharing its first three letters ("freo" for Fremantle, "ken grand" for Kensington Grand)."""
    words = name.split()
    if _CJK.search(name):
        return len(tag_key.split()) >= 2 and "-" not in tag
    initials = "".join(w[0] for w in words if w not in _COMMON)
    return (len(words) >= 3 and tag_key == initials) or (tag_key[:3] == words[0][:3])


def _by_tag(ctx: Ctx, text: str, view: str, words: list[_Word]) -> list[Mention]:
    """Visible customers whose short-name tag the text holds, never a tag many share."""
    return [m for m, _ in _tag_hits(ctx, text, view, words, any_tag=False)]


def _tag_keys(tags: list[str] | None) -> list[str]:
    """Every tag's key that could be something a customer is called (not a common word, three
    letters or two Chinese characters at least)."""
    out = []
    for tag in tags or []:
        key = name_key(tag) if isinstance(tag, str) else ""
        if key and key not in _COMMON and len(key.replace(" ", "")) >= (2 if has_cjk(key) else 3):
            out.append(key)
    return out


def _tag_hits(
    ctx: Ctx, text: str, view: str, words: list[_Word], *, any_tag: bool
) -> list[tuple[Mention, bool]]:
    """Visible customers whose tag the text holds, each with whether that tag is a short name
    (`name_tags`); with `any_tag` every tag counts, else short names only. Never a tag many
    share.

    Read from the name index's tag map (migration 0036 keeps it current), not a scan of every
    visible customer's tags as text: only the keys the text could say (by their first word or
    two characters) are tried.
    """
    # One copy per command: the loose reading that calls this does so a few times, always
    # before anything is written (a card is answered; Confirm runs the grammar line), so the
    # copy read first stays the book's as of this command.
    book = ctx.memo.get("tag_book")
    if not isinstance(book, NameBook):
        book = ctx.memo["tag_book"] = name_book(ctx.session)
    owners = actor_owners(ctx)
    hits: dict[str, list[tuple[Mention, bool]]] = {}
    for tag_key in book.tag_keys_in(view, [w.text for w in words]):
        cjk = _CJK.match(tag_key) is not None
        if any_tag and tag_key not in _tag_keys([tag_key]):
            continue  # a common word, or too short to be anything's name
        hit = _match(text, view, words, tag_key)
        if hit is None or not hit[2]:
            continue
        if cjk and hit[1] - hit[0] < len(tag_key):
            continue  # A Chinese tag counts said whole, never by its first characters.
        if not cjk and hit[3] < len(tag_key.split()):
            continue
        if not cjk and re.search(r"\b(?:in|from|around|near|outside|via)\s+$", view[: hit[0]]):
            continue  # "a new place in freo": the place the customer is named for
        for rid, label, tags_text, owner in book.tag_rows(tag_key, owners):
            tags = _json_tags(tags_text)
            short = tag_key in name_tags(label, tags)
            if not any_tag and not short:
                continue
            hits.setdefault(tag_key, []).append(
                (Mention(rid, label, hit[0], hit[1], True, hit[3], owner), short)
            )
            if len(hits[tag_key]) > _TAG_SHARED_BY:
                break  # a kind of customer many carry: dropped below, no need to count on
    out = [m for ms in hits.values() if len(ms) <= _TAG_SHARED_BY for m in ms]
    out.sort(key=lambda m: (-m[0].weight, m[0].id))
    return out


def _json_tags(text: str | None) -> list[str]:
    """A customer's tags from the name index's JSON text."""
    try:
        tags = json.loads(text) if text else []
    except ValueError:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _ranked(
    text: str, view: str, words: list[_Word], rows: list[tuple[int, str, str, int | None]]
) -> list[Mention]:
    out = []
    for rid, label, key, owner in rows:
        hit = _match(text, view, words, key)
        if hit is not None:
            cjk = _CJK.match(key) is not None
            whole = hit[2] and (view[hit[0] : hit[1]] == key if cjk else hit[3] == len(key.split()))
            out.append(Mention(rid, label, hit[0], hit[1], hit[2], hit[3], owner, whole))
    out.sort(key=lambda m: (-m.weight, not m.exact, m.id))
    return out


# Words of deal titles in the other language: a Chinese message names an English title
# ("Thunderbird 的續約" is its "2026 renewal") and an English one a Chinese title. Each Chinese
# term (Simplified; Traditional text is read in Simplified) with the English words it stands for.
_TITLE_WORDS = {
    "续约": "renewal", "续签": "renewal", "续费": "renewal", "数据迁移": "data migration",
    "资料迁移": "data migration", "迁移": "migration", "冷链": "cold-chain cold chain",
    "传感器": "sensors", "堆场": "yard", "场站": "yard", "库存": "inventory",
    "年度支持": "annual support", "年度": "annual", "支持": "support", "合同": "contract",
    "合约": "contract",
    "路线优化": "route optimisation optimization", "路线": "route", "车队": "fleet",
    "车队跟踪": "fleet tracking", "司机端": "driver app", "司机": "driver", "扫描器": "scanners",
    "扫描枪": "scanners", "扫描": "scanners scanner", "标签打印机": "label printers",
    "打印机": "printers", "标签": "label", "分析看板": "analytics dashboard",
    "看板": "dashboard", "仪表盘": "dashboard", "报表": "analytics", "培训": "training",
    "月台": "dock", "调度": "scheduling", "高级支持": "premium support", "仓库": "warehouse",
    "仓储": "warehouse", "试点": "pilot", "对接": "connector", "接口": "api",
}  # fmt: skip
_EN_TITLE_WORDS: dict[str, list[str]] = {}
for _zh, _en in _TITLE_WORDS.items():
    for _word in _en.split():
        _EN_TITLE_WORDS.setdefault(_word, []).append(_zh)


def _translated(view: str, words: list[_Word]) -> tuple[str, list[_Word]]:
    """The text's view and words with the other language's title words added (at the spans of
    the words they translate), so either language names a deal."""
    extra: list[_Word] = []
    for zh, en in _TITLE_WORDS.items():
        at = view.find(zh)
        if at >= 0:
            extra += [_Word(word, at, at + len(zh)) for word in en.split()]
    added = [zh for w in words for zh in _EN_TITLE_WORDS.get(w.text, ())]
    return view + " " + " ".join(added) if added else view, [*words, *extra]


def title_words_named(text: str, title: str) -> set[str]:
    """The words of a Latin title the text names, in either language ("續約" names "renewal")."""
    _, words = _translated(char_view(text), words_of(text))
    said = {w.text for w in words}
    return {
        p
        for p in name_key(title).split()
        if p in said or (len(p) >= 5 and any(w[:5] == p[:5] for w in said))
    }


def find_deals(
    ctx: Ctx,
    text: str,
    *,
    customer_id: int | None = None,
    open_stages: list[str] | None = None,
    translate: bool = True,
) -> list[Mention]:
    """Visible deals whose title's words the text uses (of one customer when given), best first.

    A deal counts with one distinctive word of its title ("the fleet deal"); the weight is how
    many of its words the text uses.
    """
    words = words_of(text)
    view = char_view(text)
    stmt = (
        select(Deal.id, Deal.title, Deal.title_key, Customer.name)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(customer_filter(ctx.actor))
    )
    if open_stages is not None:
        stmt = stmt.where(Deal.stage.in_(open_stages))
    if customer_id is not None:
        stmt = stmt.where(Deal.customer_id == customer_id)
    else:
        patterns = _patterns(words)
        if not patterns:
            return []
        stmt = stmt.where(or_(*(contains(Deal.title_key, p) for p in patterns)))
    rows = ctx.session.execute(stmt.limit(_CANDIDATE_ROWS)).all()
    typed = {w.text for w in words if not _CJK.match(w.text)}
    # Another language's words count for one customer's deals only: across every customer a
    # translated word is too weak to pick a deal.
    both = _translated(view, words) if customer_id is not None and translate else (view, words)
    out = []
    for rid, title, key, customer in rows:
        score, span, whole = _title_score(both[0], both[1], typed, key)
        if span[0] >= len(view):
            span = (0, 0)
        if score > 0:
            # `exact`: every distinctive word of the title is in the text.
            out.append(Mention(rid, f"{title} ({customer})", span[0], span[1], whole, score))
    out.sort(key=lambda m: (-m.weight, m.id))
    return out


def _title_score(
    view: str, words: list[_Word], typed: set[str], key: str
) -> tuple[float, tuple[int, int], bool]:
    """How many distinctive words of a title the text uses, where the first one is, and
    whether it uses them all."""
    if _CJK.search(key):
        # The title's pieces (two characters or more) the text uses, longest first: "培训二期"
        # names "培训服务二期" by 培训 and 二期, "车队系统" names "车队管理系统采购".
        core = re.sub(r"[^\u3400-\u9fff]", "", key)
        rest, covered, first = core, 0, None
        while True:
            found = _longest_piece(view, rest)
            if found is None:
                break
            piece, at = found
            covered += len(piece)
            first = first or (at, at + len(piece))
            rest = rest.replace(piece, "\x00", 1)
        if first is None:
            return 0.0, (0, 0), False
        return covered / 2, first, covered == len(core)
    score = 0.0
    span: tuple[int, int] | None = None
    parts = [p for p in key.split() if len(p) >= 3 and p not in _COMMON and not p.isdigit()]
    for part in parts:
        hit = next(
            (w for w in words if w.text == part or (len(part) >= 5 and w.text[:5] == part[:5])),
            None,
        )
        if hit is not None:
            score += 1
            span = span or (hit.start, hit.end)
    return score, span or (0, 0), bool(parts) and score == len(parts)


def _longest_piece(view: str, core: str) -> tuple[str, int] | None:
    """The longest run (two characters or more) of `core` found in `view`, and where."""
    for size in range(len(core), 1, -1):
        for i in range(len(core) - size + 1):
            piece = core[i : i + size]
            if "\x00" in piece:
                continue
            at = view.find(piece)
            if at >= 0:
                return piece, at
    return None


def find_contacts(ctx: Ctx, text: str, *, customer_id: int | None = None) -> list[Mention]:
    """Visible contacts the text names by full name, first name or (Chinese) surname + title."""
    words = words_of(text)
    view = char_view(text)
    typed = [w for w in words if not _CJK.match(w.text) and w.text not in _COMMON]
    cjk = "".join(w.text for w in words if _CJK.match(w.text))
    stmt = (
        select(Contact.id, Contact.name, Contact.customer_id, Customer.name, Contact.title)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(customer_filter(ctx.actor))
    )
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    else:
        likes: list[Any] = [
            contains(Contact.name, w.text.title()) for w in typed if len(w.text) >= 3
        ]
        # A name is stored as typed (Traditional or Simplified): the characters as typed and
        # in their Simplified view both find it ("鄭主委" finds 鄭凱文 by 郑 too).
        typed_cjk = "".join(text[w.start : w.end] for w in words if _CJK.match(w.text))
        chars = list(dict.fromkeys(cjk + typed_cjk + to_traditional(cjk, phrases=False)))
        likes += [contains(Contact.name, ch) for ch in chars][:60]
        if not likes:
            return []
        stmt = stmt.where(or_(*likes))
    out = []
    rows = ctx.session.execute(stmt.limit(_CANDIDATE_ROWS)).all()
    for rid, name, cust_id, cust_name, title in rows:
        key = name_key(name)
        hit = _contact_hit(view, words, key, char_view(title or ""))
        if hit is not None:
            out.append(Mention(rid, f"{name} ({cust_name})", hit[0], hit[1], True, hit[2], cust_id))
    # "陈丽华" holds 陈丽: a name found inside a longer one found at the same place is not said.
    out = [
        m
        for m in out
        if not any(
            o.start <= m.start and m.end <= o.end and o.end - o.start > m.end - m.start for o in out
        )
    ]
    out.sort(key=lambda m: (-m.weight, m.id))
    return out


# 王总, 李经理, 张工, 陈生 (Cantonese Mr), 陈太 (Mrs): a Chinese surname and a title name a person
# (the titles are crm_core.names_zh.TITLES).
_ZH_TITLES = TITLES

# 金水伯, 阿土兄, 慧明师父: a given name and a word of kinship or respect name a person too
# (Hokkien and Taiwanese 伯/兄, a monk's 师父), with the surname left out.
_ZH_KIN = ("伯", "叔", "兄", "哥", "姐", "嫂", "姨", "师父", "师傅")

# Characters that end a person's name in a sentence ("陈丽的电话", "陈丽手机换了", "陈丽说"): a
# two-character name followed by any other character and then one of these (or the end) is
# the start of a longer name ("陈丽华的电话"), never this person.
_NAME_FOLLOWERS = frozenset(
    "说话讲想要问回电发约的那这们已刚在也还就都会让叫觉同和跟今明昨得来去打过提答确表反认很对"
    "手邮微号生职岗新最现升换改调离入转负是为有没不再又下上后前把将被给与及"
)


# 生 or 太 (Cantonese Mr, Mrs) inside a word ("提高生产", "如何生成", "太太"): the surname and title
# are then a word's characters, no person. Words that lead to a person or follow one let it stand.
_BEFORE_PERSON = frozenset("和跟同与的找给问约叫请系访诉见电位向对让帮把被")
_AFTER_PERSON = frozenset(
    "说话讲想要问回电发约的那这们已刚在也还就都会让叫觉同和跟今明昨得来去打过提答确表反认很对"
)
_WORD_AFTER = frozenset("产成意日活多贵忙体结监经部裁价计量额数务线共合统长平动力")


def _alone(view: str, start: int, end: int) -> bool:
    """Whether a surname and one-character title at view[start:end] stand as a form of address."""
    after = view[end : end + 1]
    if after in _WORD_AFTER and after:
        return False
    before = view[start - 1 : start] if start else ""
    return (
        not before
        or not _CJK.match(before)
        or before in _BEFORE_PERSON
        or not after
        or not _CJK.match(after)
        or after in _AFTER_PERSON
    )


# Titles that say one job: "鄭校長" is not a contact stored as 課長 (总, 先生, 生, 太 say less).
_JOB_TITLES = frozenset((
    "经理", "主任", "副总", "主委", "校长", "院长", "处长", "科长", "课长", "部长", "厂长", "医生",
    "教授", "律师", "组长", "主席", "董事长", "总监", "社长", "场主", "班长", "主管",
))  # fmt: skip


# Adverbs said right after a name, before its verb ("刚回电话", "又打来"): never a given name's
# third character then, though 刚 is one in "王磊刚的…".
_ADVERBS = frozenset("刚剛才又也都就还還已")


# Characters common in given names and seldom the start of the word after a name (no 明, 新,
# 生, 成, 开, 来...): "陈丽华" is a name, "陈丽开会" is 陈丽 at a meeting.
_GIVEN_CHARS = frozenset(
    "华丽伟芳强军敏静秀英杰涛勇艳娟霞刚桂辉玲红兰志波燕婷雪琳晶峰鹏俊斌磊鑫宏亮龙凤梅萍莉颖娜"
    "慧佳欣洁琴倩雯君荣坤健云彬帆婉蓉薇琪怡璐瑶晨丹骏豪博翔瑞晓振庆德福祥昌贵珍芬淑惠玉兵"
)


def _starts_longer_name(view: str, end: int) -> bool:
    """Whether the two-character name ending at `end` runs on into a three-character one:
    "陈丽华的…" is not 陈丽's ("陈丽手机…", "陈丽下周来…", "高磊开会" are)."""
    nxt = view[end : end + 1]
    if nxt not in _GIVEN_CHARS:
        return False
    after = view[end + 1 : end + 2]
    if nxt in _ADVERBS and _CJK.match(after) and after not in "的之":
        # "王磊刚回电话", "陈丽刚发微信": 刚 (just) before a verb is the adverb, not a given name.
        return False
    return not after or not _CJK.match(after) or after in _NAME_FOLLOWERS


def _contact_hit(
    view: str, words: list[_Word], key: str, stored_title: str = ""
) -> tuple[int, int, float] | None:
    if _CJK.match(key):
        at = view.find(key)
        while at >= 0 and len(key) == 2 and _starts_longer_name(view, at + 2):
            at = view.find(key, at + 1)
        if at >= 0:
            return at, at + len(key), 2.0
        if len(key) == 3:
            # "金水伯" (黄金水), "阿土兄" (陈阿土): the given name with a word of kinship.
            for kin in _ZH_KIN:
                at = view.find(key[1:] + kin)
                if at >= 0:
                    return at, at + 2 + len(kin), 1.5
        for title in _ZH_TITLES:
            if stored_title and title in _JOB_TITLES and title not in stored_title:
                continue
            at = view.find(key[0] + title)
            while at >= 0:
                if title not in ("生", "太") or _alone(view, at, at + 2):
                    return at, at + 1 + len(title), 1.0
                at = view.find(key[0] + title, at + 1)
        return None
    parts = key.split()
    found = _latin_match(words, parts)
    if (found is None or not found[3]) and len(parts) > 1 and parts[0] in _HONORIFICS:
        # "Dr. Amy Bishop" said "doctor amy bishop" or "amy": the person, without the title.
        found = _latin_match(words, parts[1:])
    if found is not None and found[3]:
        return found[0], found[1], float(found[2])
    if len(parts) > 1 and parts[-1] not in _HONORIFICS:
        # "Ms Bond", "Mr. Power": a title and the surname name the person, as 陈总 does.
        for before, word in pairwise(words):
            if word.text == parts[-1] and before.text in _ADDRESS and word.start - before.end <= 2:
                return before.start, word.end, 1.0
    return None


# Titles said in front of a surname ("Ms Bond", "Dr Lee"): not "sir" or "sr" (a first name
# follows them), nor "fr" or "sis".
_ADDRESS = frozenset(["mr", "mrs", "ms", "miss", "dr", "prof", "mister", "madam", "doctor"])

# Titles stored in front of a contact's name ("Dr. Amy Bishop", "Engr. Dante Villanueva", "Sr.
# Teresa Cruz"): the name is also said without them.
_HONORIFICS = frozenset(
    ["dr", "mr", "mrs", "ms", "miss", "engr", "eng", "sr", "sis", "atty", "prof", "fr", "sir"]
)


def find_users(ctx: Ctx, text: str) -> list[Mention]:
    """Staff members named by `@handle`, handle, or first name."""
    words = {w.text: w for w in words_of(text)}
    view = char_view(text)
    out = []
    for user in ctx.session.scalars(select(User).where(User.active.is_(True))).all():
        names = {(user.external_id or "").casefold(), *user.name.casefold().split()[:1]}
        for n in names - {""}:
            if n in words and n not in _COMMON:
                w = words[n]
                out.append(Mention(user.id, user.name, w.start, w.end, True, 1.0))
                break
        else:
            if (at := _chinese_name_at(ctx, view, user.name)) is not None:
                out.append(Mention(user.id, user.name, at[0], at[1], True, 1.0))
    return out


def _chinese_name_at(ctx: Ctx, view: str, name: str) -> tuple[int, int] | None:
    """Where a colleague's Chinese name stands in `view`: the whole name ("林淑芬") or, for a
    three-character name, its two-character given name ("淑芬", as colleagues call each other);
    None when it is absent, appears twice (no telling which is meant), or the given name is also
    part of a contact's name ("王淑芬" is a customer's person, not the colleague)."""
    stored = name.strip()
    name = char_view(stored)
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name):
        return None
    if view.count(name) == 1:
        at = view.index(name)
        return at, at + len(name)
    given = name[1:] if len(name) == 3 else ""
    if not given or view.count(given) != 1:
        return None
    # Stored as typed (區健樂) or folded (区健乐): both forms are looked for, in contacts' and
    # customers' names, and in the customers' tags the text holds (a customer tagged 健乐 is no
    # colleague 區健樂).
    forms = {given, stored[1:], to_traditional(given)}
    for form in forms:
        shared = ctx.session.scalar(
            select(Contact.id).where(Contact.name.contains(form)).limit(1)
        ) or ctx.session.scalar(select(Customer.id).where(Customer.name.contains(form)).limit(1))
        if shared is not None:
            return None
    book = ctx.memo.get("tag_book")
    if not isinstance(book, NameBook):
        book = ctx.memo["tag_book"] = name_book(ctx.session)
    if any(given in key for key in book.tag_keys_in(view, [w.text for w in words_of(view)])):
        return None
    at = view.index(given)
    return at, at + len(given)


def find_users_by_sound(ctx: Ctx, text: str) -> list[Mention]:
    """Staff with a romanized name that Chinese characters in the text read as: "小于" is Xiao
    Yu, "雅慧" is Tsai Ya-hui's given name. Only a reading that names one person counts."""
    from crm_core.names_zh import given_readings  # pypinyin loads only when asked

    keys: dict[str, set[int]] = {}
    for user in ctx.session.scalars(select(User).where(User.active.is_(True))).all():
        parts = re.sub(r"[^a-z\s-]", "", user.name.casefold()).split()
        if not parts or not user.name.isascii():
            continue
        keys.setdefault("".join(parts).replace("-", ""), set()).add(user.id)
        given = "".join(parts[1:])
        if "-" in given or len(parts) > 2:
            # A two-syllable given name ("Ya-hui") stands alone; one syllable is too common.
            keys.setdefault(given.replace("-", ""), set()).add(user.id)
    view = char_view(text)
    found: dict[int, Mention] = {}
    for run in re.finditer(r"[\u4e00-\u9fff]{2,}", view):
        for size in (3, 2):
            for at in range(run.start(), run.end() - size + 1):
                chars = [given_readings(ch) for ch in view[at : at + size]]
                if not all(chars):
                    continue
                heard = {"".join(c) for c in product(*chars)}
                ids = {uid for h in heard for uid in keys.get(h, ())}
                if len(ids) == 1:
                    uid = ids.pop()
                    named = ctx.session.get(User, uid)
                    if named is not None and uid not in found:
                        found[uid] = Mention(uid, named.name, at, at + size, True, 1.0)
    return list(found.values())
