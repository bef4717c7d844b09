"""Likely duplicate customers in the book a person may see, each pair with its reason."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from sqlalchemy import select

from crm_core.access import book_owners, customer_filter
from crm_core.context import Ctx
from crm_core.models import Customer
from crm_core.name_index import name_book
from crm_core.text import fold, to_simplified

# Names this close (0-100, after normalising) are offered as spelling variants of each other.
SIMILAR_SCORE = 92.0
# Characters of the compact key that form a block; only names in one block are compared.
BLOCK_CHARS = 4
# A block larger than this is a common prefix ("中国…", "acme…"): compared only for equal keys.
MAX_BLOCK = 400

# Provinces and large cities that companies put in front of their name (杭州云帆科技 is 云帆科技).
_CN_PLACES = sorted(
    set(
        " ".join(
            (
                "北京 上海 天津 重庆 广州 深圳 杭州 南京 苏州 无锡 宁波 温州 绍兴 嘉兴 金华 台州",
                "成都 武汉 西安 长沙 郑州 济南 青岛 烟台 大连 沈阳 长春 哈尔滨 石家庄 太原",
                "合肥 福州 厦门 泉州 南昌 南宁 昆明 贵阳 海口 三亚 兰州 西宁 银川 乌鲁木齐",
                "呼和浩特 拉萨 东莞 佛山 珠海 中山 惠州 常州 南通 扬州 徐州 潍坊 洛阳 香港 澳门",
                "台北 浙江 江苏 广东 山东 河南 河北 湖南 湖北 四川 福建 安徽 江西 陕西 山西",
                "辽宁 吉林 黑龙江 云南 贵州 广西 海南 甘肃 青海 宁夏 新疆 西藏 内蒙古 台湾",
            )
        ).split(" ")
    ),
    key=len,
    reverse=True,
)
_CN_PLACE_SET = frozenset(_CN_PLACES)
# Read by retrieval too (a city said before a brand in either script).
CN_PLACES: tuple[str, ...] = tuple(_CN_PLACES)
_PLACE_SIZES = sorted({len(p) for p in _CN_PLACES}, reverse=True)
_PLACE_ENDINGS = ("市", "省")
# A mark between two letters ("Gamma-Ray", "A&B"), not the dot after "Inc.".
_INNER_MARK = re.compile(r"(?<=\w)[^\w\s](?=\w)")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class DuplicatePair:
    """Two customers that are likely the same company; `keep` (the older) is what a merge keeps."""

    keep_id: int
    keep_name: str
    keep_key: str
    drop_id: int
    drop_name: str
    drop_key: str
    # The place prefix one of the two names carries (杭州), for the reason text.
    place: str | None = None

    def reasons(self) -> tuple[str, ...]:
        """Catalogue keys under "duplicates.reason.", most telling first (worked out on demand)."""
        return _reasons(self.keep_name, self.drop_name, self.keep_key, self.drop_key, self.place)


def strip_place(key: str) -> tuple[str, str | None]:
    """A Chinese name key without a leading province or city (and 市/省), and that place."""
    if key.isascii():
        return key, None
    for size in _PLACE_SIZES:
        place = key[:size]
        if place not in _CN_PLACE_SET:
            continue
        rest = key[size:]
        for ending in _PLACE_ENDINGS:
            if rest.startswith(ending):
                rest = rest[len(ending) :]
                break
        rest = rest.strip(" ()（）")
        # Two characters at least stay: 北京 alone, or 上海市 the city itself, is no company.
        if len(rest) >= 2 and not rest.isascii():
            return rest, place
    return key, None


def dedup_key(stored_key: str) -> tuple[str, str | None]:
    """The blocking key of a stored name key: no spaces, no leading Chinese place."""
    compact = stored_key.replace(" ", "")
    return strip_place(compact)


def likely_same(key_a: str, key_b: str) -> bool:
    """Whether two stored name keys make a pair `duplicates` lists (equal blocking keys, or
    spelling variants in one block): the check `new customer` runs too, so the two agree."""
    a, b = dedup_key(key_a)[0], dedup_key(key_b)[0]
    if not a or not b:
        return False
    return a == b or (a[:BLOCK_CHARS] == b[:BLOCK_CHARS] and fuzz.ratio(a, b) >= SIMILAR_SCORE)


def _bare(name: str) -> str:
    """A name folded, with punctuation and spaces gone (the legal form kept)."""
    return _NOT_WORD.sub("", fold(name))


def _reasons(a: str, b: str, key_a: str, key_b: str, place: str | None) -> tuple[str, ...]:
    """Why names `a` and `b` look like one company, as catalogue keys (most telling first)."""
    found: list[str] = []
    compact_a, compact_b = dedup_key(key_a)[0], dedup_key(key_b)[0]
    if place:
        found.append("place")
    if compact_a != compact_b:
        found.append("similar")
    if _bare(a) != key_a.replace(" ", "") or _bare(b) != key_b.replace(" ", ""):
        found.append("legal_form")
    if key_a != key_b and key_a.replace(" ", "") == key_b.replace(" ", ""):
        found.append("spacing")
    if _INNER_MARK.findall(fold(a)) != _INNER_MARK.findall(fold(b)):
        found.append("punctuation")
    nfkc_a, nfkc_b = unicodedata.normalize("NFKC", a), unicodedata.normalize("NFKC", b)
    if nfkc_a != a or nfkc_b != b:
        found.append("width")
    if to_simplified(nfkc_a) != nfkc_a or to_simplified(nfkc_b) != nfkc_b:
        found.append("traditional")
    if not found:
        # The same words: what is left to differ is case or punctuation.
        found.append("case" if a.casefold() == b.casefold() else "punctuation")
    return tuple(found)


def _similar_in(block: tuple[str, ...]) -> list[tuple[str, str]]:
    """Pairs of keys in one sorted block that are spelling variants (rapidfuzz ratio)."""
    found: list[tuple[str, str]] = []
    for i, left in enumerate(block[:-1]):
        # One C call per name against the rest of its block (rapidfuzz), not a Python loop.
        for right, _score, _ in process.extract(
            left, block[i + 1 :], scorer=fuzz.ratio, score_cutoff=SIMILAR_SCORE, limit=None
        ):
            found.append((left, right))
    return found


# A block's variant pairs depend only on its keys: a manager's blocks are the same from one
# call to the next, so they are scored once (bounded; a changed block is a new entry).
_similar_memo = lru_cache(maxsize=50_000)(_similar_in)


def _found(
    entries: Iterable[tuple[int, str, str | None]],
    similar: Callable[[tuple[str, ...]], list[tuple[str, str]]],
) -> list[tuple[int, int, str | None]]:
    """(keep id, drop id, place) of the likely duplicates among (id, blocking key, place).

    Equal blocking keys are pairs; spelling variants are compared only within a block of keys
    sharing their first characters, so the work grows with the block sizes, not with the
    square of the book.
    """
    keyed: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for cid, compact, place in entries:
        if compact:
            keyed[compact].append((cid, place))
    found: list[tuple[int, int, str | None]] = []
    for group in keyed.values():
        if len(group) > 1:
            group.sort()
            found += [(group[0][0], other[0], group[0][1] or other[1]) for other in group[1:]]
    blocks: dict[str, list[str]] = defaultdict(list)
    for compact in keyed:
        blocks[compact[:BLOCK_CHARS]].append(compact)
    for block in blocks.values():
        if len(block) < 2 or len(block) > MAX_BLOCK:
            continue
        block.sort()
        for left, right in similar(tuple(block)):
            a, b = keyed[left][0][0], keyed[right][0][0]
            found.append((min(a, b), max(a, b), None))
    return found


def _sorted_pairs(
    found: list[tuple[int, int, str | None]], names: dict[int, tuple[str, str]]
) -> list[DuplicatePair]:
    pairs = [
        DuplicatePair(keep, *names[keep], drop, *names[drop], place) for keep, drop, place in found
    ]
    pairs.sort(key=lambda p: (p.keep_key, p.keep_id, p.drop_id))
    return pairs


def scan_duplicate_pairs(ctx: Ctx) -> list[DuplicatePair]:
    """`find_duplicate_pairs` straight from the database: every visible key read and grouped,
    every block scored. The reference the name-index path is tested against."""
    rows = ctx.session.execute(
        select(Customer.id, Customer.name_key).where(customer_filter(ctx.actor))
    ).all()
    found = _found(((cid, *dedup_key(key)) for cid, key in rows), _similar_in)
    if not found:
        return []
    ids = {f[0] for f in found} | {f[1] for f in found}
    names = {
        r[0]: (r[1], r[2])
        for r in ctx.session.execute(
            select(Customer.id, Customer.name, Customer.name_key).where(Customer.id.in_(ids))
        )
    }
    return _sorted_pairs(found, names)


def find_duplicate_pairs(ctx: Ctx) -> list[DuplicatePair]:
    """Pairs of visible customers whose names are the same company, oldest kept, by name.

    Names are grouped by a normalised key (legal form, spacing, punctuation, width, script and a
    Chinese place prefix left out): equal keys are pairs; spelling variants are compared within
    blocks of keys sharing their first characters. Read from the name index (the book's keys in
    memory, their blocking keys worked out once per change) with each block's variants scored
    once: the same pairs as `scan_duplicate_pairs`, without reading the book each call.
    """
    book = name_book(ctx.session)
    dedup = book.dedup_keys(dedup_key)
    ids = book.ids
    visible = book.positions(book_owners(ctx.session, ctx.actor))
    found = _found(((ids[p], *dedup[p]) for p in visible), _similar_memo)
    if not found:
        return []
    where = book.position
    names = {
        cid: (book.names[where[cid]], book.keys[where[cid]])
        for cid in {f[0] for f in found} | {f[1] for f in found}
    }
    return _sorted_pairs(found, names)
