"""Many videos analysed, one task per file on the configured executor (``local``, or ``ray`` across a
cluster): ``<name>.json`` per video (everything ``analyze all`` gives) and ``batch.json`` listing them.
Each file's result is written here, whole, as it comes back; a second run analyses only the videos
whose file is missing.

    done = analyze_batch(AnalysisBatchRequest(files=["season1/"], output="out/season1", executor="ray"))
    done.items[0].output, done.made, done.skipped          # out/season1/ep01.json, 12, 0
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from animstudio.analysis.scenes import DEFAULT_DETECTOR
from animstudio.errors import InvalidInputError
from animstudio.files import VIDEO_FILES, check_input_file, write_text_atomic
from animstudio.progress import BatchProgress, Progress, ProgressCallback, ignore


class AnalysisBatchRequest(BaseModel):
    files: list[str] = Field(min_length=1, description="videos, or folders of them")
    output: str = Field(description="the folder for one <name>.json per video and batch.json")
    detector: str = Field(DEFAULT_DETECTOR, description="shot detector (see `animstudio analyze detectors`)")
    executor: str | None = Field(None, description="where the analyses run: local or ray (default: the "
                                                   "executor setting)")


class BatchItem(BaseModel):
    file: str
    output: str
    shots: int
    duration_s: float
    before: bool = Field(False, description="analysed by an earlier run")


class AnalysisBatchResult(BaseModel):
    folder: str
    items: list[BatchItem]
    made: int
    skipped: int
    seconds: float


def video_files(paths: list[str]) -> list[Path]:
    """The videos named: files, and the videos in folders (sorted); a missing one is an error."""
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_FILES)
            if not inside:
                raise InvalidInputError(f"{path} holds no videos ({', '.join(VIDEO_FILES)}); name the files instead")
            found.extend(inside)
        else:
            found.append(check_input_file(path, "video"))
    names: dict[str, Path] = {}
    for video in found:
        if video.stem in names and names[video.stem] != video:
            raise InvalidInputError(f"{names[video.stem]} and {video} would both write {video.stem}.json; analyse "
                                    "them into different folders")
        names[video.stem] = video
    return list(names.values())


def analyze_one(task: dict[str, Any], report: ProgressCallback = ignore) -> dict[str, Any]:
    """One video's analysis, as JSON (the task an executor runs, wherever it runs; its progress goes to
    ``report``)."""
    from animstudio.analysis.commands import DetectRequest, analyze_video

    request = DetectRequest(file=task["file"], detector=task["detector"])
    return analyze_video(request, on_progress=report).model_dump(mode="json")


def analyze_batch(request: AnalysisBatchRequest, on_progress: ProgressCallback = ignore) -> AnalysisBatchResult:
    from animstudio.analysis.analyze import ANALYSIS_STEPS
    from animstudio.analysis.scenes import make_detector
    from animstudio.jobs.executor import Resources, get_executor

    make_detector(request.detector)       # a wrong name before any work
    videos = video_files(request.files)
    out = Path(request.output).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} is a file; give a folder for the analyses")
    executor = get_executor(request.executor)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    todo = [v for v in videos if not (out / f"{v.stem}.json").is_file()]
    progress = BatchProgress("analyze", len(videos) - len(todo), len(videos), "videos", on_progress)

    def keep(index: int, analysis: dict[str, Any]) -> None:      # here, as each comes back: whole or not at all
        write_text_atomic(out / f"{todo[index].stem}.json", json.dumps(analysis, indent=2))
        progress.finished(index, todo[index].name)

    def heard(index: int, event: Progress) -> None:               # a worker's word on the video it analyses
        share = event.fraction or 0.0
        if event.task == "decode":       # frames decoded: within the first of the analysis's steps
            share /= ANALYSIS_STEPS
        progress.part(index, share, f"{todo[index].name}: {event.task}")

    tasks = [{"file": str(v.resolve()), "detector": request.detector} for v in todo]   # workers elsewhere: whole paths
    executor.map(analyze_one, tasks, Resources(cpus=1), on_result=keep, on_progress=heard)
    items = []
    for video in videos:
        analysis = json.loads((out / f"{video.stem}.json").read_text(encoding="utf-8"))
        items.append(BatchItem(file=str(video), output=str(out / f"{video.stem}.json"), shots=len(analysis["shots"]),
                               duration_s=analysis["video"]["duration_s"], before=video not in todo))
    result = AnalysisBatchResult(folder=str(out), items=items, made=len(todo), skipped=len(videos) - len(todo),
                                 seconds=round(time.perf_counter() - started, 3))
    write_text_atomic(out / "batch.json", json.dumps({"executor": executor.name, **result.model_dump(mode="json")},
                                                     indent=2))
    return result
