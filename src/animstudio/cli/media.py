"""``animstudio media``: probe files, extract a frame or the audio, render the sample clip."""

from __future__ import annotations

import wave
from pathlib import Path

import typer

from animstudio.cli import ui
from animstudio.errors import InvalidInputError
from animstudio.files import atomic_output, check_output_path

# numpy, Pillow and the sample renderer load inside the commands that use them: quicker start-up

app = typer.Typer(no_args_is_help=True)


@app.command("probe")
def probe(
    file: Path = typer.Argument(..., metavar="FILE", help="Any file ffmpeg can read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    fast: bool = typer.Option(False, "--fast", help="Do not count frames (estimate from duration)."),
) -> None:
    """Container, duration, frame rates, exact frame count, VFR, size, SAR, rotation, audio streams."""
    from animstudio.media.probe import probe as probe_media

    info = probe_media(file, count_frames=not fast)
    if as_json:
        ui.print_json(info.model_dump())
        return
    rows = [["file", info.path], ["container", info.container], ["duration", f"{info.duration_s:.3f} s"],
            ["size", f"{info.size_bytes:,} bytes"]]
    if info.has_video:
        rows += [["video", f"{info.video_codec} {info.width}x{info.height} {info.pix_fmt or ''}"],
                 ["fps", f"{info.fps} nominal ({info.fps_fraction}), {info.avg_fps} average"
                         + (", variable frame rate" if info.vfr else "")],
                 ["frames", str(info.frame_count)], ["sample aspect", info.sample_aspect_ratio],
                 ["rotation", f"{info.rotation} deg"]]
    for a in info.audio:
        rows.append([f"audio #{a.index}", f"{a.codec} {a.sample_rate} Hz {a.channels} ch {a.layout}"
                                          + (f" [{a.language}]" if a.language else "")])
    if not info.audio:
        rows.append(["audio", "none"])
    ui.table(None, ["", ""], rows)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
        return w, h
    except ValueError:
        raise InvalidInputError(f"--size {text!r} must look like 640x360") from None


@app.command("sample")
def sample(
    out: Path = typer.Argument(..., metavar="OUT", help="Where to write the clip (.mp4, .mov or .mkv)."),
    seconds: float = typer.Option(12.0, "--seconds", "-s", help="Length in seconds (6-600)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Colours, speech and placement vary with the seed."),
    fps: int = typer.Option(24, "--fps", help="Frame rate."),
    size: str = typer.Option("640x360", "--size", help="WIDTHxHEIGHT, even numbers."),
    as_json: bool = typer.Option(False, "--json", help="Print the ground truth as JSON."),
) -> None:
    """Render a cartoon-like clip with known cuts, transitions and camera moves, and its ground truth."""
    from animstudio.media.sample import make_sample, truth_path

    width, height = _size(size)
    with ui.progress_bar() as on_progress:
        truth = make_sample(out, seconds=seconds, seed=seed, fps=fps, width=width, height=height,
                            on_progress=on_progress)
    if as_json:
        ui.print_json(truth.model_dump())
        return
    ui.say(f"wrote {out} ({truth.frame_count} frames, {truth.duration_s:.2f} s, cuts at {truth.cuts}, "
                 f"dissolve {truth.transitions[0].start}-{truth.transitions[0].end}) and {truth_path(out)}")


@app.command("frame")
def frame(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    at: float = typer.Option(0.0, "--at", min=0.0, help="Time in seconds."),
    out: Path = typer.Option(..., "--output", "-o", help="Image to write (.png or .jpg)."),
    width: int | None = typer.Option(None, "--width", min=2, max=16384, help="Scale to this width, keeping aspect."),
) -> None:
    """Save the frame shown at a given time as an image."""
    from PIL import Image

    from animstudio.media import read_frame

    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise InvalidInputError(f"{out.name}: write the frame as .png, .jpg or .webp")
    from animstudio.media.probe import probe as probe_media
    from animstudio.media.probe import require_video

    require_video(probe_media(file, count_frames=False))
    check_output_path(out)
    f = read_frame(file, at, width=width)
    with atomic_output(out) as tmp:
        Image.fromarray(f.image).save(tmp, format={".jpg": "JPEG", ".jpeg": "JPEG"}.get(out.suffix.lower(),
                                                                                          out.suffix[1:].upper()))
    ui.say(f"wrote frame {f.index} ({f.time_s:.3f} s) to {out}")


@app.command("audio")
def audio(
    file: Path = typer.Argument(..., metavar="FILE", help="A video or audio file."),
    out: Path = typer.Option(..., "--output", "-o", help="WAV file to write."),
    rate: int = typer.Option(16000, "--rate", min=1000, max=384000, help="Sample rate in Hz."),
    stereo: bool = typer.Option(False, "--stereo", help="Keep two channels instead of mixing to mono."),
) -> None:
    """Extract the audio track to a 16-bit WAV at the rate you choose."""
    import numpy as np

    from animstudio.media import decode_audio

    if out.suffix.lower() != ".wav":
        raise InvalidInputError(f"{out.name}: audio is written as .wav")
    if not 8000 <= rate <= 192000:
        raise InvalidInputError(f"--rate {rate} must be between 8000 and 192000 Hz")
    from animstudio.media.probe import probe as probe_media
    from animstudio.media.probe import require_audio

    require_audio(probe_media(file, count_frames=False))
    check_output_path(out)
    data, sr = decode_audio(file, sample_rate=rate, mono=not stereo)
    frames = data if data.ndim == 1 else data.T
    pcm = (np.clip(frames, -1, 1) * 32767).astype("<i2")
    with atomic_output(out) as tmp, wave.open(str(tmp), "wb") as wf:
        wf.setnchannels(1 if data.ndim == 1 else data.shape[0])
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(pcm.tobytes())
    ui.say(f"wrote {len(pcm) / sr:.2f} s of audio to {out}")
