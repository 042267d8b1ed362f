"""Benchmark: how long `python3 build.py --help` (and friends) take on a fresh clone.

Run from the repository root, with any Python 3:

    python3 bench/bench_cli.py [--runs N]

It copies what build.py reads before its set-up (build.py, pysrc/sitegen, pyproject.toml,
requirements.lock) into a temporary folder with no .venv/, runs each command there N times
with this Python, and prints the median, min and max wall time in milliseconds. It fails if
a run creates .venv/ or .cache/ (the answer must come before any set-up).
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["build", "--help"], ["--version"], ["biuld"])


def fresh_clone(folder: Path) -> Path:
    (folder / "pysrc").mkdir(parents=True)
    shutil.copytree(ROOT / "pysrc" / "sitegen", folder / "pysrc" / "sitegen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("build.py", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as top:
        clone = fresh_clone(Path(top) / "clone")
        print(f"{sys.executable} (Python {sys.version.split()[0]}), {runs} runs each, fresh clone")
        for args in COMMANDS:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run([sys.executable, "build.py", *args], cwd=clone, capture_output=True)
                times.append((time.perf_counter() - started) * 1000)
            if (clone / ".venv").exists() or (clone / ".cache").exists():
                print(f"build.py {' '.join(args)} set something up", file=sys.stderr)
                return 1
            print(f"  build.py {' '.join(args):<14} median {statistics.median(times):6.0f} ms "
                  f"(min {min(times):.0f}, max {max(times):.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
