"""Batches: prompts x seeds x presets from a YAML or CSV file (or the command line), made into one
folder that a second run resumes: an image whose PNG exists is not made again, so a batch killed
half-way finishes with only what was missing.

    # shots.yaml                              # or shots.csv: prompt,negative_prompt,seed,preset,...
    prompts:
      - a fox in the snow
      - {prompt: a fox at night, negative_prompt: blurry}
    seeds: [1, 2, 3]
    presets: [draft]
    width: 832                                # any other field of an image request: the defaults

    run_batch(BatchRequest(file=Path("shots.yaml"), output=Path("out")))

Each PNG carries A1111 ``parameters`` and a JSON sidecar; ``batch.json`` lists every item with its
file, seed and (with references) its consistency score. An image scoring under the threshold is made
again with a new seed, at most ``retries`` times. Made images are recorded in the knowledge base's
``generations`` collection when ``record`` is on.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from animstudio.errors import InvalidInputError, invalid_input
from animstudio.image.base import ImageRequest
from animstudio.progress import BatchProgress, Progress, ProgressCallback, ignore

RETRY_SEED_STEP = 1_000_003   # a retry's seed: far from the batch's own seeds
DEFAULTS = ("negative_prompt", "width", "height", "steps", "sampler")   # fields given once for every prompt


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    file: Path | None = Field(None, description="prompts, seeds and presets: .yaml or .csv")
    prompts: list[str] = Field(default_factory=list, description="prompts (with or instead of the file)")
    seeds: list[int] = Field(default_factory=list, description="seeds each prompt is made with (default: 0)")
    presets: list[str] = Field(default_factory=list, description="quality presets to make each in: draft, standard "
                                                                 "or high")
    negative_prompt: str | None = Field(None, max_length=4000, description="what no picture may show")
    width: int | None = Field(None, ge=64, le=4096, multiple_of=8, description="pixels (default: the preset's)")
    height: int | None = Field(None, ge=64, le=4096, multiple_of=8, description="pixels (default: the preset's)")
    steps: int | None = Field(None, ge=1, le=200, description="denoising steps (default: the preset's)")
    sampler: str | None = Field(None, description="the sampler, by its A1111 name")
    output: Path = Field(description="the batch's folder (a second run resumes it)")
    checkpoint: str | None = Field(None, description="a warehouse name, diffusers folder or .safetensors file")
    backend: str = Field("diffusers", description="the image backend")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run")
    references: list[Path] = Field(default_factory=list, description="reference pictures or folders of the "
                                                                     "character: images scoring under the "
                                                                     "threshold are made again")
    threshold: float | None = Field(None, ge=-1, le=1, description="consistency threshold (default: the scorer's)")
    retries: int = Field(2, ge=0, le=10, description="new seeds tried for an image under the threshold")
    record: bool = Field(False, description="record each image in the knowledge base's generations collection")
    executor: str | None = Field(None, description="where the pictures are made: local or ray (default: the "
                                                   "executor setting; ray.address names the cluster; device "
                                                   "cuda puts each on a worker with a GPU)")


    @field_validator("presets")
    @classmethod
    def _presets(cls, value: list[str]) -> list[str]:
        from animstudio.image.base import PRESETS

        unknown = [v for v in value if v not in PRESETS]
        if unknown:
            raise ValueError(f"no preset {', '.join(unknown)}; choose from {', '.join(PRESETS)}")
        return value


class Item(BaseModel):
    index: int
    request: ImageRequest
    file: str
    seed: int
    score: float | None = None
    tries: int = 1
    done: bool = False


class BatchResult(BaseModel):
    output: Path
    made: int = Field(description="images made by this run")
    skipped: int = Field(description="images already made by an earlier run")
    items: list[Item]
    seconds: float


def _rows(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The file's prompt rows and its defaults."""
    if not path.is_file():
        raise InvalidInputError(f"no batch file at {path}; give a .yaml or .csv of prompts")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and "prompt" not in rows[0]:
            raise InvalidInputError(f"{path} needs a 'prompt' column (and optionally seed, preset, "
                                    "negative_prompt, ...)")
        return [{k: v for k, v in row.items() if v not in (None, "")} for row in rows], {}
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path} is not readable YAML ({str(exc).splitlines()[0]})") from None
    if isinstance(data, list):
        data = {"prompts": data}
    if not isinstance(data, dict) or not data.get("prompts"):
        raise InvalidInputError(f"{path} must have a 'prompts' list, e.g. prompts: [a fox in the snow]")
    defaults = {k: v for k, v in data.items() if k not in ("prompts",)}
    rows = [p if isinstance(p, dict) else {"prompt": str(p)} for p in data["prompts"]]
    return rows, defaults


def expand(request: BatchRequest) -> list[Item]:
    """Every image of the batch, in a stable order (prompt, preset, seed)."""
    rows, defaults = _rows(request.file) if request.file else ([], {})
    rows += [{"prompt": p} for p in request.prompts]
    if not rows:
        raise InvalidInputError("the batch has no prompts; give a file or --prompt")
    defaults.update({k: v for k in DEFAULTS if (v := getattr(request, k)) is not None})
    seeds = request.seeds or [int(s) for s in defaults.pop("seeds", [])] or [0]
    presets = request.presets or defaults.pop("presets", []) or [None]
    defaults.pop("seeds", None)
    defaults.pop("presets", None)
    items: list[Item] = []
    for row_number, row in enumerate(rows, 1):
        row = {**defaults, **row}
        row_seeds = [int(row.pop("seed"))] if "seed" in row else seeds
        row_presets = [row.pop("preset")] if "preset" in row else presets
        for preset in row_presets:
            for seed in row_seeds:
                values = {**row, "seed": seed, "count": 1, **({"preset": preset} if preset else {})}
                try:
                    image = ImageRequest.model_validate(values)
                except ValidationError as exc:
                    raise invalid_input(exc, f"batch prompt {row_number}", ImageRequest.model_fields,
                                        "known fields") from exc
                index = len(items)
                name = f"{index:04d}-{preset or 'custom'}-{seed}.png"
                items.append(Item(index=index, request=image, file=name, seed=seed))
    return items


def make_picture(task: dict[str, Any], report: ProgressCallback = ignore) -> dict[str, Any]:
    """One picture of a batch, made again with a new seed while it scores under the threshold (the task
    an executor runs, wherever it runs: there the broker keeps the checkpoint loaded for the next one);
    its denoising steps go to ``report``."""
    from animstudio.image.commands import GenerateRequest, backend_for

    request: BatchRequest = task["request"]
    item: Item = task["item"]
    backend = backend_for(GenerateRequest(prompt="x", checkpoint=request.checkpoint, backend=request.backend,
                                          device=request.device))
    refs = [str(p) for p in request.references]
    seed, score, tries = item.seed, None, 1
    for attempt in range(request.retries + 1):
        image = backend.generate(item.request.model_copy(update={"seed": seed}), on_progress=report)[0]
        tries = attempt + 1
        if not refs:
            break
        from animstudio.image.consistency import check

        verdict = check([image], refs, threshold=request.threshold)[0]
        score = round(verdict.score, 4)
        if verdict.same or attempt == request.retries:
            break
        seed = item.seed + RETRY_SEED_STEP * (attempt + 1)
    return {"image": image, "seed": seed, "score": score, "tries": tries}


def run_batch(request: BatchRequest, on_progress: ProgressCallback = ignore) -> BatchResult:
    """Make every image of the batch that its folder does not hold yet, one task per picture on the
    executor (``request.executor``); each PNG is written here as its task comes back."""
    from animstudio.image.checkpoints import short_hash
    from animstudio.image.commands import GenerateRequest, backend_for
    from animstudio.image.metadata import parameters_for, write_png
    from animstudio.jobs.executor import Resources, get_executor

    items = expand(request)
    backend = backend_for(GenerateRequest(prompt="x", checkpoint=request.checkpoint, backend=request.backend,
                                          device=request.device))
    found = backend.checkpoint()
    executor = get_executor(request.executor)
    request.output.mkdir(parents=True, exist_ok=True)
    manifest = request.output / "batch.json"
    earlier = _earlier(manifest)
    started = time.perf_counter()
    model_hash = short_hash(found.path)
    todo = []
    for item in items:
        if (request.output / item.file).is_file():
            item.done = True
            item.score, item.tries = earlier.get(item.file, (None, 1))
        else:
            todo.append(item)
    progress = BatchProgress("batch", len(items) - len(todo), len(items), "images", on_progress)

    def keep(index: int, made: dict[str, Any]) -> None:
        item, seed = todo[index], made["seed"]
        path = request.output / item.file
        parameters = parameters_for(item.request.model_copy(update={"seed": seed}), seed, found.path.stem, model_hash)
        write_png(made["image"], path, parameters)   # the PNG lands whole (temp name, renamed): it marks it done
        item.seed, item.score, item.tries, item.done = seed, made["score"], made["tries"], True
        _write_manifest(manifest, items)
        if request.record:
            _record(request, item, path, found.path.stem, parameters)
        progress.finished(index, item.file)

    def heard(index: int, event: Progress) -> None:     # a worker's steps on the picture it makes
        progress.part(index, event.fraction or 0.0, f"{todo[index].file}: {event.task}")

    on_gpu = request.device == "cuda" or (request.device == "auto" and executor.gpus() > 0)   # a cluster's GPUs
    executor.map(make_picture, [{"request": request, "item": item} for item in todo],
                 Resources(gpus=1.0 if on_gpu else 0.0), on_result=keep, on_progress=heard)
    _write_manifest(manifest, items)
    return BatchResult(output=request.output, made=len(todo), skipped=len(items) - len(todo), items=items,
                       seconds=round(time.perf_counter() - started, 3))


def _earlier(manifest: Path) -> dict[str, tuple[float | None, int]]:
    try:
        return {i["file"]: (i.get("score"), i.get("tries", 1)) for i in json.loads(manifest.read_text())["items"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_manifest(path: Path, items: list[Item]) -> None:
    from animstudio.files import write_text_atomic

    write_text_atomic(path, json.dumps({"items": [i.model_dump(mode="json") for i in items]}, indent=1))


def _record(request: BatchRequest, item: Item, path: Path, model: str, parameters: Any) -> None:
    from animstudio.knowledge.kb import KnowledgeBase
    from animstudio.knowledge.records import GenerationRecord

    record = GenerationRecord(artifact="image", prompt=item.request.prompt,
                              negative_prompt=item.request.negative_prompt, model=model, seed=item.seed,
                              parameters=parameters.model_dump(mode="json", exclude_defaults=True),
                              output=str(path.resolve()),
                              quality={"consistency": item.score} if item.score is not None else {})
    KnowledgeBase().add_records("generations", [record], source=str(path.resolve()))   # one source per picture
