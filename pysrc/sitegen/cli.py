"""The command line behind build.py: build, serve, test. Thin: each command is a few calls."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import browser
from .errors import BuildError
from .serve import PreviewStatus, make_server, watch
from .site import build_site


def build(root: Path, content: Path | None = None, out: Path | None = None, drafts: bool = False) -> bool:
    started = time.perf_counter()
    out = (out or root / "_site").resolve()
    try:
        build_site(root, out, content.resolve() if content else None, drafts=drafts)
    except BuildError as problem:
        print(f"Build failed, _site/ left as it was.\n{problem}", file=sys.stderr)
        return False
    print(f"Built {out.name}/ in {time.perf_counter() - started:.1f} s.")
    return True


# A rebuild that runs longer than this is stopped, so a runaway article never hangs the preview.
# The first build on a machine trains the model (about a minute); rebuilds take seconds.
REBUILD_TIMEOUT = 300.0


def rebuild(root: Path, options: list[str], status: PreviewStatus) -> None:
    """Build in a fresh process, so edited Python in pysrc/ is imported anew."""
    try:
        done = subprocess.run([sys.executable, str(root / "build.py"), "build", *options], cwd=root,
                              capture_output=True, text=True, timeout=REBUILD_TIMEOUT)
    except subprocess.TimeoutExpired:   # run() has killed the build; _site/ is as it was
        message = (f"The build took longer than {REBUILD_TIMEOUT:.0f} s and was stopped; "
                   "_site/ left as it was. Did the last change make it loop or grow?")
        print(message, file=sys.stderr, flush=True)
        status.update(error=message)
        return
    print((done.stdout + done.stderr).strip(), flush=True)
    status.update(error="" if done.returncode == 0 else done.stderr.strip())


def serve(root: Path, host: str, port: int, content: Path | None, out: Path | None) -> int:
    if not build(root, content, out, drafts=True):
        return 1
    site = (out or root / "_site").resolve()
    options = ["--drafts", *(["--content", str(content.resolve())] if content else []),
               *(["--out", str(site)] if out else [])]
    status = PreviewStatus()
    try:
        server = make_server(site, host, port, status)
    except OSError as problem:
        print(f"Cannot serve on {host}:{port} ({problem.strerror}): choose another port with --port.",
              file=sys.stderr)
        return 1
    folders = [content or root / "content", root / "pysrc", root / "site_templates"]
    threading.Thread(target=watch, args=(folders, lambda: rebuild(root, options, status)),
                     daemon=True).start()
    print(f"Serving {site.name}/ on http://{host}:{port}/  (rebuilds when content/, pysrc/ or "
          "site_templates/ change; Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    return 0


def install_firefox_driver(root: Path) -> str | None:
    """puppeteer-core for the Firefox test, pinned by its lock; a sentence if it cannot be had."""
    folder = root / "tests" / "firefox"
    lock = folder / "package-lock.json"
    stamp = folder / "node_modules" / ".installed-lock"
    if stamp.exists() and stamp.read_text() == lock.read_text():
        return None
    if shutil.which("npm") is None:
        return "The Firefox test needs Node.js with npm: install it (`apt-get install npm`) and run the command again."
    done = subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=folder,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return f"npm could not install the Firefox driver (tests/firefox): {done.stderr.strip()[-300:]}"
    stamp.write_text(lock.read_text())
    return None


def new(root: Path, title: str, content: Path | None) -> int:
    """Write a new article that builds at once; never overwrite one."""
    from .scaffold import write_new_article
    try:
        path = write_new_article((content or root / "content").resolve(), title, site_widgets())
    except BuildError as problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"Wrote {path.name}: edit it, then `python3 build.py serve` to see it.")
    return 0


def site_widgets() -> dict:
    """The widgets an article can place, by name (for `new`'s example)."""
    import widgets
    return dict(widgets.REGISTRY)


def test(root: Path, pytest_args: list[str]) -> int:
    for missing in (browser.missing_browser_sentence(), browser.missing_firefox_sentence(),
                    install_firefox_driver(root)):
        if missing:
            print(missing, file=sys.stderr)
            return 2
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=root).returncode


def main(root: Path, args: argparse.Namespace, extra: list[str]) -> int:
    """Run a command that sitegen.commands.parse has read."""
    if args.command == "build":
        return 0 if build(root, args.content, args.out, args.drafts) else 1
    if args.command == "serve":
        return serve(root, args.host, args.port, args.content, args.out)
    if args.command == "new":
        return new(root, args.title, args.content)
    return test(root, extra)
