"""The audio of a plan, mixed in one ffmpeg graph, and loudness normalisation in two passes.

The main track's own audio follows the cut (crossfades under transitions, silence for gaps,
frozen or muted clips and sources without sound; pitch kept on speed changes); each audio track
is placed, looped, faded and shaped by its envelope; music and the original audio duck under the
voice tracks through a sidechain compressor. Loudness lands on the target in two passes: EBU R128
integrated loudness and true peak measured first, then one gain (and a limiter only where the
gain would push the true peak over -1 dBTP).

    >>> run_ffmpeg(mix_args(plan, Path("mix.wav")))
    >>> gain_filter(-14, measure_loudness(Path("mix.wav")))        # 'volume=3.20dB'
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from animstudio.editing.filters import expr, num
from animstudio.editing.graph import input_args
from animstudio.editing.render_plan import AudioLayer, Piece, Plan
from animstudio.errors import FFmpegError
from animstudio.media.ffmpeg import ffmpeg_exe

FORMAT = "aformat=sample_fmts=fltp:channel_layouts=stereo"
DUCK_THRESHOLD = 0.01   # the sidechain level (about -40 dBFS) above which ducking starts
TRUE_PEAK = -1.0        # dBTP ceiling after loudness normalisation


def _tempo(speed: float) -> str:
    """Pitch-preserving tempo change (rubberband keeps transients better than atempo)."""
    return f"rubberband=tempo={num(speed)}:pitchq=quality"


def _piece_audio(piece: Piece, index: int | None, sr: int, fps: float) -> str:
    total = piece.head + piece.out_frames + piece.tail
    samples = round(total / fps * sr)
    if index is None:
        return f"anullsrc=r={sr}:cl=stereo,atrim=end_sample={samples}"
    chain = [f"[{index}:a]asetpts=PTS-STARTPTS", f"aresample={sr}", FORMAT]
    if piece.effects.reverse:  # exactly the source range, backwards
        chain += [f"atrim=end_sample={max(1, round(piece.src_s * sr))}", "areverse"]
    if piece.effects.speed != 1.0:
        chain.append(_tempo(piece.effects.speed))
    if piece.effects.volume_db:
        chain.append(f"volume={num(piece.effects.volume_db)}dB")
    return ",".join(chain)


def _envelope(points: list[tuple[float, float]]) -> str:
    """A gain in dB, linear between (time, dB) points, as a per-frame volume expression."""
    pts = sorted(points)
    e = num(pts[-1][1])
    for (t0, d0), (t1, d1) in reversed(list(zip(pts, pts[1:], strict=False))):
        span = max(t1 - t0, 1e-6)
        e = f"if(lt(t,{num(t1)}),{num(d0)}+({num(d1 - d0)})*(t-{num(t0)})/{num(span)},{e})"
    e = f"if(lt(t,{num(pts[0][0])}),{num(pts[0][1])},{e})"
    return f"volume={expr(f'pow(10,({e})/20)')}:eval=frame"


def _layer(layer: AudioLayer, first_input: int, sr: int, total: int) -> tuple[list[str], list[str], str]:
    """(input args, graph lines, output label) of one audio track."""
    s = layer.settings
    inputs: list[str] = []
    lines: list[str] = []
    parts = []
    tag = re.sub(r"\W", "", layer.name) or "t"
    for k, clip in enumerate(layer.clips):
        loop = s.loop and k == 0
        length = (total / sr - clip.out_start_s) if loop else clip.dur_s
        length = max(length, 1 / sr)   # a clip placed after the end of the timeline is cut to nothing
        inputs += [*(["-stream_loop", "-1"] if loop else []), "-ss", num(round(clip.src_start_s, 6)),
                   *([] if loop else ["-t", num(round(clip.dur_s + 0.1, 6))]), "-i", str(clip.path)]
        label = f"{tag}c{k}"
        delay = round(clip.out_start_s * 1000)
        lines.append(f"[{first_input + k}:a]asetpts=PTS-STARTPTS,aresample={sr},{FORMAT},"
                     f"atrim=end_sample={max(1, round(length * sr))},adelay=delays={delay}:all=1[{label}]")
        parts.append(f"[{label}]")
    bus = f"{tag}bus"
    mixed = "".join(parts) + (f"amix=inputs={len(parts)}:normalize=0:duration=longest," if len(parts) > 1 else "anull,")
    chain = [f"apad=whole_len={total}", f"atrim=end_sample={total}"]
    if s.volume_db:
        chain.append(f"volume={num(s.volume_db)}dB")
    if s.envelope:
        chain.append(_envelope(s.envelope))
    if s.fade_in_s > 0:
        chain.append(f"afade=t=in:st=0:d={num(s.fade_in_s)}")
    if s.fade_out_s > 0:
        chain.append(f"afade=t=out:st={num(max(0.0, total / sr - s.fade_out_s))}:d={num(s.fade_out_s)}")
    lines.append(f"{mixed}{','.join(chain)}[{bus}]")
    return inputs, lines, bus


def _duck(source: str, key: str, duck_db: float, out: str) -> str:
    depth = min(abs(duck_db), 19.0)
    ratio = min(20.0, 1.0 / (1.0 - depth / 20.0))   # about ``duck_db`` of reduction for speech near -20 dBFS
    return (f"[{source}][{key}]sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={num(round(ratio, 3))}:"
            f"attack=15:release=350:makeup=1[{out}]")


def _assign(targets: list[tuple[str, str, float]], key: str, copies: list[str]) -> list[str]:
    """For each target in order: the copy of ``key`` it gets (its current key when it is not ``key``'s)."""
    free = iter(copies)
    return [next(free) if k == key else k for _, k, _ in targets]


def mix_args(plan: Plan, out_file: Path) -> list[str]:
    """ffmpeg arguments writing the whole mix of ``plan`` to ``out_file`` (float WAV)."""
    sr = plan.output.sample_rate
    fps = plan.output.fps
    total = round(plan.frames / fps * sr)
    inputs: list[str] = []
    lines: list[str] = []
    n = 0
    current = None
    length = 0
    for k, piece in enumerate(plan.pieces):
        index = None
        pre = 0
        if piece.has_audio and not piece.still:
            args, pre = input_args(piece, fps)
            inputs += args
            index = n
            n += 1
        piece_total = round((piece.head + piece.out_frames + piece.tail) / fps * sr)
        chain = _piece_audio(piece, index, sr, fps)
        if pre:
            chain += f",adelay=delays={round(pre / fps * 1000)}:all=1"
        lines.append(f"{chain},apad=whole_len={piece_total},atrim=end_sample={piece_total}[a{k}]")
        if current is None:
            current, length = f"a{k}", piece_total
            continue
        if piece.join is None:
            lines.append(f"[{current}][a{k}]concat=n=2:v=0:a=1[m{k}]")
            length += piece_total
        else:
            ns = round(piece.join[1] / fps * sr)
            lines.append(f"[{current}][a{k}]acrossfade=ns={ns}:c1=tri:c2=tri[m{k}]")
            length += piece_total - ns
        current = f"m{k}"
    lines.append(f"[{current}]apad=whole_len={total},atrim=end_sample={total},"
                 f"volume={num(plan.original.volume_db)}dB[orig]")
    voices: list[str] = []
    targets: list[tuple[str, str, float]] = []   # (bus, key it ducks under, depth dB)
    final: list[str] = []
    for layer in plan.audio:
        args, more, bus = _layer(layer, n, sr, total)
        inputs += args
        n += len(layer.clips)
        lines += more
        s = layer.settings
        if s.role == "voice":
            voices.append(bus)
        elif s.duck and (s.duck_under == "original" or any(x.settings.role == "voice" for x in plan.audio)):
            targets.append((bus, "voice" if s.duck_under == "voice" else "orig", s.duck_db))
        else:
            final.append(bus)
    if voices:
        lines.append("".join(f"[{b}]" for b in voices) + (f"amix=inputs={len(voices)}:normalize=0[voice]"
                                                          if len(voices) > 1 else "anull[voice]"))
    keys = {"voice": "voice", "orig": "orig"}
    if plan.original.duck and voices:
        targets.append(("orig", "voice", plan.original.duck_db))
    # each key feeds the mix once and every compressor it drives once
    for key in ("voice", "orig"):
        uses = [t for t in targets if t[1] == key]
        if key == "voice" and not voices:
            continue
        if uses:
            copies = [f"{key}k{i}" for i in range(len(uses))]
            lines.append(f"[{key}]asplit={len(uses) + 1}[{key}m]{''.join(f'[{c}]' for c in copies)}")
            keys[key] = f"{key}m"
            targets = [(b, k, d) for (b, _, d), k in zip(targets, _assign(targets, key, copies), strict=True)]
    for bus, key, depth in targets:
        source = keys.get(bus, bus)
        lines.append(_duck(source, key, depth, f"{bus}d"))
        final.append(f"{bus}d")
    if not any(t[0] == "orig" for t in targets):
        final.append(keys["orig"])
    if voices:
        final.append(keys["voice"])
    labels = "".join(f"[{b}]" for b in final)
    mix = f"amix=inputs={len(final)}:normalize=0:duration=longest" if len(final) > 1 else "anull"
    # padded, then cut: exactly the timeline's samples whichever input ends first (amix's own end
    # depends on how the inputs' frames arrive, which varies with load)
    lines.append(f"{labels}{mix},apad=whole_len={total},atrim=end_sample={total}[aout]")
    return [*inputs, "-filter_complex", ";".join(lines), "-map", "[aout]", "-c:a", "pcm_f32le", "-ar", str(sr),
            str(out_file)]


@dataclass
class Loudness:
    integrated: float   # LUFS
    true_peak: float    # dBTP


def measure_loudness(path: Path) -> Loudness:
    """EBU R128 integrated loudness and true peak of a file (the first pass of normalisation)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    summary = proc.stderr.rpartition("Summary:")[2]
    found_i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    found_p = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if proc.returncode != 0 or not found_i or not found_p:
        raise FFmpegError(f"measuring loudness of {path.name} failed: {proc.stderr.strip()[-300:]}")
    return Loudness(float(found_i.group(1)), float(found_p.group(1)))


def gain_filter(target: float, measured: Loudness, ceiling: float = TRUE_PEAK) -> str:
    """The second pass: one gain that brings the integrated loudness onto ``target`` LUFS, and a
    limiter only where that gain would push the true peak over ``ceiling`` dBTP."""
    if measured.integrated < -70:  # silence (or nearly): nothing to normalise
        return "anull"
    gain = target - measured.integrated
    chain = f"volume={gain:.2f}dB"
    if measured.true_peak + gain > ceiling:
        chain += f",alimiter=limit={10 ** ((ceiling - 0.5) / 20):.4f}:level=false:attack=5:release=60"
    return chain
