"""What a job leaves for people and for reproducing it: ``report.html`` (the plan, a thumbnail per
shot, the lines with their checks, every decision and the timings) and ``manifest.json`` (inputs
and models with their hashes, parameters, seeds, timings)."""

from __future__ import annotations

import base64
import html
import json
import platform
from typing import Any

from animstudio.files import sha256_file, write_text_atomic
from animstudio.jobs.runner import Context


def _thumbnail(clip: str, at_s: float) -> str:
    """A small JPEG of the frame at ``at_s`` as a data URL ('' when it cannot be read)."""
    import subprocess

    from animstudio.media.ffmpeg import ffmpeg_exe

    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{at_s:.3f}", "-i", clip, "-frames:v", "1", "-vf",
                           "scale=240:-2", "-f", "image2pipe", "-c:v", "mjpeg", "-"], capture_output=True)
    return f"data:image/jpeg;base64,{base64.b64encode(proc.stdout).decode()}" if proc.stdout else ""


def _details(decision: dict[str, Any]) -> str:
    rest = {k: v for k, v in decision.items() if k not in ("step", "decision")}
    return f" — {json.dumps(rest, ensure_ascii=False)}" if rest else ""


def write_report(ctx: Context) -> None:
    plan = json.loads(ctx.path("plan.json").read_text(encoding="utf-8"))
    analysis = json.loads(ctx.path("analysis.json").read_text(encoding="utf-8"))
    voices = json.loads(ctx.path("voices.json").read_text(encoding="utf-8"))
    esc = html.escape
    rows = []
    for shot, entry in zip(analysis["shots"], plan["shots"], strict=True):
        thumb = _thumbnail(ctx.params.clip, (shot["start_s"] + shot["end_s"]) / 2)
        said = "".join(f"<li><b>{esc(v['speaker'])}</b> ({esc(v['emotion'])}): {esc(v['text'])} "
                       f"<small>WER {', '.join(f'{w:.0%}' for w in v['wer'])}"
                       f"{'' if v['passed'] else ' FAILED'}; heard: {esc(v['heard'])}</small></li>"
                       for v in voices if v["shot"] == shot["index"])
        rows.append(f"<tr><td>{shot['index']}</td><td>{shot['start_s']:.2f}-{shot['end_s']:.2f} s</td>"
                    f"<td>{f'<img src={chr(34)}{thumb}{chr(34)} width=240>' if thumb else ''}</td>"
                    f"<td>{esc(entry.get('caption', ''))}</td><td>{esc(entry.get('beat', 'none'))}</td>"
                    f"<td><ul>{said}</ul></td></tr>")
    timings = "".join(f"<li>{esc(name)}: {seconds:.1f} s</li>" for name, seconds in ctx.seconds.items())
    decisions = "".join(f"<li>[{esc(d['step'])}] {esc(d['decision'])}{esc(_details(d))}</li>" for d in ctx.decisions)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(plan['title'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{vertical-align:top;padding:4px 8px;border-bottom:1px solid #ddd}}
small{{color:#666}}</style></head><body>
<h1>{esc(plan['title'])}</h1><p>Job {esc(ctx.job_id or ctx.folder.name)} · {esc(ctx.kind)} · brief: \
{esc(str(getattr(ctx.params, 'brief', '')))} · look: {esc(plan.get('look', 'none'))} · clip: {esc(ctx.params.clip)}</p>
<p><a href="parody.mp4">parody.mp4</a> · <a href="parody.srt">parody.srt</a> · <a href="parody.otio">parody.otio</a>
· <a href="plan.json">plan.json</a> · <a href="manifest.json">manifest.json</a></p>
<h2>Shots</h2><table><tr><th>#</th><th>time</th><th>frame</th><th>caption</th><th>beat</th><th>lines</th></tr>
{''.join(rows)}</table><h2>Decisions</h2><ul>{decisions or '<li>none</li>'}</ul>
<h2>Timings</h2><ul>{timings}</ul></body></html>"""
    write_text_atomic(ctx.path("report.html"), page)


def write_manifest(ctx: Context) -> None:
    from animstudio import __version__
    from animstudio.config import load_settings
    from animstudio.models.catalog import catalog

    entries = {e.name: e for e in catalog()}
    models = {}
    for name in (ctx.params.model or load_settings().llm.default_model, "piper-en_US-joe-medium", "whisper-base"):
        if name in entries:
            models[name] = {f.name: f.sha256 for f in entries[name].files}
    manifest: dict[str, Any] = {
        "job": ctx.job_id, "kind": ctx.kind, "animstudio": __version__, "python": platform.python_version(),
        "inputs": {"clip": {"path": ctx.params.clip, "sha256": sha256_file(ctx.params.clip)}},
        "parameters": ctx.params.model_dump(mode="json"), "seed": ctx.params.seed, "models": models,
        "steps": {name: {"seconds": round(ctx.seconds.get(name, 0.0), 3),
                         "outputs": {k: v for k, v in outputs.items() if k != "decisions"}}
                  for name, outputs in ctx.outputs.items()},
        "outputs": {name: sha256_file(ctx.path(name)) for name in ("parody.mp4", "parody.srt", "parody.otio",
                                                                     "plan.json") if ctx.path(name).exists()},
        "decisions": ctx.decisions,
    }
    write_text_atomic(ctx.path("manifest.json"), json.dumps(manifest, indent=1, default=str))
