"""Top-k: keep the k most likely tokens. One k, two prompts, side by side.

Both prompts get the same k, because the point is that one k cannot suit
both: it keeps nearly all the mass of the peaked distribution and a fraction
of the flat one.
"""
from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import NamedTuple

import numpy as np

import sampling

from widgetkit import Number, View, widget
from .charts import Row, percent, prob_table, stats
from .examples import EXAMPLES, SMALL, Example

VOCABULARY = EXAMPLES[SMALL[0]].size   # both small prompts have the same twelve-token vocabulary
assert all(EXAMPLES[key].size == VOCABULARY for key in SMALL)


class TopK(NamedTuple):
    """What top-k keeps of one example."""

    before: np.ndarray   # the distribution before the cut
    after: np.ndarray    # the distribution sampled from: the kept tokens, renormalised
    kept: np.ndarray     # which tokens survive
    mass: float          # the probability the kept tokens had before the cut


def kept_by_top_k(ex: Example, top_k: int) -> TopK:
    stages = sampling.sampling_stages(ex.logits, top_k=top_k)
    before = softmax_of(ex.key)
    return TopK(before, stages.probs, stages.kept, float(before[stages.kept].sum()))


@lru_cache(maxsize=None)   # one per example: it does not depend on k
def softmax_of(key: str) -> np.ndarray:
    """An example's distribution before any cut (read-only)."""
    probs = sampling.softmax(EXAMPLES[key].logits)
    probs.flags.writeable = False
    return probs


def top_k_panel(ex: Example, top_k: int, cut: TopK) -> str:
    rows = [Row(token, float(p), (percent(float(q)) if k else "\u2014",), kept=bool(k))
            for token, p, q, k in zip(ex.tokens, cut.before, cut.after, cut.kept)]
    table = prob_table(f"{ex.label}: top-{top_k} keeps {percent(cut.mass)} of the mass", ("After top\u2011k",), rows)
    figures = stats([("Kept", f"{int(cut.kept.sum())} of {ex.size}"), ("Mass kept", percent(cut.mass))])
    return f'<div class="panel"><p class="panel-title">{escape(ex.label)}</p>{figures}{table}</div>'


@widget("top_k", "Top-k on both prompts", params=[
    Number("top_k", "Top-k", default=3, min=1, max=VOCABULARY, step=1, integer=True, control="number",
           help=f"A whole number from 1 to {VOCABULARY}: how many tokens survive."),
])
def top_k_view(top_k: int) -> View:
    examples = [EXAMPLES[key] for key in SMALL]
    cuts = [kept_by_top_k(ex, top_k) for ex in examples]
    summary = f"Top-{top_k} keeps " + " but ".join(
        f"{percent(cut.mass)} of the mass after {ex.label}" for ex, cut in zip(examples, cuts)) + "."
    panels = "".join(top_k_panel(ex, top_k, cut) for ex, cut in zip(examples, cuts))
    return View('<div class="pair">' + panels + "</div>", summary)
