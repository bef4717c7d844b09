"""In-process copies of the customers' names, keys, owners, cities and liveness, and of the
contacts' names and emails, each kept current by a token.

The scans that read a whole book (typo suggestions, `duplicates`, an admin's `find` by contact
or city) read these copies instead of 10,000 rows a call. Triggers (migration 0019) give
`name_index_version.token` (row 1: customers, row 2: contacts) a new random value whenever a
row is added or removed or a copied column changes; each use reads that one row first, in the
caller's transaction, and reloads the copy when it differs. Every process (every worker) keeps
its own copies; the tokens are the database's, so a change made by any of them is seen by all at
their next read.

A copy of the customers is brought up to date with the rows that changed, not read again whole:
migration 0032 counts changes (`name_index_version.seq`, in commit order) and keeps, per
customer, the count of its last change (`customer_index_changes`); a copy as of count S re-reads
the customers logged past S and patches its lists and arrays. A copy built in a transaction
that has itself written is used but not kept (it may hold rows that will roll back).
"""

from __future__ import annotations

import copy
import json
import threading
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from rapidfuzz import fuzz, process
from sqlalchemy import String, Text, cast, event, func, select, type_coerce
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from crm_core.models import Contact, Customer, CustomerIndexChange, NameIndexVersion
from crm_core.text import name_key

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Copies kept per process (one per database URL; tests open many databases).
_MAX_BOOKS = 8
# Character classes of the overlap bound: a character counts in bucket `ord(ch) % _BUCKETS`.
# Sharing buckets can only raise the overlap, so the bound stays an upper bound.
_BUCKETS = 64
_COPIES: OrderedDict[tuple[str, int], Any] = OrderedDict()
_COPIES_LOCK = threading.Lock()
_CUSTOMERS, _CONTACTS = 1, 2
# Books up to this many customers are searched key by key; larger ones in the joined keys.
_SMALL_BOOK = 20_000
# Typo suggestions score this many best-bounded keys first (see NameBook.suggest).
_FIRST_BATCH = 200
# How far under the cutoff (0-1) a bound may be and its key still be scored: the bounds are
# float32, whose rounding is some 1e-7 here.
_SLACK = 1e-4
# Score points under the last suggestion kept that a later batch is still scored from.
_TIE = 0.01
# Changed customers re-read by id in statements of at most this many ids.
_CHUNK = 500


class _Joined:
    """Texts in one string, each followed by a line break: a substring is found in all of them
    with one str.find per hit instead of one `in` per text."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.starts = [0]
        for t in texts:
            self.starts.append(self.starts[-1] + len(t) + 1)
        self.text = "\n".join(texts) + "\n"

    def hits(self, part: str) -> Iterator[int]:
        """Positions of the texts containing `part` (a line break in it matches nothing), once
        each, ascending."""
        if not part or "\n" in part:
            return
        starts, text = self.starts, self.text
        at = text.find(part)
        while at >= 0:
            p = bisect_right(starts, at) - 1
            yield p
            at = text.find(part, starts[p + 1])


def _irregular(key: str) -> bool:
    """A key the overlap bound does not cover: a word twice, or spacing other than single."""
    words = key.split()
    return len(set(words)) != len(words) or " ".join(words) != key


class NameBook:
    """Every customer of one database as of one token, in id order (positions index the lists).

    A copy patched with changed rows (`updated`) keeps its positions: a customer added after the
    last id takes the next one, a deleted one leaves a blank position (neither live nor gone).
    """

    def __init__(
        self,
        token: int | None,
        rows: Sequence[Any],
        *,
        seq: int | None = None,
        epoch: int | None = None,
    ) -> None:
        self.token = token
        # The change count and epoch this copy is as of (migration 0032), None: unknown.
        self.seq = seq
        self.epoch = epoch
        # The rows as read, by position (None: a deleted customer's blank position).
        self._rows: list[Any] = list(rows)
        self._blanks = 0
        # Column by column (one transposition in C): a reload after every change of a
        # 10,000-customer book was a per-row loop's worth of CPU in each worker.
        # (A row may stop at the city: a copy made without tags, as some tests build.)
        ids, names, keys, owners, merged, archived, cities = (
            list(zip(*rows, strict=True))[:7] if rows else ((),) * 7
        )
        self.ids: list[int] = list(map(int, ids))
        self.names: list[str] = list(names)
        self.keys: list[str] = list(keys)
        self.cities: list[str] = [c.lower() if c else "" for c in cities]
        self.live: list[int] = []
        self.by_owner: dict[int, list[int]] = {}
        # Merged-away and archived customers, whoever owns them (for "is there any?" checks).
        self.gone: list[int] = []
        live, gone, by_owner = self.live.append, self.gone.append, self.by_owner
        for pos, (owner, m, a) in enumerate(zip(owners, merged, archived, strict=True)):
            if m is None and a is None:
                live(pos)
                if owner in by_owner:
                    by_owner[owner].append(pos)
                else:
                    by_owner[owner] = [pos]
            else:
                gone(pos)
        self.position = {cid: pos for pos, cid in enumerate(self.ids)}
        self._lock = threading.Lock()
        self._scoring: tuple[Any, ...] | None = None
        self._dedup: list[tuple[str, str | None]] | None = None
        self._blocking: Callable[[str], tuple[str, str | None]] | None = None
        self._live_ids: frozenset[int] | None = None
        self._joins: dict[str, _Joined] = {}
        self._length_order: tuple[_Joined, list[int]] | None = None
        self._live_array: Any = None
        self._live_flags = bytearray(len(rows))
        for p in self.live:
            self._live_flags[p] = 1
        # Tag key -> positions of the customers carrying a tag of that key (any, live or not),
        # ascending; built on first use (see tagged).
        self._tags: dict[str, list[int]] | None = None
        # The tag map it was built from, and its keys by their first word or two characters.
        self._heads: tuple[dict[str, list[int]], dict[str, list[str]]] | None = None

    def positions(self, owners: frozenset[int] | None) -> list[int]:
        """Positions of the live customers of these owners (None: everyone's), in id order."""
        if owners is None:
            return self.live
        if len(owners) == 1:
            return self.by_owner.get(next(iter(owners)), [])
        return sorted(p for owner in owners for p in self.by_owner.get(owner, ()))

    def containing(self, positions: Sequence[int], key: str, limit: int) -> list[int]:
        """Ids of the first `limit` customers (by id) whose key contains `key`."""
        return self._first(self._joined("keys"), positions, key, limit)

    def shortest_containing(
        self, positions: Sequence[int], key: str, limit: int, most: int
    ) -> list[int] | None:
        """Ids of the customers whose key contains `key`, shortest keys first: the first `limit`
        and every other one as short as the last of them (ties a caller orders by key itself).
        None when more than `most` would be returned."""
        keys = self.keys
        matches: Iterator[int]
        if len(positions) <= _SMALL_BOOK:
            # A rep's or a team's book: testing its own keys beats walking the whole company's.
            matches = iter(
                sorted((p for p in positions if key in keys[p]), key=lambda p: len(keys[p]))
            )
        else:
            joined, order = self._by_length()
            wanted = None if positions is self.live else set(positions)
            live = self._live_flags
            matches = (
                order[i]
                for i in joined.hits(key)
                if (live[order[i]] if wanted is None else order[i] in wanted)
            )
        found: list[int] = []
        longest: int | None = None
        for p in matches:
            if longest is not None and len(keys[p]) > longest:
                break
            found.append(self.ids[p])
            if len(found) > most:
                return None
            if longest is None and len(found) >= limit:
                longest = len(keys[p])
        return found

    def tagged(self, key: str, owners: frozenset[int] | None, most: int) -> list[int] | None:
        """Ids of the live customers of these owners (None: everyone's) carrying a tag whose key
        is `key`, in id order; None when more than `most` do."""
        holders = self._tag_map().get(key, [])
        live, rows, ids = self._live_flags, self._rows, self.ids
        found: list[int] = []
        if owners is not None and len(holders) > len(mine := self.positions(owners)):
            # A kind of customer many carry ("vip"), asked by a rep or a team: their own few
            # hundred customers' tags are fewer to look at than its holders.
            matches: Iterator[int] = (p for p in mine if key in _tag_keys(_tags_of(rows[p])))
        else:
            matches = (p for p in holders if live[p] and (owners is None or rows[p][3] in owners))
        for p in matches:
            found.append(ids[p])
            if len(found) > most:
                return None
        return found

    def tag_keys_in(self, view: str, words: Sequence[str]) -> list[str]:
        """The tag keys that could be said in a text: those whose first word is one of `words`
        (Latin), or whose first two characters stand in `view` (Chinese), in sorted order. A
        caller checks each against the text; this only spares it every other key."""
        heads = self._tag_heads()
        found: set[str] = set()
        for word in words:
            found.update(heads.get(word, ()))
        for at in range(len(view) - 1):
            pair = view[at : at + 2]
            if _is_cjk(pair[0]):
                found.update(heads.get(pair, ()))
        return sorted(found)

    def tag_rows(self, key: str, owners: frozenset[int] | None) -> list[tuple[int, str, Any, Any]]:
        """(id, name, tags as JSON text, owner) of the live customers of these owners (None:
        everyone's) carrying a tag whose key is `key`, in id order."""
        live, rows, ids, names = self._live_flags, self._rows, self.ids, self.names
        return [
            (ids[p], names[p], _tags_of(rows[p]), rows[p][3])
            for p in self._tag_map().get(key, ())
            if live[p] and (owners is None or rows[p][3] in owners)
        ]

    def _tag_heads(self) -> dict[str, list[str]]:
        """First word (Latin) or first two characters (Chinese) -> the tag keys starting so."""
        tags = self._tag_map()
        with self._lock:
            if self._heads is None or self._heads[0] is not tags:
                heads: dict[str, list[str]] = {}
                for key in tags:
                    head = key[:2] if _is_cjk(key[0]) else key.split()[0]
                    heads.setdefault(head, []).append(key)
                self._heads = (tags, heads)
            return self._heads[1]

    def _tag_map(self) -> dict[str, list[int]]:
        """Tag key -> the positions carrying it, ascending (built on first use)."""
        with self._lock:
            if self._tags is None:
                tags: dict[str, list[int]] = {}
                for pos, row in enumerate(self._rows):
                    if row is not None:
                        for key in _tag_keys(_tags_of(row)):
                            tags.setdefault(key, []).append(pos)
                self._tags = tags
            return self._tags

    def _patched_tags(self, changes: Sequence[tuple[int, Any | None, Any | None]]) -> None:
        """This new copy's tag map: the old copy's (`self._tags`, shared) with the positions of
        `changes` (position, old row, new row) moved from their old rows' keys to their new."""
        old_map = self._tags
        if old_map is None:
            return
        tags = dict(old_map)
        copied: set[str] = set()

        def own(key: str) -> list[int]:
            if key not in copied:
                tags[key] = list(tags.get(key, ()))
                copied.add(key)
            return tags[key]

        for pos, old, row in changes:
            for key in _tag_keys(_tags_of(old)):
                held = own(key)
                del held[bisect_left(held, pos)]
                if not held:
                    del tags[key]
                    copied.discard(key)
            for key in _tag_keys(_tags_of(row)):
                insort(own(key), pos)
        self._tags = tags

    def _by_length(self) -> tuple[_Joined, list[int]]:
        """The keys joined shortest first (ties by position), and the position of each."""
        with self._lock:
            if self._length_order is None:
                order = sorted(range(len(self.keys)), key=lambda p: len(self.keys[p]))
                self._length_order = (_Joined([self.keys[p] for p in order]), order)
            return self._length_order

    def in_city(self, positions: Sequence[int], text: str, limit: int) -> list[int]:
        """Ids of the first `limit` customers (by id) whose city contains `text` (lower case)."""
        return self._first(self._joined("cities"), positions, text, limit)

    def _first(self, joined: _Joined, positions: Sequence[int], part: str, limit: int) -> list[int]:
        wanted = None if positions is self.live else set(positions)
        live = self._live_flags
        found: list[int] = []
        for p in joined.hits(part):
            if live[p] if wanted is None else p in wanted:
                found.append(self.ids[p])
                if len(found) >= limit:
                    break
        return found

    def _joined(self, field: str) -> _Joined:
        """The keys or the cities joined (built on first use)."""
        with self._lock:
            if field not in self._joins:
                self._joins[field] = _Joined(self.keys if field == "keys" else self.cities)
            return self._joins[field]

    def live_ids(self) -> frozenset[int]:
        """Ids of every live customer (neither merged away nor archived)."""
        if self._live_ids is None:
            ids = self.ids
            self._live_ids = frozenset(ids[p] for p in self.live)
        return self._live_ids

    def any_gone_containing(self, key: str) -> bool:
        """Whether any merged-away or archived customer's key contains `key` (anyone's book):
        when not, the lookups that follow merges or archived names by substring can be skipped."""
        keys = self.keys
        return any(key in keys[p] for p in self.gone)

    def suggest(self, positions: Sequence[int], key: str, cutoff: float, limit: int) -> list[int]:
        """Ids of the customers whose keys score at least `cutoff` against `key` (rapidfuzz
        WRatio), best first, ties by id: exactly what scoring every one of them gives.

        Only keys that could reach the cutoff are scored. WRatio is the best of the plain
        ratio, the token ratios and (lengths 1.5 times apart or more) the partial ratios, scaled
        by 0.95 and 0.9. When the two keys share no word and repeat none, each of those is at
        most 2C/(n+m), and a partial ratio at most 2C/(min(n, m)+C), where C is how many
        characters they have in common (as a multiset) and n, m their lengths. A key sharing a
        word is bounded as `_could_reach` says; a stored key the bound does not cover (a
        repeated word, odd spacing) is always scored. A query repeating a word is bounded with
        its length counting each word once; one with odd spacing is scored against every key.
        """
        if not positions:
            return []
        keys, ids = self.keys, self.ids

        def scored(at: Sequence[int], least: float) -> list[tuple[str, float, int]]:
            return process.extract(
                key,
                {ids[p]: keys[p] for p in at},
                scorer=fuzz.WRatio,
                score_cutoff=least,
                limit=limit,
            )

        if " ".join(key.split()) != key:
            # Spacing the bound does not cover (a name's key never has it): every key scored.
            return [int(s[2]) for s in scored(positions, cutoff)]
        chosen, bound = self._could_reach(positions, key, cutoff / 100)
        # Best bounds first, in batches four times larger each: once `limit` keys score at
        # least S, a key whose bound is under S cannot enter the result, so each batch is
        # taken from the keys still bounded at S or more, and none is left when the result
        # is settled. Each batch is scored in id order, so ties come out by id as a full scan
        # gives them. Which keys a batch takes changes how many are scored, never the result.
        import numpy as np

        found: list[tuple[str, float, int]] = []
        least = cutoff
        unscored = np.ones(len(chosen), dtype=np.bool_)
        batch = _FIRST_BATCH
        while True:
            at = np.flatnonzero(unscored & (bound * 100 >= least - _SLACK * 100))
            if not len(at):
                return [int(s[2]) for s in found]
            if len(at) > batch:
                # A partition (linear), not a sort of every bound.
                at = at[np.argpartition(-bound[at], batch)[:batch]]
            unscored[at] = False
            # Once `limit` are found, a key tying the last one must still come back, as it wins
            # that tie when its id is lower; process.extract drops a score within about 1e-5
            # over its score_cutoff ("win dmotors" against "riverwindmotorsriver0", 81.8).
            full = len(found) >= limit
            found += scored(sorted(chosen[at].tolist()), least - _TIE if full else cutoff)
            found.sort(key=lambda s: (-s[1], s[2]))
            del found[limit:]
            if len(found) >= limit:
                least = found[-1][1]
            batch *= 4

    def _could_reach(
        self, positions: Sequence[int], key: str, least: float
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """Positions whose key could score `least` or more against `key`, and for each an upper
        bound of its WRatio (0-1).

        Without a shared word: the bounds above. With one, the token set ratio is bounded from
        the shared words' length s: at most max(2s/(2s+1+a), 2s/(2s+1+b), (2s+2+2d)/(2s+2+a+b)),
        a and b the lengths of the words the two do not share and d the characters those can
        have in common (C-s-1), and 1 when one's words are all the other's; lengths 1.5 times
        apart give 0.855 (a partial token set ratio of 100, scaled).
        """
        import numpy as np

        counts, lengths, words, always = self._scoring_arrays()
        whole = positions is self.live
        if whole:
            if self._live_array is None:
                flags = np.frombuffer(bytes(self._live_flags), dtype=np.uint8).astype(np.bool_)
                self._live_array = (np.asarray(self.live, dtype=np.intp), flags)
            at, live = self._live_array
        else:
            at = np.asarray(positions, dtype=np.intp)
        # A rep's or a team's book: only its own keys are bounded, not the company's.
        subset = 2 * len(at) < len(lengths)
        if subset:
            counts, lengths, always = counts[:, at], lengths[at], always[at]
        codes = np.array([ord(ch) % _BUCKETS for ch in key], dtype=np.intp)
        wanted = np.bincount(codes, minlength=_BUCKETS)
        # Bucket by bucket in the counts' own 16 bits: a pass over one row of each bucket the
        # key has, instead of an array of every such row's 64-bit minimums.
        common = np.zeros(len(lengths), dtype=np.uint16)
        step = np.empty_like(common)
        for bucket in np.flatnonzero(wanted).tolist():
            np.minimum(counts[bucket], int(wanted[bucket]), out=step)
            common += step
        n = len(key)
        # A query with a word twice ("co i i"): the token ratios see each word once, in a
        # shorter string. Its length in every bound (each only grows) covers those too; which
        # lengths WRatio counts as apart stays the query's own.
        words_once = set(key.split())
        n_once = sum(map(len, words_once)) + len(words_once) - 1
        # In float32: a bound only decides what is scored (exactly, by rapidfuzz), and the
        # keys are kept down to _SLACK under the cutoff, far more than float32's rounding.
        c = common.astype(np.float32)
        bound = 2 * c / (lengths.astype(np.float32) + n_once)
        # Lengths 1.5 times apart or more (few keys): the partial ratios' bound as well.
        long_pair = np.flatnonzero((2 * lengths >= 3 * n) | (3 * lengths <= 2 * n))
        if len(long_pair):
            cl = c[long_pair]
            # A deleted customer's blank position has length 0: 0/0, NaN, a bound never kept.
            with np.errstate(invalid="ignore"):
                partial = 0.9 * 2 * cl / (np.minimum(lengths[long_pair], n_once) + cl)
            bound[long_pair] = np.maximum(bound[long_pair], partial)
        shared_len = np.zeros(len(self.keys), dtype=np.int32)
        shared_words = np.zeros(len(self.keys), dtype=np.int32)
        for word in words_once:
            hits = words.get(word)
            if hits is not None:
                shared_len[hits] += len(word)
                shared_words[hits] += 1
        if subset:
            shared_len, shared_words = shared_len[at], shared_words[at]
        shared = np.flatnonzero(shared_words)
        if len(shared):
            s = shared_len[shared] + shared_words[shared] - 1
            a, b = lengths[shared] - s - 1, n_once - s - 1
            d = np.clip(np.minimum(np.minimum(a, b), common[shared] - s - 1), 0, None)
            a0, b0 = np.maximum(a, 0), np.maximum(b, 0)
            token_set = np.maximum(
                np.maximum(2 * s / (2 * s + 1 + a0), 2 * s / (2 * s + 1 + b0)),
                (2 * s + 2 + 2 * d) / (2 * s + 2 + a0 + b0),
            )
            token_set[(a <= 0) | (b <= 0)] = 1.0
            lengths_apart = (2 * lengths[shared] >= 3 * n) | (3 * lengths[shared] <= 2 * n)
            own = np.where(lengths_apart, 0.855, 0.95 * token_set)
            bound[shared] = np.maximum(bound[shared], own)
        bound[always] = 1.0
        # Under the cutoff by _SLACK: the bound must never drop a key that reaches it exactly.
        ok = bound >= least - _SLACK
        if subset:
            return at[ok], bound[ok]
        keep = np.flatnonzero(ok & live) if whole else at[ok[at]]
        return keep, bound[keep]

    def _scoring_arrays(
        self,
    ) -> tuple[
        npt.NDArray[np.uint16],
        npt.NDArray[np.int64],
        dict[str, npt.NDArray[np.intp]],
        npt.NDArray[np.bool_],
    ]:
        """Per key: its character counts by bucket, its length, its words, whether to score it
        always (built on first use; numpy loads only then)."""
        with self._lock:
            if self._scoring is None:
                import numpy as np

                lengths = np.array([len(k) for k in self.keys], dtype=np.int64)
                text = "".join(self.keys)
                codes = np.array([ord(ch) % _BUCKETS for ch in text], dtype=np.intp)
                rows = np.repeat(np.arange(len(self.keys), dtype=np.intp), lengths)
                flat = np.bincount(
                    codes * len(self.keys) + rows, minlength=_BUCKETS * len(self.keys)
                )
                counts = flat.reshape(_BUCKETS, len(self.keys)).astype(np.uint16)
                by_word: dict[str, list[int]] = {}
                for pos, k in enumerate(self.keys):
                    for word in set(k.split()):
                        by_word.setdefault(word, []).append(pos)
                words = {w: np.array(p, dtype=np.intp) for w, p in by_word.items()}
                always = np.array([_irregular(k) for k in self.keys], dtype=np.bool_)
                self._scoring = (counts, lengths, words, always)
            return self._scoring

    def dedup_keys(
        self, blocking: Callable[[str], tuple[str, str | None]]
    ) -> list[tuple[str, str | None]]:
        """Per position, `blocking(key)`: the duplicate-blocking key and the place it dropped
        (worked out once per copy; `duplicates` passes its own function, the only one)."""
        with self._lock:
            if self._dedup is None:
                self._dedup = [blocking(k) for k in self.keys]
                self._blocking = blocking
            return self._dedup

    def updated(
        self, token: int, seq: int, epoch: int, fresh: Mapping[int, Any | None]
    ) -> NameBook:
        """This copy with `fresh` applied (customer id -> its row now, None: deleted), as of
        `token`, `seq` and `epoch`; this copy stays as it is (other threads may be reading it).

        Changed and deleted customers are patched in place, customers added after the last id
        appended, and what was worked out from the keys (the scoring arrays, the blocking keys)
        patched for those positions only. A customer added below the last id (ids handed out in
        one order and committed in another), or blanks past an eighth of the book, rebuild the
        copy from the rows in memory instead.
        """
        position = self.position
        last = self.ids[-1] if self.ids else 0
        added = sorted(i for i, r in fresh.items() if r is not None and i not in position)
        blanks = self._blanks + sum(1 for i, r in fresh.items() if r is None and i in position)
        if (added and added[0] <= last) or 8 * blanks > len(self.ids) + len(added):
            kept = [r for r in self._rows if r is not None and int(r[0]) not in fresh]
            rows = sorted(kept + [r for r in fresh.values() if r is not None], key=_row_id)
            return NameBook(token, rows, seq=seq, epoch=epoch)
        book = copy.copy(self)
        book.token, book.seq, book.epoch, book._blanks = token, seq, epoch, blanks
        book._lock = threading.Lock()
        book._live_ids, book._joins, book._length_order, book._live_array = None, {}, None, None
        start = len(self.ids)
        book.ids = self.ids + added
        book._rows = self._rows + [None] * len(added)
        book.names = self.names + [""] * len(added)
        book.keys = self.keys + [""] * len(added)
        book.cities = self.cities + [""] * len(added)
        book._live_flags = self._live_flags + bytes(len(added))
        book.position = dict(position)
        book.live, book.gone, book.by_owner = list(self.live), list(self.gone), dict(self.by_owner)
        copied: set[int] = set()
        changes = [(position[i], r) for i, r in fresh.items() if i in position]
        changes += [(start + k, fresh[i]) for k, i in enumerate(added)]
        for pos, row in changes:
            book._move(pos, self._rows[pos] if pos < start else None, row, copied)
        with self._lock:
            book._tags = self._tags
        book._patched_tags(
            [(pos, self._rows[pos] if pos < start else None, row) for pos, row in changes]
        )
        if self._scoring is not None:
            book._scoring = self._patched_scoring([p for p, _ in changes], book.keys)
        # Read as one pair: dedup_keys sets both under the lock, and a copy keeping the old
        # list beside no function would answer `duplicates` from unpatched (shorter) keys.
        with self._lock:
            kept_dedup, blocking = self._dedup, self._blocking
        book._dedup = None
        if kept_dedup is not None and blocking is not None:
            dedup = kept_dedup + [("", None)] * len(added)
            for pos, row in changes:
                dedup[pos] = blocking(book.keys[pos]) if row is not None else ("", None)
            book._dedup = dedup
        return book

    def _move(self, pos: int, old: Any | None, row: Any | None, copied: set[int]) -> None:
        """Take position `pos` from its row `old` to `row` (None: blank) in this new copy's
        lists; `copied` holds the owners whose lists this copy has its own of already."""
        if old is not None:
            owner, gone = old[3], old[4] is not None or old[5] is not None
            if gone:
                del self.gone[bisect_left(self.gone, pos)]
            else:
                del self.live[bisect_left(self.live, pos)]
                self._own_list(owner, copied).remove(pos)
                if not self.by_owner[owner]:
                    del self.by_owner[owner]
        self._rows[pos] = row
        if row is None:
            self.position.pop(self.ids[pos], None)
            self.names[pos] = self.keys[pos] = self.cities[pos] = ""
            self._live_flags[pos] = 0
            return
        cid, name, key, owner, merged, archived, city = row[:7]
        self.position[int(cid)] = pos
        self.names[pos], self.keys[pos] = name, key
        self.cities[pos] = city.lower() if city else ""
        live = merged is None and archived is None
        self._live_flags[pos] = live
        if not live:
            insort(self.gone, pos)
            return
        insort(self.live, pos)
        insort(self._own_list(owner, copied), pos)

    def _own_list(self, owner: int, copied: set[int]) -> list[int]:
        """This copy's own list of `owner`'s live positions (copied from the old copy's once)."""
        if owner not in copied:
            self.by_owner[owner] = list(self.by_owner.get(owner, ()))
            copied.add(owner)
        return self.by_owner.setdefault(owner, [])

    def _patched_scoring(
        self, changed: Sequence[int], keys: Sequence[str]
    ) -> tuple[
        npt.NDArray[np.uint16],
        npt.NDArray[np.int64],
        dict[str, npt.NDArray[np.intp]],
        npt.NDArray[np.bool_],
    ]:
        """`_scoring_arrays` of a copy whose keys are `keys`: this copy's, with the columns and
        word lists of the positions `changed` worked out again (the rest copied)."""
        import numpy as np

        assert self._scoring is not None
        counts, lengths, words, always = self._scoring
        size, start = len(keys), len(lengths)
        new_counts = np.zeros((_BUCKETS, size), dtype=np.uint16)
        new_counts[:, :start] = counts
        new_lengths = np.zeros(size, dtype=np.int64)
        new_lengths[:start] = lengths
        new_always = np.zeros(size, dtype=np.bool_)
        new_always[:start] = always
        new_words = dict(words)
        for pos in changed:
            if pos < start:
                for word in set(self.keys[pos].split()):
                    left = new_words[word][new_words[word] != pos]
                    if len(left):
                        new_words[word] = left
                    else:
                        del new_words[word]
            key = keys[pos]
            codes = np.array([ord(ch) % _BUCKETS for ch in key], dtype=np.intp)
            new_counts[:, pos] = np.bincount(codes, minlength=_BUCKETS)
            new_lengths[pos] = len(key)
            new_always[pos] = _irregular(key)
            for word in set(key.split()):
                hits = new_words.get(word)
                at = np.array([pos], dtype=np.intp)
                new_words[word] = at if hits is None else np.concatenate((hits, at))
        return new_counts, new_lengths, new_words, new_always


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _row_id(row: Any) -> int:
    return int(row[0])


def _tags_of(row: Any | None) -> str | None:
    """A copied row's tags as JSON text (None: no row, no tags, or a row copied without)."""
    return row[7] if row is not None and len(row) > 7 else None


@lru_cache(maxsize=65_536)
def _tag_keys(text: str | None) -> frozenset[str]:
    """The keys of the tags in a customer's tags as JSON text (most books repeat a few sets of
    tags, so each text is parsed and keyed once)."""
    if not text:
        return frozenset()
    try:
        tags = json.loads(text)
    except ValueError:
        return frozenset()
    if not isinstance(tags, list):
        return frozenset()
    return frozenset(k for t in tags if isinstance(t, str) and (k := name_key(t)))


class ContactBook:
    """Every contact of one database as of one token: its customer, lower-case name and email."""

    def __init__(self, token: int | None, rows: Sequence[Any]) -> None:
        self.token = token
        self.customers: list[int] = [int(r[0]) for r in rows]
        self.names = _Joined([r[1].lower() for r in rows])
        self.emails = _Joined([(r[2] or "").lower() for r in rows])

    def customers_matching(self, text: str) -> list[int]:
        """Customer ids of the contacts (by contact id) whose name or email contains `text`."""
        found = set(self.names.hits(text)) | set(self.emails.hits(text))
        return [self.customers[p] for p in sorted(found)]


_Copy = TypeVar("_Copy", NameBook, ContactBook)

# The copies' rows, read on the session's connection as plain rows (no ORM row processing:
# every worker reads the whole book again after each change). Of archived_at only whether it
# is NULL matters: read as it is stored, not turned into an aware datetime per row.
_NAME_ROWS = select(
    Customer.id,
    Customer.name,
    Customer.name_key,
    Customer.owner_id,
    Customer.merged_into,
    type_coerce(Customer.archived_at, String()),
    Customer.city,
    # As JSON text: parsed (and keyed) once per distinct text, and only if a tag is looked up.
    cast(Customer.tags, Text),
).order_by(Customer.id)
_CONTACT_ROWS = select(Contact.customer_id, Contact.name, Contact.email).order_by(Contact.id)
# Row 1 of the tokens: token, change count, epoch; on PostgreSQL also whether this transaction
# has changed customers (the counter its triggers keep in a transaction-local setting, 0032).
_STATE = select(NameIndexVersion.token, NameIndexVersion.seq, NameIndexVersion.epoch).where(
    NameIndexVersion.id == _CUSTOMERS
)
_STATE_PG = _STATE.add_columns(
    func.coalesce(func.current_setting("crmbot.customers_seq", True), "") != ""
)


def _cached(session: Session, row: int) -> tuple[str, int | None, Any]:
    """`session`'s database, the token of row `row` in its transaction, and the copy kept for
    that token (None when there is none or it is older)."""
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    token = session.scalar(select(NameIndexVersion.token).where(NameIndexVersion.id == row))
    with _COPIES_LOCK:
        cached = _COPIES.get((url, row))
    if token is not None and cached is not None and cached.token == token:
        return url, token, cached
    return url, token, None


def _current(session: Session, row: int, load: Callable[[int | None], _Copy]) -> _Copy:
    """The cached copy for `session`'s database and token row `row`, reloaded when changed.

    The token is read first, in the caller's transaction, so a copy is never older than the
    token it is stored under (a change committed between the two reads makes the next call
    reload). With no token row (a table emptied by hand) nothing is kept: a fresh read each call.
    """
    url, token, cached = _cached(session, row)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    fresh = load(token)
    if token is not None:
        with _COPIES_LOCK:
            _COPIES[(url, row)] = fresh
            _COPIES.move_to_end((url, row))
            while len(_COPIES) > 2 * _MAX_BOOKS:
                _COPIES.popitem(last=False)
    return fresh


# session.info key: the copy `name_book` gave this transaction, until it writes or ends.
_BOOK = "crmbot.name_book"


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    """A flush may change customers (or roll back into a savepoint later): read the token again."""
    session.info.pop(_BOOK, None)


@event.listens_for(Session, "do_orm_execute")
def _executing(state: ORMExecuteState) -> None:
    """A bulk INSERT, UPDATE or DELETE through the session (a merge repointing customers)."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info.pop(_BOOK, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, _transaction: SessionTransaction) -> None:
    """A commit, a rollback or a savepoint's end: the next transaction reads the token anew."""
    session.info.pop(_BOOK, None)


def _kept(session: Session) -> NameBook | None:
    """The transaction's copy, unless changes wait in the session: then the read that follows
    flushes them first, as any query would, and the flush drops the copy (a rename pending in
    the session must not be looked up in the copy taken before it)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        return None
    memo: NameBook | None = session.info.get(_BOOK)
    return memo


def name_book(session: Session) -> NameBook:
    """The current copy of the customers of `session`'s database.

    Read once per transaction: the copy is kept on the session until the transaction writes
    through it (a flush, a bulk statement) or ends, so the lookups of one command (its name,
    the tags that clash with it, the archived and merged names containing it) read the token
    row once instead of each. A change another worker commits meanwhile is seen by the next
    command, as one made between two commands always was.

    Row 1's token, change count and epoch are read first, in the caller's transaction. The
    copy kept for this database is returned when its token is that one; when it is older (same
    epoch, a lower count), the customers logged since its count are read again and patched in
    (a copy is never older than what it is stored under: a change committed in between is
    re-read at the next call); else the whole book is read. With no row 1 (no customer yet, or
    the table emptied at once) nothing is kept.
    """
    memo = _kept(session)
    if memo is not None:
        return memo
    book = _read_name_book(session)
    session.info[_BOOK] = book
    return book


def _read_name_book(session: Session) -> NameBook:
    """`name_book` without the transaction's memo: the token read, the copy brought current."""
    conn = session.connection()
    url = conn.engine.url.render_as_string(hide_password=True)
    postgres = conn.dialect.name == "postgresql"
    state = conn.execute(_STATE_PG if postgres else _STATE).first()
    if state is None:
        return NameBook(None, conn.execute(_NAME_ROWS).all())
    token, seq, epoch = int(state[0]), int(state[1]), int(state[2])
    with _COPIES_LOCK:
        cached = _COPIES.get((url, _CUSTOMERS))
    if cached is not None and cached.token == token:
        return cached  # type: ignore[no-any-return]
    book: NameBook | None = None
    if (
        cached is not None
        and cached.epoch == epoch
        and cached.seq is not None
        and cached.seq <= seq
    ):
        changed = conn.execute(
            select(CustomerIndexChange.customer_id).where(CustomerIndexChange.seq > cached.seq)
        ).all()
        # A bulk change (an import) is read whole: one read beats thousands of patches.
        if len(changed) <= max(64, len(cached.ids) // 4):
            fresh: dict[int, Any | None] = {int(r[0]): None for r in changed}
            ids = list(fresh)
            for at in range(0, len(ids), _CHUNK):
                chunk = ids[at : at + _CHUNK]
                for row in conn.execute(_NAME_ROWS.where(Customer.id.in_(chunk))):
                    fresh[int(row[0])] = row
            book = cached.updated(token, seq, epoch, fresh)
    if book is None:
        book = NameBook(token, conn.execute(_NAME_ROWS).all(), seq=seq, epoch=epoch)
    # A transaction that has written may hold changes that roll back: its copy is not kept.
    if postgres:
        own = bool(state[3])
    else:
        # pysqlite opens a transaction at the first write only (crm_core/db.py).
        raw = conn.connection.dbapi_connection
        own = raw is None or bool(raw.in_transaction)
    if not own:
        with _COPIES_LOCK:
            kept = _COPIES.get((url, _CUSTOMERS))
            if kept is None or kept.epoch != epoch or kept.seq is None or kept.seq <= seq:
                _COPIES[(url, _CUSTOMERS)] = book
                _COPIES.move_to_end((url, _CUSTOMERS))
                while len(_COPIES) > 2 * _MAX_BOOKS:
                    _COPIES.popitem(last=False)
    return book


def current_name_book(session: Session) -> NameBook | None:
    """The copy of the customers of `session`'s database when it is current, else None (then
    nothing is read: a caller with a few rows to look at asks the database instead)."""
    memo = _kept(session)
    if memo is not None:
        return memo
    found: NameBook | None = _cached(session, _CUSTOMERS)[2]
    return found


def contact_book(session: Session) -> ContactBook:
    """The current copy of the contacts of `session`'s database."""
    return _current(
        session,
        _CONTACTS,
        lambda token: ContactBook(token, session.connection().execute(_CONTACT_ROWS).all()),
    )
