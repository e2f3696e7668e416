"""The analysis report folder: analysis.json, timeline.otio, contact_sheet.png and report.html.

    >>> write_report(analyze("clip.mp4"), "out/clip")
    # out/clip/report.html is self-contained: open it in any browser
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from animstudio.analysis.analyze import VideoAnalysis
from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.files import check_output_folder, output_folder
from animstudio.media import read_frame

THUMB_W = 320
COMMAND = "analyze report"   # what writes the report folder


def thumbnails(result: VideoAnalysis) -> list[Image.Image]:
    """One picture per shot, at its composition keyframe."""
    images = []
    for shot, comp in zip(result.shots, result.composition, strict=True):
        frame = min(max(comp.keyframe, shot.start_frame), shot.end_frame - 1)
        t = shot.start_s + (shot.end_s - shot.start_s) * (frame - shot.start_frame) / max(1, shot.frames)
        images.append(Image.fromarray(read_frame(result.video.path, t, width=THUMB_W).image))
    return images


def contact_sheet(result: VideoAnalysis, thumbs: list[Image.Image], columns: int = 4) -> Image.Image:
    if not thumbs:
        raise InvalidInputError("nothing to put on a contact sheet: the video has no shots")
    tw, th = thumbs[0].size
    label_h = 34
    rows = (len(thumbs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tw, rows * (th + label_h)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for i, (img, shot) in enumerate(zip(thumbs, result.shots, strict=True)):
        x, y = (i % columns) * tw, (i // columns) * (th + label_h)
        sheet.paste(img.resize((tw, th)), (x, y))
        cam, comp = result.camera[i].label, result.composition[i].shot_size
        draw.text((x + 6, y + th + 3), f"#{shot.index}  frames {shot.start_frame}-{shot.end_frame - 1}  "
                                      f"{shot.start_s:.2f}-{shot.end_s:.2f} s", font=font, fill=(235, 235, 235))
        draw.text((x + 6, y + th + 18), f"{comp.replace('_', ' ')}, {cam.replace('_', ' ')}", font=font,
                  fill=(170, 200, 255))
    return sheet


def timeline(result: VideoAnalysis):  # type: ignore[no-untyped-def]
    """Shots as clips of the source, transitions and camera moves as markers."""
    try:
        import opentimelineio as otio
    except ImportError as exc:
        raise MissingDependencyError.for_extra("opentimelineio", "analysis", "timeline export") from exc
    fps = result.video.fps or 24.0
    total = result.video.frame_count or result.shots[-1].end_frame
    ref = otio.schema.ExternalReference(
        target_url=Path(result.video.path).resolve().as_uri(),
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, fps),
                                                otio.opentime.RationalTime(total, fps)))
    track = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    for shot, cam in zip(result.shots, result.camera, strict=True):
        clip = otio.schema.Clip(name=f"shot {shot.index}", media_reference=ref.clone(),
                                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(shot.start_frame, fps),
                                                                     otio.opentime.RationalTime(shot.frames, fps)))
        clip.metadata["animstudio"] = {"camera": cam.model_dump(), "shot": shot.model_dump()}
        if cam.label not in ("static", "unknown"):
            clip.markers.append(otio.schema.Marker(
                name=f"camera: {cam.label}", color=otio.schema.MarkerColor.CYAN,
                marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(shot.start_frame, fps),
                                                     otio.opentime.RationalTime(shot.frames, fps))))
        track.append(clip)
    for t in result.transitions:
        track.markers.append(otio.schema.Marker(
            name=t.type if not t.color else f"{t.type} ({t.color})", color=otio.schema.MarkerColor.YELLOW,
            marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(t.start_frame, fps),
                                                 otio.opentime.RationalTime(t.end_frame - t.start_frame, fps)),
            metadata={"animstudio": t.model_dump()}))
    tl = otio.schema.Timeline(name=Path(result.video.path).stem, tracks=[track])
    tl.global_start_time = otio.opentime.RationalTime(0, fps)
    return tl


def _png(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plot(result: VideoAnalysis, width: int = 960, height: int = 160) -> str:
    n = max(1, len(result.signal) - 1)
    x = lambda i: round(i / n * width, 1)  # noqa: E731
    y = lambda v: round(height - 8 - v * (height - 16), 1)  # noqa: E731
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="per-frame change with detected cuts">', f'<rect width="{width}" height="{height}" '
             f'fill="#111"/>']
    for t in result.transitions:
        parts.append(f'<rect x="{x(t.start_frame)}" y="0" width="{max(1, x(t.end_frame) - x(t.start_frame))}" '
                     f'height="{height}" fill="#665c00"><title>{t.type} {t.start_frame}-{t.end_frame}</title></rect>')
    points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(result.signal))
    parts.append(f'<polyline fill="none" stroke="#8ab4f8" stroke-width="1" points="{points}"/>')
    for c in result.cuts:
        parts.append(f'<line x1="{x(c)}" x2="{x(c)}" y1="0" y2="{height}" stroke="#f44" stroke-width="1.5">'
                     f'<title>cut at frame {c}</title></line>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(result: VideoAnalysis, thumbs: list[Image.Image], sheet: Image.Image) -> str:
    e = html.escape
    v = result.video
    rows = []
    for shot, cam, comp, coh, img in zip(result.shots, result.camera, result.composition, result.coherence.shots,
                                         thumbs, strict=True):
        swatches = "".join(f'<span class="sw" style="background:{s.hex}" title="{s.hex} {s.share:.0%}"></span>'
                           for s in comp.palette)
        small = _png(img.resize((160, round(160 * img.height / img.width))))
        rows.append(f"<tr><td>{shot.index}</td><td><img src='{small}' alt='shot {shot.index}'></td>"
                    f"<td>{shot.start_frame}-{shot.end_frame - 1}</td><td>{shot.start_s:.2f}-{shot.end_s:.2f}</td>"
                    f"<td>{e(cam.label)}<br><small>pan {cam.pan_per_s:+.3f} "
                    f"tilt {cam.tilt_per_s:+.3f} zoom {cam.zoom_per_s:+.3f} roll {cam.roll_deg_per_s:+.1f}&deg;</small>"
                    f"</td><td>{e(comp.shot_size)}<br><small>thirds {comp.thirds_score:.2f}</small></td>"
                    f"<td>{swatches}</td><td>{coh.score:.2f}</td></tr>")
    a = result.audio
    audio = ("<p>No audio stream.</p>" if not a.has_audio else
             f"<p>Integrated loudness {a.integrated_lufs} LUFS, range {a.loudness_range_lu} LU, true peak "
             f"{a.true_peak_dbfs} dBFS; speech {a.speech_ratio:.0%} of the time in {len(a.speech)} segments; "
             f"{len(a.silences)} silences.</p>")
    speech = "".join(f"<tr><td>{line.start_s:.2f}-{line.end_s:.2f}</td><td>{'' if line.shot is None else line.shot}"
                     f"</td><td>{e(line.speaker)}</td><td>{e(line.text)}</td></tr>" for line in result.lines)
    speech = (f"<h2>Speech</h2><table><tr><th>seconds</th><th>shot</th><th>speaker</th><th>line</th></tr>{speech}"
              "</table>") if result.lines else ""
    transitions = "".join(f"<li>{e(t.type)}{' (' + t.color + ')' if t.color else ''}: frames {t.start_frame}-"
                          f"{t.end_frame - 1}</li>" for t in result.transitions) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Analysis of {e(Path(v.path).name)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;background:#fafafa;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}
.sw{{display:inline-block;width:18px;height:18px;margin-right:2px;border:1px solid #999}}</style></head><body>
<h1>{e(Path(v.path).name)}</h1>
<p>{v.width}x{v.height}, {v.fps} fps, {v.frame_count} frames, {v.duration_s:.2f} s. Detector: {e(result.detector)}.
{len(result.shots)} shots, cuts at {result.cuts}, flashes at {result.flashes}.
Coherence {result.coherence.overall:.2f} (warp error {result.coherence.warp_error:.4f}, flicker
{result.coherence.flicker:.4f}).</p>
<h2>Change from frame to frame</h2>{_plot(result)}
<p><small>Blue: change from the previous frame. Red: detected cuts. Yellow: transitions.</small></p>
<h2>Transitions</h2><ul>{transitions}</ul>
<h2>Shots</h2><table><tr><th>#</th><th>keyframe</th><th>frames</th><th>seconds</th><th>camera</th>
<th>framing</th><th>palette</th><th>coherence</th></tr>{"".join(rows)}</table>
<h2>Audio</h2>{audio}
{speech}
<h2>Contact sheet</h2><img src="{_png(sheet)}" alt="contact sheet" style="max-width:100%">
<p><small>Timings: {", ".join(f"{k} {s:.2f} s" for k, s in result.timings_s.items())}</small></p>
</body></html>"""


def write_report(result: VideoAnalysis, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the four report files into ``out_dir`` (built beside it, then moved in); returns their paths."""
    import opentimelineio as otio

    folder = check_output_folder(out_dir, COMMAND)
    thumbs = thumbnails(result)
    sheet = contact_sheet(result, thumbs)
    names = ("analysis.json", "timeline.otio", "contact_sheet.png", "report.html")
    with output_folder(folder, COMMAND) as tmp:
        (tmp / "analysis.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
        (tmp / "timeline.otio").write_text(otio.adapters.write_to_string(timeline(result), "otio_json"),
                                           encoding="utf-8")
        sheet.save(tmp / "contact_sheet.png", format="PNG")
        (tmp / "report.html").write_text(html_report(result, thumbs, sheet), encoding="utf-8")
    return {name: folder / name for name in names}
