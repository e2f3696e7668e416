"""The web UI in a real browser (Debian's chromium, driven by Playwright) against a real studio
server process with an API key: sign-in, an analysis, a parody with the smallest model played in the
page with its subtitles, a line spoken on the Voices page, the agent's plan, and a job started
outside the browser showing up. Each test writes a screenshot of its page to tests/ui/screens."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, running_process

pytest.importorskip("fastapi")
playwright = pytest.importorskip("playwright.sync_api")

KEY = "sesame"
SCREENS = Path(__file__).with_name("screens")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def studio(parody_models, sample_clip, tmp_path_factory):
    """A studio server (its own home, the sample clip's folder served) and that home."""
    home = tmp_path_factory.mktemp("ui-home")
    port = free_port()
    env = dict(os.environ, ANIMSTUDIO_HOME=str(home), ANIMSTUDIO_MODELS=str(parody_models),
               ANIMSTUDIO_LLM__DEFAULT_MODEL="smollm2-135m-instruct")
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port),
                          "--api-key", KEY, "--media", str(sample_clip[0].parent)], port, env=env, what="studio",
                         wait_s=60, health="/ui/session", suffix="") as url:
        yield url, home


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("the browser tests need Debian's chromium: sudo apt-get install -y chromium (make test does)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy="
                                                                     "no-user-gesture-required"])
        yield launched
        launched.close()


@contextlib.contextmanager
def signed_in(browser, url: str):
    """A page of the studio at ``url`` signed in with the key; no script error may happen on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(url + "/")
    tab.fill("#key", KEY)
    tab.click("#login button[type=submit]")
    tab.wait_for_selector("main[data-page=jobs] h1")
    yield tab
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser, studio):
    with signed_in(browser, studio[0]) as tab:
        yield tab


def screenshot(tab, name: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def open_page(tab, studio, name: str) -> None:
    tab.goto(f"{studio[0]}/#/{name}")
    tab.wait_for_selector(f"main[data-page={name}] form button[type=submit]")


def fill(tab, form: str, values: dict[str, str]) -> None:
    """Type or choose each field's value in the form."""
    for field, value in values.items():
        if tab.locator(f"{form} select[name={field}]").count():
            tab.select_option(f"{form} [name={field}]", value)
        else:
            tab.fill(f"{form} [name={field}]", value)


def wait_done(tab, card: str, timeout_s: float) -> None:
    tab.wait_for_selector(f"{card}[data-status=done], {card}[data-status=failed]", timeout=timeout_s * 1000)
    status = tab.get_attribute(card, "data-status")
    assert status == "done", tab.inner_text(card)


def test_a_browser_without_the_key_is_refused(browser, studio):
    url, _ = studio
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(url + "/")
    tab.wait_for_selector("#login")
    refused = tab.evaluate("async () => (await fetch('/jobs')).status")
    assert refused == 401
    tab.fill("#key", "not the key")
    tab.click("#login button[type=submit]")
    tab.wait_for_selector("#login [role=alert]:has-text('wrong API key')")
    assert tab.locator("main[data-page]").count() == 0   # no page was shown
    screenshot(tab, "sign-in")
    tab.fill("#key", KEY)
    tab.click("#login button[type=submit]")
    tab.wait_for_selector("main[data-page=jobs] h1")
    assert tab.evaluate("async () => (await fetch('/jobs')).status") == 200
    context.close()


def test_an_analysis_with_its_speech_in_the_page(page, studio, dialogue_clip):
    """The clip uploaded, analysed with speech: its shots on the strip and in the table, and who says
    what in which shot (JFK and a reader: two voices)."""
    open_page(page, studio, "analyze")
    page.set_input_files("#form-analyze input[type=file][name=clip]", str(dialogue_clip))
    page.click("#form-analyze details.advanced summary")
    page.check("#form-analyze [name=speech]")
    page.click("#form-analyze button[type=submit]")
    card = "main .job[data-kind=analyze]"
    page.wait_for_selector(f"{card} .log li", timeout=60_000)
    wait_done(page, card, 300)
    assert page.eval_on_selector(f"{card} progress", "p => p.value") == 1
    page.wait_for_selector(f"{card} .analysis-report .speech-table")
    job = page.evaluate(f"async () => (await fetch('/jobs/{page.get_attribute(card, 'data-job')}')).json()")
    analysis = page.evaluate(f"async () => (await fetch('/jobs/{job['id']}/artifacts/analysis.json')).json()")
    assert page.locator(f"{card} .strip.shots .shot").count() == len(analysis["shots"]) >= 2
    assert page.locator(f"{card} .shots-table tr[data-shot]").count() == len(analysis["shots"])
    said = page.inner_text(f"{card} .speech-table").lower()
    assert "fellow americans" in said and "country" in said
    speakers = {line["speaker"] for line in analysis["lines"]}
    assert len(speakers) == 2, analysis["lines"]
    assert page.locator(f"{card} .speech-table tr[data-shot]").count() == len(analysis["lines"])
    screenshot(page, "analyze")


def test_the_first_progress_event_shows_in_the_jobs_log(page, studio, sample_clip):
    """A click on Start (the clip picked from the served folder: no upload) puts the job's card on
    the page and its first event in the card's log, while the job runs. How long that takes is
    measured by benchmarks/ui_first_event.py."""
    clip, _ = sample_clip
    open_page(page, studio, "analyze")
    page.select_option("#form-analyze select[name=clip-pick]", str(clip))
    page.click("#form-analyze button[type=submit]")
    card = "main .job[data-kind=analyze]"
    page.wait_for_selector(f"{card} .log li", timeout=10_000)
    assert page.inner_text(f"{card} .log li:first-child") == "started"
    assert page.get_attribute(card, "data-status") in ("running", "done")
    wait_done(page, card, 180)


def test_a_parody_plays_in_the_page_with_its_subtitles(page, studio, sample_clip, tmp_path):
    clip, _ = sample_clip
    open_page(page, studio, "parody")
    page.set_input_files("#form-parody input[type=file][name=clip]", str(clip))
    page.fill("#form-parody [name=brief]", "nature documentary")
    page.click("#form-parody details.advanced summary")
    page.fill("#form-parody [name=model]", "smollm2-135m-instruct")
    page.click("#form-parody button[type=submit]")
    card = "main .job[data-kind=parody]"
    page.wait_for_selector(card)
    seen = []
    deadline = time.monotonic() + 600
    while page.get_attribute(card, "data-status") not in ("done", "failed") and time.monotonic() < deadline:
        seen.append(page.eval_on_selector(f"{card} progress", "p => p.value"))
        time.sleep(0.5)
    wait_done(page, card, 5)
    seen.append(page.eval_on_selector(f"{card} progress", "p => p.value"))
    assert seen == sorted(seen) and seen[-1] == 1 and len(set(seen)) >= 4, seen   # it moved, step by step
    job_id = page.get_attribute(card, "data-job")
    job = page.evaluate(f"async () => (await fetch('/jobs/{job_id}')).json()")
    planned = next(s for s in job["steps"] if s["name"] == "edit")["outputs"]["duration_s"]
    video = f"{card} video.result-video"
    page.wait_for_function(f"document.querySelector('{video}').readyState >= 1", timeout=30_000)
    duration = page.eval_on_selector(video, "v => v.duration")
    assert abs(duration - planned) <= 0.1 * planned, (duration, planned)
    cues = page.eval_on_selector(video, """v => new Promise((resolve) => {
        const track = v.textTracks[0]; track.mode = "showing";
        const ready = () => track.cues && track.cues.length ? resolve(track.cues.length) : setTimeout(ready, 100);
        ready();
    })""")
    with page.expect_download() as download:
        page.click(f"{card} .downloads a[download='parody.srt']")
    srt = tmp_path / "parody.srt"
    download.value.save_as(srt)
    text = srt.read_text(encoding="utf-8")
    assert " --> " in text and cues == text.count(" --> ")   # the page's subtitles are the SRT's
    screenshot(page, "parody")


def test_a_line_spoken_on_the_voices_page(page, studio):
    open_page(page, studio, "voices")
    emotions = page.eval_on_selector_all("[name=emotion] option", "options => options.map(o => o.value)")
    assert {"happy", "sarcastic", "whisper"} <= set(emotions)   # from the server's registry
    page.click("#form-voice\\.say details.advanced summary")
    page.select_option("[name=emotion]", "happy")
    page.fill("#form-voice\\.say [name=text]", "The rabbit wakes up under the big tree.")
    page.click("#form-voice\\.say button[type=submit]")
    card = "main .job[data-kind=tool]"
    wait_done(page, card, 300)
    page.wait_for_selector(f"{card} .lipsync .cue")
    audio = f"{card} audio.result-audio"
    page.wait_for_function(f"document.querySelector('{audio}').readyState >= 1", timeout=30_000)
    assert page.eval_on_selector(audio, "a => a.duration") > 1.0
    result = page.evaluate(f"async () => (await fetch('/jobs/{page.get_attribute(card, 'data-job')}"
                           "/artifacts/result.json')).json()")
    assert result["check"]["wer"] <= 0.35 and result["check"]["heard"]
    page.eval_on_selector(audio, "a => { a.muted = true; a.currentTime = 0.6; }")
    page.wait_for_function("document.querySelector('.mouth').dataset.shape !== undefined")
    assert "word error rate" in page.inner_text(f"{card} .hearing")
    screenshot(page, "voices")


@pytest.mark.slow
def test_the_agent_shows_its_plan(page, studio, sample_clip):
    open_page(page, studio, "agent")
    page.fill("#agent-request", f"Where does each shot start in {sample_clip[0].name}?")
    page.check("#agent-plan-only")
    page.click("#form-agent button[type=submit]")
    page.wait_for_selector(".chat .step[data-kind=plan], .chat .step[data-kind=declined], .chat .step.error",
                           timeout=300_000)
    assert page.locator(".chat .step.error").count() == 0, page.inner_text(".chat")
    screenshot(page, "agent")


def test_an_agent_run_waits_for_approval_before_an_expensive_step(browser, sample_clip, scripted_llm, tmp_path):
    """An agent run on a studio whose LLM is scripted: the shots are found at once, the report (minutes of
    the machine) waits for the user; denied, the run stops without it; approved, it is written."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))
    from agent_tools import plan_json

    clip, truth = sample_clip
    scripted_llm(lambda request: plan_json(("analyze.scenes", {"file": str(clip)}),
                                           ("analyze.report", {"file": str(clip), "output": "report"})))
    port = free_port()
    env = dict(os.environ, ANIMSTUDIO_HOME=str(tmp_path / "home"), ANIMSTUDIO_AGENT__RECORD_RUNS="false")
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port),
                          "--api-key", KEY, "--media", str(clip.parent)], port, env=env, what="studio",
                         wait_s=60, health="/ui/session", suffix="") as url, signed_in(browser, url) as tab:
        open_page(tab, (url,), "agent")
        for i, answer in enumerate(("deny", "approve")):
            tab.fill("#agent-request", f"Find the shots of {clip.name}, then write its analysis report")
            tab.click("#form-agent button[type=submit]")
            tab.wait_for_selector(f".chat .run >> nth={i}")
            job_id = tab.get_attribute(f".chat .run >> nth={i}", "data-job")
            run = f".chat .run[data-job='{job_id}']"
            tab.wait_for_selector(f"{run} .step.waiting button.{answer}", timeout=60_000)
            # the cheap step ran before the run stopped to ask
            assert "analyze.report takes minutes of the machine" in tab.inner_text(f"{run} .step.waiting")
            seen = f"{run} .step[data-kind=observation]"
            starts = [shot["start"] for shot in truth["shots"]]
            assert tab.inner_text(f"{seen} [data-field=shots]").startswith(f"shots {len(starts)} (")
            whole = json.loads(tab.text_content(f"{seen} details pre"))     # under "all of it"
            assert [shot["start_frame"] for shot in whole["shots"][:5]] == starts[:5]
            if answer == "approve":
                screenshot(tab, "agent-approval")
            tab.click(f"{run} .step.waiting button.{answer}")
            tab.wait_for_selector(f"{run} .step:is([data-kind=done], [data-kind=failed], [data-kind=cancelled])",
                                  timeout=120_000)
            steps = tab.inner_text(f"{run} .run-steps")
            outcome = tab.evaluate("async (id) => (await fetch(`/jobs/${id}/artifacts/outcome.json`)).json()", job_id)
            if answer == "deny":
                assert tab.inner_text(f"{run} .step[data-kind=cancelled]") == \
                    "cancelled the run stopped: step 1 (analyze.report) was not approved"
                assert outcome["status"] == "denied" and [s["tool"] for s in outcome["steps"]] == ["analyze.scenes"]
            else:
                assert tab.locator(f"{run} .step[data-kind=done]").count() == 1, steps
                assert outcome["status"] == "done"
                assert [s["tool"] for s in outcome["steps"]] == ["analyze.scenes", "analyze.report"]
                report = Path(outcome["steps"][1]["result"]["folder"])
                assert (report / "report.html").is_file() and report.parent.name == job_id  # in the job's folder
        screenshot(tab, "agent-run")


def test_a_job_started_outside_the_browser_shows_up(page, studio, sample_clip):
    from animstudio.jobs import JobStore, submit

    _, home = studio
    store = JobStore(home / "jobs")
    job = submit("analyze", {"clip": str(sample_clip[0])}, store)   # what `animstudio analyze` would record
    page.wait_for_selector(f"main[data-page=jobs] .job[data-job='{job.id}']", timeout=10_000)
    assert json.loads(json.dumps(store.get(job.id).as_dict()))["status"] == "queued"
    screenshot(page, "jobs")


def test_a_document_added_and_found_on_the_knowledge_page(page, studio, tmp_path):
    bible = tmp_path / "bible.md"
    bible.write_text("# Pip\n\nPip is a small green frog who is afraid of thunderstorms and loves plums.\n",
                     encoding="utf-8")
    open_page(page, studio, "knowledge")
    page.set_input_files("#form-kb\\.add input[type=file][name=paths]", str(bible))
    page.click("#form-kb\\.add button[type=submit]")
    wait_done(page, "main .job[data-kind=tool]", 300)
    page.fill("#form-kb\\.search [name=query]", "which character fears storms?")
    page.click("#form-kb\\.search button[type=submit]")
    newest = "main section.jobs > .job:nth-child(1)"   # the newest card comes first
    page.wait_for_selector("main section.jobs > .job:nth-child(2)")
    wait_done(page, newest, 300)
    page.wait_for_selector(f"{newest} ol.hits li")
    bible_hits = page.locator(f"{newest} ol.hits li", has_text="afraid of thunderstorms")
    assert bible_hits.count() >= 1 and "bible.md" in bible_hits.first.inner_text()
    # the collections table has the new one; a click lists the file indexed into it
    collection = page.get_attribute("main .kb-collections tr[data-collection]", "data-collection")
    page.click(f"main .kb-collections tr[data-collection='{collection}'] button")
    page.wait_for_selector("main .kb-sources tr[data-source]")
    assert page.get_attribute("main .kb-sources tr[data-source]", "data-source").endswith("bible.md")
    # an answer: its citations link to the passages it quotes (or it abstains, saying why)
    page.fill("#form-kb\\.ask [name=question]", "What is Pip afraid of?")
    page.click("#form-kb\\.ask button[type=submit]")
    page.wait_for_selector("main section.jobs > .job:nth-child(3)")
    wait_done(page, newest, 300)
    page.wait_for_selector(f"{newest} section.answer")
    assert "bible.md" in page.inner_text(f"{newest} ol.passages")
    for href in page.eval_on_selector_all(f"{newest} a.citation", "links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(f"{newest} ol.passages li{href}").count() == 1
    assert page.locator(f"{newest} a.citation").count() or page.locator(f"{newest} .abstained").count()
    screenshot(page, "knowledge")


def test_a_file_of_the_wrong_type_is_refused_before_it_is_sent(page, studio, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video", encoding="utf-8")
    open_page(page, studio, "analyze")
    accept = page.get_attribute("#form-analyze input[type=file]", "accept")
    assert ".mp4" in accept
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    page.set_input_files("#form-analyze input[type=file]", str(notes))
    page.click("#form-analyze button[type=submit]")
    page.wait_for_selector("main .messages .note.error")
    assert "notes.txt is not a " in page.inner_text("main .messages")
    assert page.locator("main .job").count() == 0 and posted == []     # no job, nothing sent


def test_a_timeline_from_disk_shows_its_clips_transitions_and_captions(page, studio, tmp_path):
    import opentimelineio as otio

    rate = 24
    span = lambda start, frames: otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate),  # noqa: E731
                                                         otio.opentime.RationalTime(frames, rate))
    video = otio.schema.Track(name="V1", children=[
        otio.schema.Clip(name="intro", source_range=span(0, 48)),
        otio.schema.Transition(transition_type="SMPTE_Dissolve", in_offset=otio.opentime.RationalTime(6, rate),
                               out_offset=otio.opentime.RationalTime(6, rate)),
        otio.schema.Clip(name="chase", source_range=span(100, 72))])
    captions = otio.schema.Track(name="captions", children=[
        otio.schema.Gap(source_range=span(0, 24)),
        otio.schema.Clip(name="line", source_range=span(0, 48), metadata={"animstudio": {"text": "Run, Pip!"}})])
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(name="cut", tracks=[video, captions]), str(path))
    open_page(page, studio, "edit")
    page.set_input_files("#otio-file", str(path))
    page.wait_for_selector("main .otio-view .timeline")
    assert page.inner_text("main .otio-view .timeline h3") == "cut: 5.00 s"
    assert page.locator("main .otio-view [data-track=V1] .item.clip").count() == 2
    assert page.locator("main .otio-view [data-track=V1] .item.transition").count() == 1
    assert page.inner_text("main .otio-view [data-track=captions] .item.clip") == "Run, Pip!"
    bad = tmp_path / "notes.otio"
    bad.write_text("{not json", encoding="utf-8")
    page.set_input_files("#otio-file", str(bad))
    page.wait_for_selector("main .otio-view .note.error")
    assert "notes.otio is not an OpenTimelineIO timeline" in page.inner_text("main .otio-view")


@pytest.fixture(scope="module")
def checkpoint(sample_clip):
    """A tiny SDXL checkpoint in the served folder (the server reads nothing else)."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "image"))
    import tiny

    return tiny.sdxl(sample_clip[0].parent / "tiny-sdxl")


def test_pictures_come_back_as_a_gallery_with_their_parameters(page, studio, checkpoint):
    """Two pictures from the tiny checkpoint, each shown with the parameters of its sidecar."""
    open_page(page, studio, "images")
    form = "#form-image\\.generate"
    page.click(f"{form} details.advanced summary")   # the tuning is under "More options"
    fill(page, form, {"prompt": "a red fox", "checkpoint": str(checkpoint), "width": "64", "height": "64",
                      "steps": "2", "seed": "5", "count": "2", "sampler": "Euler", "device": "cpu"})
    page.click(f"{form} button[type=submit]")
    card = "main .job[data-kind=tool]"
    wait_done(page, card, 300)
    page.wait_for_selector(f"{card} .gallery figure")
    figures = page.locator(f"{card} .gallery figure")
    assert figures.count() == 2
    assert sorted(int(figures.nth(i).get_attribute("data-seed")) for i in range(2)) == [5, 6]
    text = page.inner_text(f"{card} .gallery")
    assert "a red fox" in text and "64x64" in text and "Euler" in text
    widths = page.eval_on_selector_all(f"{card} .gallery img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
    assert widths == [64, 64]
    screenshot(page, "images-gallery")


def test_a_batch_checked_against_a_reference_shows_each_consistency_score(page, studio, checkpoint, tmp_path):
    """An image batch with an uploaded reference picture and a threshold none can reach: each picture
    is made again once with a new seed, and the gallery shows the score the batch recorded for it."""
    from PIL import Image

    reference = tmp_path / "mira.png"
    Image.new("RGB", (64, 64), (220, 40, 40)).save(reference)
    open_page(page, studio, "images")
    form = "#form-image-batch"
    page.set_input_files(f"{form} [name=references]", str(reference))
    page.fill(f"{form} [name=prompts]", "a red fox\na blue fox")
    page.click(f"{form} details.advanced summary")
    fill(page, form, {"seeds": "[5]", "checkpoint": str(checkpoint), "width": "64", "height": "64", "steps": "2",
                      "sampler": "Euler", "device": "cpu", "threshold": "0.999", "retries": "1"})
    page.click(f"{form} button[type=submit]")
    card = "main .job[data-kind=image-batch]"
    wait_done(page, card, 300)
    page.wait_for_selector(f"{card} .gallery figure")
    job_id = page.get_attribute(card, "data-job")
    recorded = page.evaluate("async (id) => (await fetch(`/jobs/${id}/artifacts/images/batch.json`)).json()", job_id)
    assert [item["tries"] for item in recorded["items"]] == [2, 2]      # under the threshold: one more try each
    figures = page.locator(f"{card} .gallery figure")
    assert figures.count() == 2
    shown = {figures.nth(i).get_attribute("data-file"): float(figures.nth(i).locator(".score").get_attribute(
        "data-score")) for i in range(2)}
    assert shown == {f"images/{item['file']}": item["score"] for item in recorded["items"]}
    for i, item in enumerate(recorded["items"]):
        assert figures.nth(i).locator(".score").inner_text() == f"consistency {item['score']:.2f} after 2 tries"
    screenshot(page, "images-batch")


def test_every_page_builds_its_forms_from_the_catalog(page, studio):
    """Each page's forms come from the catalog's schemas; the page raises no script error (the fixture
    checks) and each form's fields are the schema's."""
    catalog = page.evaluate("async () => (await fetch('/catalog')).json()")
    forms = {"parody": ["form-parody"], "narrate": ["form-narrate"], "analyze": ["form-analyze"],
             "edit": ["form-highlights", "form-render", "form-edit.export"], "voices": ["form-voice.say"],
             "images": ["form-image.generate", "form-image-batch"],
             "knowledge": ["form-kb.ask", "form-kb.search", "form-kb.add"]}
    for name, ids in forms.items():
        open_page(page, studio, name)
        for form_id in ids:
            fields = page.eval_on_selector_all(f"[id='{form_id}'] .field", "rows => rows.map(r => r.dataset.field)")
            kind = form_id.removeprefix("form-")
            schema = (catalog["pipelines"].get(kind) or catalog["tools"][kind].get("parameters") or {})
            schema = schema.get("schema", schema)
            shown = set(schema["properties"]) - {"output", "confined_to", "url", "cues"}
            assert set(fields) == shown, (form_id, set(fields) ^ shown)
        screenshot(page, name)
