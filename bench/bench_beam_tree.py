"""Benchmark: how long the beam search tree's view takes in CPython (the goal: under ~20 ms,
so that in Pyodide, a few times slower, a slider step still redraws it promptly).

Run from the repository root, after a build has made the model (`python3 build.py build`):

    PYTHONPATH=pysrc .venv/bin/python bench/bench_beam_tree.py [--repeats N]

For every setting of the figure (3 prompts x widths 2-4 x 1-6 steps) it times the view
function itself (not its cache of recent views), twice: "cold", with the model's cache of
recent next-token distributions emptied first (a setting never seen), and "warm" (the same
setting again, with the distributions cached, as when a slider comes back). It prints the
median and the worst over the settings, in milliseconds, each the best of N repeats (the
machine is shared, and the best of a few runs is the least disturbed).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ngram
from ngram import prepare
from widgets.beam_tree import MAX_STEPS, PROMPTS, beam_tree_view

ROOT = Path(__file__).resolve().parent.parent


def timed(view, model: ngram.Model, cold: bool, **settings) -> float:
    if cold:
        model._cached_logits.cache_clear()
    start = time.perf_counter()
    view(**settings)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    prepare.prepare(ROOT / ".cache")
    model = ngram.default_model()
    view = beam_tree_view.__wrapped__   # the view itself, not the views it remembers
    settings = [{"prompt": p, "beam_width": w, "steps": s}
                for p, _ in PROMPTS for w in (2, 3, 4) for s in range(1, MAX_STEPS + 1)]
    for label, cold in (("cold", True), ("warm", False)):
        times = [min(timed(view, model, cold, **s) for _ in range(args.repeats)) * 1000 for s in settings]
        worst = max(range(len(times)), key=times.__getitem__)
        print(f"{label}: median {statistics.median(times):.1f} ms, worst {times[worst]:.1f} ms "
              f"({settings[worst]}), over {len(settings)} settings")


if __name__ == "__main__":
    main()
