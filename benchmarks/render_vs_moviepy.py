"""Rendering an edit: `animstudio edit render` against MoviePy 2.x, the same edit side by side.

The edit: 8 cuts from the Big Buck Bunny clip (1280x720, 24 fps, with sound), 3 one-second
crossfades, a text overlay, a 20 s music bed looped and ducked under a voice track (JFK, 11 s, at 6 s);
output 1280x720 at 24 fps, 26 s, H.264 + AAC. Ours is built with the `Edit` API, saved as .otio
and rendered by the CLI (`--preset medium`, then `--preset draft`); MoviePy's is a small script
written next to it and run as its own process. Both encode with libx264 at CRF 23 (MoviePy passes
no -crf: x264's default is 23), preset medium, AAC 192 kb/s at 48 kHz.

For each tool: the best wall time of two interleaved runs, then peak memory in a third run, as the
peak sum of RSS over the whole process tree (both tools run ffmpeg children) sampled every 50 ms
(sampling costs CPU, so it is kept out of the timed runs). Both outputs are probed (duration,
frames); ours must be within one frame of the timeline.

    pip install 'moviepy>=2.1'                      # or: pip install -e '.[editing,dev]'
    python benchmarks/render_vs_moviepy.py          # ends with RESULT lines
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VIDEO = SHARED / "video" / "big_buck_bunny_0_30.webm"
VOICE = SHARED / "speech" / "faster_whisper" / "jfk.flac"
BIN = Path(sys.executable).parent
FPS, WIDTH, HEIGHT = 24, 1280, 720

# Source ranges (seconds). BBB's shots are frames 0-283, 283-376, 376-551, 551-720 (11.79, 15.67,
# 22.96 s): every range, with the 0.5 s handles a crossfade reads beyond it, stays >= 0.3 s inside one.
CUTS = [(0.5, 4.0), (13.0, 15.0), (16.5, 20.0), (6.0, 9.5), (24.0, 27.5), (20.5, 22.0), (2.0, 6.0), (24.8, 29.3)]
FADES = {1: 1.0, 3: 1.0, 7: 1.0}      # crossfade into clip i from clip i-1, seconds
TEXT = ("Big Buck Bunny: the highlights", 1.0, 5.0)
VOICE_AT = 6.0
MUSIC_DB, DUCK_DB = -6.0, -15.0     # the music's gain and about how far it ducks (our defaults)
REPEATS = 2

MOVIEPY_EDIT = '''\
"""The benchmark's edit in MoviePy 2.x (written and run by benchmarks/render_vs_moviepy.py)."""
import json
import sys

from moviepy import (AudioFileClip, CompositeAudioClip, CompositeVideoClip, TextClip, VideoFileClip, afx,
                     vfx)

job = json.loads(sys.argv[1])
total, duck = job["total"], 10 ** (job["duck_db"] / 20)
# Clips placed by start time in one CompositeVideoClip, not concatenate_videoclips(padding=-d): padding
# overlaps every join, and only 3 of the 7 are crossfades. Each clip shows the same source range at the
# same timeline time as ours (OTIO's handles included), so both last 26.000 s, 624 frames.
layers = []
for c in job["clips"]:
    # one VideoFileClip per cut, as MoviePy's docs do it: clips of one shared reader that play at the
    # same time (a crossfade) would make it seek back and forth, restarting ffmpeg on every frame
    clip = VideoFileClip(job["video"]).subclipped(c["src_start"], c["src_end"]).with_start(c["at"])
    if c["fade_in"]:
        clip = clip.with_effects([vfx.CrossFadeIn(c["fade_in"]), afx.AudioFadeIn(c["fade_in"])])
    if c["fade_out"]:  # the picture of the outgoing clip stays under the incoming one; its sound fades
        clip = clip.with_effects([afx.AudioFadeOut(c["fade_out"])])
    layers.append(clip)
text, a, b = job["text"]
title = TextClip(font=job["font"], text=text, font_size=job["font_size"], color="white", stroke_color="black",
                 stroke_width=job["outline"])
# centred on the clip's box, which holds stroke and margins: a few pixels lower than ours (drawtext
# centres the glyphs' box)
title = (title.with_position(("center", job["text_y"] - title.h / 2)).with_start(a).with_duration(b - a)
         .with_effects([vfx.CrossFadeIn(0.3), vfx.CrossFadeOut(0.3)]))
video = CompositeVideoClip([*layers, title], size=(job["width"], job["height"])).with_duration(total)
voice = AudioFileClip(job["voice"]).with_start(job["voice_at"])
ducked = (job["voice_at"], job["voice_at"] + voice.duration)
# MoviePy has no sidechain compressor: music and the clips' own sound are lowered by a fixed gain over
# the voice's time range (ours follows the voice's level, about the same depth)
music = AudioFileClip(job["music"]).with_effects([
    afx.AudioLoop(duration=total), afx.MultiplyVolume(10 ** (job["music_db"] / 20)),
    afx.MultiplyVolume(duck, start_time=ducked[0], end_time=ducked[1])])
original = video.audio.with_effects([afx.MultiplyVolume(duck, start_time=ducked[0], end_time=ducked[1])])
mix = CompositeAudioClip([original, music, voice]).with_duration(total)
# no loudness normalisation here: MoviePy has only peak normalisation (ours: EBU R128, -14 LUFS)
video.with_audio(mix).write_videofile(job["out"], fps=job["fps"], codec="libx264", preset="medium",
                                      audio_codec="aac", audio_fps=48000, audio_bitrate="192k",
                                      temp_audiofile_path=job["work"], logger=None)
print(json.dumps({"duration_s": video.duration}))
'''


def run_measured(cmd: list[str], cwd: Path, memory: bool = False) -> tuple[float, float, str]:
    """(wall seconds, peak MiB summed over the process and all its children, stdout) of one command.

    Memory is sampled only when asked: the sampling itself takes CPU that a render saturating both
    cores would lose, so timed runs and memory runs are separate.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, cwd=cwd)
        root = psutil.Process(proc.pid)
        peak = 0
        while memory and proc.poll() is None:
            total = 0
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                tree = []
            for p in tree:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:  # an ffmpeg child that just ended
                    pass
            peak = max(peak, total)
            time.sleep(0.05)
        proc.wait()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.read().strip()[-1500:]}")
        return wall, peak / 2**20, out.read()


def make_music(work: Path) -> Path:
    """A 20 s music-like bed (shorter than the edit, so both tools really loop it): two triads alternating
    every 2 s, with a slow swell, as AAC."""
    from animstudio.media.ffmpeg import ffmpeg_exe

    def triad(a: float, b: float, c: float) -> str:
        return f"sin(2*PI*{a}*t)+0.8*sin(2*PI*{b}*t)+0.6*sin(2*PI*{c}*t)+0.3*sin(2*PI*{a / 2}*t)"

    chord = f"if(lt(mod(t,4),2),{triad(220, 277.18, 329.63)},{triad(174.61, 220, 261.63)})"
    wave = f"0.12*(0.75+0.25*sin(2*PI*0.2*t))*({chord})"
    music = work / "music.m4a"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc='{wave}|{wave}':s=48000:d=20", "-c:a", "aac", "-b:a", "192k", str(music)], check=True)
    return music


def layout() -> tuple[list[dict[str, float]], float]:
    """Each cut placed on the timeline as OTIO does it (a transition is centred on the cut and reads
    half its length beyond each clip), and the timeline's length."""
    at = 0.0
    clips = []
    for i, (a, b) in enumerate(CUTS):
        d_in, d_out = FADES.get(i, 0.0), FADES.get(i + 1, 0.0)
        clips.append({"src_start": a - d_in / 2, "src_end": b + d_out / 2, "at": at - d_in / 2,
                      "fade_in": d_in, "fade_out": d_out})
        at += b - a
    return clips, at


def build_ours(work: Path, music: Path) -> Path:
    from animstudio.editing.schema import Output
    from animstudio.editing.timeline import Edit

    e = Edit(Output(width=WIDTH, height=HEIGHT, fps=FPS))        # loudness: -14 LUFS by default
    for a, b in CUTS:
        e.cut(VIDEO, a, b)
    for i, d in FADES.items():
        e.add_transition(i, "fade", d)
    e.add_text(*TEXT)
    e.add_audio(music, role="music", loop=True, duck=True, volume_db=MUSIC_DB)
    e.add_audio(VOICE, start_s=VOICE_AT, role="voice")
    return e.save(work / "edit.otio")


def moviepy_job(work: Path, music: Path, total: float) -> list[str]:
    from animstudio.editing.fonts import font_path
    from animstudio.editing.schema import TextStyle

    style = TextStyle(text=TEXT[0])
    clips, _ = layout()
    job = {"video": str(VIDEO), "voice": str(VOICE), "music": str(music), "clips": clips, "total": total,
           "text": list(TEXT), "font": str(font_path(style.font)), "font_size": round(style.size * HEIGHT),
           "outline": max(1, round(style.outline * HEIGHT)), "text_y": style.y * HEIGHT, "voice_at": VOICE_AT,
           "music_db": MUSIC_DB, "duck_db": DUCK_DB, "width": WIDTH, "height": HEIGHT, "fps": FPS,
           "out": str(work / "moviepy.mp4"), "work": str(work)}
    script = work / "moviepy_edit.py"
    script.write_text(MOVIEPY_EDIT, encoding="utf-8")
    return [sys.executable, str(script), json.dumps(job)]


def encode_only(rendered: Path, work: Path) -> float:
    """Seconds x264 (preset medium, CRF 23) takes to encode the frames of ``rendered`` from raw video."""
    from animstudio.media.ffmpeg import ffmpeg_exe

    raw = work / "frames.nut"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(rendered), "-an", "-c:v", "rawvideo", str(raw)],
                   check=True)
    t0 = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(raw), "-c:v", "libx264", "-preset", "medium",
                    "-crf", "23", "-f", "mp4", str(work / "encode-only.mp4")], check=True)
    wall = time.perf_counter() - t0
    raw.unlink()
    return wall


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    try:
        mp_version = version("moviepy")
    except PackageNotFoundError:
        raise SystemExit("MoviePy is not installed here: pip install 'moviepy>=2.1'") from None
    if int(mp_version.split(".")[0]) < 2:
        raise SystemExit(f"MoviePy {mp_version} is installed; this benchmark needs 2.x: pip install 'moviepy>=2.1'")
    for f in (VIDEO, VOICE):
        if not f.is_file():
            raise SystemExit(f"{f} is missing; the benchmark needs the shared data next to the repository")
    from animstudio.media import probe

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        music = make_music(work)
        otio_file = build_ours(work, music)
        clips, total = layout()
        cli = str(BIN / "animstudio")
        outputs = {"ours_medium": work / "ours.mp4", "moviepy": work / "moviepy.mp4", "ours_draft": work / "draft.mp4"}
        commands = {
            "ours_medium": [cli, "edit", "render", str(otio_file), "-o", str(outputs["ours_medium"]), "-p", "medium"],
            "moviepy": moviepy_job(work, music, total),
            "ours_draft": [cli, "edit", "render", str(otio_file), "-o", str(outputs["ours_draft"]), "-p", "draft"],
        }
        # best time of REPEATS interleaved runs (a stray background task on a small machine skews one run)
        runs: dict[str, tuple[float, float, str]] = {}
        for _ in range(REPEATS):
            for name, cmd in commands.items():
                wall, _, out = run_measured(cmd, work)
                runs[name] = (min(wall, runs.get(name, (wall,))[0]), 0.0, out)
        for name, cmd in commands.items():   # one more run each, for memory
            _, mib, _ = run_measured(cmd, work, memory=True)
            runs[name] = (runs[name][0], mib, runs[name][2])
        mp_duration = json.loads(runs["moviepy"][2].strip().splitlines()[-1])["duration_s"]
        expected = round(total * FPS)
        print(f"edit: {len(CUTS)} cuts, {len(FADES)} crossfades, 1 text, music ducked under voice; timeline "
              f"{total:.3f} s = {expected} frames (ours); MoviePy's composite {mp_duration:.3f} s "
              f"(MoviePy {mp_version})")
        print(f"{'run':12} {'wall s':>8} {'peak MiB':>9} {'out s':>8} {'frames':>7} {'video s':>8} {'size MB':>8}")
        infos = {}
        for name, (wall, mib, _) in runs.items():
            info = probe(outputs[name])
            infos[name] = info
            frames = info.frame_count or 0
            print(f"{name:12} {wall:8.2f} {mib:9.0f} {info.duration_s:8.3f} {frames:7d} {frames / FPS:8.3f} "
                  f"{outputs[name].stat().st_size / 1e6:8.2f}")
        for name in ("ours_medium", "ours_draft"):
            info = infos[name]
            if abs((info.frame_count or 0) - expected) > 1 or abs(info.duration_s - total) > 1 / FPS + 1e-6:
                raise SystemExit(f"{name}: {info.frame_count} frames, {info.duration_s:.3f} s; the timeline is "
                                 f"{expected} frames, {total:.3f} s (more than one frame apart)")
        t_ours, m_ours, _ = runs["ours_medium"]
        t_mp, m_mp, _ = runs["moviepy"]
        t_draft, m_draft, _ = runs["ours_draft"]
        print(f"RESULT render_time_ours_medium {t_ours:.2f} s goal none")
        print(f"RESULT render_time_ours_draft {t_draft:.2f} s goal none")
        print(f"RESULT render_time_moviepy {t_mp:.2f} s goal none")
        print(f"RESULT peak_memory_ours_medium {m_ours:.0f} MiB goal none")
        print(f"RESULT peak_memory_ours_draft {m_draft:.0f} MiB goal none")
        print(f"RESULT peak_memory_moviepy {m_mp:.0f} MiB goal none")
        # the floor at equal settings: x264 alone on the edit's finished frames (no decoding, no filters)
        t_enc = encode_only(outputs["ours_medium"], work)
        print(f"RESULT x264_medium_encode_only {t_enc:.2f} s goal none (the encoder alone on the edit's frames)")
        print(f"RESULT speedup_ceiling_vs_moviepy {t_mp / t_enc:.2f} x goal none (MoviePy / encoder alone)")
        print(f"RESULT speedup_vs_moviepy {t_mp / t_ours:.2f} x goal >=3")
        print(f"RESULT peak_memory_vs_moviepy {m_ours / m_mp:.2f} x goal <=1")
        print(f"RESULT draft_speedup_vs_moviepy {t_mp / t_draft:.2f} x goal >=6")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
