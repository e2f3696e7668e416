"""``animstudio kb``: the knowledge base — add, search, ask, list, remove, sync, stats, eval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.knowledge.requests import COLLECTION_HELP, AddRequest, AskRequest, SearchRequest
from animstudio.options import with_options

app = typer.Typer(no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


def _kb() -> Any:
    from animstudio.knowledge.commands import knowledge_base

    return knowledge_base()


def _report(report: Any, as_json: bool) -> None:
    r = report.model_dump()
    if as_json:
        ui.print_json(r)
        return
    ui.say(f"sources: {r['sources_added']} added, {r['sources_updated']} updated, {r['sources_unchanged']} "
           f"unchanged, {r['sources_removed']} removed; chunks: {r['chunks_written']} written, {r['chunks_kept']} "
           f"kept, {r['chunks_deleted']} deleted")


@app.command("add")
@with_options(AddRequest, into="request", args=("paths",), short={"collection": "-c"})
def add(
    paths: list[Path] = typer.Argument(..., metavar="PATH...", help="Files or folders (every supported file)."),
    as_json: bool = JSON_OPT,
    request: Any = None,
) -> None:
    """Index files; re-adding an unchanged file does nothing, a changed one replaces its chunks."""
    from animstudio.knowledge.commands import add_files

    with ui.progress_bar() as on_progress:
        report = add_files(request, on_progress=on_progress)
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
@with_options(SearchRequest, into="request", args=("query",), short={"k": "-k", "collections": "-c"},
              names={"collections": "--collection"})
def search_cmd(
    query: str = typer.Argument(..., metavar="QUERY"),
    as_json: bool = JSON_OPT,
    request: Any = None,
) -> None:
    """Search by meaning and by words; each hit with its score and its rank in each list."""
    from animstudio.knowledge.commands import search_hits

    hits = search_hits(request).hits
    if as_json:
        ui.print_json([h.model_dump() for h in hits])
        return
    ui.table(f"{len(hits)} hits", ["score", "id", "collection", "text"],
             [[f"{h.score:.4f}", h.id, h.collection, " ".join(h.text.split())[:100]] for h in hits])


@app.command("ask")
@with_options(AskRequest, into="request", args=("question",), short={"k": "-k", "collections": "-c", "model": "-m"},
              names={"collections": "--collection"})
def ask_cmd(
    question: str = typer.Argument(..., metavar="QUESTION"),
    as_json: bool = JSON_OPT,
    request: Any = None,
) -> None:
    """Answer from the knowledge base with citations (record ids), or say it does not know."""
    from animstudio.knowledge.commands import answer_question

    answer = answer_question(request)
    if as_json:
        ui.print_json(answer.model_dump())
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
