"""The command line behind build.py: build, serve, test. Thin: each command is a few calls."""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import browser
from .errors import BuildError
from .serve import PreviewStatus, make_server, watch
from .site import build_site


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python3 build.py", description="Build, serve and test the site.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="write _site/")
    serve = commands.add_parser("serve", help="build _site/ and serve it")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    commands.add_parser("test", help="run every test (extra arguments go to pytest)")
    return parser.parse_known_args(argv)


def build(root: Path) -> bool:
    started = time.perf_counter()
    try:
        build_site(root, root / "_site")
    except BuildError as problem:
        print(f"Build failed, _site/ left as it was.\n{problem}", file=sys.stderr)
        return False
    print(f"Built _site/ in {time.perf_counter() - started:.1f} s.")
    return True


def rebuild(root: Path, status: PreviewStatus) -> None:
    """Build in a fresh process, so edited Python in pysrc/ is imported anew."""
    done = subprocess.run([sys.executable, str(root / "build.py"), "build"], cwd=root,
                          capture_output=True, text=True)
    print((done.stdout + done.stderr).strip(), flush=True)
    status.update(error="" if done.returncode == 0 else done.stderr.strip())


def serve(root: Path, host: str, port: int) -> int:
    if not build(root):
        return 1
    status = PreviewStatus()
    try:
        server = make_server(root / "_site", host, port, status)
    except OSError as problem:
        print(f"Cannot serve on {host}:{port} ({problem.strerror}): choose another port with --port.",
              file=sys.stderr)
        return 1
    folders = [root / "content", root / "pysrc", root / "site_templates"]
    threading.Thread(target=watch, args=(folders, lambda: rebuild(root, status)), daemon=True).start()
    print(f"Serving _site/ on http://{host}:{port}/  (rebuilds when content/, pysrc/ or "
          "site_templates/ change; Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    return 0


def test(root: Path, pytest_args: list[str]) -> int:
    missing = browser.missing_browser_sentence()
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
        return 0 if build(root) else 1
    if args.command == "serve":
        return serve(root, args.host, args.port)
    return test(root, extra)
