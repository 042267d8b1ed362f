"""What the model hands back: one score per token, and the probabilities softmax makes of them."""
from __future__ import annotations

import numpy as np

import sampling

from widgetkit import Choice, View, widget
from .charts import Row, note, percent, prob_table, stats
from .examples import ALL_CHOICES, EXAMPLES, Example
from .listing import example_note, listed_count, rest_row
from .words import quoted


def weight_text(weight: float) -> str:
    """exp(score), readable at any size: 8,103 / 7.39 / 0.607."""
    if weight >= 100:
        return f"{weight:,.0f}"
    return f"{weight:.2f}" if weight >= 1 else f"{weight:.3f}"


def score_rows(ex: Example, weights: np.ndarray, probs: np.ndarray) -> list[Row]:
    rows = [Row(ex.tokens[i], float(probs[i]), (f"{ex.scores[i]:.2f}", weight_text(weights[i])))
            for i in range(listed_count(ex))]
    rest_weight = float(weights[listed_count(ex):].sum())
    return rows + rest_row(ex, probs, ("", weight_text(rest_weight)))


@widget("distribution", "Scores and probabilities", params=[
    Choice("example", "Prompt", default="peaked", options=ALL_CHOICES, control="radio"),
])
def distribution_view(example: str) -> View:
    ex = EXAMPLES[example]
    probs = sampling.softmax(ex.logits)
    weights = np.exp(ex.logits)   # the scores here are small, so exp() is safe to show as is
    total = float(weights.sum())
    table = prob_table(f"After {ex.label}: probability = exp(score) \u00f7 {weight_text(total)}, "
                       "the sum of every exp(score)", ("Score", "exp(score)"), score_rows(ex, weights, probs))
    figures = stats([("Tokens", f"{ex.size:,}"),
                     ("Sum of exp(score)", weight_text(total)),
                     ("Most likely", f"{quoted(ex.tokens[0])} {percent(float(probs[0]))}")])
    summary = (f"After {ex.label}, {quoted(ex.tokens[0])} has score {ex.scores[0]:.2f} and probability "
               f"{percent(float(probs[0]))}; the next, {quoted(ex.tokens[1])}, has score "
               f"{ex.scores[1]:.2f} and probability {percent(float(probs[1]))}.")
    extra = example_note(ex)
    return View(figures + table + (note(extra) if extra else ""), summary)
