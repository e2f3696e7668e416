"""Build edits as OpenTimelineIO timelines: the edit decision list every NLE can open.

The main video track holds the cut (clips, gaps, transitions); tracks named ``overlay`` hold
images and text on top; the ``captions`` track holds subtitle cues; audio tracks hold voice, music
and effects. Our own parameters live under ``metadata["animstudio"]`` (see ``schema.py``).

    >>> edit = Edit(Output(width=1280, height=720, fps=24))
    >>> edit.cut("clip.mp4", 2.0, 5.5); edit.cut("clip.mp4", 9.0, 12.0)
    >>> edit.add_transition(1, "fade", 0.5)          # between clip 0 and clip 1
    >>> edit.add_text("Meanwhile...", 0.5, 2.5)
    >>> edit.add_audio("music.mp3", role="music", loop=True, duck=True)
    >>> edit.save("cut.otio")
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import opentimelineio as otio

from animstudio.editing.schema import (
    CAPTIONS,
    MAIN,
    META,
    OVERLAY,
    AudioTrack,
    Caption,
    ClipEffects,
    ImageOverlay,
    OriginalAudio,
    Output,
    TextStyle,
    Transition,
    Word,
)
from animstudio.errors import InvalidInputError
from animstudio.files import check_input_file

FCP_TEXT = {"effecttype": "generator", "mediatype": "video", "effectcategory": "Text"}  # FCP 7 XML: a text generator
RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def media_url(path: str | os.PathLike[str]) -> str:
    """How a clip names its file: an absolute path (NLE adapters and our renderer both read it)."""
    return str(Path(path).expanduser().resolve())


def media_path(clip: otio.schema.Clip) -> Path | None:
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return None
    url = ref.target_url
    return Path(url[7:] if url.startswith("file://") else url)


def meta(obj: Any) -> dict[str, Any]:
    """Our metadata of an OTIO object (a plain dict; empty when there is none)."""
    value = obj.metadata.get(META)
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"metadata[{META!r}] of {type(obj).__name__} {obj.name!r} is a "
                                f"{type(value).__name__}, not a mapping of settings; fix it in the timeline")
    return dict(value)


def _analysis(value: Any) -> Any:
    """A VideoAnalysis from itself or from the path of its analysis.json."""
    from animstudio.analysis import VideoAnalysis

    if isinstance(value, VideoAnalysis):
        return value
    p = check_input_file(value, "analysis")
    try:
        return VideoAnalysis.model_validate_json(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInputError(f"{p} is not an analysis.json; make one with `animstudio analyze report FILE -o DIR`") \
            from exc


def _rate_of(path: Path) -> tuple[float, float]:
    """(frame rate, duration s) of a media file; stills get the rate 24 and no end."""
    from animstudio.media import probe

    info = probe(path, count_frames=False)
    if info.has_video and info.frame_count == 1 or info.container in ("png_pipe", "image2", "jpeg_pipe"):
        return 24.0, float("inf")
    return float(info.fps or 24.0) if info.has_video else 1000.0, info.duration_s


class Edit:
    """A timeline being built; ``timeline`` is the OTIO object, saved as is."""

    def __init__(self, output: Output | None = None, name: str = "edit",
                 timeline: otio.schema.Timeline | None = None) -> None:
        if timeline is None:
            timeline = otio.schema.Timeline(name=name)
            timeline.tracks.append(otio.schema.Track(name=MAIN, kind=otio.schema.TrackKind.Video))
            timeline.metadata[META] = (output or Output()).model_dump()
        self.timeline = timeline

    # -- from an analysis ------------------------------------------------------------------------
    @classmethod
    def from_analysis(cls, analysis: Any, output: Output | None = None, markers: bool = True) -> Edit:
        """One clip per shot of an analysed video (a ``VideoAnalysis`` or its ``analysis.json``), with
        its camera moves as markers: the rough cut to trim from."""
        a = _analysis(analysis)
        info = a.video
        out = output or Output(width=info.width or 1280, height=info.height or 720, fps=float(info.fps or 24.0))
        edit = cls(out, name=f"{Path(info.path).stem} shots")
        for shot in a.shots:
            edit.cut(info.path, shot.start_s, shot.end_s, name=f"shot {shot.index}")
        if markers:
            for move in getattr(a, "camera", []):
                if move.label != "static" and move.shot < len(a.shots):
                    shot = a.shots[move.shot]
                    edit.add_marker(move.label, shot.start_s, shot.end_s - shot.start_s, color="GREEN",
                                    note=f"camera {move.label} in shot {move.shot}")
        return edit

    def reframe(self, aspect: str, follow: Any = None, height: int | None = None) -> None:
        """Make the output ``aspect`` (width:height in whole numbers: "9:16", "1:1", "16:9", "4:5",
        "4:3"...) by cropping; with ``follow`` (a ``VideoAnalysis`` or its JSON) each clip keeps its
        shot's main subject in frame."""
        match = re.fullmatch(r"\s*([0-9]{1,5})\s*:\s*([0-9]{1,5})\s*", str(aspect))
        if match is None or not int(match[1]) or not int(match[2]):
            raise InvalidInputError(f"aspect {aspect!r} is not width:height in whole numbers above 0; pass e.g. "
                                    f"9:16, 1:1, 4:5 or 16:9")
        num_, den = int(match[1]), int(match[2])
        out = self.output
        h = height or max(out.width, out.height) if num_ < den else height or min(out.width, out.height)
        w = round(h * num_ / den / 2) * 2
        h = round(h / 2) * 2
        if not (16 <= w <= 8192 and 16 <= h <= 8192):
            raise InvalidInputError(f"aspect {aspect} makes a {w}x{h} picture, and pictures are 16 to 8192 pixels a "
                                    f"side; pass a ratio nearer square, e.g. 9:16, 1:1, 4:5 or 16:9")
        self.set_output(width=w, height=h, fit="crop")
        if follow is None:
            return
        a = _analysis(follow)
        centres = {c.shot: c.subject_centre for c in a.composition if c.subject != "none"}
        source = media_url(a.video.path)
        for clip in self.clips:
            path = media_path(clip)
            if path is None or str(path) != source or clip.source_range is None:
                continue
            middle = clip.source_range.start_time.to_seconds() + clip.source_range.duration.to_seconds() / 2
            shot = next((s for s in a.shots if s.start_s <= middle < s.end_s), None)
            if shot is not None and shot.index in centres:
                cx, cy = centres[shot.index]
                self.set_effects(clip, center=(float(cx), float(cy)))

    # -- files -----------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Edit:
        p = check_input_file(path, "timeline")
        try:
            timeline = otio.adapters.read_from_file(str(p))
        except Exception as exc:  # noqa: BLE001 - OTIO raises many kinds
            raise InvalidInputError(f"{p} is not a timeline OpenTimelineIO can read ({exc}); pass a .otio, "
                                    f".edl or FCP 7 .xml file") from exc
        if not isinstance(timeline, otio.schema.Timeline):
            raise InvalidInputError(f"{p} holds a {type(timeline).__name__}, not a timeline")
        return cls(timeline=timeline)

    def save(self, path: str | os.PathLike[str]) -> Path:
        from animstudio.editing.export import export_timeline

        return export_timeline(self.timeline, path, "otio")

    # -- properties ------------------------------------------------------------------------------
    @property
    def output(self) -> Output:
        return Output.model_validate(meta(self.timeline))

    def set_output(self, **changes: Any) -> None:
        self.timeline.metadata[META] = Output.model_validate({**meta(self.timeline), **changes}).model_dump()

    def add_styles(self, names: list[str]) -> None:
        """Style presets on top of the timeline's own (none: nothing changes)."""
        if names:
            self.set_output(styles=[*self.output.styles, *names])

    @property
    def fps(self) -> float:
        return self.output.fps

    @property
    def main(self) -> otio.schema.Track:
        for track in self.timeline.video_tracks():
            if track.name == MAIN:
                return track
        tracks = self.timeline.video_tracks()
        if not tracks:
            raise InvalidInputError("the timeline has no video track; add clips with `Edit.cut`")
        return tracks[0]

    @property
    def clips(self) -> list[otio.schema.Clip]:
        return [c for c in self.main if isinstance(c, otio.schema.Clip)]

    @property
    def duration_s(self) -> float:
        return self.timeline.duration().to_seconds()

    def _track(self, name: str, kind: str = otio.schema.TrackKind.Video) -> otio.schema.Track:
        for track in self.timeline.tracks:
            if track.name == name and track.kind == kind:
                return track
        track = otio.schema.Track(name=name, kind=kind)
        self.timeline.tracks.append(track)
        return track

    # -- the cut ---------------------------------------------------------------------------------
    def _clip(self, source: str | os.PathLike[str], start_s: float, end_s: float | None, name: str | None,
              effects: ClipEffects | None) -> otio.schema.Clip:
        path = check_input_file(source, "clip source")
        rate, length = _rate_of(path)
        end = length if end_s is None else end_s
        if not (0 <= start_s < end) or end == float("inf"):
            raise InvalidInputError(f"clip range {start_s}-{end_s} s of {path.name} is empty or open; pass a start "
                                    f"before the end (the file is {length:.2f} s long)")
        # stills have no end: their "media" is as long as the clip (FCP XML needs a range)
        available = TR(RT(0, rate), RT.from_seconds(end if length == float("inf") else length, rate).round())
        clip = otio.schema.Clip(
            name=name or f"{path.stem} {start_s:.2f}-{end:.2f}",
            media_reference=otio.schema.ExternalReference(target_url=media_url(path), available_range=available),
            source_range=TR(RT.from_seconds(start_s, rate).round(), RT.from_seconds(end - start_s, rate).round()))
        if effects is not None:
            self.set_effects(clip, effects)  # a speed change keeps the source range: the clip gets shorter
        return clip

    def cut(self, source: str | os.PathLike[str], start_s: float = 0.0, end_s: float | None = None,
            name: str | None = None, effects: ClipEffects | None = None) -> otio.schema.Clip:
        """Append ``start_s``-``end_s`` of ``source`` (to its end when ``end_s`` is None) to the main track."""
        clip = self._clip(source, start_s, end_s, name, effects)
        self.main.append(clip)
        return clip

    def insert(self, index: int, source: str | os.PathLike[str], start_s: float = 0.0, end_s: float | None = None,
               name: str | None = None, effects: ClipEffects | None = None) -> otio.schema.Clip:
        """Insert a clip before the ``index``-th clip of the main track (transitions stay where they were)."""
        clip = self._clip(source, start_s, end_s, name, effects)
        clips = self.clips
        if index >= len(clips):
            self.main.append(clip)
        else:
            self.main.insert(self.main.index(clips[index]), clip)
        return clip

    def gap(self, seconds: float) -> None:
        self.main.append(otio.schema.Gap(source_range=TR(RT(0, self.fps), RT.from_seconds(seconds, self.fps).round())))

    def trim(self, index: int, start_s: float | None = None, end_s: float | None = None) -> None:
        """Move the ``index``-th clip's in and/or out point (seconds of its source)."""
        clip = self._nth(index)
        rng = clip.source_range
        rate = rng.start_time.rate
        a = rng.start_time.to_seconds() if start_s is None else start_s
        b = rng.end_time_exclusive().to_seconds() if end_s is None else end_s
        if not 0 <= a < b:
            raise InvalidInputError(f"trim of clip {index} to {a}-{b} s is empty; pass a start before the end")
        clip.source_range = TR(RT.from_seconds(a, rate).round(), RT.from_seconds(b - a, rate).round())

    def remove(self, index: int) -> None:
        clip = self._nth(index)
        pos = self.main.index(clip)
        del self.main[pos]
        # a transition left without two clips around it goes too
        for i in (pos, pos - 1):
            if 0 <= i < len(self.main) and isinstance(self.main[i], otio.schema.Transition):
                del self.main[i]

    def _nth(self, index: int) -> otio.schema.Clip:
        clips = self.clips
        if not -len(clips) <= index < len(clips):
            raise InvalidInputError(f"there is no clip {index}; the main track has {len(clips)} clips")
        return clips[index]

    def set_effects(self, clip: int | otio.schema.Clip, effects: ClipEffects | None = None, **changes: Any) -> None:
        """Set a clip's effects (speed also becomes an OTIO LinearTimeWarp, freeze a FreezeFrame)."""
        c = self._nth(clip) if isinstance(clip, int) else clip
        before = ClipEffects.model_validate(meta(c))
        current = effects or ClipEffects.model_validate({**meta(c), **changes})
        old_speed = 1.0 if before.freeze else before.speed
        new_speed = 1.0 if current.freeze else current.speed
        if new_speed != old_speed and c.source_range is not None:  # the same media, played faster or slower
            rng = c.source_range
            rate = rng.duration.rate
            seconds = rng.duration.to_seconds() * old_speed / new_speed
            c.source_range = TR(rng.start_time, RT.from_seconds(seconds, rate).round())
        c.metadata[META] = current.model_dump(exclude_defaults=True)
        c.effects[:] = [e for e in c.effects if not isinstance(e, otio.schema.TimeEffect)]
        if current.freeze:
            c.effects.append(otio.schema.FreezeFrame())
        elif current.speed != 1.0:
            c.effects.append(otio.schema.LinearTimeWarp(time_scalar=current.speed))

    def add_transition(self, index: int, kind: str = "fade", duration_s: float = 0.5) -> otio.schema.Transition:
        """A transition into the ``index``-th clip (from the one before it), centred on the cut.

        ``kind`` is any ffmpeg xfade type (fade, wipeleft, slideup, circleopen, ...), or ``dip_black``
        / ``dip_white`` (fade through a colour). As in every NLE, the blend shows media beyond the
        clips' ranges (half the duration each side, the "handles"); where a file has none, its
        first or last frame is held.
        """
        from animstudio.editing.transitions import check_transition

        check_transition(kind)
        if index < 1:
            raise InvalidInputError("a transition goes into clip 1 or later (clip 0 has nothing before it)")
        clip = self._nth(index)
        pos = self.main.index(clip)
        if isinstance(self.main[pos - 1], otio.schema.Transition):
            del self.main[pos - 1]
            pos -= 1
        half = RT.from_seconds(duration_s / 2, self.fps).round()
        if half.value < 1:
            raise InvalidInputError(f"a {duration_s} s transition is shorter than two frames; make it longer")
        t = otio.schema.Transition(name=kind, transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve
                                   if kind == "fade" else otio.schema.TransitionTypes.Custom,
                                   in_offset=half, out_offset=half,
                                   metadata={META: Transition(kind=kind).model_dump()})
        self.main.insert(pos, t)
        return t

    # -- on top ----------------------------------------------------------------------------------
    def _place(self, base: str, item: otio.schema.Item, start_s: float) -> None:
        """Put ``item`` at ``start_s`` on the first ``base`` layer free by then (gaps fill up to it);
        items that overlap go on a new layer above."""
        layers = [t for t in self.timeline.video_tracks() if t.name == base or t.name.startswith(f"{base} ")]
        track = next((t for t in layers if t.duration().to_seconds() <= start_s + 1e-9), None)
        if track is None:
            track = self._track(base if not layers else f"{base} {len(layers) + 1}")
        end = track.duration().to_seconds()
        if start_s > end:
            rate = item.source_range.duration.rate
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT.from_seconds(start_s - end, rate).round())))
        track.append(item)

    def _generator(self, kind: str, params: dict[str, Any], start_s: float, end_s: float,
                   name: str) -> otio.schema.Clip:
        if not 0 <= start_s < end_s:
            raise InvalidInputError(f"{kind} from {start_s} to {end_s} s is empty; pass a start before the end")
        rng = TR(RT(0, self.fps), RT.from_seconds(end_s - start_s, self.fps).round())
        ref = otio.schema.GeneratorReference(name=kind, generator_kind=kind, parameters=params, available_range=rng,
                                             metadata={"fcp_xml": FCP_TEXT})
        return otio.schema.Clip(name=name, media_reference=ref, source_range=rng)

    def add_text(self, text: str, start_s: float, end_s: float, **style: Any) -> otio.schema.Clip:
        """Text on top of the picture from ``start_s`` to ``end_s`` (see ``TextStyle`` for the look)."""
        params = TextStyle(text=text, **style).model_dump()
        clip = self._generator("text", params, start_s, end_s, text[:40])
        self._place(OVERLAY, clip, start_s)
        return clip

    def overlay_image(self, path: str | os.PathLike[str], start_s: float, end_s: float,
                      **placement: Any) -> otio.schema.Clip:
        """An image with alpha (a sticker, a logo) from ``start_s`` to ``end_s``."""
        p = check_input_file(path, "overlay image")
        if not 0 <= start_s < end_s:
            raise InvalidInputError(f"overlay from {start_s} to {end_s} s is empty; pass a start before the end")
        rng = TR(RT(0, self.fps), RT.from_seconds(end_s - start_s, self.fps).round())
        clip = otio.schema.Clip(name=p.stem, source_range=rng, metadata={META: ImageOverlay(**placement).model_dump()},
                                media_reference=otio.schema.ExternalReference(target_url=media_url(p),
                                                                              available_range=rng))
        self._place(OVERLAY, clip, start_s)
        return clip

    def add_caption(self, text: str, start_s: float, end_s: float, words: list[Word] | None = None) -> otio.schema.Clip:
        """A subtitle cue; ``words`` (times on the timeline) give a karaoke highlight."""
        params = Caption(text=text, words=words or []).model_dump()
        clip = self._generator("caption", params, start_s, end_s, text[:40])
        self._place(CAPTIONS, clip, start_s)
        return clip

    def add_audio(self, path: str | os.PathLike[str], start_s: float = 0.0, source_start_s: float = 0.0,
                  duration_s: float | None = None, track: str | None = None, **settings: Any) -> otio.schema.Clip:
        """An audio clip on its own track (or on ``track``, by name); settings are ``AudioTrack``'s."""
        p = check_input_file(path, "audio source")
        from animstudio.media import probe

        info = probe(p, count_frames=False)
        if not info.audio:
            raise InvalidInputError(f"{p} has no audio stream; pass an audio file or a video with sound")
        length = info.duration_s - source_start_s
        dur = length if duration_s is None else min(duration_s, length)
        if dur <= 0:
            raise InvalidInputError(f"{p.name} is {info.duration_s:.2f} s long; pass a source start before its end")
        rate = float(info.audio[0].sample_rate or 48000)
        clip = otio.schema.Clip(
            name=p.stem,
            media_reference=otio.schema.ExternalReference(
                target_url=media_url(p),
                available_range=TR(RT(0, rate), RT.from_seconds(info.duration_s, rate).round())),
            source_range=TR(RT.from_seconds(source_start_s, rate).round(), RT.from_seconds(dur, rate).round()))
        settings_model = AudioTrack(**settings)
        name = track or f"{settings_model.role} {len(self.timeline.audio_tracks()) + 1}"
        target = self._track(name, otio.schema.TrackKind.Audio)
        if not meta(target):
            target.metadata[META] = settings_model.model_dump()
        end = target.duration().to_seconds()
        if start_s < end - 1e-9:
            raise InvalidInputError(f"audio at {start_s} s overlaps the end ({end:.2f} s) of track {name!r}; put it on "
                                    f"another track")
        if start_s > end:
            target.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT.from_seconds(start_s - end, rate).round())))
        target.append(clip)
        return clip

    def add_subtitles(self, path: str | os.PathLike[str], offset_s: float = 0.0) -> int:
        """Every cue of an .srt, .vtt or .ass file as a caption (moved by ``offset_s``); returns how many."""
        from animstudio.media.subtitles import read_subtitles

        cues = read_subtitles(path)
        for cue in cues:
            if cue.end_s + offset_s > 0:
                self.add_caption(cue.text, max(0.0, cue.start_s + offset_s), cue.end_s + offset_s,
                                 words=[w.model_copy(update={"start_s": max(0.0, w.start_s + offset_s),
                                                            "end_s": max(0.0, w.end_s + offset_s)}) for w in cue.words])
        return len(cues)

    def set_original_audio(self, **settings: Any) -> None:
        self.main.metadata[META] = OriginalAudio.model_validate({**meta(self.main), **settings}).model_dump()

    def add_marker(self, name: str, at_s: float, duration_s: float = 0.0, color: str = "RED",
                   note: str = "") -> otio.schema.Marker:
        m = otio.schema.Marker(name=name, marked_range=TR(RT.from_seconds(at_s, self.fps).round(),
                                                           RT.from_seconds(duration_s, self.fps).round()),
                               color=color, metadata={META: {"note": note}} if note else {})
        self.main.markers.append(m)
        return m
