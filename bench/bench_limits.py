"""How long Markdown takes at the input limits of sitegen.guard, and how long the hostile inputs
of issue 16 take to be refused. Prints one line per case (median of --runs).

    .venv/bin/python bench/bench_limits.py --runs 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pysrc"))

from sitegen import guard  # noqa: E402
from sitegen.content import read_article, render_markdown  # noqa: E402
from sitegen.errors import BuildError  # noqa: E402

FRONT = "---\ntitle: T\ndate: 2026-01-02\nsummary: S\n---\n"
AT_LIMIT = {
    f"{guard.MAX_OPENERS} '[' in a paragraph": "a " + "[" * guard.MAX_OPENERS + "\n",
    f"{guard.MAX_OPENERS} '<a ' in a paragraph": "a " + "<a " * guard.MAX_OPENERS + "\n",
    f"a list {guard.MAX_NESTING} deep": "\n".join("    " * i + "- a" for i in range(guard.MAX_NESTING)) + "\n",
    f"4 x {guard.MAX_OPENERS} '[' (the square's cost, for scale)": "a " + "[" * 4 * guard.MAX_OPENERS + "\n",
}
HOSTILE = {
    "50,000 '[' in a paragraph": "A " + "[" * 50_000 + "\n",
    "a list nested 1,500 deep on one line": "- " * 1500 + "a\n",
    "a list nested 400 deep by indentation": "\n".join("    " * i + "- a" for i in range(400)) + "\n",
    "a YAML alias bomb in the front matter": None,
}
BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['x'] * 9)}]\n"
               for p, a in zip([None, *"abcdefgh"], "abcdefghi"))


def median_seconds(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def refusal(path: Path, text: str):
    def run():
        path.write_text(text, encoding="utf-8")
        try:
            read_article(path, "content/a.md", {"facts": {}, "site": {}}, lambda d: "")
        except BuildError:
            return
        raise SystemExit(f"not refused: {text[:40]!r}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print("Markdown at the limits (accepted):")
    for label, body in AT_LIMIT.items():
        print(f"  {label}: {median_seconds(lambda: render_markdown(body), runs) * 1000:.0f} ms")
    print("Hostile inputs (refused with a located message):")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.md"
        for label, body in HOSTILE.items():
            text = FRONT.replace("---\n", "---\n" + BOMB, 1) if body is None else FRONT + body
            print(f"  {label}: {median_seconds(refusal(path, text), runs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
