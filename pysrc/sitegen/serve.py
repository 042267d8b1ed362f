"""Serve _site/ as a static host would; in preview mode, rebuild on change and reload the page.

Preview mode adds two URLs under /__preview/ and one script tag in each HTML
response (never in the files on disk): the page listens to an event stream and
reloads after each successful rebuild, or shows the build error in place.

The server is for one author's browser, but any web page that author opens can send it
requests: it answers only Host names of this machine (a DNS-rebinding page comes with its own
name), at most MAX_CONNECTIONS at a time, closes connections that stay idle, and answers a
malformed request with 400 rather than a traceback.
"""
from __future__ import annotations

import functools
import http.server
import json
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote

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


MAX_CONNECTIONS = 32         # an author's tabs need a few each (page, event stream, files)
IDLE_TIMEOUT = 20.0          # seconds a connection may wait for its next request
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
        b"Connection: close\r\n\r\n")


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}
    timeout = IDLE_TIMEOUT   # socket timeout: an idle or slow connection is closed

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        try:
            path = unquote(self.path.split("?", 1)[0].split("#", 1)[0], errors="strict")
        except UnicodeDecodeError:
            path = "\x00"
        if "\x00" in path or "\\" in path:
            self.send_error(400, "Malformed path")
            return False
        allowed = getattr(self.server, "allowed_hosts", None)
        host = self.headers.get("Host")
        if allowed is not None and host is not None and host_name(host) not in allowed:
            self.send_error(403, "This server answers only requests addressed to this machine")
            return False
        return True


def host_name(header: str) -> str:
    """The name of a Host header without its port: 'localhost:8000' -> 'localhost'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class BoundedServer(http.server.ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them; beyond that, 503 at once.
    A reader who leaves mid-file (a reset, a broken pipe) is not an error worth a traceback."""

    daemon_threads = True
    request_queue_size = 64   # the listen backlog (5 by default): a page opens many at once

    def __init__(self, address, handler, allowed_hosts: set[str] | None = None):
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.allowed_hosts = allowed_hosts

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, socket.timeout)):
            return
        super().handle_error(request, client_address)


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


FAILED_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Build failed</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head><body><main><h1>The site has not been built yet</h1>
<p>The build failed; this page shows why and reloads once it succeeds.</p></main></body></html>
"""


class PreviewHandler(SiteHandler):
    status: PreviewStatus
    on_demand: Callable[[str], bool] | None = None   # makes a file the preview leaves out until asked

    def do_GET(self):
        if self.path == "/__preview/reload.js":
            return self.send_bytes(RELOAD_JS, "text/javascript")
        if self.path == "/__preview/events":
            return self.stream_events()
        path = Path(self.translate_path(self.path))
        if path.is_dir() or self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not path.exists() and self.on_demand is not None:
            site = Path(self.directory)
            if site in path.parents:
                type(self).on_demand(path.relative_to(site).as_posix())
        if path.suffix == ".html" and not path.is_file() and self.status.error:
            # no good build yet (the first one failed): a page that shows the error and reloads
            page = FAILED_PAGE.replace(b"</head>", PREVIEW_SCRIPT + b"\n</head>", 1)
            return self.send_bytes(page, "text/html; charset=utf-8")
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


def allowed_hosts(host: str, also: str | None = None) -> set[str] | None:
    """The Host names the server answers: this machine's, and the one it was told to serve on;
    None (any) when it listens on every address (--host 0.0.0.0), where the author chose to."""
    if host in ("", "0.0.0.0", "::"):
        return None
    return LOOPBACK | {host_name(name) for name in (host, also) if name}


def make_server(site: Path, host: str, port: int, status: PreviewStatus | None = None,
                on_demand: Callable[[str], bool] | None = None, allowed_host: str | None = None):
    if status is None:
        handler = functools.partial(SiteHandler, directory=str(site))
    else:
        bound = type("Bound", (PreviewHandler,), {"status": status, "on_demand": on_demand})
        handler = functools.partial(bound, directory=str(site))
    return BoundedServer((host, port), handler, allowed_hosts(host, allowed_host))


@contextmanager
def running(server: http.server.HTTPServer) -> Iterator[http.server.HTTPServer]:
    """Run a server on a thread of its own until the block ends, then stop and close it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def serving(site: Path, sub_path: str = "", handler: type[SiteHandler] = SiteHandler) -> Iterator[str]:
    """Serve a folder as a static host does, on 127.0.0.1 at a free port, and yield its base URL
    until the block ends (for tests and benchmarks). sub_path serves it under /sub_path/, as GitHub
    serves a project's pages; handler: a SiteHandler that does more."""
    with tempfile.TemporaryDirectory(prefix="serving-") as top:
        folder = site
        if sub_path:
            (Path(top) / sub_path).symlink_to(Path(site).resolve(), target_is_directory=True)
            folder = Path(top)
        server = BoundedServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        with running(server):
            yield f"http://127.0.0.1:{server.server_address[1]}/" + (f"{sub_path}/" if sub_path else "")


def snapshot(folders: list[Path]) -> dict[Path, tuple[int, int]]:
    """Modification time and size of every file under the folders (the watcher compares these)."""
    found = {}
    for folder in folders:
        for p in folder.rglob("*"):
            if "__pycache__" in p.parts:
                continue
            try:
                info = p.stat()
            except OSError:   # deleted while we looked: the next look sees it gone
                continue
            if not p.is_dir():
                found[p] = (info.st_mtime_ns, info.st_size)
    return found


def watch(folders: list[Path], on_change: Callable[[set[Path]], None], interval: float = 0.1) -> None:
    """Call on_change with the changed files after files under the folders change (polling: no
    extra service; a tenth of a second, so that a preview follows typing), once the editor has
    finished writing (two looks in a row agree)."""
    before = snapshot(folders)
    while True:
        time.sleep(interval)
        now = snapshot(folders)
        if now == before:
            continue
        while True:
            time.sleep(0.03)
            settled = snapshot(folders)
            if settled == now:
                break
            now = settled
        changed = {p for p in set(before) | set(now) if before.get(p) != now.get(p)}
        before = now
        on_change(changed)
