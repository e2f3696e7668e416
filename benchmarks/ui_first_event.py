"""Time from a click on Start in the web UI to the first progress event on the page, beside the same
job started over the HTTP API with its events read directly (what the page adds to the service).

A studio server runs in a temporary home with the sample clip's folder served; Debian's chromium,
driven by Playwright, signs in with the API key and opens the Analyze page. Each round picks the clip
from the served folder (no upload), clicks Start and waits for the first line in the job's log (a
MutationObserver in the page times it with performance.now()), then cancels the job. The API round
posts the same job with httpx and reads its server-sent events until the first progress event.

The two differ in when they ask: the API round opens the event stream at once, before the job has
said anything, and the server looks at the job store every 0.25 s, so it waits for the next look;
the page opens its stream after drawing the job's card, when the first event is usually written
already, and gets it with the events so far.

    python benchmarks/ui_first_event.py              # 10 rounds of each; ends with RESULT lines
    python benchmarks/ui_first_event.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

KEY = "bench"
FIRST_EVENT = """() => new Promise((resolve) => {
    const started = performance.now();
    new MutationObserver((_, observer) => {
        if (!document.querySelector("main .job .log li")) return;
        observer.disconnect();
        resolve((performance.now() - started) / 1000);
    }).observe(document.querySelector("main"), {childList: true, subtree: true});
    document.querySelector("#form-analyze button[type=submit]").click();
})"""


def page_rounds(url: str, clip: Path, rounds: int) -> list[float]:
    import httpx
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("error: this benchmark needs Debian's chromium: sudo apt-get install -y chromium")
    seconds = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(url + "/")
        page.fill("#key", KEY)
        page.click("#login button[type=submit]")
        page.wait_for_selector("main[data-page=jobs] h1")
        for _ in range(rounds):
            page.goto(url + "/#/jobs")
            page.wait_for_selector("main[data-page=jobs] h1")
            page.goto(url + "/#/analyze")
            page.wait_for_selector("main[data-page=analyze] form button[type=submit]")
            page.select_option("#form-analyze select[name=clip-pick]", str(clip))
            seconds.append(page.evaluate(FIRST_EVENT))
            job = page.get_attribute("main .job[data-kind=analyze]", "data-job")
            if job:
                httpx.delete(f"{url}/jobs/{job}", headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
        browser.close()
    return seconds


def api_rounds(url: str, clip: Path, rounds: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {KEY}"}
    seconds = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            job = client.post("/jobs", json={"kind": "analyze", "params": {"clip": str(clip)}}).json()["id"]
            with client.stream("GET", f"/jobs/{job}/events") as events:
                for line in events.iter_lines():
                    if line.startswith("data:"):
                        seconds.append(time.perf_counter() - started)
                        break
            client.delete(f"/jobs/{job}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="clicks timed (and API jobs)")
    args = parser.parse_args()

    from animstudio.media.sample import make_sample
    from animstudio.testing.servers import free_port, running_process

    work = Path(tempfile.mkdtemp(prefix="ui-bench-"))
    clip = work / "media" / "sample.mp4"
    clip.parent.mkdir()
    make_sample(clip, seconds=12, seed=3)
    port = free_port()
    env = dict(os.environ, ANIMSTUDIO_HOME=str(work / "home"))
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port),
                          "--api-key", KEY, "--media", str(clip.parent)], port, env=env, what="studio",
                         wait_s=60, health="/ui/session", suffix="") as url:
        api = api_rounds(url, clip, args.rounds)
        page = page_rounds(url, clip, args.rounds)
    shutil.rmtree(work, ignore_errors=True)
    figures = {"api": api, "page": page}
    print(json.dumps({k: [round(s, 3) for s in v] for k, v in figures.items()}))
    for name, values in figures.items():
        print(f"{name}: median {statistics.median(values) * 1000:.0f} ms, slowest {max(values) * 1000:.0f} ms "
              f"over {len(values)} jobs")
    print(f"page / api (medians): {statistics.median(page) / statistics.median(api):.2f}")
    print(f"RESULT ui_click_to_first_event_median {statistics.median(page) * 1000:.0f} ms goal <1000")
    print(f"RESULT ui_click_to_first_event_slowest {max(page) * 1000:.0f} ms goal <1000")


if __name__ == "__main__":
    main()
