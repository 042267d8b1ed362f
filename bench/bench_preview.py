"""Benchmark: how long the preview takes from saving a file to telling the open page to reload.

Run from the repository root:

    .venv/bin/python bench/bench_preview.py [--text-edits 10] [--widget-edits 5] [--json FILE]

It copies the sources (build.py, pysrc/, site_templates/, content/) into a temporary folder and
never edits the repository's files. Its cache is a temporary folder too, which borrows, read-only,
the downloads and the py-compiled base runtime of the repository's .cache/, and starts with a copy
of the trained n-gram model and decoding table (.cache/ngram/), so no download or training runs.
Then it starts `build.py serve` there, listens to the page's event stream (/__preview/events, what
an open page listens to), and, one edit at a time:

- edits the article (content/sampling.md: one word of its text changes) --text-edits times;
- edits a widget module (pysrc/widgets/top_k.py: a comment line at its end changes, which is
  enough to make new sources: the site's Python is imported again and a new wheel is made)
  --widget-edits times;

and times each from the moment the file is written to the event that announces the new build
(the page reloads on it). It prints median, min and max of each kind. The machine is shared and
its load varies: run it twice before believing a figure.
"""
from __future__ import annotations

import argparse
import http.client
import json
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("build.py", "requirements.in", "requirements.lock", "pysrc", "site_templates", "content")
ARTICLE = "content/sampling.md"
WIDGET = "pysrc/widgets/top_k.py"
TIMEOUT = 120.0


def copy_sources(top: Path) -> tuple[Path, Path]:
    """The sources in top/site, the cache in top/cache; returns both."""
    site, cache = top / "site", top / "cache"
    site.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, site / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, site / name)
    (site / ".venv").symlink_to((ROOT / ".venv").resolve(), target_is_directory=True)
    cache.mkdir()
    kept = ROOT / ".cache"
    for borrowed in [kept / "downloads", *kept.glob("runtime-base-*")]:
        if borrowed.is_dir():
            (cache / borrowed.name).symlink_to(borrowed.resolve(), target_is_directory=True)
    if (kept / "ngram").is_dir():
        shutil.copytree(kept / "ngram", cache / "ngram")
    return site, cache


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(site: Path, cache: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([str(site / ".venv" / "bin" / "python"), "build.py", "serve", "--port",
                                str(port), "--cache", str(cache)], cwd=site,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    while time.monotonic() - started < 900:   # the first build makes the site's runtime
        line = process.stdout.readline()
        if "Serving" in line:
            threading.Thread(target=drain, args=(process,), daemon=True).start()
            return process
        if process.poll() is not None:
            raise SystemExit("serve stopped: " + line + process.stdout.read())
    raise SystemExit("serve did not start in 15 minutes")


def drain(process: subprocess.Popen) -> None:
    for line in process.stdout:
        if "failed" in line.lower() or "Traceback" in line:
            print("  serve:", line.rstrip(), file=sys.stderr)


def listen(port: int, events: queue.Queue) -> None:
    """Read the preview's event stream, as an open page does; put (arrival time, status) in events."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
    connection.request("GET", "/__preview/events")
    response = connection.getresponse()
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"data: "):
            events.put((time.perf_counter(), json.loads(line[6:])))


def next_build(events: queue.Queue, after: int) -> tuple[float, dict]:
    deadline = time.perf_counter() + TIMEOUT
    while True:
        arrived, status = events.get(timeout=max(0.0, deadline - time.perf_counter()))
        if status["error"]:
            raise SystemExit(f"the build failed: {status['error']}")
        if status["build"] > after:
            return arrived, status


def edit_and_wait(path: Path, old: str, new: str, events: queue.Queue, build: int) -> tuple[float, int]:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    saved = time.perf_counter()
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    arrived, status = next_build(events, build)
    return arrived - saved, status["build"]


def figures(name: str, seconds: list[float]) -> dict:
    row = {"edits": len(seconds), "median_s": round(statistics.median(seconds), 3),
           "min_s": round(min(seconds), 3), "max_s": round(max(seconds), 3)}
    print(f"{name:<13} median {row['median_s']:.2f} s   min {row['min_s']:.2f} s   "
          f"max {row['max_s']:.2f} s   ({row['edits']} edits)")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text-edits", type=int, default=10)
    parser.add_argument("--widget-edits", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        site, cache = copy_sources(Path(tmp))
        port = free_port()
        print("Starting serve on a copy of the sources (the first build makes the runtime) ...", flush=True)
        process = start_serve(site, cache, port)
        try:
            events: queue.Queue = queue.Queue()
            threading.Thread(target=listen, args=(port, events), daemon=True).start()
            _, status = next_build(events, -1)   # the stream's first message: the current build
            build = status["build"]
            text, widget = [], []
            article, module = site / ARTICLE, site / WIDGET
            for i in range(args.text_edits):
                seconds, build = edit_text(article, i, events, build)
                text.append(seconds)
            for i in range(args.widget_edits):
                seconds, build = edit_widget(module, i, events, build)
                widget.append(seconds)
            print()
            result = {"text_edit": figures("text edit", text), "widget_edit": figures("widget edit", widget)}
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(result, indent=1) + "\n")
        finally:
            process.terminate()
            process.wait(timeout=20)
    return 0


def edit_text(article: Path, i: int, events: queue.Queue, build: int) -> tuple[float, int]:
    """Change the article's text: the first line of prose after the front matter gets a marker
    word, numbered, which each later edit changes."""
    text = article.read_text(encoding="utf-8")
    if i and f" (edit {i - 1})" in text:
        return edit_and_wait(article, f" (edit {i - 1})", f" (edit {i})", events, build)
    body = text.index("\n---", 4) + 4
    line = next(line for line in text[body:].split("\n")
                if line.strip() and line[0].isalpha() and "{{" not in line)
    return edit_and_wait(article, line + "\n", f"{line} (edit {i})\n", events, build)


def edit_widget(module: Path, i: int, events: queue.Queue, build: int) -> tuple[float, int]:
    """Change a comment line of a widget module (new sources: the site's Python is reloaded and a
    new wheel is made)."""
    text = module.read_text(encoding="utf-8")
    old = f"# bench edit {i - 1}\n" if i else None
    if old and old in text:
        return edit_and_wait(module, old, f"# bench edit {i}\n", events, build)
    return edit_and_wait(module, text, text + f"# bench edit {i}\n", events, build)


if __name__ == "__main__":
    sys.exit(main())
