"""Serve _site/ as a static host would; in preview mode, rebuild on change and reload the page.

Preview mode adds two URLs under /__preview/ and one script tag in each HTML
response (never in the files on disk): the page listens to an event stream and
reloads after each successful rebuild, or shows the build error in place.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Callable

TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
         ".json": "application/json", ".whl": "application/zip", ".xml": "application/xml",
         ".webmanifest": "application/manifest+json"}
PREVIEW_SCRIPT = b'<script src="/__preview/reload.js" defer></script>'
RELOAD_JS = b"""// Preview only: reload after each rebuild, or show why the build failed.
"use strict";
(function () {
  let seen = null;
  const events = new EventSource("/__preview/events");
  events.onmessage = (event) => {
    const status = JSON.parse(event.data);
    if (seen !== null && status.build !== seen && !status.error) location.reload();
    seen = status.build;
    let box = document.getElementById("preview-error");
    if (status.error) {
      if (!box) {
        box = document.createElement("pre");
        box.id = "preview-error";
        box.setAttribute("role", "alert");
        box.className = "preview-error";
        document.body.prepend(box);
      }
      box.textContent = "Build failed; showing the last good build.\\n" + status.error;
    } else if (box) {
      box.remove();
    }
  };
})();
"""


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass


class PreviewStatus:
    """The number of the last good build and the error of the last failed one."""

    def __init__(self):
        self.build, self.error = 0, ""
        self.changed = threading.Condition()

    def update(self, error: str = "") -> None:
        with self.changed:
            if not error:
                self.build += 1
            self.error = error
            self.changed.notify_all()

    def as_json(self) -> bytes:
        return json.dumps({"build": self.build, "error": self.error}).encode()


class PreviewHandler(SiteHandler):
    status: PreviewStatus

    def do_GET(self):
        if self.path == "/__preview/reload.js":
            return self.send_bytes(RELOAD_JS, "text/javascript")
        if self.path == "/__preview/events":
            return self.stream_events()
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if path.suffix == ".html" and path.is_file():
            html = path.read_bytes().replace(b"</head>", PREVIEW_SCRIPT + b"\n</head>", 1)
            return self.send_bytes(html, "text/html; charset=utf-8")
        return super().do_GET()

    def send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def stream_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        status, last = self.status, None
        try:
            while True:
                with status.changed:
                    if last == status.as_json():
                        status.changed.wait(timeout=15)
                    now = status.as_json()
                self.wfile.write(b"data: " + now + b"\n\n" if now != last else b": keep-alive\n\n")
                self.wfile.flush()
                last = now
        except (BrokenPipeError, ConnectionResetError):
            return


def make_server(site: Path, host: str, port: int, status: PreviewStatus | None = None):
    if status is None:
        handler = functools.partial(SiteHandler, directory=str(site))
    else:
        handler = functools.partial(type("Bound", (PreviewHandler,), {"status": status}), directory=str(site))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def snapshot(folders: list[Path]) -> dict[Path, float]:
    """Modification times of every file under the folders (the watcher compares these)."""
    return {p: p.stat().st_mtime for folder in folders for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def watch(folders: list[Path], on_change: Callable[[], None], interval: float = 0.5) -> None:
    """Call on_change after any file under the folders changes (polling: no extra service)."""
    before = snapshot(folders)
    while True:
        time.sleep(interval)
        now = snapshot(folders)
        if now != before:
            time.sleep(0.2)  # let an editor finish writing
            before = snapshot(folders)
            on_change()
