"""Knowledge base speed on this machine: indexing throughput, query latency at 10k and 100k chunks,
and memory over repeated index/query/delete cycles, all on a fresh embedded store in a temp dir.

    python benchmarks/kb_speed.py            # about 5 minutes on 2 cores; ends with RESULT lines
    python benchmarks/kb_speed.py --quick    # 500 indexed, 10k queried, 50 questions, 5 cycles: ~1 minute

The texts are real: sentences of the SQuAD paragraphs and the DPR Natural Questions passages in
../shared/data/retrieval, recombined 3-6 at a time into distinct chunks of about 550 characters
(close to the knowledge base's 1000-character chunks), so BM25 sees a real vocabulary.

1. Indexing: about 2000 chunks, in sources of 100, through ``index_source`` with the real MiniLM
   embedder behind a ``CachedEmbedder`` whose cache is a new temp file, so nothing comes from earlier
   runs. The model is loaded and run on one full batch before the clock starts (the first batches
   of a cold model run at a third of the speed). Printed: chunks/s and the share of the time spent
   in the model.
2. Query latency: embedding 100k chunks with MiniLM would take most of an hour on 2 cores, so the
   bulk chunks get vectors from a stand-in: a hashed bag of words projected to 384 dimensions and
   normalised (similar texts get similar vectors, as with a real model), and they are written with
   ``collection.chroma.upsert`` in batches of 5000 plus one ``collection.bump()``, with the metadata
   ``index_source`` would give them. The questions are about 200 real SQuAD questions, embedded by
   the real model: hybrid latency is one ``search(..., method="hybrid")`` call, query embedding
   included (each question is new to the embedding cache). Dense is one Chroma query for the same
   question's precomputed vector (10 results), so the difference is what hybrid adds. The first
   query after a change builds the BM25 index; that build is timed on its own and kept out of the
   latencies. A breakdown of hybrid's parts follows each size.
3. Memory: 20 cycles of indexing 2000 chunks, 20 hybrid queries and removing the source, in this
   process, with the stand-in embedder for chunks and questions; the resident set size, the Python
   heap (tracemalloc: everything animstudio and Chroma's Python side hold) and the store's size on
   disk are read after each cycle. Then 20 cycles that re-index one source with new text each time
   (the edit-and-re-add workflow: chunk ids stay, vectors are replaced in place). This runs first,
   before the model and the big collection are loaded. Chroma's HNSW index only marks removed
   vectors as deleted and keeps them in memory and on disk (its native side, outside the Python
   heap), so removing sources grows the resident set by about the size of the removed vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

RETRIEVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retrieval"
DIMENSION = 384
BUCKETS = 8192
UPSERT_BATCH = 5000
WORD = re.compile(r"[a-z0-9]+")


# ---------------------------------------------------------------- texts


def sentences() -> list[str]:
    """The distinct sentences (30+ characters) of both corpora, in a fixed order."""
    paragraphs = [json.loads(line)["text"] for line in (RETRIEVAL / "squad2_small" / "corpus.jsonl")
                  .read_text(encoding="utf-8").splitlines() if line.strip()]
    for question in json.loads((RETRIEVAL / "dpr_nq_sample.json").read_text(encoding="utf-8")):
        for key in ("positive_ctxs", "negative_ctxs", "hard_negative_ctxs"):
            paragraphs += [ctx["text"] for ctx in question[key]]
    found = {s.strip() for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p)}
    return sorted(s for s in found if len(s) >= 30)


def chunks(pool: list[str], n: int, seed: int) -> list[str]:
    """``n`` distinct chunks of 3-6 sentences each."""
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        out[" ".join(rng.sample(pool, rng.randint(3, 6)))] = None
    return list(out)


def questions() -> list[str]:
    path = RETRIEVAL / "squad2_small" / "queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- embedders


class HashedEmbedder:
    """Stand-in vectors: words hashed into buckets, projected to 384 dimensions, unit length."""

    name = "hashed-words-384"
    dimension = DIMENSION

    def __init__(self) -> None:
        self.projection = np.random.default_rng(7).standard_normal((BUCKETS, DIMENSION)).astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for row, text in enumerate(texts):
            words = WORD.findall(text.lower()) or ["empty"]
            rows += [row] * len(words)
            cols += [zlib.crc32(w.encode()) % BUCKETS for w in words]
        counts = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(texts), BUCKETS))
        vectors = np.asarray(counts @ self.projection, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class TimedEmbedder:
    """Wraps an embedder and adds up the seconds spent in it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.seconds += time.perf_counter() - start
        return vectors


# ---------------------------------------------------------------- helpers


def rss_mib() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def items_of(texts: list[str], source: str) -> list[tuple[str, str, dict[str, Any]]]:
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    return [(f"{key}:{n}", t, {"kind": "document", "format": "text", "ordinal": n}) for n, t in enumerate(texts)]


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def bulk_add(collection: Any, texts: list[str], first: int, embedder: HashedEmbedder) -> None:
    """Write chunks straight to Chroma in big batches, with the metadata ``index_source`` gives."""
    from animstudio.knowledge.indexing import item_digest

    for start in range(0, len(texts), UPSERT_BATCH):
        part = texts[start:start + UPSERT_BATCH]
        ids = [f"bulk:{first + start + n}" for n in range(len(part))]
        metas = []
        for n, text in enumerate(part):
            meta = {"kind": "document", "format": "text", "ordinal": first + start + n}
            metas.append({**meta, "source": f"bulk-{(first + start + n) // 1000}", "digest": item_digest(text, meta)})
        collection.chroma.upsert(ids=ids, embeddings=embedder.embed(part).tolist(), documents=part, metadatas=metas)
    collection.bump()


# ---------------------------------------------------------------- the three measurements


def memory_cycles(work: Path, pool: list[str], asks: list[str], cycles: int) -> dict[str, float]:
    import tracemalloc

    from animstudio.knowledge.indexing import index_source, remove_source
    from animstudio.knowledge.search import search
    from animstudio.knowledge.store import Store

    embedder = HashedEmbedder()
    collection = Store(path=work / "cycles").collection("documents", create=True, embedder=embedder)
    tracemalloc.start()
    rows: dict[str, list[tuple[float, float]]] = {"remove": [], "replace": []}
    for phase in rows:
        what = "remove the source" if phase == "remove" else "re-index the same source with new text"
        print(f"\nmemory: {cycles} cycles of index 2000 chunks, 20 hybrid queries, {what}")
        print(f"{'cycle':>5} {'RSS MiB':>8} {'heap MiB':>9} {'seconds':>8} {'on disk MiB':>12}")
        for cycle in range(1, cycles + 1):
            start = time.perf_counter()
            source = f"/cycles/{cycle}.txt" if phase == "remove" else "/cycles/edited.txt"
            index_source(collection, embedder, source, f"{phase}{cycle}",
                         items_of(chunks(pool, 2000, 1000 + cycle), source), "document")
            for question in asks[cycle % 10::10][:20]:
                search([collection], embedder, question, k=10, method="hybrid")
            if phase == "remove":
                remove_source(collection, source)
            rows[phase].append((rss_mib(), tracemalloc.get_traced_memory()[0] / 2**20))
            disk = sum(f.stat().st_size for f in (work / "cycles").rglob("*") if f.is_file()) / 2**20
            print(f"{cycle:5d} {rows[phase][-1][0]:8.1f} {rows[phase][-1][1]:9.1f} "
                  f"{time.perf_counter() - start:8.2f} {disk:12.1f}")
    tracemalloc.stop()
    growth = {}
    for phase, got in rows.items():
        growth[f"rss_growth_{phase}_{cycles}_cycles_mib"] = got[-1][0] - got[0][0]
        growth[f"heap_growth_{phase}_{cycles}_cycles_mib"] = got[-1][1] - got[0][1]
    return growth


def indexing(work: Path, pool: list[str], minilm: Any, n: int) -> dict[str, float]:
    from animstudio.knowledge.embedders import CachedEmbedder
    from animstudio.knowledge.indexing import index_source
    from animstudio.knowledge.store import Store

    model = TimedEmbedder(minilm)
    cached = TimedEmbedder(CachedEmbedder(model, path=work / "index-cache.sqlite"))
    collection = Store(path=work / "index").collection("documents", create=True, embedder=cached)
    texts = chunks(pool, n, 1)
    start = time.perf_counter()
    written = 0
    for s in range(0, n, 100):
        source = f"/docs/doc{s // 100:03d}.txt"
        written += index_source(collection, cached, source, f"hash-{s}", items_of(texts[s:s + 100], source),
                                "document").chunks_written
    wall = time.perf_counter() - start
    mean_chars = sum(map(len, texts)) / len(texts)
    print(f"\nindexing: {written} chunks (mean {mean_chars:.0f} characters) in {n // 100} sources of 100, "
          f"MiniLM embedder, empty cache")
    print(f"{'wall s':>8} {'chunks/s':>9} {'model s':>8} {'cache s':>8} {'store s':>8}")
    print(f"{wall:8.2f} {written / wall:9.1f} {model.seconds:8.2f} {cached.seconds - model.seconds:8.2f} "
          f"{wall - cached.seconds:8.2f}")
    return {"chunks_per_s": written / wall, "embedding_share": 100 * model.seconds / wall}


def latency(collection: Any, minilm: Any, asks: list[str], work: Path, label: str) -> dict[str, float]:
    from animstudio.knowledge.embedders import CachedEmbedder
    from animstudio.knowledge.lexical import lexical_index
    from animstudio.knowledge.search import POOL, dense, fuse, lexical, search

    start = time.perf_counter()
    collection.all()
    fetch_s = time.perf_counter() - start
    start = time.perf_counter()
    index = lexical_index(collection)
    build_s = time.perf_counter() - start
    embedder = CachedEmbedder(minilm, path=work / f"queries-{label}.sqlite")   # every question is new to it
    vectors = minilm.embed(asks)
    search([collection], embedder, "Which of these passages talks about the weather?", k=10, method="hybrid")
    collection.chroma.query(query_embeddings=[vectors[0].tolist()], n_results=10)
    hybrid_s, dense_s = [], []
    for question, vector in zip(asks, vectors, strict=True):
        t0 = time.perf_counter()
        search([collection], embedder, question, k=10, method="hybrid")
        t1 = time.perf_counter()
        collection.chroma.query(query_embeddings=[vector.tolist()], n_results=10)
        t2 = time.perf_counter()
        hybrid_s.append(t1 - t0)
        dense_s.append(t2 - t1)
    # hybrid's parts, timed one by one in a second pass (same questions, a fresh query cache)
    names = {"embed": "query embedding (MiniLM)", "cache": "embedding cache (SQLite)",
             "count": "collection count (dense)", "dense": f"chroma query, {POOL} with texts",
             "bm25": f"BM25 retrieve, {POOL}", "get": f"chroma get, {POOL} BM25 hits", "fuse": "fusion"}
    parts: dict[str, list[float]] = {k: [] for k in names}
    model = TimedEmbedder(minilm)
    embedder = CachedEmbedder(model, path=work / f"parts-{label}.sqlite")
    for question in asks:
        model.seconds = 0.0
        t0 = time.perf_counter()
        vector = embedder.embed([question])[0]
        t1 = time.perf_counter()
        collection.count()
        t2 = time.perf_counter()
        collection.chroma.query(query_embeddings=[vector.tolist()], n_results=POOL,
                                include=["documents", "metadatas", "distances"])
        t3 = time.perf_counter()
        found = index.search(question, POOL)
        t4 = time.perf_counter()
        collection.chroma.get(ids=[i for i, _ in found], include=["documents", "metadatas"])
        t5 = time.perf_counter()
        lists = [dense(collection, vector, POOL), lexical(collection, question, POOL)]
        t6 = time.perf_counter()
        fuse(lists, POOL)
        t7 = time.perf_counter()
        for key, seconds in zip(names, (model.seconds, t1 - t0 - model.seconds, t2 - t1, t3 - t2, t4 - t3, t5 - t4,
                                        t7 - t6), strict=True):
            parts[key].append(seconds)
    out = {"build_s": build_s, "hybrid_p50": ms(hybrid_s, 50), "hybrid_p95": ms(hybrid_s, 95),
           "dense_p50": ms(dense_s, 50), "dense_p95": ms(dense_s, 95)}
    print(f"\nquery latency at {label} chunks ({collection.count()} in the collection), {len(asks)} questions")
    print(f"BM25 index built on the first query in {build_s:.2f} s (of which fetching every text from Chroma, "
          f"timed apart: {fetch_s:.2f} s)")
    print(f"{'':30} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"{'hybrid (search, k=10)':30} {out['hybrid_p50']:8.2f} {out['hybrid_p95']:8.2f}")
    print(f"{'dense (chroma query, n=10)':30} {out['dense_p50']:8.2f} {out['dense_p95']:8.2f}")
    print("hybrid's parts, timed separately:")
    for key, name in names.items():
        print(f"  {name:28} {ms(parts[key], 50):8.2f} {ms(parts[key], 95):8.2f}")
    print(f"  {'sum of the p50s':28} {sum(ms(v, 50) for v in parts.values()):8.2f}")
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k chunks only, 50 questions, 5 cycles")
    args = parser.parse_args()
    began = time.perf_counter()
    cycles, n_questions, n_index = (5, 50, 500) if args.quick else (20, 200, 2000)
    pool = sentences()
    asks = questions()[:n_questions]
    print(f"{len(pool)} distinct sentences, {len(asks)} questions, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    results: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="kb-speed-") as tmp:
        work = Path(tmp)
        memory = memory_cycles(work, pool, questions(), cycles)

        from animstudio.knowledge.embedders import MiniLMEmbedder
        from animstudio.knowledge.store import Store

        minilm = MiniLMEmbedder()
        minilm.embed(chunks(pool, 64, 99))     # loading and first-run costs are not part of any figure
        made = indexing(work, pool, minilm, n_index)

        stand_in = HashedEmbedder()
        collection = Store(path=work / "bulk").collection("documents", create=True, embedder=stand_in)
        sizes = [10_000] if args.quick else [10_000, 100_000]
        held = 0
        found: dict[int, dict[str, float]] = {}
        for size in sizes:
            texts = chunks(pool, size, 2)[held:]
            start = time.perf_counter()
            bulk_add(collection, texts, held, stand_in)
            print(f"\nwrote {len(texts)} chunks with stand-in vectors in {time.perf_counter() - start:.1f} s")
            held = size
            found[size] = latency(collection, minilm, asks, work, f"{size // 1000}k")

    results.append(("index_chunks_per_s", made["chunks_per_s"], "chunks/s", "none"))
    results.append(("index_embedding_share", made["embedding_share"], "%", "none"))
    for size, got in found.items():
        label = f"{size // 1000}k"
        goal = "50" if size == 100_000 else "none"
        results.append((f"bm25_build_{label}_s", got["build_s"], "s", "none"))
        results.append((f"hybrid_p50_{label}_ms", got["hybrid_p50"], "ms", goal))
        results.append((f"hybrid_p95_{label}_ms", got["hybrid_p95"], "ms", "none"))
        results.append((f"dense_p50_{label}_ms", got["dense_p50"], "ms", "none"))
        results.append((f"dense_p95_{label}_ms", got["dense_p95"], "ms", "none"))
        results.append((f"hybrid_over_dense_p50_{label}", got["hybrid_p50"] / got["dense_p50"], "x", "none"))
    results += [(name, value, "MiB", "none") for name, value in memory.items()]
    print(f"\ntotal {time.perf_counter() - began:.0f} s, load average {os.getloadavg()[0]:.2f}")
    for name, value, unit, goal in results:
        print(f"RESULT {name} {value:.2f} {unit} goal {goal}")


if __name__ == "__main__":
    main()
