"""The command line behind build.py: build, serve, test. Thin: each command is a few calls."""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import browser
from .errors import BuildError
from .preview import serve
from .site import build_site


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python3 build.py", description="Build, serve and test the site.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write _site/")
    serve = commands.add_parser("serve", help="build _site/ and serve it")
    for command in (build, serve):
        command.add_argument("--content", type=Path, default=None,
                             help="the folder of articles (default: content/)")
        command.add_argument("--out", type=Path, default=None, help="where to write (default: _site/)")
        command.add_argument("--cache", type=Path, default=None,
                             help="where work is kept between builds (default: .cache/)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    commands.add_parser("test", help="run every test (extra arguments go to pytest)")
    return parser.parse_known_args(argv)


def build(root: Path, content: Path | None = None, out: Path | None = None,
          cache: Path | None = None) -> bool:
    started = time.perf_counter()
    out = (out or root / "_site").resolve()
    try:
        build_site(root, out, content.resolve() if content else None, cache.resolve() if cache else None)
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


def test(root: Path, pytest_args: list[str]) -> int:
    for missing in (browser.missing_browser_sentence(), browser.missing_firefox_sentence(),
                    install_firefox_driver(root)):
        if missing:
            print(missing, file=sys.stderr)
            return 2
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=root).returncode


def main(root: Path, argv: list[str]) -> int:
    args, extra = parse(argv)
    if extra and args.command != "test":
        print(f"Unknown arguments: {' '.join(extra)}. See `python3 build.py --help`.", file=sys.stderr)
        return 2
    if args.command == "build":
        return 0 if build(root, args.content, args.out, args.cache) else 1
    if args.command == "serve":
        return serve(root, args.host, args.port, args.content, args.out, args.cache)
    return test(root, extra)
