"""``animstudio kb``: the knowledge base — add, search, ask, list, remove, sync, stats, eval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui

app = typer.Typer(no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print JSON.")
COLLECTION_HELP = "characters, styles, generations, films, documents, or a documents collection of your own"


def _kb() -> Any:
    from animstudio.knowledge.kb import KnowledgeBase

    return KnowledgeBase()


def _where(text: str | None) -> dict[str, Any] | None:
    """A filter: JSON in Chroma's language, or KEY=VALUE pairs joined by commas."""
    from animstudio.errors import InvalidInputError

    if not text:
        return None
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"--where: not JSON ({exc.msg}); e.g. '{{\"start_s\": {{\"$gte\": 10}}}}' "
                                    "or kind=shot") from exc
        return value
    pairs = []
    for part in text.split(","):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--where: {part!r} is not KEY=VALUE; e.g. kind=shot,film=ep1.mp4")
        try:
            parsed: Any = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw.strip()
        pairs.append({key.strip(): parsed})
    return pairs[0] if len(pairs) == 1 else {"$and": pairs}


def _report(report: Any, as_json: bool) -> None:
    if as_json:
        ui.print_json(report.as_dict())
        return
    r = report
    ui.say(f"sources: {r.sources_added} added, {r.sources_updated} updated, {r.sources_unchanged} unchanged, "
           f"{r.sources_removed} removed; chunks: {r.chunks_written} written, {r.chunks_kept} kept, "
           f"{r.chunks_deleted} deleted")


@app.command("add")
def add(
    paths: list[Path] = typer.Argument(..., metavar="PATH...", help="Files or folders (every supported file)."),
    collection: str = typer.Option(None, "--collection", "-c", help=f"{COLLECTION_HELP}; default: analyses to "
                                                                    "films, `characters:`/`styles:` files to those, "
                                                                    "the rest to documents."),
    transcript: Path = typer.Option(None, "--transcript", help="For an analysis: what is said (transcript JSON "
                                                               "from voice transcribe, or subtitles)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Index files; re-adding an unchanged file does nothing, a changed one replaces its chunks."""
    kb = _kb()
    with ui.progress_bar() as on_progress:
        report = kb.add(list(paths), collection, transcript, on_progress=on_progress)
    _report(report, as_json)


@app.command("sync")
def sync(
    folder: Path = typer.Argument(..., metavar="DIR", help="The folder to mirror."),
    collection: str = typer.Option("documents", "--collection", "-c", help=COLLECTION_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Make a collection hold exactly the files of a folder: new and changed ones indexed, deleted ones removed."""
    kb = _kb()
    with ui.progress_bar() as on_progress:
        report = kb.sync(folder, collection, on_progress=on_progress)
    _report(report, as_json)


@app.command("search")
def search_cmd(
    query: str = typer.Argument(..., metavar="QUERY"),
    k: int = typer.Option(5, "--k", "-k", min=1, max=1000, help="How many hits."),
    collection: list[str] = typer.Option(None, "--collection", "-c", help="Search these (default: all)."),
    where: str = typer.Option(None, "--where", help="Metadata filter: KEY=VALUE[,KEY=VALUE] or Chroma JSON."),
    method: str = typer.Option("hybrid", "--method", help="hybrid (dense + BM25, fused), dense or bm25."),
    diversity: float = typer.Option(None, "--diversity", min=0.0, max=1.0,
                                    help="MMR: 0 relevance only ... 1 variety only."),
    as_json: bool = JSON_OPT,
) -> None:
    """Search by meaning and by words; each hit with its score and its rank in each list."""
    from animstudio.knowledge.search import check_method

    check_method(method)   # before the embedder loads
    filters = _where(where)
    hits = _kb().search(query, k=k, collections=collection or None, where=filters, method=method,  # type: ignore[arg-type]
                        diversity=diversity)
    if as_json:
        ui.print_json([h.as_dict() for h in hits])
        return
    ui.table(f"{len(hits)} hits", ["score", "id", "collection", "text"],
             [[f"{h.score:.4f}", h.id, h.collection, " ".join(h.text.split())[:100]] for h in hits])


@app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., metavar="QUESTION"),
    k: int = typer.Option(3, "--k", "-k", min=1, max=20, help="Passages given to the model."),
    collection: list[str] = typer.Option(None, "--collection", "-c", help="Search these (default: all)."),
    where: str = typer.Option(None, "--where", help="Metadata filter, as for search."),
    as_json: bool = JSON_OPT,
) -> None:
    """Answer from the knowledge base with citations (record ids), or say it does not know."""
    from animstudio.knowledge.answer import ask

    filters = _where(where)
    answer = ask(_kb(), question, k=k, collections=collection or None, where=filters)
    if as_json:
        ui.print_json(answer.as_dict())
        return
    typer.echo(answer.answer)
    if answer.abstained and answer.reason:
        ui.say(f"({answer.reason})")


@app.command("list")
def list_cmd(
    collection: str = typer.Option(None, "--collection", "-c", help="List this collection's sources (default: "
                                                                    "the collections)."),
    as_json: bool = JSON_OPT,
) -> None:
    """The collections, or the sources indexed into one."""
    kb = _kb()
    if collection is None:
        data = kb.store.describe()["collections"]
        if as_json:
            ui.print_json(data)
            return
        ui.table("collections", ["collection", "records", "sources", "kind"],
                 [[n, d["records"], d["sources"], d.get("record_kind", "")] for n, d in data.items()])
        return
    sources = kb.sources(collection)
    if as_json:
        ui.print_json(sources)
        return
    ui.table(f"{collection}: {len(sources)} sources", ["source", "chunks", "indexed"],
             [[s, m.get("chunks", ""), m.get("indexed_at", "")] for s, m in sorted(sources.items())])


@app.command("remove")
def remove(
    targets: list[str] = typer.Argument(None, metavar="SOURCE_OR_ID...", help="Source paths or record ids."),
    collection: str = typer.Option(..., "--collection", "-c", help=COLLECTION_HELP),
    everything: bool = typer.Option(False, "--all", help="Remove the whole collection."),
    as_json: bool = JSON_OPT,
) -> None:
    """Remove sources or records from a collection, or (with --all) the collection itself."""
    from animstudio.errors import InvalidInputError

    kb = _kb()
    if everything:
        if targets:
            raise InvalidInputError("--all removes the whole collection; give no sources with it")
        kb.store.drop(collection)
        ui.say(f"removed collection {collection}")
        return
    if not targets:
        raise InvalidInputError("name the sources or record ids to remove, or pass --all for the whole collection")
    _report(kb.remove(collection, targets), as_json)


@app.command("stats")
def stats(as_json: bool = JSON_OPT) -> None:
    """Where the store is and what it holds."""
    data = _kb().store.describe()
    if as_json:
        ui.print_json(data)
        return
    ui.say(f"store: {data['store']}")
    ui.table("collections", ["collection", "records", "sources", "revision", "embedder"],
             [[n, d["records"], d["sources"], d["revision"], d.get("embedder", "")]
              for n, d in data["collections"].items()])


@app.command("eval")
def eval_cmd(
    dataset: Path = typer.Argument(..., metavar="DATASET_DIR", help="BEIR layout: corpus.jsonl, queries.jsonl, "
                                                                    "qrels/test.tsv."),
    k: int = typer.Option(10, "--k", "-k", min=1, max=1000, help="Cut-off for nDCG and recall."),
    split: str = typer.Option("test", "--split", help="Which qrels file (qrels/SPLIT.tsv)."),
    as_json: bool = JSON_OPT,
) -> None:
    """nDCG@k, Recall@k and MRR for dense, BM25 and hybrid retrieval, on a throwaway index of the dataset."""
    from animstudio.knowledge.evaluation import evaluate_dataset

    with ui.progress_bar() as on_progress:
        results = evaluate_dataset(dataset, k=k, split=split, on_progress=on_progress)
    if as_json:
        ui.print_json(results)
        return
    metrics = [m for m in next(iter(results.values())) if m != "queries"]
    ui.table(f"{dataset.name}", ["method", *metrics], [[name, *(f"{r[m]:.4f}" for m in metrics)]
                                                       for name, r in results.items()])
