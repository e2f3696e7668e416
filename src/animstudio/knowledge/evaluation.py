"""Retrieval evaluation on datasets in the BEIR layout: read one, then score a search on it.

    >>> data = read_beir("datasets/squad2_small")   # corpus.jsonl, queries.jsonl, qrels/test.tsv
    >>> evaluate(lambda query, k: index.search(query, k), data, k=10)   # a plain TF-IDF index:
    {'ndcg@10': 0.863, 'recall@10': 0.973, 'precision@10': 0.097, 'mrr': 0.827, 'recall@5': 0.939, 'queries': 293}

The metrics follow trec_eval as BEIR runs it. A document is relevant when its qrels score is above 0,
and its gain is that score (graded relevance). nDCG@k discounts the gain at rank r by log2(r + 1);
its ideal ranking puts every relevant document of the qrels in order of score. Recall@k is the
relevant documents found in the top k over all relevant ones; Precision@k is those found over k; MRR
is 1 / the rank of the first relevant document within the top k (0 when none). An id that a search
returns twice keeps the rank of its first appearance; the repeat takes up its own rank but scores
nothing. Every query with at least one relevant document counts, empty results included (score 0).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.progress import Progress, ProgressCallback

log = logging.getLogger(__name__)

Search = Callable[[str, int], list[str]]
"""A search under evaluation: (query text, how many) -> document ids, best first."""

LAYOUT = "corpus.jsonl (_id, title, text), queries.jsonl (_id, text) and qrels/<split>.tsv"


@dataclass
class BeirDataset:
    """A retrieval test set: only the queries that have a relevant document (qrels score > 0) are kept."""

    corpus: dict[str, dict[str, str]]          # doc id -> {"title": ..., "text": ...}
    queries: dict[str, str]                    # query id -> text
    qrels: dict[str, dict[str, int]]           # query id -> {doc id: relevance score}
    skipped_qrels: int = 0                     # qrels rows left out: their doc or query id is unknown
    warnings: list[str] = field(default_factory=list)  # one line each, for the faces to show


# --- metrics -------------------------------------------------------------------------------------


def _top(ranked_ids: Sequence[str], k: int) -> list[str | None]:
    """The first ``k`` ranks; a repeated id keeps its rank but the repeat is blanked (scores nothing)."""
    if k < 1:
        raise InvalidInputError(f"the metric cut-off k must be at least 1, got {k}")
    seen: set[str] = set()
    top: list[str | None] = []
    for doc_id in islice(ranked_ids, k):
        top.append(None if doc_id in seen else doc_id)
        seen.add(doc_id)
    return top


def _relevant(qrel: Mapping[str, int], doc_id: str | None) -> int:
    return max(0, qrel.get(doc_id, 0)) if doc_id is not None else 0


def ndcg_at_k(ranked_ids: Sequence[str], qrel: Mapping[str, int], k: int) -> float:
    """nDCG@k: sum of score / log2(rank + 1) over the top k, over the same for the ideal ranking."""
    dcg = sum(_relevant(qrel, d) / math.log2(rank + 1) for rank, d in enumerate(_top(ranked_ids, k), start=1))
    ideal = sorted((score for score in qrel.values() if score > 0), reverse=True)[:k]
    idcg = sum(score / math.log2(rank + 1) for rank, score in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked_ids: Sequence[str], qrel: Mapping[str, int], k: int) -> float:
    """Relevant documents in the top k over all relevant documents (0 when the qrel has none)."""
    n_relevant = sum(1 for score in qrel.values() if score > 0)
    found = sum(1 for d in _top(ranked_ids, k) if _relevant(qrel, d))
    return found / n_relevant if n_relevant else 0.0


def precision_at_k(ranked_ids: Sequence[str], qrel: Mapping[str, int], k: int) -> float:
    """Relevant documents in the top k over k (a search that returns fewer is not excused)."""
    return sum(1 for d in _top(ranked_ids, k) if _relevant(qrel, d)) / k


def mrr_at_k(ranked_ids: Sequence[str], qrel: Mapping[str, int], k: int) -> float:
    """1 / the rank of the first relevant document within the top k; 0 if there is none."""
    for rank, d in enumerate(_top(ranked_ids, k), start=1):
        if _relevant(qrel, d):
            return 1.0 / rank
    return 0.0


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(search: Search, dataset: BeirDataset, k: int = 10,
             on_progress: ProgressCallback | None = None) -> dict[str, float]:
    """Run ``search`` on every query of ``dataset`` and average the metrics over the queries.

    Returns ``{"ndcg@K", "recall@K", "precision@K", "mrr", "recall@5", "queries"}``; ``mrr`` is cut
    at K too. ``search`` is asked for max(K, 5) documents per query.
    """
    if k < 1:
        raise InvalidInputError(f"the metric cut-off k must be at least 1, got {k}")
    qids = [qid for qid, qrel in dataset.qrels.items() if any(score > 0 for score in qrel.values())]
    if not qids:
        raise InvalidInputError("the dataset has no query with a relevant document (qrels score > 0); "
                                "check its qrels file")
    depth = max(k, 5)
    sums = {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, f"precision@{k}": 0.0, "mrr": 0.0, "recall@5": 0.0}
    for done, qid in enumerate(qids, start=1):
        text = dataset.queries.get(qid)
        if text is None:
            raise InvalidInputError(f"qrels name query {qid!r}, which the dataset's queries lack; "
                                    f"read the dataset with read_beir()")
        ranked = list(search(text, depth))
        for doc_id in ranked:
            if not isinstance(doc_id, str):
                raise InvalidInputError(f"the search returned {doc_id!r} ({type(doc_id).__name__}) for query "
                                        f"{qid!r}; it must return document ids as strings")
        qrel = dataset.qrels[qid]
        sums[f"ndcg@{k}"] += ndcg_at_k(ranked, qrel, k)
        sums[f"recall@{k}"] += recall_at_k(ranked, qrel, k)
        sums[f"precision@{k}"] += precision_at_k(ranked, qrel, k)
        sums["mrr"] += mrr_at_k(ranked, qrel, k)
        sums["recall@5"] += recall_at_k(ranked, qrel, 5)
        if on_progress:
            on_progress(Progress("evaluate", done, len(qids), "queries"))
    scores: dict[str, float] = {name: total / len(qids) for name, total in sums.items()}
    scores["queries"] = len(qids)
    return scores


def evaluate_methods(methods: Mapping[str, Search], dataset: BeirDataset, k: int = 10,
                     on_progress: ProgressCallback | None = None) -> dict[str, dict[str, float]]:
    """Evaluate each named search on the same dataset: ``{"bm25": {"ndcg@10": ...}, "dense": {...}}``."""
    results: dict[str, dict[str, float]] = {}
    for name, search in methods.items():
        forward = None
        if on_progress:
            def forward(event: Progress, name: str = name) -> None:
                on_progress(Progress(f"evaluate {name}", event.done, event.total, event.unit))
        results[name] = evaluate(search, dataset, k=k, on_progress=forward)
    return results


# --- reading -------------------------------------------------------------------------------------


def read_beir(dataset_dir: str | Path, split: str = "test") -> BeirDataset:
    """Read a BEIR-layout folder; the corpus is streamed line by line.

    qrels rows whose doc id is not in the corpus, or whose query id is not in the queries, are left
    out with a warning (logged, and kept in ``warnings``) and counted in ``skipped_qrels``: public
    datasets often carry a few. If no usable relevant row is left, that is an error.
    """
    root = Path(dataset_dir).expanduser()
    if not root.is_dir():
        state = "is not a folder" if root.exists() else "does not exist"
        raise InvalidInputError(f"dataset folder {root} {state}; a BEIR-layout dataset is a folder holding {LAYOUT}")
    corpus_path = _need_file(root, "corpus.jsonl")
    queries_path = _need_file(root, "queries.jsonl")
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        found = f"splits found: {', '.join(splits)}" if splits else "no qrels/*.tsv found"
        raise InvalidInputError(f"{qrels_path} is missing ({found}); a BEIR-layout dataset holds {LAYOUT}")

    warnings: list[str] = []
    corpus: dict[str, dict[str, str]] = {}
    repeats = 0
    for lineno, obj in _json_lines(corpus_path):
        doc_id = _field(obj, "_id", corpus_path, lineno)
        repeats += doc_id in corpus
        corpus[doc_id] = {"title": _field(obj, "title", corpus_path, lineno, optional=True),
                          "text": _field(obj, "text", corpus_path, lineno)}
    if not corpus:
        raise InvalidInputError(f"{corpus_path} holds no documents; it needs one JSON object per line "
                                f"with _id, title and text")
    if repeats:
        warnings.append(f"{corpus_path} repeats {repeats} document id(s); the last copy of each is kept")

    all_queries = {_field(obj, "_id", queries_path, n): _field(obj, "text", queries_path, n)
                   for n, obj in _json_lines(queries_path)}

    qrels: dict[str, dict[str, int]] = {}
    unknown_docs = unknown_queries = rows = 0
    for qid, doc_id, score in _qrels_rows(qrels_path):
        rows += 1
        if doc_id not in corpus:
            unknown_docs += 1
        elif qid not in all_queries:
            unknown_queries += 1
        else:
            qrels.setdefault(qid, {})[doc_id] = score
    if unknown_docs:
        warnings.append(f"{qrels_path}: skipped {unknown_docs} of {rows} rows whose corpus-id is not in "
                        f"{corpus_path.name}")
    if unknown_queries:
        warnings.append(f"{qrels_path}: skipped {unknown_queries} of {rows} rows whose query-id is not in "
                        f"{queries_path.name}")
    qrels = {qid: qrel for qid, qrel in qrels.items() if any(score > 0 for score in qrel.values())}
    if not qrels:
        raise InvalidInputError(f"{qrels_path} has no row with score > 0 whose ids are in {corpus_path.name} and "
                                f"{queries_path.name}; check that the three files belong to the same dataset")
    for message in warnings:
        log.warning(message)
    return BeirDataset(corpus=corpus, queries={qid: all_queries[qid] for qid in qrels}, qrels=qrels,
                       skipped_qrels=unknown_docs + unknown_queries, warnings=warnings)


def _need_file(root: Path, name: str) -> Path:
    path = root / name
    if not path.is_file():
        raise InvalidInputError(f"{path} is missing; a BEIR-layout dataset folder holds {LAYOUT}")
    return path


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line, read one line at a time and decoded as UTF-8."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInputError(f"{path}:{lineno} is not UTF-8 text ({exc.reason}); "
                                        f"re-save the file as UTF-8") from exc
            if line.strip():
                yield lineno, line


def _json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    for lineno, line in _lines(path):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}:{lineno} is not valid JSON ({exc.msg}); "
                                    f"each line of {path.name} must be one JSON object") from exc
        if not isinstance(obj, dict):
            raise InvalidInputError(f"{path}:{lineno} is a JSON {type(obj).__name__}, not an object; "
                                    f"each line of {path.name} must be one JSON object")
        yield lineno, obj


def _field(obj: dict, name: str, path: Path, lineno: int, optional: bool = False) -> str:
    value = obj.get(name)
    if value is None and optional:
        return ""
    if value is None:
        raise InvalidInputError(f"{path}:{lineno} has no {name!r} field; each line of {path.name} needs it")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"{path}:{lineno}: {name!r} is a {type(value).__name__}; it must be a string")
    return str(value)


def _qrels_rows(path: Path) -> Iterator[tuple[str, str, int]]:
    """(query id, doc id, score) per row; a first line without an integer score is the header."""
    for lineno, line in _lines(path):
        cells = line.rstrip("\r\n").split("\t")
        score = _int(cells[2]) if len(cells) == 3 else None
        if score is None and lineno == 1:
            continue  # the "query-id corpus-id score" header
        if score is None or not cells[0] or not cells[1]:
            raise InvalidInputError(f"{path}:{lineno} is not 'query-id<TAB>corpus-id<TAB>score' with an integer "
                                    f"score: {line.strip()[:80]!r}")
        yield cells[0], cells[1], score


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def evaluate_dataset(dataset_dir: str | Path, k: int = 10, split: str = "test",
                     on_progress: ProgressCallback | None = None) -> dict[str, dict[str, float]]:
    """Index a BEIR dataset's corpus into a throwaway store and score dense, BM25 and hybrid search:
    ``{"dense": {"ndcg@10", "recall@10", "mrr", ...}, "bm25": {...}, "hybrid": {...}}``."""
    import tempfile

    from animstudio.knowledge.indexing import index_source
    from animstudio.knowledge.kb import KnowledgeBase
    from animstudio.knowledge.search import search

    data = read_beir(dataset_dir, split)
    with tempfile.TemporaryDirectory(prefix="animstudio-eval-") as tmp:
        kb = KnowledgeBase(path=tmp)
        collection = kb.collection("eval", create=True)
        items = ((doc_id, "\n".join(filter(None, (doc.get("title", ""), doc.get("text", "")))), {"kind": "doc"})
                 for doc_id, doc in data.corpus.items())
        index_source(collection, kb.embedder, "dataset", "dataset", items, "doc",
                     on_progress=on_progress or (lambda _: None))

        def method(name: str) -> Callable[[str, int], list[str]]:
            return lambda query, n: [h.id for h in search([collection], kb.embedder, query, n, method=name)]

        return evaluate_methods({name: method(name) for name in ("dense", "bm25", "hybrid")}, data, k=k,
                                on_progress=on_progress)
