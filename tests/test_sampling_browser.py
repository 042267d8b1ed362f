"""The same module, everywhere: sample_token in the page's Pyodide (numpy 2.0.2) draws the
same token sequences as in CPython for the same seed, over several settings."""
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
result = json.dumps({
    "gpt2-sized": [sequence(logits, s, seed=i) for i, s in enumerate(SETTINGS)],
    "small": [sequence(small, s, seed=100 + i) for i, s in enumerate(SETTINGS)],
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
