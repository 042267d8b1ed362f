"""`build.py serve`: build once, serve, and rebuild in this process after each change.

Each rebuild reuses what the change cannot have touched (site.Reuse): the site's Python
stays imported while its sources are unchanged, unchanged articles are not rendered again,
and the runtime and the offline bundle come from the cache by a hash of their inputs. So
an edit to an article costs that article's rendering and the writing of the site. The
offline download (a 15 MB zip) and the file:// bundle are made when first asked for, not
after every edit. An edit to the generator itself (pysrc/sitegen, pysrc/widgetkit) starts
the command again in a fresh process, since modules already imported would not change.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

from . import offline
from .config import load_config
from .errors import BuildError
from .serve import PreviewStatus, make_server, watch
from .site import Reuse, build_site

ENGINE = ("sitegen", "widgetkit")   # folders of pysrc/ whose edit needs a fresh process
# A rebuild that runs longer than this is given up, so a runaway article never leaves the preview
# waiting: the error is shown, and the next edit starts the command again (a thread cannot be
# stopped; a fresh process can). The first build on a machine trains the model (about a minute).
REBUILD_TIMEOUT = 300.0


class Preview:
    """Builds the site into `out` on demand, one build at a time, keeping what it can reuse."""

    def __init__(self, root: Path, content: Path, out: Path, cache: Path | None):
        self.root, self.content, self.out, self.cache = root, content, out, cache
        self.status = PreviewStatus()
        self.reuse = Reuse()
        self.lock = threading.Lock()
        self.stuck = False   # a rebuild ran past REBUILD_TIMEOUT and may still be running

    def rebuild(self) -> bool:
        """Build in a thread of its own, waiting at most REBUILD_TIMEOUT for it."""
        outcome: list[bool] = []
        worker = threading.Thread(target=lambda: outcome.append(self.build_once()), daemon=True)
        worker.start()
        worker.join(REBUILD_TIMEOUT)
        if worker.is_alive():
            self.stuck = True
            return self.failed(f"the build took longer than {REBUILD_TIMEOUT:.0f} s and was given up; "
                               "did the last change make it loop or grow? The preview starts again "
                               "on the next change.")
        return outcome[0]

    def build_once(self) -> bool:
        started = time.perf_counter()
        with self.lock:
            try:
                build_site(self.root, self.out, self.content, self.cache, reuse=self.reuse,
                           offline_zip=False, drafts=True)
            except BuildError as problem:
                return self.failed(str(problem))
            except Exception as problem:   # a bug of the generator: keep serving, say what
                traceback.print_exc()
                return self.failed(f"the build failed unexpectedly: {type(problem).__name__}: {problem}")
        print(f"Rebuilt in {time.perf_counter() - started:.2f} s.", flush=True)
        self.status.update()
        return True

    def failed(self, message: str) -> bool:
        print(f"Build failed, {self.out.name}/ left as it was.\n{message}", file=sys.stderr, flush=True)
        self.status.update(error=message)
        return False

    def on_demand(self, name: str) -> bool:
        """Make a file the preview leaves out until asked for: the download, or the bundle for
        pages opened from disk. True when it is there now."""
        if not self.lock.acquire(timeout=REBUILD_TIMEOUT):   # a runaway build holds it
            return False
        try:
            return self.make_on_demand(name)
        finally:
            self.lock.release()

    def make_on_demand(self, name: str) -> bool:
        if not self.out.is_dir():
            return False
        try:
            zip_name = load_config(self.content).offline_zip
        except BuildError:
            return False
        if name not in (zip_name, offline.BUNDLE):
            return False
        bundle = self.out / offline.BUNDLE
        if not bundle.exists():
            bundle.parent.mkdir(exist_ok=True)
            offline.write_runtime_bundle(self.out, self.cache or self.root / ".cache", bundle)
        if name == zip_name and not (self.out / zip_name).exists():
            offline.write_offline_zip(self.out, zip_name)
        return True


def changed_engine(root: Path, paths: set[Path]) -> bool:
    return any(root / "pysrc" / name in p.parents for p in paths for name in ENGINE)


def restart() -> None:
    """Run the same command again in this process's place (the server's socket closes with it)."""
    print("The generator's code changed: starting again.", flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.argv])


def serve(root: Path, host: str, port: int, content: Path | None, out: Path | None,
          cache: Path | None = None) -> int:
    site = (out or root / "_site").resolve()
    content = (content or root / "content").resolve()
    preview = Preview(root, content, site, cache.resolve() if cache else None)
    preview.rebuild()   # a broken first build still serves: its error, until it is fixed
    try:
        server = make_server(site, host, port, preview.status, preview.on_demand)
    except OSError as problem:
        print(f"Cannot serve on {host}:{port} ({problem.strerror}): choose another port with --port.",
              file=sys.stderr)
        return 1

    def on_change(paths: set[Path]) -> None:
        if preview.stuck or changed_engine(root, paths):
            server.server_close()
            restart()
        preview.rebuild()

    folders = [content, root / "pysrc", root / "site_templates"]
    threading.Thread(target=watch, args=(folders, on_change), daemon=True).start()
    print(f"Serving {site.name}/ on http://{host}:{port}/  (rebuilds when {content.name}/, pysrc/ or "
          "site_templates/ change; Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    return 0
