"""The parody's writing by Reflexion: the draft is critiqued against a comedy rubric, revised with
every critique so far in view, critiqued again, and the best-scored script is kept. When the model
reads images (``llm.vision`` on, an engine that takes image parts), the writer and the critic also
see each shot's keyframe, so jokes can be about what is on screen.

    best, rounds = reflect(client, messages, schema, params, draft, analysis, clip, rounds=1)
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animstudio.agent.strategies import Judged, refine

RUBRIC = """- specific: each line and caption is about what is on screen in its shot (its subject, colours, \
motion), not a joke that would fit any clip
- surprising: the punchline is not the obvious reading of the shot
- fits the shot: a line suits its shot's length and mood; the caption adds to the line instead of repeating it
- no repeated jokes: no two lines or captions share a joke, a phrase or a word pattern"""
BAR = 8.0            # a critique at or above this ends the rounds
KEYFRAME_WIDTH = 384


def sees_images(client: Any) -> bool:
    """Whether the writer may send keyframes: the settings say the model reads images and the engine
    takes image parts."""
    from animstudio.config import load_settings

    return bool(load_settings().llm.vision and getattr(client.engine, "supports_images", False))


def keyframes(analysis: Any, clip: str | Path, width: int = KEYFRAME_WIDTH) -> dict[int, str]:
    """Each shot's keyframe (the composition's representative frame) as a JPEG data URL."""
    from PIL import Image

    from animstudio.media.frames import read_frame

    fps = analysis.video.fps or 25.0
    found = {}
    for comp in analysis.composition:
        frame = read_frame(clip, comp.keyframe / fps, width=width)
        buf = io.BytesIO()
        Image.fromarray(frame.image).save(buf, format="JPEG", quality=80)
        found[comp.shot] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return found


def with_keyframes(text: str, frames: dict[int, str]) -> str | list[dict[str, Any]]:
    """A user message's content: ``text`` alone, or text and each shot's keyframe labelled by its shot."""
    if not frames:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for shot, url in sorted(frames.items()):
        parts += [{"type": "text", "text": f"Keyframe of shot {shot}:"},
                  {"type": "image_url", "image_url": {"url": url}}]
    return parts


def seen(messages: list[dict[str, Any]], frames: dict[int, str]) -> list[dict[str, Any]]:
    """``messages`` with the keyframes added to the last (the writer's request)."""
    return [*messages[:-1], {**messages[-1], "content": with_keyframes(messages[-1]["content"], frames)}]


def script_text(draft: Any) -> str:
    """The draft as the critic reads it: per shot, its lines, caption and beat."""
    return json.dumps(draft.model_dump(mode="json"), ensure_ascii=False, indent=1)


def critique(client: Any, summary: str, draft: Any, frames: dict[int, str]) -> Judged:
    """The critic's score of a script (0-10) and what keeps it from a 10."""
    ask = (f"The clip, shot by shot:\n{summary}\n\nThe parody script to judge:\n{script_text(draft)}\n\n"
           "Score it 0-10 against the rubric and list what keeps it from a 10, naming the shots.")
    return client.structured([
        {"role": "system", "content": f"You judge comedy re-dubs of animated clips strictly against this rubric:\n"
                                      f"{RUBRIC}"},
        {"role": "user", "content": with_keyframes(ask, frames)}], Judged, temperature=0, max_tokens=300)


def reflect(client: Any, messages: list[dict[str, Any]], schema: type, params: dict[str, Any], draft: Any,
            summary: str, frames: dict[int, str], rounds: int = 1,
            note: Callable[..., None] | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """Critique ``draft``; while it scores under the bar and ``rounds`` revisions are left, revise it
    with every critique so far in view and critique the revision. Returns the best draft and the
    critiques in order (``note`` sees each as it is made)."""
    def revise(last: Any, problems: list[str], round_: int) -> Any:
        ask = (f"Your script:\n{script_text(last)}\n\nCritiques so far (fix every one, keep what works):\n- "
               + "\n- ".join(problems or ["make each joke about what is on screen"]))
        # the writer's messages hold the keyframes
        return client.structured([*messages, {"role": "user", "content": ask}], schema,
                                 **{**params, "seed": int(params.get("seed") or 0) + round_})

    best, _, trace = refine(draft, lambda d: critique(client, summary, d, frames), revise, revisions=rounds,
                            bar=BAR, note=note)
    return best, [{k: v for k, v in t.items() if k != "kind"} for t in trace if t["kind"] == "critique"]
