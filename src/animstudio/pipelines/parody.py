"""The parody and narrate pipelines: analyse the clip, let the LLM plan a re-dub, voice the lines
(checked by ear), build the edit (beats, captions, voice over the ducked original), render, and
write the report. Narrate is the same steps with the narrator alone and no beats.

Each step is a function of the :class:`~animstudio.jobs.runner.Context`; its files live in the
job's folder and its return value is what a resumed job reads back.

    Parody(clip="a.mp4", brief="sports commentary").run("out/")     # or jobs.submit("parody", {...})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from animstudio.editing import CHARS_PER_SECOND, Preset, chars_for_width, cut_to, fits_time, fits_width
from animstudio.errors import StudioError
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline
from animstudio.pipelines.briefs import DEFAULT_BRIEF
from animstudio.pipelines.params import SEED, ClipOptions, check_clip, check_llm, check_output
from animstudio.pipelines.parody_plan import PlanLine, plain_line, plan_messages, shortened_model

LINE_GAP_S = 0.25        # silence between two lines of one shot
VOICE_START_S = 0.2      # a shot's first line starts this far in
MIN_LINE_S = 0.8         # shots shorter than this get no line


def _analysis(ctx: Context) -> Any:
    from animstudio.analysis import VideoAnalysis

    return VideoAnalysis.model_validate_json(ctx.path("analysis.json").read_text(encoding="utf-8"))


def step_analyze(ctx: Context) -> dict[str, Any]:
    from animstudio.analysis import analyze_clip as analyze
    from animstudio.files import write_text_atomic
    from animstudio.media import probe

    clip = Path(ctx.params.clip)   # its length was checked against max_minutes when the job was submitted
    info = probe(clip, count_frames=False)
    analysis = analyze(clip, on_progress=ctx.on_progress)
    write_text_atomic(ctx.path("analysis.json"), analysis.model_dump_json(indent=1))
    if not analysis.audio.has_audio:
        ctx.decide("the clip has no sound: the voices play alone, nothing to duck")
    return {"analysis": "analysis.json", "shots": len(analysis.shots), "duration_s": info.duration_s,
            "indexed_shots": index_film(ctx, ctx.path("analysis.json"))}


def index_film(ctx: Context, analysis_file: Path) -> int:
    """Put the analysed shots into the knowledge base's ``films`` collection (``kb search ... -c films``
    finds them later). The parody does not depend on it: a knowledge base that is not installed or
    not reachable is noted in the report and the job goes on."""
    ctx.progress(0.95, "indexing the shots in the knowledge base")
    try:
        from animstudio.knowledge import KnowledgeBase, shot_records

        records = shot_records(analysis_file)
        report = KnowledgeBase().add_records("films", records, source=f"film:{records[0].film}")
    except ImportError:
        ctx.decide("the knowledge base is not installed (pip install 'animstudio[knowledge]'): shots not indexed")
        return 0
    except StudioError as exc:
        ctx.decide(f"the shots were not indexed in the knowledge base: {exc}")
        return 0
    kept = report.sources_unchanged > 0
    ctx.decide(f"{len(records)} shots {'already' if kept else 'now'} in the knowledge base's films collection")
    return len(records)


def _characters(ctx: Context) -> list[dict[str, Any]]:
    """The named characters' bible entries from the knowledge base, where it has them."""
    names = [n for n in getattr(ctx.params, "characters", []) if n]
    if not names:
        return []
    found = []
    try:
        from animstudio.knowledge import KnowledgeBase

        kb = KnowledgeBase()
        has_bible = "characters" in kb.store.names()
        for name in names:
            hits = kb.search(name, k=1, collections=["characters"]) if has_bible else []
            record = json.loads(hits[0].metadata["record"]) if hits and name.lower() in hits[0].text.lower() else None
            found.append(record or {"name": name})
            ctx.decide(f"character {name}: " + ("from the knowledge base" if record else "not in the knowledge base"))
    except ImportError:
        found = [{"name": n} for n in names]
        ctx.decide("the knowledge base is not installed: characters by name only")
    return found


def _client(ctx: Context) -> Any:
    from animstudio.llm import Client, engine

    model = ctx.params.model
    return Client(engine("embedded", model=model) if model else None)


def step_plan(ctx: Context) -> dict[str, Any]:
    from animstudio.files import write_text_atomic
    from animstudio.pipelines.parody_critique import keyframes, reflect, seen, sees_images
    from animstudio.pipelines.parody_plan import (
        Plan,
        ShotPlan,
        beat_shots,
        draft_model,
        draft_shots,
        drop_repeats,
        shots_summary,
        speaking_shots,
    )

    analysis = _analysis(ctx)
    characters = _characters(ctx)
    brief = getattr(ctx.params, "brief", "") or DEFAULT_BRIEF
    client = _client(ctx)
    order = [s.index for s in analysis.shots]
    speaking = speaking_shots(analysis)
    budgets = {shot: int(max(MIN_LINE_S, seconds - VOICE_START_S) * CHARS_PER_SECOND)
               for shot, seconds in speaking.items()}
    narrate = ctx.kind == "narrate"   # the narrator alone, no beats
    beats_at = set() if narrate else beat_shots(analysis)
    schema = draft_model(order, [] if narrate else [c["name"] for c in characters], beats_at, budgets)
    params = {"temperature": 0.7, "max_tokens": sum(budgets.values()) // 2 + 60 * len(order) + 80,
              "seed": ctx.params.seed}
    ctx.progress(0.1, "writing the plan")
    frames = keyframes(analysis, ctx.params.clip) if sees_images(client) else {}
    if frames:
        ctx.decide(f"the model reads images: the writer and the critic see {len(frames)} keyframes")
    messages = seen(plan_messages(analysis, brief, characters, beats_at, speaking), frames)
    draft = client.structured(messages, schema, **params)
    entries = draft_shots(draft, order)
    if not all(e["lines"] for e in entries if e["shot"] in speaking) and brief != DEFAULT_BRIEF:
        ctx.decide(f"the brief {brief!r} gave a plan with empty lines: planned again as a {DEFAULT_BRIEF}")
        messages = seen(plan_messages(analysis, DEFAULT_BRIEF, characters, beats_at, speaking), frames)
        draft = client.structured(messages, schema, **params)
        entries = draft_shots(draft, order)
    rounds = getattr(ctx.params, "critique_rounds", 0)
    critiques: list[dict[str, Any]] = []
    if rounds:
        ctx.progress(0.5, "critiquing the script")
        summary = shots_summary(analysis, beats_at, speaking)
        draft, critiques = reflect(client, messages, schema, params, draft, summary, frames, rounds=rounds,
                                   note=ctx.decide)
        entries = draft_shots(draft, order)
    for dropped in drop_repeats(entries):
        ctx.decide(dropped)
    plan = Plan(title=draft.title, look=draft.look, shots=[ShotPlan.model_validate(e) for e in entries])
    plan = _shorten(ctx, client, plan, analysis)
    write_text_atomic(ctx.path("plan.json"), plan.model_dump_json(indent=1))
    return {"plan": "plan.json", "title": plan.title, "lines": sum(len(s.lines) for s in plan.shots),
            "critiques": critiques}


def _shorten(ctx: Context, client: Any, plan: Any, analysis: Any) -> Any:
    """Lines too long for the picture they are spoken over (their shot and the silent shots after it)
    and captions too wide for the frame go back to the model once."""
    starts = {s.index: s.start_s for s in analysis.shots}
    talking = [s.shot for s in plan.shots if s.lines] + [None]
    durations = {s.index: s.end_s - s.start_s for s in analysis.shots}
    for shot, following in zip(talking, talking[1:], strict=False):
        durations[shot] = (starts[following] if following is not None else analysis.shots[-1].end_s) - starts[shot]
    width, height = analysis.video.width or 1280, analysis.video.height or 720
    long: list[tuple[int, int | None, str, int]] = []   # shot, line (None: caption), text, character budget
    for s in plan.shots:
        if s.lines and durations[s.shot] - VOICE_START_S < MIN_LINE_S:
            ctx.decide(f"shot {s.shot} is too short for a line ({durations[s.shot]:.1f} s): its lines are dropped",
                       dropped=[line.text for line in s.lines])
            s.lines = []
        spoken = sum(len(line.text) for line in s.lines)
        if s.lines and not fits_time(" " * spoken, durations[s.shot] - VOICE_START_S):
            for i, line in enumerate(s.lines):
                long.append((s.shot, i, line.text,
                             int(len(line.text) * durations[s.shot] * CHARS_PER_SECOND / max(spoken, 1))))
        if s.caption and not fits_width(s.caption, width, height):
            long.append((s.shot, None, s.caption, chars_for_width(width, height)))
    if not long:
        return plan
    ask = [{"role": "user", "content": "Shorten each text to at most its number of characters, keeping the joke:\n"
                                       + "\n".join(f"{n + 1}. ({limit} characters) {text}"
                                                   for n, (_, _, text, limit) in enumerate(long))}]
    try:
        reply = client.structured(ask, shortened_model([limit for *_, limit in long]), temperature=0.3,
                                  max_tokens=sum(limit // 3 + 8 for *_, limit in long) + 20)
        shorter = [getattr(reply, f"text_{n + 1}") for n in range(len(long))]
    except StudioError as exc:
        ctx.decide("the model could not shorten the lines: they are cut at a word instead", error=str(exc))
        shorter = [text for _, _, text, _ in long]
    shots = {s.shot: s.model_copy(deep=True) for s in plan.shots}
    for n, (shot, line, text, limit) in enumerate(long):
        new = plain_line(shorter[n]) if n < len(shorter) and plain_line(shorter[n]) else text
        if len(new) > limit:   # still too long after asking once: cut at a clause or a word
            new = cut_to(new, limit)
        while line is None and len(new) > 8 and not fits_width(new, width, height):   # wide letters
            new = cut_to(new, len(new) - 4)
        ctx.decide(f"shot {shot}: {'caption' if line is None else 'line'} shortened to fit", before=text, after=new)
        if line is None:
            shots[shot].caption = new
        else:
            shots[shot].lines[line] = PlanLine(speaker=shots[shot].lines[line].speaker,
                                               emotion=shots[shot].lines[line].emotion, text=new)
    return plan.model_copy(update={"shots": [shots[s.shot] for s in plan.shots]})


def _voice_for(speaker: str, characters: dict[str, Any]) -> tuple[Any, Any]:
    """(engine, character or None) for a speaker: a registry character, else the narrator's voice."""
    from animstudio.plugins import get_backend
    from animstudio.voice import engine_for

    if speaker in characters:
        return engine_for(characters[speaker]), characters[speaker]
    return get_backend("tts_engine", "piper")(), None


def step_voices(ctx: Context) -> dict[str, Any]:
    from animstudio.pipelines.parody_plan import Plan
    from animstudio.voice import line_phonemes, load_characters, mouth_cues, speak_checked, write_cues

    plan = Plan.model_validate_json(ctx.path("plan.json").read_text(encoding="utf-8"))
    registry = load_characters()
    engines: dict[str, tuple[Any, Any]] = {}
    voices_dir = ctx.path("voices")
    voices_dir.mkdir(exist_ok=True)
    lines_out = []
    todo = [(s.shot, i, line) for s in plan.shots for i, line in enumerate(s.lines)]
    for n, (shot, i, line) in enumerate(todo):
        where = f"shot {shot} line {i + 1}"
        ctx.progress(n / max(1, len(todo)), where)
        if line.speaker not in engines:
            engines[line.speaker] = _voice_for(line.speaker, registry)
        engine, character = engines[line.speaker]

        def spoken_again(check: Any, at: str = where) -> None:
            ctx.decide(f"{at} heard back with WER {check.wer:.0%}: spoken again", heard=check.heard)

        taken = speak_checked(line.text, engine, character, emotion=line.emotion, on_retry=spoken_again)
        speech = taken.speech
        name = f"shot{shot:03d}-{i + 1}"
        wav = speech.write(voices_dir / f"{name}.wav")
        cues = write_cues(mouth_cues(line_phonemes(speech, wav, line.text), speech.duration_s),
                          voices_dir / f"{name}.json", duration_s=speech.duration_s, sound_file=wav.name)
        if not taken.passed:
            ctx.decide(f"{where} failed the WER gate ({taken.wer:.0%}): kept, flagged", heard=taken.heard)
        lines_out.append({"shot": shot, "line": i, "speaker": line.speaker, "emotion": line.emotion,
                          "text": line.text, "wav": f"voices/{wav.name}", "cues": f"voices/{cues.name}",
                          "duration_s": round(speech.duration_s, 3), "wer": [round(w, 3) for w in taken.wers],
                          "passed": taken.passed, "heard": taken.heard})
    (ctx.path("voices.json")).write_text(json.dumps(lines_out, indent=1), encoding="utf-8")
    return {"voices": "voices.json", "lines": len(lines_out), "failed": sum(not x["passed"] for x in lines_out)}


def step_edit(ctx: Context) -> dict[str, Any]:
    from animstudio.editing import BEATS, CAPTION_SIZE, TITLE_SIZE, Edit, Output, add_shot, hold_last_frame
    from animstudio.media import Cue, write_srt
    from animstudio.pipelines.parody_plan import Plan

    analysis = _analysis(ctx)
    plan = Plan.model_validate_json(ctx.path("plan.json").read_text(encoding="utf-8"))
    voices = json.loads(ctx.path("voices.json").read_text(encoding="utf-8"))
    clip = str(Path(ctx.params.clip).resolve())
    info = analysis.video
    width = min(info.width or 1280, 1280) // 2 * 2
    height = round(width * (info.height or 720) / (info.width or 1280) / 2) * 2
    look = ctx.params.look or plan.look
    edit = Edit(Output(width=width, height=height, fps=float(info.fps or 24.0),
                       styles=[look] if look and look != "none" else []), name=plan.title)
    t = 0.0
    cues: list[Any] = []
    free_at = 0.0
    for shot, entry in zip(analysis.shots, plan.shots, strict=True):
        length = add_shot(edit, clip, shot.start_s, shot.end_s, entry.beat, name=f"shot {shot.index}")
        if entry.beat != "none":
            ctx.decide(f"shot {shot.index}: {BEATS.get(entry.beat, entry.beat)}")
        if entry.beat == "title_card":
            edit.add_text(plan.title, t, t + min(1.5, length), size=TITLE_SIZE, y=0.45, box=True)
        elif entry.caption:
            edit.add_text(entry.caption, t, t + min(length, 3.0), size=CAPTION_SIZE, y=0.1)
        at = max(t + VOICE_START_S, free_at)   # one voice at a time: a line waits for the one before
        for line in [v for v in voices if v["shot"] == shot.index]:
            edit.add_audio(ctx.path(line["wav"]), start_s=at, track="voice", role="voice")
            cues.append(Cue(at, at + line["duration_s"], line["text"] if line["speaker"] == "narrator"
                            else f"{line['speaker']}: {line['text']}"))
            free_at = at + line["duration_s"] + LINE_GAP_S
            at = free_at
        t += length
    overflow = free_at - LINE_GAP_S - t
    if overflow > 0.05:   # the last lines run past the picture: hold a frame under them
        hold = hold_last_frame(edit, clip, analysis.shots[-1].end_s, overflow + 0.3)
        ctx.decide(f"the last lines run {overflow:.1f} s past the picture: a frame is held for {hold:.1f} s")
        t += hold
    if analysis.audio.has_audio:
        edit.set_original_audio(duck=True, duck_db=-14.0)
    srt = write_srt(cues, ctx.path("parody.srt")) if cues else None
    if srt is not None:
        edit.add_subtitles(srt)
    edit.save(ctx.path("parody.otio"))
    return {"timeline": "parody.otio", "srt": "parody.srt" if srt else "", "duration_s": round(t, 3)}


def step_render(ctx: Context) -> dict[str, Any]:
    from animstudio.editing import render_video as render

    result = render(ctx.path("parody.otio"), ctx.path("parody.mp4"), preset=ctx.params.preset,
                    captions="burn", on_progress=ctx.on_progress, cancel=ctx.cancel)
    return {"video": "parody.mp4", "duration_s": round(float(getattr(result, "duration_s", 0.0)), 3)}


def step_report(ctx: Context) -> dict[str, Any]:
    from animstudio.pipelines.parody_report import write_manifest, write_report

    write_report(ctx)
    write_manifest(ctx)
    return {"report": "report.html", "manifest": "manifest.json"}


class Narrate(Pipeline):
    name = "narrate"
    description = "A documentary-style voice-over of a clip: the narrator alone, no beats."
    artifacts: ClassVar[tuple[str, ...]] = ("parody.mp4", "parody.srt", "parody.otio", "plan.json", "analysis.json",
                                            "voices", "report.html", "manifest.json")

    class Options(ClipOptions):
        model: str | None = Field(None, description="the catalog LLM to plan with (default: the configured one)")
        seed: int = Field(SEED, ge=0, le=2**32 - 1, description="seed of the plan's sampling")
        look: str | None = Field(None, max_length=40, description="a style preset for the render "
                                                                  "(default: the one the plan picks)")
        preset: Preset = Field("medium", description="encoder speed and quality")

    def check(self) -> None:
        check_clip(self.options)
        check_llm(self.options.model)
        check_output(self.options, self.name)

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("analyze", step_analyze), ("plan", step_plan), ("voices", step_voices), ("edit", step_edit),
                ("render", step_render), ("report", step_report)]


class Parody(Narrate):
    name = "parody"
    description = "Re-dub a clip as a parody: plan, voices, beats, captions, render; plus SRT, OTIO and a report."

    class Options(Narrate.Options):
        brief: str = Field(DEFAULT_BRIEF, max_length=2000, description="nature documentary, sports commentary, "
                                                                       "movie trailer, sitcom, or your own words")
        characters: list[str] = Field(default_factory=list, max_length=20,
                                      description="characters in the clip (looked up in the knowledge base "
                                                  "and the voice registry)")
        critique_rounds: int = Field(1, ge=0, le=3, description="revisions of the script after a critique against "
                                                                "the comedy rubric (0: keep the first draft)")
