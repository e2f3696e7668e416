"""The typed schema of everything animstudio keeps in an OpenTimelineIO timeline's metadata.

OTIO holds the edit itself (tracks, clips with source ranges, gaps, transitions, markers); what
NLEs have no common words for (text styles, ducking, style presets, punch-in zooms) lives under one
key, ``metadata["animstudio"]``, of the timeline, a track or a clip, validated by these models.

    >>> Output(width=1080, height=1920, styles=["warm", "grain"])
    >>> ClipEffects(speed=2.0, zoom=Zoom(scale=1.5, x=0.3, y=0.4))
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from animstudio.media.subtitles import Word

META = "animstudio"   # the metadata key everything below lives under
# The tracks an edit is built on: the cut, images and text above it (layers "overlay 2", ... when
# they overlap), and the subtitle cues.
MAIN, OVERLAY, CAPTIONS = "main", "overlay", "captions"
CAPTION_SIZE = 0.06   # the height of a caption's text line, as a fraction of the picture height


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(Model):
    """Timeline-wide render settings (the timeline's metadata)."""

    width: int = Field(1280, ge=16, le=8192, multiple_of=2)
    height: int = Field(720, ge=16, le=8192, multiple_of=2)
    fps: float = Field(24.0, gt=0, le=240)
    sample_rate: int = Field(48000, ge=8000, le=192000)
    fit: Literal["pad", "crop"] = Field("pad", description="sources of another shape: letter/pillar-box or crop")
    background: str = Field("black", description="colour of padding and of gaps")
    styles: list[str] = Field(default_factory=list, description="style presets applied to the whole picture")
    lut: str | None = Field(None, description="a .cube 3D LUT file applied after the styles")
    loudness: float | None = Field(-14.0, ge=-70, le=-5, description="integrated loudness target, LUFS; None: as mixed")


class Rect(Model):
    """A rectangle in normalised source coordinates (0-1 of width and height)."""

    x: float = Field(0.0, ge=0, le=1)
    y: float = Field(0.0, ge=0, le=1)
    w: float = Field(1.0, gt=0, le=1)
    h: float = Field(1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _inside(self) -> Rect:
        if self.x + self.w > 1.0001 or self.y + self.h > 1.0001:
            raise ValueError("the rectangle must lie inside the picture (x + w <= 1, y + h <= 1)")
        return self


class Zoom(Model):
    """A punch-in: ``scale`` times closer, centred on (x, y)."""

    scale: float = Field(1.5, ge=1.0, le=8.0)
    x: float = Field(0.5, ge=0, le=1)
    y: float = Field(0.5, ge=0, le=1)


class KenBurns(Model):
    """A smooth move from one framing to another over the clip (sub-pixel, no jitter)."""

    start: Rect = Field(default_factory=Rect)
    end: Rect = Field(default_factory=lambda: Rect(x=0.1, y=0.1, w=0.8, h=0.8))
    ease: bool = True


class ClipEffects(Model):
    """Per-clip effects on a clip of a video track (the clip's metadata)."""

    speed: float = Field(1.0, gt=0, le=16, description="playback speed; audio keeps its pitch")
    reverse: bool = False
    freeze: bool = Field(False, description="hold the first frame of the source range for the clip's duration")
    zoom: Zoom | None = None
    ken_burns: KenBurns | None = None
    center: tuple[float, float] | None = Field(None, description="point to keep in frame when cropping (0-1)")
    volume_db: float = Field(0.0, ge=-60, le=24, description="gain of the clip's own audio")
    mute: bool = False


class TextStyle(Model):
    """A text overlay (a generator clip of kind ``text`` on an overlay track)."""

    text: str = Field(min_length=1)
    font: str = "Roboto-Bold"
    size: float = Field(0.07, gt=0, le=1, description="text height as a fraction of the frame height")
    color: str = "white"
    outline: float = Field(0.004, ge=0, le=0.05, description="outline width, fraction of frame height")
    outline_color: str = "black"
    shadow: float = Field(0.0, ge=0, le=0.05, description="shadow offset, fraction of frame height")
    shadow_color: str = "black@0.6"
    box: bool = False
    box_color: str = "black@0.5"
    x: float = Field(0.5, ge=0, le=1, description="centre of the text, fraction of the width")
    y: float = Field(0.85, ge=0, le=1, description="centre of the text, fraction of the height")
    animate_in: Literal["none", "fade", "slide", "pop"] = "fade"
    animate_out: Literal["none", "fade", "slide", "pop"] = "fade"
    animate_s: float = Field(0.3, ge=0, le=5)


class ImageOverlay(Model):
    """An image with alpha (sticker, logo) on an overlay track (the clip's metadata)."""

    x: float = Field(0.5, ge=0, le=1, description="centre, fraction of the width")
    y: float = Field(0.5, ge=0, le=1, description="centre, fraction of the height")
    width: float = Field(0.2, gt=0, le=1, description="width as a fraction of the frame width")
    opacity: float = Field(1.0, ge=0, le=1)
    fade_s: float = Field(0.0, ge=0, le=5)


class AudioTrack(Model):
    """Settings of an audio track (the track's metadata)."""

    role: Literal["voice", "music", "effects"] = "effects"
    volume_db: float = Field(0.0, ge=-60, le=24)
    fade_in_s: float = Field(0.0, ge=0)
    fade_out_s: float = Field(0.0, ge=0)
    envelope: list[tuple[float, float]] = Field(default_factory=list,
                                                description="(time s, gain dB) points, linear in between")
    loop: bool = Field(False, description="loop the track's first clip to the length of the timeline")
    duck: bool = Field(False, description="lower this track while a voice track speaks")
    duck_under: Literal["voice", "original"] = Field("voice", description="what it ducks under: the voice "
                                                     "tracks, or the main video track's own sound")
    duck_db: float = Field(-15.0, ge=-40, le=0, description="about how far ducking lowers it")


class OriginalAudio(Model):
    """How the video track's own audio is mixed (the main video track's metadata)."""

    volume_db: float = Field(0.0, ge=-60, le=24)
    duck: bool = Field(True, description="lower the original audio while a voice track speaks")
    duck_db: float = Field(-15.0, ge=-40, le=0)


class Transition(Model):
    """Our name of an OTIO transition's look (its metadata): any ffmpeg xfade type."""

    kind: str = "fade"


class Caption(Model):
    """A subtitle cue (a generator clip of kind ``caption`` on the captions track)."""

    text: str = Field(min_length=1)
    words: list[Word] = Field(default_factory=list, description="word timings for a karaoke highlight")
