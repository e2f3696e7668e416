"""Compile one segment of a plan (a run of clips joined by transitions) into ffmpeg arguments.

Each clip is its own input, opened at its in point (``-ss`` before ``-i``: ffmpeg decodes from the
nearest keyframe and drops frames up to the exact one), so a segment's graph only ever holds the
few clips it shows. Every clip is normalised to the output's frame rate, size, square pixels and
pixel format, cut to an exact number of frames, and joined with ``xfade`` or ``concat``; styles,
overlays, text and captions go on top.

    >>> args = segment_args(plan, plan.segments()[0], work_dir, "out.mp4", encoder_args)
"""

from __future__ import annotations

from pathlib import Path

from animstudio.editing.filters import expr, num, rate, value
from animstudio.editing.fonts import font_path
from animstudio.editing.render_plan import ImageLayer, Piece, Plan, TextLayer
from animstudio.editing.schema import KenBurns, Output, Zoom
from animstudio.editing.transitions import xfade_name
from animstudio.media import MediaInfo


def _sar_fix(piece: Piece) -> list[str]:
    sar = piece.info.sample_aspect_ratio if piece.info else "1:1"
    num_, den = (int(x) for x in sar.split(":"))
    if num_ and den and num_ != den:
        return [f"scale=trunc(iw*{num_}/{den}/2)*2:ih", "setsar=1"]
    return []


def _zoom(z: Zoom) -> str:
    w, h = f"iw/{num(z.scale)}", f"ih/{num(z.scale)}"
    x = f"min(max(iw*{num(z.x)}-{w}/2,0),iw-{w})"
    y = f"min(max(ih*{num(z.y)}-{h}/2,0),ih-{h})"
    return f"crop=w={expr(w)}:h={expr(h)}:x={expr(x)}:y={expr(y)}"


def _ken_burns(kb: KenBurns, frames: int) -> str:
    """A sub-pixel move between two framings: perspective resamples per frame (no integer steps)."""
    p = f"min(max(in-1,0)/{max(1, frames - 1)},1)"   # ``in`` counts input frames from 1
    if kb.ease:
        p = f"(0.5-0.5*cos(PI*{p}))"

    def lerp(a: float, b: float) -> str:
        return f"({num(a)}+({num(b - a)})*{p})"

    s, e = kb.start, kb.end
    x0, y0 = f"W*{lerp(s.x, e.x)}", f"H*{lerp(s.y, e.y)}"
    x1, y1 = f"W*{lerp(s.x + s.w, e.x + e.w)}", f"H*{lerp(s.y + s.h, e.y + e.h)}"
    corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
    coords = ":".join(f"x{i}={expr(cx)}:y{i}={expr(cy)}" for i, (cx, cy) in enumerate(corners))
    return f"perspective={coords}:interpolation=linear:eval=frame"


def _fit(piece: Piece, out: Output) -> list[str]:
    w, h = out.width, out.height
    center = piece.effects.center
    fx = piece.effects
    if (piece.info and piece.info.display_size == (w, h) and piece.info.sample_aspect_ratio in ("1:1", "0:1")
            and fx.zoom is None and fx.ken_burns is None):
        return []   # already the output's size and shape: no scaler, no copy
    if out.fit == "crop" or center is not None:
        cx, cy = center or (0.5, 0.5)
        x = f"min(max(iw*{num(cx)}-{w}/2,0),iw-{w})"
        y = f"min(max(ih*{num(cy)}-{h}/2,0),ih-{h})"
        return [f"scale={w}:{h}:force_original_aspect_ratio=increase",
                f"crop={w}:{h}:x={expr(x)}:y={expr(y)}"]
    return [f"scale={w}:{h}:force_original_aspect_ratio=decrease",
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={out.background}"]


def loops(info: MediaInfo | None) -> bool:
    """Whether ffmpeg's demuxer for a still repeats it (``-loop 1``): image files do; a one-frame video
    or a GIF does not, and its frame is held by the filters instead."""
    return info is None or info.container == "image2" or info.container.endswith("_pipe")


def input_args(piece: Piece, fps: float) -> tuple[list[str], int]:
    """ffmpeg input options for a piece, and the frames to pad with clones at its start where the
    file has no media for a transition's handle (a short end is padded by the chain's ``tpad``)."""
    total = piece.head + piece.out_frames + piece.tail
    if piece.still:
        if not loops(piece.info):   # the chain's ``tpad`` clones its last frame to the clip's length
            return ["-i", str(piece.path)], 0
        return ["-loop", "1", "-framerate", rate(fps), "-t", num(total / fps + 1 / fps), "-i", str(piece.path)], 0
    assert piece.info is not None
    src_fps = piece.info.fps or fps
    speed = piece.effects.speed
    head_s = piece.head / fps * speed
    start = piece.src_start_s - head_s
    pre = 0
    if start < 0 and not piece.effects.freeze:
        pre = round(-start / speed * fps)
        start = 0.0
    length = (total - pre) / fps * speed if not piece.effects.freeze else 1 / src_fps
    if piece.effects.freeze:
        start = piece.src_start_s
    seek = max(0.0, start - 0.5 / src_fps)   # half a frame early: the in frame is the first one kept
    return ["-ss", num(round(seek, 6)), "-t", num(round(length + 1.5 / src_fps, 6)), "-i", str(piece.path)], pre


def _piece_chain(piece: Piece, index: int | None, out: Output) -> str:
    fps = out.fps
    total = piece.head + piece.out_frames + piece.tail
    if piece.path is None:
        return (f"color=c={out.background}:s={out.width}x{out.height}:r={rate(fps)},format=yuv420p,"
                f"trim=end_frame={total},setpts=PTS-STARTPTS")
    fx = piece.effects
    chain = [f"[{index}:v]setpts=PTS-STARTPTS"]
    if fx.reverse and not piece.still:  # exactly the source range, last frame first
        assert piece.info is not None
        chain += [f"trim=end_frame={max(1, round(piece.src_s * (piece.info.fps or fps)))}", "reverse"]
    if fx.speed != 1.0 and not fx.freeze:
        chain.append(f"setpts=PTS/{num(fx.speed)}")
    chain.append(f"fps={rate(fps)}")
    if fx.freeze:
        chain.append("trim=end_frame=1")
    chain += _sar_fix(piece)
    if fx.zoom is not None:
        chain.append(_zoom(fx.zoom))
    if fx.ken_burns is not None:
        chain.append(_ken_burns(fx.ken_burns, total))
    chain += _fit(piece, out)
    chain += ["setsar=1", "format=yuv420p"]
    return ",".join(chain)


def _clamp01(terms: list[str]) -> str:
    """max(0, min(terms...)): ffmpeg's min and max take two arguments."""
    e = terms[0]
    for t in terms[1:]:
        e = f"min({e},{t})"
    return f"max(0,{e})"


def _text(layer: TextLayer, offset_s: float, out: Output, work: Path, n: int) -> str:
    st = layer.style
    text_file = work / f"text-{n}.txt"
    text_file.write_text(st.text, encoding="utf-8")
    a, b = layer.start_s - offset_s, layer.end_s - offset_s
    d = max(st.animate_s, 1e-3)
    size = round(st.size * out.height)
    alpha = ["1"]
    if st.animate_in in ("fade", "slide"):
        alpha.append(f"(t-{num(a)})/{num(d)}")
    if st.animate_out in ("fade", "slide"):
        alpha.append(f"({num(b)}-t)/{num(d)}")
    fontsize = str(size)
    if "pop" in (st.animate_in, st.animate_out):   # grows from a third with a little overshoot, shrinks away
        p_in, p_out = f"min(1,max(0,(t-{num(a)})/{num(d)}))", f"min(1,max(0,({num(b)}-t)/{num(d)}))"
        back = f"(1+2.70158*pow({p_in}-1,3)+1.70158*pow({p_in}-1,2))"   # eases out past 1 and back
        grow = f"(0.3+0.7*{back})" if st.animate_in == "pop" else "1"
        shrink = f"(0.3+0.7*{p_out})" if st.animate_out == "pop" else "1"
        fontsize = expr(f"{size}*{grow}*{shrink}")
    y = f"h*{num(st.y)}-text_h/2"
    rise = round(0.04 * out.height)
    if st.animate_in == "slide":
        y += f"+{rise}*(1-min(1,max(0,(t-{num(a)})/{num(d)})))"
    if st.animate_out == "slide":
        y += f"-{rise}*(1-min(1,max(0,({num(b)}-t)/{num(d)})))"
    parts = [f"fontfile={value(font_path(st.font))}", f"textfile={value(text_file)}", "expansion=none",
             f"fontsize={fontsize}", f"fontcolor={value(st.color)}", f"x={expr(f'w*{num(st.x)}-text_w/2')}",
             f"y={expr(y)}", f"alpha={expr(_clamp01(alpha))}",
             f"enable={expr(f'gte(t,{num(a)})*lt(t,{num(b)})')}"]
    if st.outline > 0:
        parts += [f"borderw={max(1, round(st.outline * out.height))}", f"bordercolor={value(st.outline_color)}"]
    if st.shadow > 0:
        off = max(1, round(st.shadow * out.height))
        parts += [f"shadowx={off}", f"shadowy={off}", f"shadowcolor={value(st.shadow_color)}"]
    if st.box:
        parts += ["box=1", f"boxcolor={value(st.box_color)}", f"boxborderw={max(1, round(size * 0.3))}"]
    return "drawtext=" + ":".join(parts)


def _image_chain(layer: ImageLayer, index: int, offset_s: float, out: Output, hold: int = 0) -> tuple[str, str]:
    """(chain making the overlay stream, overlay filter) for an image layer; ``hold``: repeat the
    input's first frame that many times at the output's rate (an input that does not loop itself)."""
    pl = layer.placement
    a, b = layer.start_s - offset_s, layer.end_s - offset_s
    w = max(2, round(pl.width * out.width / 2) * 2)
    held = [f"loop=loop={hold}:size=1", f"setpts=N/({rate(out.fps)})/TB"] if hold else []
    chain = [f"[{index}:v]{','.join([*held, 'format=rgba'])}", f"scale={w}:-2"]
    if pl.opacity < 1:
        chain.append(f"colorchannelmixer=aa={num(pl.opacity)}")
    chain.append(f"setpts=PTS-STARTPTS+{num(max(a, 0.0))}/TB")
    if pl.fade_s > 0:
        chain.append(f"fade=t=in:st={num(max(a, 0.0))}:d={num(pl.fade_s)}:alpha=1")
        chain.append(f"fade=t=out:st={num(b - pl.fade_s)}:d={num(pl.fade_s)}:alpha=1")
    x, y = f"W*{num(pl.x)}-w/2", f"H*{num(pl.y)}-h/2"
    overlay = (f"overlay=x={expr(x)}:y={expr(y)}:eof_action=pass:format=auto:"
               f"enable={expr(f'gte(t,{num(a)})*lt(t,{num(b)})')}")
    return ",".join(chain), overlay


def _crossfade(a: str, b: str, a_frames: int, frames: int, out: str) -> list[str]:
    """A plain crossfade of the last ``frames`` of ``a`` into the first of ``b``: the incoming picture
    fades in over the outgoing one by its alpha (about three times cheaper than xfade's fade)."""
    keep = a_frames - frames
    return [f"[{a}]split=2[{out}a0][{out}a1]",
            f"[{out}a0]trim=end_frame={keep}[{out}head]",
            f"[{out}a1]trim=start_frame={keep},setpts=PTS-STARTPTS[{out}under]",
            f"[{b}]split=2[{out}b0][{out}b1]",
            f"[{out}b0]trim=end_frame={frames},format=yuva420p,fade=t=in:s=0:n={frames}:alpha=1[{out}over]",
            f"[{out}b1]trim=start_frame={frames},setpts=PTS-STARTPTS[{out}rest]",
            f"[{out}under][{out}over]overlay=format=yuv420:eof_action=pass,format=yuv420p[{out}mix]",
            f"[{out}head][{out}mix][{out}rest]concat=n=3:v=1:a=0[{out}]"]


def segment_args(plan: Plan, pieces: list[Piece], work: Path, out_file: Path, encoder: list[str],
                 grade: list[str], captions: str | None, single_thread: bool = False) -> list[str]:
    """ffmpeg arguments rendering ``pieces`` (video only) to ``out_file``. ``grade`` are the style
    filters (under overlays and text); ``captions`` burns subtitles on top of everything;
    ``single_thread`` keeps the filters on one thread (when segments run side by side)."""
    out = plan.output
    fps = out.fps
    start_frame = pieces[0].out_start
    frames = sum(p.out_frames for p in pieces)
    offset_s = start_frame / fps
    end_s = offset_s + frames / fps
    inputs: list[str] = []
    graph: list[str] = []
    n_inputs = 0
    labels = []
    for k, piece in enumerate(pieces):
        index = None
        pre = 0
        if piece.path is not None:
            args, pre = input_args(piece, fps)
            inputs += args
            index = n_inputs
            n_inputs += 1
        total = piece.head + piece.out_frames + piece.tail
        chain = _piece_chain(piece, index, out)
        chain += f",tpad=start={pre}:stop={total}:start_mode=clone:stop_mode=clone" if pre or piece.path else ""
        chain += f",trim=end_frame={total},setpts=PTS-STARTPTS,settb=AVTB"  # concat and xfade need one time base
        graph.append(f"{chain}[p{k}]")
        labels.append((f"p{k}", total))
    current, length = labels[0]
    for k in range(1, len(labels)):
        label, total = labels[k]
        join = pieces[k].join
        if join is None:
            graph.append(f"[{current}][{label}]concat=n=2:v=1:a=0[j{k}]")
            length += total
        else:
            kind, dur = join
            if kind == "fade" and length > dur and total > dur:
                graph += _crossfade(current, label, length, dur, f"j{k}")
            else:
                graph.append(f"[{current}][{label}]xfade=transition={xfade_name(kind)}:duration={num(dur / fps)}:"
                             f"offset={num((length - dur) / fps)}[j{k}]")
            length += total - dur
        current = f"j{k}"
    top: list[tuple[str, str]] = []
    for n, layer in enumerate(plan.images):
        if layer.end_s <= offset_s or layer.start_s >= end_s:
            continue
        if loops(layer.info):
            inputs += ["-loop", "1", "-framerate", rate(fps), "-t", num(frames / fps), "-i", str(layer.path)]
        else:
            inputs += ["-i", str(layer.path)]
        chain, overlay = _image_chain(layer, n_inputs, offset_s, out, hold=0 if loops(layer.info) else frames)
        graph.append(f"{chain}[ov{n}]")
        top.append((f"ov{n}", overlay))
        n_inputs += 1
    # the picture: styles first, then images, then text, then captions on top of everything
    base = current
    if grade:
        graph.append(f"[{base}]{','.join(grade)}[graded]")
        base = "graded"
    for n, (label, overlay) in enumerate(top):
        graph.append(f"[{base}][{label}]{overlay}[o{n}]")
        base = f"o{n}"
    tail = [_text(t, offset_s, out, work, i) for i, t in enumerate(plan.texts)
            if t.end_s > offset_s and t.start_s < end_s]
    if captions:
        tail.append(captions)
    tail.append(f"trim=end_frame={frames}")
    graph.append(f"[{base}]{','.join(tail)}[vout]")
    return [*inputs, "-filter_complex_threads", "1" if single_thread else "0", "-filter_complex", ";".join(graph),
            "-map", "[vout]", "-an", *encoder,
            "-frames:v", str(frames), str(out_file)]
