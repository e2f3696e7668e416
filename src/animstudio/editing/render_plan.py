"""The render plan of a timeline: the timeline checked, then flattened into what the renderer needs,
before anything renders.

Every clip's file is found and probed, every source range is checked against the file's length,
and times become output frame numbers. Errors name the clip, its track and the file.

    >>> plan = make_plan(Edit.load("cut.otio").timeline)
    >>> plan.frames, [p.out_frames for p in plan.pieces], plan.segments()
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio
from pydantic import ValidationError

from animstudio.editing.schema import (
    CAPTIONS,
    MAIN,
    AudioTrack,
    Caption,
    ClipEffects,
    ImageOverlay,
    OriginalAudio,
    Output,
    TextStyle,
)
from animstudio.editing.timeline import media_path, meta
from animstudio.editing.times import check_times, where
from animstudio.editing.transitions import check_transition
from animstudio.errors import InvalidInputError, invalid_input
from animstudio.media import MediaInfo, probe

RUN_PIECES = 8   # clips joined by plain cuts in one run at most: each is a decoder open at once
STILLS = {"png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "image2", "tiff_pipe", "gif"}


@dataclass
class Piece:
    """One clip (or gap) of the main track, in output frames."""

    name: str
    path: Path | None            # None: a gap (background colour)
    info: MediaInfo | None
    src_start_s: float           # first source second shown
    src_s: float                 # source seconds consumed (after speed)
    out_start: int               # first output frame
    out_frames: int
    effects: ClipEffects = field(default_factory=ClipEffects)
    head: int = 0                # extra output frames before, for a transition into this piece
    tail: int = 0                # extra output frames after, for a transition out of it
    join: tuple[str, int] | None = None   # (xfade kind, frames) from the previous piece; None: a cut

    @property
    def still(self) -> bool:
        return self.info is not None and (self.info.container in STILLS or self.info.frame_count == 1)

    @property
    def has_audio(self) -> bool:
        return self.info is not None and bool(self.info.audio) and not self.effects.mute and not self.effects.freeze


@dataclass
class TextLayer:
    start_s: float
    end_s: float
    style: TextStyle


@dataclass
class ImageLayer:
    path: Path
    start_s: float
    end_s: float
    placement: ImageOverlay
    info: MediaInfo | None = None


@dataclass
class AudioClip:
    path: Path
    src_start_s: float
    dur_s: float
    out_start_s: float


@dataclass
class AudioLayer:
    name: str
    settings: AudioTrack
    clips: list[AudioClip]


@dataclass
class Plan:
    output: Output
    pieces: list[Piece]
    frames: int                   # total output frames
    texts: list[TextLayer] = field(default_factory=list)
    images: list[ImageLayer] = field(default_factory=list)
    captions: list[tuple[float, float, Caption]] = field(default_factory=list)
    audio: list[AudioLayer] = field(default_factory=list)
    original: OriginalAudio = field(default_factory=OriginalAudio)

    @property
    def duration_s(self) -> float:
        return self.frames / self.output.fps

    def segments(self, max_frames: int | None = None) -> list[list[Piece]]:
        """The pieces in runs that render as their own small graphs, to be joined without
        re-encoding. A run never breaks inside a transition; with ``max_frames``, short runs are
        grouped up to it and long ones are broken inside plain clips (away from their blends), so
        runs side by side take about the same time."""
        runs: list[list[Piece]] = []
        pieces = list(self.pieces)
        i = 0
        while i < len(pieces):
            p = pieces[i]
            i += 1
            frames = sum(q.out_frames for q in runs[-1]) if runs else 0
            fits = max_frames and frames + p.out_frames <= max_frames and len(runs[-1]) < RUN_PIECES if runs else False
            if not runs or (p.join is None and not fits):
                runs.append([p])
                frames = 0
            else:
                runs[-1].append(p)
            if not max_frames or frames + p.out_frames <= max_frames:
                continue
            nxt = pieces[i] if i < len(pieces) else None
            lo = (p.join[1] - p.head) if p.join else 0          # after the blend into it
            hi = p.out_frames - (nxt.head if nxt is not None and nxt.join else 0)   # before the blend out
            cut = max(lo, max_frames - frames, 1)
            if cut < hi and _splittable(p):
                first, rest = _split(p, cut, self.output.fps)
                runs[-1][-1] = first
                pieces.insert(i, rest)
        return runs


def _splittable(p: Piece) -> bool:
    fx = p.effects
    return not (fx.reverse or fx.freeze or fx.ken_burns is not None)


def _split(p: Piece, frames: int, fps: float) -> tuple[Piece, Piece]:
    """``p`` as two pieces, the first ``frames`` long; the second continues the same media."""
    from dataclasses import replace

    speed = p.effects.speed
    first = replace(p, out_frames=frames, tail=0, src_s=frames / fps * speed)
    rest = replace(p, out_start=p.out_start + frames, out_frames=p.out_frames - frames, head=0, join=None,
                   src_start_s=p.src_start_s + frames / fps * speed, src_s=(p.out_frames - frames) / fps * speed)
    return first, rest


def _model(model, data: dict, what: str):  # type: ignore[no-untyped-def]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc, what, fix="fix it in the timeline's metadata") from exc


class _Probe:
    def __init__(self) -> None:
        self.cache: dict[Path, MediaInfo] = {}

    def __call__(self, clip: otio.schema.Clip, track: otio.schema.Track) -> tuple[Path, MediaInfo]:
        path = media_path(clip)
        if path is None:
            raise InvalidInputError(f"{where(clip, track)} has no media file; give it an external reference")
        if not path.is_file():
            raise InvalidInputError(f"{where(clip, track)} names {path}, which does not exist; fix the path in "
                                    f"the timeline or put the file back")
        if path not in self.cache:
            self.cache[path] = probe(path, count_frames=False)
        return path, self.cache[path]


def _frame(seconds: float, fps: float) -> int:
    return int(math.floor(seconds * fps + 0.5))


def make_plan(timeline: otio.schema.Timeline) -> Plan:
    check_times(timeline)
    output = _model(Output, meta(timeline), "timeline settings")
    fps = output.fps
    tracks = list(timeline.video_tracks())
    main = next((t for t in tracks if t.name == MAIN), tracks[0] if tracks else None)
    # the timeline lasts as long as its longest track, except tracks that loop: they fill the length
    lengths = [t.duration().to_seconds() for t in timeline.tracks
               if not (t.kind == otio.schema.TrackKind.Audio and meta(t).get("loop"))]
    empty = InvalidInputError("the timeline has no clips; add some (`animstudio edit highlights`, or Edit.cut in "
                              "Python) before rendering")
    if main is None or not any(isinstance(c, otio.schema.Clip) for t in timeline.tracks for c in t):
        raise empty
    probe_of = _Probe()
    pieces = _main_pieces(main, fps, probe_of) or [Piece("gap", None, None, 0.0, 0.0, 0, 1)]  # titles on black
    if _frame(max(lengths, default=0.0), fps) < 1:
        raise empty
    frames = max(_frame(max(lengths), fps), pieces[-1].out_start + pieces[-1].out_frames)
    end = pieces[-1].out_start + pieces[-1].out_frames
    if frames > end:  # other tracks run longer than the cut: background to the end
        pieces.append(Piece("end", None, None, 0.0, 0.0, end, frames - end))
    plan = Plan(output=output, pieces=pieces, frames=frames,
                original=_model(OriginalAudio, meta(main), f"track {main.name!r}"))
    for track in tracks:
        if track is main:
            continue
        for clip in track.find_clips(shallow_search=True):
            rng = clip.range_in_parent()
            a, b = rng.start_time.to_seconds(), rng.end_time_exclusive().to_seconds()
            ref = clip.media_reference
            if isinstance(ref, otio.schema.GeneratorReference) and ref.generator_kind == "caption":
                plan.captions.append((a, b, _model(Caption, dict(ref.parameters), where(clip, track))))
            elif isinstance(ref, otio.schema.GeneratorReference) and ref.generator_kind == "text":
                plan.texts.append(TextLayer(a, b, _model(TextStyle, dict(ref.parameters), where(clip, track))))
            elif track.name != CAPTIONS and isinstance(ref, otio.schema.ExternalReference):
                path, info = probe_of(clip, track)
                if info.container not in STILLS and info.frame_count != 1:
                    raise InvalidInputError(f"{where(clip, track)}: only images and text go on tracks above the "
                                            f"main one; put video clips on track {MAIN!r}")
                plan.images.append(ImageLayer(path, a, b, _model(ImageOverlay, meta(clip), where(clip, track)), info))
            else:
                raise InvalidInputError(f"{where(clip, track)} is neither text, an image nor a caption")
    for track in timeline.audio_tracks():
        settings = _model(AudioTrack, meta(track), f"audio track {track.name!r}")
        clips = []
        for clip in track.find_clips(shallow_search=True):
            path, info = probe_of(clip, track)
            if not info.audio:
                raise InvalidInputError(f"{where(clip, track)}: {path.name} has no audio stream")
            rng, src = clip.range_in_parent(), clip.source_range or clip.available_range()
            start, dur = src.start_time.to_seconds(), src.duration.to_seconds()
            if start < 0 or dur <= 0:
                raise InvalidInputError(f"{where(clip, track)} has an empty or negative source range")
            if not settings.loop and start + dur > info.duration_s + 0.05:
                raise InvalidInputError(f"{where(clip, track)} asks for {start:.2f}-{start + dur:.2f} s of "
                                        f"{path.name}, which is {info.duration_s:.2f} s long; shorten its range")
            clips.append(AudioClip(path, start, dur, rng.start_time.to_seconds()))
        if clips:
            plan.audio.append(AudioLayer(track.name, settings, clips))
    return plan


def _main_pieces(main: otio.schema.Track, fps: float, probe_of: _Probe) -> list[Piece]:
    pieces: list[Piece] = []
    pending: tuple[str, int, int] | None = None   # a transition waiting for the next clip
    for item in main:
        if isinstance(item, otio.schema.Transition):
            kind = meta(item).get("kind") or ("fade" if item.transition_type == "SMPTE_Dissolve" else item.name)
            check_transition(kind)
            if not pieces or pieces[-1].path is None:
                raise InvalidInputError(f"transition {item.name!r} has no clip before it; move it between two clips")
            pending = (kind, _frame(item.in_offset.to_seconds(), fps), _frame(item.out_offset.to_seconds(), fps))
            continue
        rng = item.range_in_parent()
        out_start = _frame(rng.start_time.to_seconds(), fps)
        out_frames = _frame(rng.end_time_exclusive().to_seconds(), fps) - out_start
        if out_frames <= 0:
            continue
        if isinstance(item, otio.schema.Gap):
            if pending:
                raise InvalidInputError(f"transition {pending[0]!r} leads into a gap; put a clip after it")
            pieces.append(Piece(item.name or "gap", None, None, 0.0, 0.0, out_start, out_frames))
            continue
        if not isinstance(item, otio.schema.Clip):
            raise InvalidInputError(f"{where(item, main)} is a {type(item).__name__}; flatten nested stacks first")
        path, info = probe_of(item, main)
        effects = _model(ClipEffects, meta(item), where(item, main))
        if not meta(item):  # a timeline from an NLE: read its time effects
            for e in item.effects:
                if isinstance(e, otio.schema.FreezeFrame):
                    effects = effects.model_copy(update={"freeze": True})
                elif isinstance(e, otio.schema.LinearTimeWarp):   # its speed was checked by check_times
                    effects = effects.model_copy(update={"speed": e.time_scalar})
        src = item.source_range or item.available_range()
        start = src.start_time.to_seconds()
        src_s = 1.0 / (info.fps or fps) if effects.freeze else out_frames / fps * effects.speed
        piece = Piece(item.name, path, info, start, src_s, out_start, out_frames, effects)
        if start < 0:
            raise InvalidInputError(f"{where(item, main)} starts at {start:.2f} s of {path.name}; start at 0 or later")
        if not piece.still and start + src_s > info.duration_s + 0.5 / (info.fps or fps):
            raise InvalidInputError(f"{where(item, main)} asks for {start:.2f}-{start + src_s:.2f} s of {path.name}, "
                                    f"which is {info.duration_s:.2f} s long; shorten its source range")
        if pending:
            kind, before, after = pending
            piece.join = (kind, before + after)
            piece.head, pieces[-1].tail = before, after
            pending = None
        pieces.append(piece)
    if pending:
        raise InvalidInputError(f"transition {pending[0]!r} ends the main track; put a clip after it")
    return pieces
