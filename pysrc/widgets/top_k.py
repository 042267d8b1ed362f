"""Top-k: keep the k most likely tokens. One k, two prompts, side by side.

Both prompts get the same k, because the point is that one k cannot suit
both: it keeps nearly all the mass of the peaked distribution and a fraction
of the flat one.
"""
from __future__ import annotations

from html import escape

import numpy as np

import sampling

from widgetkit import Number, View, widget
from .charts import Row, percent, prob_table, stats
from .examples import EXAMPLES, SMALL, Example

VOCABULARY = EXAMPLES[SMALL[0]].size   # both small prompts have the same twelve-token vocabulary
assert all(EXAMPLES[key].size == VOCABULARY for key in SMALL)


def kept_by_top_k(ex: Example, top_k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The tokens top-k keeps, their renormalised probabilities, and the mass they had before."""
    stages = sampling.sampling_stages(ex.logits, top_k=top_k)
    before = sampling.softmax(ex.logits)
    return stages.kept, stages.probs, float(before[stages.kept].sum())


def top_k_panel(ex: Example, top_k: int) -> str:
    kept, after, mass = kept_by_top_k(ex, top_k)
    before = sampling.softmax(ex.logits)
    rows = [Row(token, float(p), (percent(float(q)) if k else "\u2014",), kept=bool(k))
            for token, p, q, k in zip(ex.tokens, before, after, kept)]
    table = prob_table(f"{ex.label}: top-{top_k} keeps {percent(mass)} of the mass", ("After top\u2011k",), rows)
    figures = stats([("Kept", f"{int(kept.sum())} of {ex.size}"), ("Mass kept", percent(mass))])
    return f'<div class="panel"><p class="panel-title">{escape(ex.label)}</p>{figures}{table}</div>'


@widget("top_k", "Top-k on both prompts", params=[
    Number("top_k", "Top-k", default=3, min=1, max=VOCABULARY, step=1, integer=True, control="number",
           help=f"A whole number from 1 to {VOCABULARY}: how many tokens survive."),
])
def top_k_view(top_k: int) -> View:
    examples = [EXAMPLES[key] for key in SMALL]
    masses = [kept_by_top_k(ex, top_k)[2] for ex in examples]
    summary = f"Top-{top_k} keeps " + " but ".join(
        f"{percent(mass)} of the mass after {ex.label}" for ex, mass in zip(examples, masses)) + "."
    return View('<div class="pair">' + "".join(top_k_panel(ex, top_k) for ex in examples) + "</div>", summary)
