"""Benchmark: how long one sample_token call takes, and the same work in transformers.

Run from the repository root:

    PYTHONPATH=pysrc .venv/bin/python bench/bench_sampling.py [--repeats N] [--rounds R] [--json PATH] [--no-browser]

It prints milliseconds per call (median, min, max over the repeats) of
sample_token with temperature=0.8, top_p=0.95 and with temperature=0.8,
top_k=50, top_p=0.95, at vocabularies of 50,257 (GPT-2) and 262,144 tokens.
Where torch and transformers import, it times the same work through
transformers' warpers (TemperatureLogitsWarper, TopKLogitsWarper,
TopPLogitsWarper, then softmax and torch.multinomial) in the same run and
prints the ratio. The figures also go to bench/results/sampling.json.

The logits are random: standard normal x 3, one fixed vector per vocabulary
size (seed 0). Ours get them as float64 numpy arrays; transformers gets the
same numbers as a float32 torch tensor of shape (1, vocabulary), as a model
hands them over.

Both are timed in the same process, in alternating rounds (so a busy moment
on a shared machine hits both), after every case has run a few times (see
warm_up), each on one thread.

run_cases() needs only numpy, sampling and time.perf_counter, so the page
can run it inside Pyodide and compare with CPython.

To include transformers, run it with a Python that has torch (CPU) and
transformers, e.g. a throwaway Python 3.11 venv with
`pip install torch==2.13.0 transformers numpy`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

import sampling

VOCAB_SIZES = (50_257, 262_144)
CASES = (
    ("temperature=0.8, top_p=0.95", {"temperature": 0.8, "top_p": 0.95}),
    ("temperature=0.8, top_k=50, top_p=0.95", {"temperature": 0.8, "top_k": 50, "top_p": 0.95}),
)
LOGITS_DESCRIPTION = "standard normal x 3 (numpy default_rng(0)), float64; float32 for transformers"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "sampling.json"
WARMUP_CALLS = 3
OURS = "sampling (numpy)"
THEIRS = "transformers warpers (torch CPU)"


def make_logits(vocab_size: int) -> np.ndarray:
    """The benchmark's logits: standard normal x 3, the same for every run."""
    return np.random.default_rng(0).standard_normal(vocab_size) * 3.0


def time_calls(call, repeats: int) -> list[float]:
    """Seconds taken by each of `repeats` calls."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def summary(implementation: str, vocab_size: int, case: str, seconds: list[float]) -> dict:
    """One result row: milliseconds per call (median, min, max)."""
    ms = np.array(seconds) * 1000.0
    return {
        "implementation": implementation,
        "vocab_size": vocab_size,
        "case": case,
        "repeats": len(seconds),
        "median_ms": float(np.median(ms)),
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
    }


def our_calls(vocab_sizes=VOCAB_SIZES) -> list[tuple[int, str, object]]:
    """(vocab size, case, call) for every case, each call one sample_token."""
    calls = []
    for vocab_size in vocab_sizes:
        logits = make_logits(vocab_size)
        rng = np.random.default_rng(1)
        for case, settings in CASES:
            calls.append((vocab_size, case, partial(sampling.sample_token, logits, rng, **settings)))
    return calls


def warm_up(calls) -> None:
    """Run every call a few times before timing anything.

    Besides the usual warm-up, this leaves the memory allocator in the
    state of a long-running process: glibc returns freed memory to the kernel
    until it has seen a large block freed, and page-faulting it back costs
    ~0.6 ms per call at 50,257 tokens on this VM (for both libraries).
    """
    for _ in range(WARMUP_CALLS):
        for _, _, call in calls:
            call()


def run_cases(repeats: int = 100, vocab_sizes=VOCAB_SIZES) -> list[dict]:
    """Time sample_token on every case; only numpy, sampling and perf_counter (Pyodide-safe)."""
    calls = our_calls(vocab_sizes)
    warm_up(calls)
    return [summary(OURS, size, case, time_calls(call, repeats)) for size, case, call in calls]


def transformers_calls(vocab_sizes=VOCAB_SIZES) -> list[tuple[int, str, object]]:
    """The same cases through transformers' warpers + softmax + torch.multinomial; [] if not installed.

    torch runs on one thread, like numpy here: on this 2-core machine, shared
    with other work, two torch threads were up to 8x slower, not faster.
    """
    try:
        import torch
        from transformers.generation.logits_process import (
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )
    except ImportError:
        return []
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.zeros((1, 1), dtype=torch.long)  # the warpers ignore it

    def warpers(settings):  # built once per case, as generate() does
        chain = [TemperatureLogitsWarper(settings["temperature"])]
        if "top_k" in settings:
            chain.append(TopKLogitsWarper(settings["top_k"]))
        return chain + [TopPLogitsWarper(settings["top_p"])]

    def sample(scores, chain):
        for warper in chain:
            scores = warper(input_ids, scores)
        return torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)

    calls = []
    for vocab_size in vocab_sizes:
        scores = torch.from_numpy(make_logits(vocab_size).astype(np.float32)).reshape(1, -1)
        for case, settings in CASES:
            calls.append((vocab_size, case, partial(sample, scores, warpers(settings))))
    return calls


def run_interleaved(repeats: int, rounds: int) -> tuple[list[dict], list[dict]]:
    """Time ours and transformers' in alternating rounds, so a busy moment hits both."""
    groups = {OURS: our_calls(), THEIRS: transformers_calls()}
    warm_up(groups[OURS] + groups[THEIRS])
    seconds = {(name, size, case): [] for name, calls in groups.items() for size, case, _ in calls}
    for _ in range(rounds):
        for name, calls in groups.items():
            for size, case, call in calls:
                seconds[(name, size, case)] += time_calls(call, max(1, repeats // rounds))
    rows = {name: [] for name in groups}
    for (name, size, case), secs in seconds.items():
        rows[name].append(summary(name, size, case, secs))
    return rows[OURS], rows[THEIRS]


def ratios(ours: list[dict], theirs: list[dict]) -> list[dict]:
    """transformers' median time over ours, for each case both ran."""
    by_key = {(row["vocab_size"], row["case"]): row for row in theirs}
    out = []
    for row in ours:
        other = by_key.get((row["vocab_size"], row["case"]))
        if other is not None:
            speedup = other["median_ms"] / row["median_ms"]
            out.append({"vocab_size": row["vocab_size"], "case": row["case"], "speedup": speedup})
    return out


def environment() -> dict:
    """Versions and machine, so figures from different runs can be compared."""
    info = {"python": platform.python_version(), "numpy": np.__version__, "machine": platform.machine()}
    try:
        import torch
        import transformers

        info.update(torch=torch.__version__, transformers=transformers.__version__)
        info.update(torch_threads=torch.get_num_threads())
    except ImportError:
        info.update(torch=None, transformers=None)
    return info


def print_table(rows: list[dict], speedups: list[dict]) -> None:
    """Print one line per result, then the ratios."""
    print(f"logits: {LOGITS_DESCRIPTION}")
    print(f"{'implementation':34} {'vocab':>8}  {'case':40} {'median':>8} {'min':>8} {'max':>8}  (ms per call)")
    for row in rows:
        print(
            f"{row['implementation']:34} {row['vocab_size']:>8}  {row['case']:40} "
            f"{row['median_ms']:8.3f} {row['min_ms']:8.3f} {row['max_ms']:8.3f}"
        )
    for item in speedups:
        print(f"speedup vs transformers (median): {item['vocab_size']:>8}  {item['case']:40} {item['speedup']:6.1f}x")
    if not speedups:
        print("transformers/torch not importable here: only our figures were measured.")


def run_in_browser(repeats: int) -> list[dict]:
    """run_cases inside the built site's Pyodide, in headless Chromium (needs _site/ and Playwright)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "pysrc"))
    from sitegen.browser import launch_options
    from sitegen.inpage import run_python
    from sitegen.serve import serving

    site = ROOT / "_site"
    if not (site / "index.html").exists():
        raise SystemExit("Build the site first (python3 build.py build) to measure in the browser.")
    # This very file, loaded as a module inside Pyodide; then its run_cases.
    source = (Path(__file__).read_text()
              .replace("from __future__ import annotations\n",
                       "from __future__ import annotations\n__file__ = 'bench_sampling.py'\n", 1)
              .replace('if __name__ == "__main__":', "if False:"))
    source += f"\nimport json as _json\n_json.dumps(run_cases({repeats}))\n"
    with serving(site) as url, sync_playwright() as p:
        browser = p.chromium.launch(**launch_options())
        page = browser.new_page()
        page.goto(url + "index.html")
        rows = json.loads(run_python(page, source))
        browser.close()
    for row in rows:
        row["implementation"] = "sampling in Pyodide 0.27.7 (Chromium)"
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per case (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds for the repeats (default 5)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="JSON output (default bench/results/)")
    parser.add_argument("--no-browser", action="store_true", help="skip the measurement in Pyodide")
    args = parser.parse_args(argv)
    ours, theirs = run_interleaved(args.repeats, args.rounds)
    if not args.no_browser:
        ours += run_in_browser(args.repeats)
    speedups = ratios(ours, theirs)
    print_table(ours + theirs, speedups)
    report = {"logits": LOGITS_DESCRIPTION, "environment": environment(), "results": ours + theirs}
    report["speedups"] = speedups
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
