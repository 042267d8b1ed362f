"""Benchmark: how long one sample_token call takes, and the same work in transformers.

Run from the repository root:

    PYTHONPATH=pysrc python bench/bench_sampling.py [--repeats N] [--json PATH]

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

run_cases() needs only numpy, sampling and time.perf_counter, so the page
can run it inside Pyodide and compare with CPython.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

import sampling

VOCAB_SIZES = (50_257, 262_144)
CASES = (
    ("temperature=0.8, top_p=0.95", {"temperature": 0.8, "top_p": 0.95}),
    ("temperature=0.8, top_k=50, top_p=0.95", {"temperature": 0.8, "top_k": 50, "top_p": 0.95}),
)
LOGITS_DESCRIPTION = "standard normal x 3 (numpy default_rng(0)), float64; float32 for transformers"
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "sampling.json"
WARMUP_CALLS = 3


def make_logits(vocab_size: int) -> np.ndarray:
    """The benchmark's logits: standard normal x 3, the same for every run."""
    return np.random.default_rng(0).standard_normal(vocab_size) * 3.0


def time_calls(call, repeats: int) -> list[float]:
    """Seconds taken by each of `repeats` calls, after a few warm-up calls."""
    for _ in range(WARMUP_CALLS):
        call()
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


def run_cases(repeats: int = 100, vocab_sizes=VOCAB_SIZES) -> list[dict]:
    """Time sample_token on every case; only numpy, sampling and perf_counter (Pyodide-safe)."""
    rows = []
    for vocab_size in vocab_sizes:
        logits = make_logits(vocab_size)
        rng = np.random.default_rng(1)
        for case, settings in CASES:
            seconds = time_calls(lambda: sampling.sample_token(logits, rng, **settings), repeats)
            rows.append(summary("sampling (numpy)", vocab_size, case, seconds))
    return rows


def run_transformers_cases(repeats: int = 100, vocab_sizes=VOCAB_SIZES) -> list[dict]:
    """The same cases through transformers' warpers + softmax + torch.multinomial; [] if not installed."""
    try:
        import torch
        from transformers.generation.logits_process import (
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )
    except ImportError:
        return []
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

    rows = []
    for vocab_size in vocab_sizes:
        scores = torch.from_numpy(make_logits(vocab_size).astype(np.float32)).reshape(1, -1)
        for case, settings in CASES:
            chain = warpers(settings)
            seconds = time_calls(lambda: sample(scores, chain), repeats)
            rows.append(summary("transformers warpers (torch CPU)", vocab_size, case, seconds))
    return rows


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

        info.update(torch=torch.__version__, transformers=transformers.__version__, torch_threads=torch.get_num_threads())
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per case (default 200)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the JSON (default {DEFAULT_JSON})")
    args = parser.parse_args(argv)
    ours = run_cases(args.repeats)
    theirs = run_transformers_cases(args.repeats)
    speedups = ratios(ours, theirs)
    print_table(ours + theirs, speedups)
    report = {"logits": LOGITS_DESCRIPTION, "environment": environment(), "results": ours + theirs, "speedups": speedups}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
