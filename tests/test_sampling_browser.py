"""The same module, everywhere: sample_token in the page's Pyodide (numpy 2.0.2) draws the
same token sequences as in CPython for the same seed, over several settings, and the penalties
give the same logits, bit for bit, and the same greedy text when fed back step by step."""
from __future__ import annotations

import json

import pytest

from sitegen.inpage import run_python

pytestmark = pytest.mark.browser

# Run word for word in both interpreters; `result` (the last expression) is the JSON of the sequences.
PARITY = """
import json
import numpy as np
import sampling

SETTINGS = [
    dict(),
    dict(temperature=0),
    dict(temperature=0.7),
    dict(temperature=1.3, top_k=40),
    dict(top_p=0.9),
    dict(temperature=0.8, top_k=50, top_p=0.95),
    dict(min_p=0.05),
    dict(temperature=1.5, top_k=200, top_p=0.8, min_p=0.02),
]

def sequence(logits, settings, seed, length=200):
    rng = np.random.default_rng(seed)
    return [int(sampling.sample_token(logits, rng, **settings)) for _ in range(length)]

logits = np.random.default_rng(2024).standard_normal(50_257) * 3.0
small = np.log(np.array([0.4, 0.25, 0.15, 0.1, 0.05, 0.03, 0.02]))
previous = np.random.default_rng(7).integers(0, 5_000, 300)
PENALTIES = [(1.2, 0.0, 0.0), (0.8, 0.0, 0.0), (1.0, 0.5, 0.3), (1.3, -0.7, 1.1)]

def penalized(logits, previous, repetition, frequency, presence):
    out = sampling.apply_repetition_penalty(logits, previous, repetition)
    return sampling.apply_frequency_presence_penalty(out, previous, frequency, presence)

def penalized_greedy(logits, penalties, length=100):
    # Greedy decoding where every chosen token is penalised from then on: the penalties
    # decide each step, so any difference between the interpreters would show in the text.
    chosen = []
    for _ in range(length):
        step = penalized(logits, chosen, *penalties)
        chosen.append(int(sampling.sample_token(step, np.random.default_rng(0), temperature=0)))
    return chosen

result = json.dumps({
    "gpt2-sized": [sequence(logits, s, seed=i) for i, s in enumerate(SETTINGS)],
    "small": [sequence(small, s, seed=100 + i) for i, s in enumerate(SETTINGS)],
    "penalized": [penalized(logits[:5_000], previous, *p).tolist() for p in PENALTIES],
    "penalized-greedy": [penalized_greedy(logits[:500], p) for p in PENALTIES],
    "numpy": np.__version__,
})
result
"""


def in_cpython(source: str) -> str:
    namespace: dict = {}
    exec(source, namespace)
    return namespace["result"]


def test_sample_token_sequences_match_cpython_for_the_same_seed(watched, site_url):
    watched.goto(site_url + "index.html")
    browser_result = json.loads(run_python(watched, PARITY))
    host_result = json.loads(in_cpython(PARITY))
    assert browser_result["numpy"] == "2.0.2"
    assert browser_result["gpt2-sized"] == host_result["gpt2-sized"]
    assert browser_result["small"] == host_result["small"]
    # the settings really differ: greedy repeats one token, the others do not
    assert len(set(host_result["gpt2-sized"][1])) == 1 < len(set(host_result["gpt2-sized"][0]))
    # the penalties: the same floats (JSON keeps every bit of a double), and they change things
    assert browser_result["penalized"] == host_result["penalized"]
    assert browser_result["penalized-greedy"] == host_result["penalized-greedy"]
    assert all(len(set(text)) > 1 for text in host_result["penalized-greedy"][:1])   # 1.2 breaks the repeat
