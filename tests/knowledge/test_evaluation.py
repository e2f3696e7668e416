"""Retrieval evaluation: metrics on hand-worked rankings, the BEIR reader on real and broken data, evaluate()."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from animstudio.errors import InvalidInputError
from animstudio.knowledge.evaluation import (
    BeirDataset,
    evaluate,
    evaluate_methods,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    read_beir,
    recall_at_k,
)
from animstudio.progress import Progress

# --- metrics, worked by hand ----------------------------------------------------------------------

BINARY = {"a": 1, "b": 1}


def test_binary_relevant_at_ranks_1_and_3():
    ranked = ["a", "x", "b", "y"]
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5; ideal puts both first: 1/log2(2) + 1/log2(3) = 1 + 0.6309
    assert ndcg_at_k(ranked, BINARY, 10) == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(ranked, BINARY, 10) == pytest.approx(0.919721, abs=1e-6)
    assert recall_at_k(ranked, BINARY, 10) == 1.0           # 2 found / 2 relevant
    assert precision_at_k(ranked, BINARY, 10) == 0.2        # 2 found / k = 10
    assert mrr_at_k(ranked, BINARY, 10) == 1.0              # first relevant at rank 1


def test_k_cuts_off():
    ranked = ["x", "a", "y", "b"]
    # k = 1: nothing relevant in the top 1
    assert (ndcg_at_k(ranked, BINARY, 1), recall_at_k(ranked, BINARY, 1), mrr_at_k(ranked, BINARY, 1)) == (0, 0, 0)
    # k = 2: DCG = 1/log2(3); ideal@2 = 1 + 1/log2(3)
    assert ndcg_at_k(ranked, BINARY, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert recall_at_k(ranked, BINARY, 2) == 0.5            # 1 of 2
    assert precision_at_k(ranked, BINARY, 2) == 0.5         # 1 of k = 2
    assert mrr_at_k(ranked, BINARY, 2) == 0.5               # first relevant at rank 2
    # k = 3: b (rank 4) still out
    assert recall_at_k(ranked, BINARY, 3) == 0.5
    # k = 4: DCG = 1/log2(3) + 1/log2(5) = 0.6309 + 0.4307; ideal = 1.6309
    assert ndcg_at_k(ranked, BINARY, 4) == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_ideal_dcg_is_cut_at_k_too():
    # 3 relevant, k = 1, the best one first: DCG@1 = 1 = ideal DCG@1 (only one slot)
    qrel = {"a": 1, "b": 1, "c": 1}
    assert ndcg_at_k(["a"], qrel, 1) == 1.0
    assert recall_at_k(["a"], qrel, 1) == pytest.approx(1 / 3)


def test_graded_relevance():
    qrel = {"a": 2, "b": 1, "c": 0, "d": -1}   # c judged not relevant, d negative: both gain 0
    ranked = ["b", "c", "a", "d"]
    # DCG = 1/log2(2) + 0 + 2/log2(4) + 0 = 1 + 1 = 2; ideal: a, b -> 2/log2(2) + 1/log2(3) = 2.6309
    assert ndcg_at_k(ranked, qrel, 10) == pytest.approx(2 / (2 + 1 / math.log2(3)))
    assert ndcg_at_k(ranked, qrel, 10) == pytest.approx(0.760188, abs=1e-6)
    assert ndcg_at_k(["a", "b"], qrel, 10) == 1.0
    # gain is the grade itself (not 2**grade - 1): b first, a second -> (1 + 2/log2(3)) / (2 + 1/log2(3))
    assert ndcg_at_k(["b", "a"], qrel, 10) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert recall_at_k(ranked, qrel, 10) == 1.0               # a and b; c and d are not relevant
    assert recall_at_k(["c", "d"], qrel, 10) == 0.0
    assert mrr_at_k(["c", "d", "a"], qrel, 10) == pytest.approx(1 / 3)


def test_empty_results_and_empty_qrels():
    assert (ndcg_at_k([], BINARY, 10), recall_at_k([], BINARY, 10), precision_at_k([], BINARY, 10),
            mrr_at_k([], BINARY, 10)) == (0, 0, 0, 0)
    # no relevant document at all: every metric is 0, not a division by zero
    assert (ndcg_at_k(["a"], {"a": 0}, 10), recall_at_k(["a"], {}, 10), mrr_at_k(["a"], {}, 10)) == (0, 0, 0)


def test_duplicates_count_once():
    # a repeated relevant id keeps its first rank; the repeat takes rank 2 but scores nothing
    ranked = ["a", "a", "b"]
    assert recall_at_k(ranked, BINARY, 10) == 1.0
    assert precision_at_k(ranked, BINARY, 10) == 0.2
    # DCG = 1 + 0 + 1/log2(4) = 1.5, as if rank 2 held an irrelevant document
    assert ndcg_at_k(ranked, BINARY, 10) == pytest.approx(ndcg_at_k(["a", "x", "b"], BINARY, 10))
    assert recall_at_k(["a", "a"], BINARY, 2) == 0.5
    assert precision_at_k(["a", "a", "a"], {"a": 1}, 3) == pytest.approx(1 / 3)


def test_bad_k():
    with pytest.raises(InvalidInputError, match="at least 1, got 0"):
        ndcg_at_k(["a"], BINARY, 0)


# --- read_beir on the real squad2_small -----------------------------------------------------------


@pytest.fixture(scope="module")
def squad() -> BeirDataset:
    root = Path(__file__).resolve().parents[3] / "shared" / "data" / "retrieval" / "squad2_small"
    if not root.is_dir():
        pytest.skip(f"retrieval test data not found at {root}")
    return read_beir(root)


def test_read_squad2_small(squad):
    assert len(squad.corpus) == 87
    assert len(squad.queries) == len(squad.qrels) == 293
    assert squad.skipped_qrels == 0 and squad.warnings == []
    assert squad.corpus["Normans_0"]["title"] == "Normans"
    assert squad.corpus["Normans_0"]["text"].startswith("The Normans (Norman: Nourmands;")
    assert squad.queries["56ddde6b9a695914005b9628"] == "In what country is Normandy located?"
    assert squad.qrels["56ddde6b9a695914005b9628"] == {"Normans_0": 1}
    # SQuAD: one paragraph answers each question
    assert all(len(qrel) == 1 for qrel in squad.qrels.values())
    assert len({doc for qrel in squad.qrels.values() for doc in qrel}) <= 87


# --- read_beir on broken datasets -----------------------------------------------------------------


def _dataset(root: Path, corpus=None, queries=None, qrels=None) -> Path:
    corpus = corpus if corpus is not None else [{"_id": "d1", "title": "T1", "text": "red fox"},
                                                {"_id": "d2", "text": "blue whale"}]
    queries = queries if queries is not None else [{"_id": "q1", "text": "fox"}, {"_id": "q2", "text": "whale"},
                                                   {"_id": "q3", "text": "no judgement"}]
    qrels = qrels if qrels is not None else "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\n"
    root.mkdir(parents=True, exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        text = rows if isinstance(rows, str) else "".join(json.dumps(row) + "\n" for row in rows)
        (root / name).write_text(text)
    (root / "qrels").mkdir(exist_ok=True)
    (root / "qrels" / "test.tsv").write_text(qrels)
    return root


def test_read_small_dataset(tmp_path):
    data = read_beir(_dataset(tmp_path / "ok"))
    assert data.corpus == {"d1": {"title": "T1", "text": "red fox"}, "d2": {"title": "", "text": "blue whale"}}
    assert data.queries == {"q1": "fox", "q2": "whale"}          # q3 has no qrels: not evaluated
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2}}


def test_queries_without_a_relevant_document_are_left_out(tmp_path):
    data = read_beir(_dataset(tmp_path / "d", qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t0\n"))
    assert list(data.queries) == ["q1"] and list(data.qrels) == ["q1"]


def test_unknown_doc_ids_are_skipped_and_counted(tmp_path, caplog):
    qrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tgone\t1\nq2\tgone2\t1\nq9\td1\t1\n"
    with caplog.at_level("WARNING"):
        data = read_beir(_dataset(tmp_path / "d", qrels=qrels))
    assert data.qrels == {"q1": {"d1": 1}}                       # q2's only relevant doc is unknown
    assert data.skipped_qrels == 3
    assert len(data.warnings) == 2
    assert "skipped 2 of 4 rows whose corpus-id is not in corpus.jsonl" in data.warnings[0]
    assert "skipped 1 of 4 rows whose query-id is not in queries.jsonl" in data.warnings[1]
    assert "skipped 2 of 4 rows" in caplog.text


@pytest.mark.parametrize("kind, message", [
    ("no folder", r"dataset folder .*nowhere does not exist; a BEIR-layout dataset is a folder holding corpus.jsonl"),
    ("file, not folder", r"is not a folder; a BEIR-layout"),
    ("no corpus", r"corpus.jsonl is missing; a BEIR-layout dataset folder holds corpus.jsonl \(_id, title, text\)"),
    ("no queries", r"queries.jsonl is missing; a BEIR-layout"),
    ("no split", r"qrels/dev.tsv is missing \(splits found: test\)"),
    ("bad json", r"corpus.jsonl:2 is not valid JSON \(Expecting"),
    ("json list", r"queries.jsonl:1 is a JSON list, not an object"),
    ("no _id", r"corpus.jsonl:1 has no '_id' field"),
    ("no text", r"queries.jsonl:2 has no 'text' field"),
    ("empty corpus", r"corpus.jsonl holds no documents"),
    ("bad qrels row", r"test.tsv:3 is not 'query-id<TAB>corpus-id<TAB>score' with an integer score: 'q2 d2'"),
    ("bad score", r"test.tsv:2 is not .* score: 'q1\\td1\\thigh'"),
    ("all unknown", r"test.tsv has no row with score > 0 whose ids are in corpus.jsonl and queries.jsonl"),
    ("not utf8", r"corpus.jsonl:2 is not UTF-8 text"),
])
def test_broken_datasets(tmp_path, kind, message):
    root = tmp_path / "data"
    split = "test"
    if kind == "no folder":
        root = tmp_path / "nowhere"
    elif kind == "file, not folder":
        root.write_text("x")
    elif kind == "no corpus":
        _dataset(root).joinpath("corpus.jsonl").unlink()
    elif kind == "no queries":
        _dataset(root).joinpath("queries.jsonl").unlink()
    elif kind == "no split":
        _dataset(root)
        split = "dev"
    elif kind == "bad json":
        _dataset(root, corpus='{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": \n')
    elif kind == "json list":
        _dataset(root, queries='["q1", "fox"]\n')
    elif kind == "no _id":
        _dataset(root, corpus=[{"id": "d1", "text": "a"}])
    elif kind == "no text":
        _dataset(root, queries=[{"_id": "q1", "text": "fox"}, {"_id": "q2", "query": "whale"}])
    elif kind == "empty corpus":
        _dataset(root, corpus="\n")
    elif kind == "bad qrels row":
        _dataset(root, qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\nq2 d2\n")
    elif kind == "bad score":
        _dataset(root, qrels="query-id\tcorpus-id\tscore\nq1\td1\thigh\n")
    elif kind == "all unknown":
        _dataset(root, qrels="query-id\tcorpus-id\tscore\nq1\tx1\t1\nq2\td2\t0\n")
    elif kind == "not utf8":
        _dataset(root)
        (root / "corpus.jsonl").write_bytes(b'{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": "\xff"}\n')
    with pytest.raises(InvalidInputError, match=message) as err:
        read_beir(root, split=split)
    assert "\n" not in str(err.value)


def test_qrels_without_header_and_with_crlf(tmp_path):
    data = read_beir(_dataset(tmp_path / "d", qrels="q1\td1\t1\r\nq2\td2\t1\r\n"))
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}}


# --- evaluate -------------------------------------------------------------------------------------


def _by_text(dataset: BeirDataset) -> dict[str, str]:
    return {text: qid for qid, text in dataset.queries.items()}


def _oracle(dataset: BeirDataset):
    qid_of = _by_text(dataset)

    def search(query: str, k: int) -> list[str]:
        qrel = dataset.qrels[qid_of[query]]
        best = sorted(qrel, key=qrel.get, reverse=True)
        return (best + [d for d in dataset.corpus if d not in qrel])[:k]
    return search


def test_oracle_scores_one(squad):
    events: list[Progress] = []
    scores = evaluate(_oracle(squad), squad, k=10, on_progress=events.append)
    assert list(scores) == ["ndcg@10", "recall@10", "precision@10", "mrr", "recall@5", "queries"]
    assert scores["queries"] == 293
    for name in ("ndcg@10", "recall@10", "mrr", "recall@5"):
        assert scores[name] == pytest.approx(1.0)
    assert scores["precision@10"] == pytest.approx(0.1)   # one relevant paragraph per question, k = 10
    assert len(events) == 293 and events[-1].done == events[-1].total == 293


def test_reversed_and_random_score_lower(squad):
    oracle = _oracle(squad)
    reversed_ = evaluate(lambda q, k: oracle(q, len(squad.corpus))[::-1][:k], squad)
    assert reversed_["recall@10"] == 0.0 and reversed_["mrr"] == 0.0   # the answer is last of 87
    rng = random.Random(7)
    ids = list(squad.corpus)
    shuffled = evaluate(lambda q, k: rng.sample(ids, k), squad)
    # a random 10 of 87 paragraphs finds the one answer with probability 10/87 = 0.115
    assert 0.05 < shuffled["recall@10"] < 0.2
    assert shuffled["ndcg@10"] < shuffled["recall@10"] < 1.0


def test_evaluate_keys_follow_k_and_graded(tmp_path):
    data = read_beir(_dataset(tmp_path / "d", qrels="q1\td1\t1\nq2\td2\t2\nq2\td1\t1\n"))
    asked: list[int] = []

    def search(query: str, k: int) -> list[str]:
        asked.append(k)
        return ["d1", "d2"]
    scores = evaluate(search, data, k=1)
    assert asked == [5, 5]                      # recall@5 needs 5 even when k = 1
    assert list(scores) == ["ndcg@1", "recall@1", "precision@1", "mrr", "recall@5", "queries"]
    # q1: d1 first -> 1 everywhere. q2 (d2: 2, d1: 1): d1 first -> nDCG@1 = 1/2, recall@1 = 1/2, MRR 1
    assert scores["ndcg@1"] == pytest.approx((1 + 0.5) / 2)
    assert scores["recall@1"] == pytest.approx((1 + 0.5) / 2)
    assert scores["mrr"] == 1.0 and scores["recall@5"] == 1.0 and scores["queries"] == 2


def test_evaluate_rejects_non_string_ids(tmp_path):
    data = read_beir(_dataset(tmp_path / "d"))
    with pytest.raises(InvalidInputError, match="returned 1 \\(int\\) for query 'q1'; it must return document ids"):
        evaluate(lambda q, k: [1], data)


def test_evaluate_methods_shape(tmp_path):
    data = read_beir(_dataset(tmp_path / "d"))
    events: list[Progress] = []
    results = evaluate_methods({"right": _oracle(data), "empty": lambda q, k: []}, data, k=10,
                               on_progress=events.append)
    assert list(results) == ["right", "empty"]
    assert results["right"]["ndcg@10"] == 1.0 and results["empty"]["ndcg@10"] == 0.0
    assert results["empty"]["queries"] == 2
    assert [e.task for e in events] == ["evaluate right"] * 2 + ["evaluate empty"] * 2
    json.dumps(results)   # the CLI's --json shape


# --- a real lexical baseline: TF-IDF written here -------------------------------------------------


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _tfidf_search(dataset: BeirDataset):
    docs = {d: Counter(_tokens(f"{doc['title']} {doc['text']}")) for d, doc in dataset.corpus.items()}
    df = Counter(term for tf in docs.values() for term in tf)
    idf = {term: math.log(len(docs) / n) for term, n in df.items()}

    def vector(tf: Counter) -> dict[str, float]:
        vec = {t: (1 + math.log(n)) * idf.get(t, 0.0) for t, n in tf.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {t: w / norm for t, w in vec.items()}

    vectors = {d: vector(tf) for d, tf in docs.items()}

    def search(query: str, k: int) -> list[str]:
        q = vector(Counter(_tokens(query)))
        scores = {d: sum(w * vec.get(t, 0.0) for t, w in q.items()) for d, vec in vectors.items()}
        return sorted(scores, key=lambda d: (-scores[d], d))[:k]
    return search


def test_tfidf_baseline_on_squad2_small(squad):
    scores = evaluate(_tfidf_search(squad), squad, k=10)
    # measured: the answering paragraph is in the top 10 for 285 of 293 questions, in the top 5 for 275
    assert scores["recall@10"] == pytest.approx(285 / 293)        # 0.973
    assert scores["recall@5"] == pytest.approx(275 / 293)         # 0.939
    assert scores["ndcg@10"] == pytest.approx(0.8633, abs=1e-4)
    assert scores["mrr"] == pytest.approx(0.8273, abs=1e-4)
    assert scores["precision@10"] == pytest.approx(scores["recall@10"] / 10)   # one relevant per question
    # and far above chance (10/87 = 0.115 for recall@10)
    assert scores["recall@10"] > 0.9
