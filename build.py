#!/usr/bin/env python3
"""Build, serve and test the site.

    python3 build.py serve [--port 8000]   set up, build _site/, serve it, rebuild on change
    python3 build.py build                 set up, build _site/
    python3 build.py test [pytest args]    set up, then run every test (unit and browser)
    python3 build.py new "A title"         write content/a-title.md, a new article that builds
    python3 build.py --help | --version    answer at once, without setting anything up

The first run creates .venv/ with the pinned packages and fetches the browser
runtime into .cache/; later runs reuse both.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "pysrc"))

from sitegen.commands import parse  # noqa: E402  (stdlib only)
from sitegen.environment import ensure_environment  # noqa: E402  (stdlib only)


def main() -> int:
    args, extra = parse(ROOT, sys.argv[1:])  # --help, --version and typos stop here, set-up untouched
    ensure_environment(ROOT, sys.argv[1:])  # re-runs this file inside .venv when needed
    from sitegen.cli import main as cli_main
    return cli_main(ROOT, args, extra)


if __name__ == "__main__":
    sys.exit(main())
