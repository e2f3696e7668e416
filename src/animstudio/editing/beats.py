"""Comic beats: edit operations that punctuate a shot (a freeze frame punching in, slow motion, a
rewind, a record-scratch stop...). Each appends the shot and its beat to an edit's main track and
says how long the result lasts on the timeline.

    edit = Edit(Output(width=1280, height=720, fps=24))
    add_shot(edit, "clip.mp4", 2.0, 4.5, beat="freeze_zoom", name="shot 3")    # 3.0 (2.5 s + a 0.5 s freeze)
"""

from __future__ import annotations

from typing import Any, Literal

BEATS: dict[str, str] = {
    "freeze_zoom": "a freeze frame punching in",
    "slow_motion": "slow motion",
    "rewind": "a rewind of the shot's last second",
    "record_scratch": "a record-scratch stop",
    "speed_ramp": "double speed",
    "repeat": "its last second repeated",
    "title_card": "a title card",
}
Beat = Literal[("none", *BEATS)]  # type: ignore[valid-type]
FREEZE_S = 0.5          # a freeze frame's hold
SCRATCH_S = 0.8         # a record-scratch stop's hold
PUNCH_IN = 1.6          # how far a freeze frame zooms in
SLOW_MAX_S = 4.0        # longer shots are not slowed down (they would drag)


def add_shot(edit: Any, clip: str, start_s: float, end_s: float, beat: str = "none", name: str = "shot") -> float:
    """The span ``start_s``-``end_s`` of ``clip`` with its beat on the main track; returns how long it
    lasts on the timeline. A title card adds no picture here (the caller draws the title over it)."""
    from animstudio.editing.schema import Zoom

    length = end_s - start_s
    tail = max(start_s, end_s - min(1.0, length / 2))

    def last() -> int:
        return len(edit.clips) - 1

    if beat == "slow_motion" and length <= SLOW_MAX_S:
        edit.cut(clip, start_s, end_s, name=f"{name} slow")
        edit.set_effects(last(), speed=0.5)
        return length * 2
    if beat == "speed_ramp" and length >= 1:
        edit.cut(clip, start_s, end_s, name=f"{name} fast")
        edit.set_effects(last(), speed=2.0)
        return length / 2
    edit.cut(clip, start_s, end_s, name=name)
    if beat == "freeze_zoom":
        edit.cut(clip, max(start_s, end_s - FREEZE_S), end_s, name=f"{name} freeze")
        edit.set_effects(last(), freeze=True, zoom=Zoom(scale=PUNCH_IN), mute=True)
        return length + FREEZE_S
    if beat == "rewind":
        edit.cut(clip, tail, end_s, name=f"{name} rewind")
        edit.set_effects(last(), reverse=True, speed=2.0, mute=True)
        return length + (end_s - tail) / 2
    if beat == "repeat":
        edit.cut(clip, tail, end_s, name=f"{name} again")
        return length + end_s - tail
    if beat == "record_scratch":
        edit.cut(clip, max(start_s, end_s - SCRATCH_S), end_s, name=f"{name} stop")
        edit.set_effects(last(), freeze=True, mute=True)
        return length + SCRATCH_S
    return length


def hold_last_frame(edit: Any, clip: str, end_s: float, seconds: float, name: str = "hold") -> float:
    """The frame before ``end_s`` held (silent) for ``seconds``, at most as long as there is clip before it."""
    hold = min(seconds, end_s)
    edit.cut(clip, end_s - hold, end_s, name=name)
    edit.set_effects(len(edit.clips) - 1, freeze=True, mute=True)
    return hold
