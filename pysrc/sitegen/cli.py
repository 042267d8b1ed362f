"""The command line behind build.py: build, serve, test. Thin: each command is a few calls."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import browser, runtime
from .errors import BuildError
from .preview import serve
from .site import build_site


def build(root: Path, content: Path | None = None, out: Path | None = None,
          cache: Path | None = None, drafts: bool = False) -> bool:
    started = time.perf_counter()
    out = (out or root / "_site").resolve()
    try:
        build_site(root, out, content.resolve() if content else None, cache.resolve() if cache else None,
                   drafts=drafts)
    except BuildError as problem:
        print(f"Build failed, _site/ left as it was.\n{problem}", file=sys.stderr)
        return False
    print(f"Built {out.name}/ in {time.perf_counter() - started:.1f} s.")
    return True


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
    """Write a new article that builds at once; never overwrite one. Its example widget is one
    of the site's own; a site that declares no Python yet gets a small widget package of its own."""
    import widgetkit

    from .config import load_config
    from .scaffold import add_example_package, checked_slug, write_new_article
    from .sitecode import SiteCode
    content = (content or root / "content").resolve()
    try:
        checked_slug(title)   # before anything is written
        config = load_config(content, root / "pysrc") if content.is_dir() else None
        if config and not config.python and not config.widgets:   # a new site: no Python of its own yet
            add_example_package(content)
            config = load_config(content, root / "pysrc")
        code = SiteCode(config, root, content, root / ".cache").open(run=False) if config else None
        try:
            path = write_new_article(content, title, dict(widgetkit.REGISTRY))
        finally:
            if code:
                code.close()
    except BuildError as problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"Wrote {path.name}: edit it, then `python3 build.py serve` to see it.")
    return 0


def test(root: Path, pytest_args: list[str]) -> int:
    browser.install_system_packages(browser.missing_system_packages())
    for missing in (browser.missing_browser_sentence(), browser.missing_firefox_sentence(),
                    install_firefox_driver(root)):
        if missing:
            print(missing, file=sys.stderr)
            return 2
    try:   # set-up, as a first build does: the pinned runtime, which the tests only read
        runtime.build_base_runtime(root / ".cache")
    except BuildError as problem:
        print(problem, file=sys.stderr)
        return 2
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=root).returncode


def main(root: Path, args: argparse.Namespace, extra: list[str]) -> int:
    """Run a command that sitegen.commands.parse has read."""
    if args.command == "build":
        return 0 if build(root, args.content, args.out, args.cache, args.drafts) else 1
    if args.command == "serve":
        return serve(root, args.host, args.port, args.content, args.out, args.cache)
    if args.command == "new":
        return new(root, args.title, args.content)
    return test(root, extra)
