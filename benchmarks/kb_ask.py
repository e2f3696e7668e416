"""Grounded answers on SQuAD 2.0 (../shared/data/retrieval/squad2_small): how often `kb ask` abstains
on questions the paragraphs cannot answer, and whether its answers to answerable ones cite the
paragraph that holds the gold answer. Uses the configured LLM (the embedded default model).

    python benchmarks/kb_ask.py              # 20 unanswerable and 10 answerable questions
    python benchmarks/kb_ask.py --n 5        # a quicker look
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "retrieval" / "squad2_small"


def jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="unanswerable questions (answerable: half as many)")
    args = parser.parse_args()
    from animstudio.knowledge.answer import ask
    from animstudio.knowledge.indexing import index_source
    from animstudio.knowledge.kb import KnowledgeBase

    corpus = jsonl("corpus.jsonl")
    unanswerable = jsonl("queries_unanswerable.jsonl")
    answerable = jsonl("queries.jsonl")
    gold = {a["_id"]: a["answers"] for a in jsonl("answers.jsonl")}
    source = {row.split("\t")[0]: row.split("\t")[1] for row in
              (DATA / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]}
    step_u, step_a = max(1, len(unanswerable) // args.n), max(1, len(answerable) // max(1, args.n // 2))
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(path=tmp)
        squad = kb.collection("squad", create=True)
        index_source(squad, kb.embedder, "squad", "squad",
                     ((c["_id"], f"{c['title']}\n{c['text']}", {"title": c["title"]}) for c in corpus), "paragraph")
        start = time.perf_counter()
        abstained = 0
        for q in unanswerable[::step_u][: args.n]:
            answer = ask(kb, q["text"])
            abstained += answer.abstained
            said = f"abstains  {q['text']}  ->  ({answer.reason})" if answer.abstained else (
                f"ANSWERS   {q['text']}  ->  {answer.answer}")
            print(f"unanswerable  {said}")
        answered = cited_gold = correct = 0
        asked = answerable[::step_a][: max(1, args.n // 2)]
        for q in asked:
            answer = ask(kb, q["text"])
            if not answer.abstained:
                answered += 1
                cited_gold += answer.citations == [source[q["_id"]]]
                correct += any(g.lower() in answer.answer.lower() for g in gold[q["_id"]])
            print(f"answerable    {'abstains' if answer.abstained else 'answers '}  {q['text']}  ->  {answer.answer}"
                  f"  [gold: {gold[q['_id']][0]} in {source[q['_id']]}]")
        seconds = (time.perf_counter() - start) / (args.n + len(asked))
    n = min(args.n, len(unanswerable[::step_u]))
    print(f"RESULT kb_ask_abstained_unanswerable {abstained} of_{n} goal >{n // 2}")
    print(f"RESULT kb_ask_answered_answerable {answered} of_{len(asked)} goal none")
    print(f"RESULT kb_ask_citations_to_gold_paragraph {cited_gold} of_{answered} goal {answered}")
    print(f"RESULT kb_ask_answers_with_gold_answer {correct} of_{answered} goal none")
    print(f"RESULT kb_ask_seconds_per_question {seconds:.1f} s goal none")


if __name__ == "__main__":
    main()
