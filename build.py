#!/usr/bin/env python3
"""Build, serve and test the site.

    python3 build.py serve [--port 8000]   set up, build _site/, serve it, rebuild on change
    python3 build.py build                 set up, build _site/
    python3 build.py test [pytest args]    set up, then run every test (unit and browser)

The first run creates .venv/ with the pinned packages and fetches the browser
runtime into .cache/; later runs reuse both.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "pysrc"))

from sitegen.environment import ensure_environment  # noqa: E402  (stdlib only)


def main() -> int:
    ensure_environment(ROOT, sys.argv[1:])  # re-runs this file inside .venv when needed
    from sitegen.cli import main as cli_main
    return cli_main(ROOT, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
