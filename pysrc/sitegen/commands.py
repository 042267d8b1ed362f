"""The command line's grammar, read before anything is installed.

build.py parses its arguments with this module first, so `--help`, `--version` and a
mistyped command answer at once on a fresh clone, without creating .venv/ or fetching
anything. Like environment.py it runs on whatever `python3` the reader has: standard
library only, nothing imported from the rest of sitegen.
"""
import argparse
import re
from pathlib import Path


def project_version(root):
    """The version in pyproject.toml's [project] table (read as text: tomllib is 3.11+)."""
    try:
        text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = project and re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
    return found.group(1) if found else "unknown"


def make_parser(root):
    parser = argparse.ArgumentParser(
        prog="python3 build.py", description="Build, serve and test the site.",
        epilog="The first command that needs them creates .venv/ and fetches the browser runtime.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {project_version(root)}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="write _site/")
    serve = commands.add_parser("serve", help="build _site/ and serve it, rebuilding on change")
    for command in (build, serve):
        command.add_argument("--content", type=Path, default=None,
                             help="the folder of articles (default: content/)")
        command.add_argument("--out", type=Path, default=None, help="where to write (default: _site/)")
        command.add_argument("--cache", type=Path, default=None,
                             help="where work is kept between builds (default: .cache/)")
    build.add_argument("--drafts", action="store_true",
                       help="include articles marked draft: true (serve always does)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    new = commands.add_parser("new", help='write a new article, e.g. new "A title"')
    new.add_argument("title", help="the article's title; its file name is made from it")
    new.add_argument("--content", type=Path, default=None,
                     help="the folder of articles (default: content/)")
    commands.add_parser("test", help="run every test (extra arguments go to pytest)",
                        add_help=False)
    return parser


def parse(root, argv):
    """(namespace, extra arguments); exits with argparse's message on --help, --version or a typo.

    Only `test` takes extra arguments (they go to pytest, `--help` included)."""
    parser = make_parser(root)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args, extra
