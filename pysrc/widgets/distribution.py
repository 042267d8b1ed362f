"""What the model hands back: one score per token, and the probabilities softmax makes of them.

The reader can drag any listed token's score (a Numbers parameter edited in the view) and watch
the softmax share the probability out again.
"""
from __future__ import annotations

import numpy as np

import sampling

from widgetkit import Choice, InputError, Numbers, View, widget
from .charts import Row, note, percent, prob_table, stats
from .examples import ALL_CHOICES, EXAMPLES, Example
from .listing import example_note, listed_count, rest_row
from .words import quoted

SCORES = Numbers("scores", "Scores", min=-10.0, max=10.0, step=0.1, max_length=12,
                 reset_by=("example",), reset_label="Reset the scores",
                 help="Drag a token's score bar, or focus it and press the arrow keys "
                      "(with Shift for steps of 1).")


def weight_text(weight: float) -> str:
    """exp(score), readable at any size: 8,103 / 7.39 / 0.607."""
    if weight >= 100:
        return f"{weight:,.0f}"
    return f"{weight:.2f}" if weight >= 1 else f"{weight:.3f}"


def score_bar(score: float) -> str:
    """A score on the scale from SCORES.min to SCORES.max: a bar from 0 to the score, and a knob."""
    def x(value: float) -> float:
        return 100 * (value - SCORES.min) / (SCORES.max - SCORES.min)
    zero, at = x(0.0), x(score)
    left, width = min(zero, at), abs(at - zero)
    return (f'<svg class="score-bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" '
            f'focusable="false" data-edit-track=""><rect class="score-track" width="100" height="10"/>'
            f'<rect class="score-fill" x="{left:.4f}" y="2" width="{width:.4f}" height="6"/>'
            f'<rect class="score-zero" x="{zero - 0.4:.4f}" width="0.8" height="10"/>'
            f'<rect class="score-knob" x="{max(0.0, min(97.0, at - 1.5)):.4f}" width="3" height="10"/></svg>')


def score_cell(i: int, token: str, score: float) -> str:
    text = f"{score:.2f}"
    return SCORES.handle(i, score, f"Score of {quoted(token)}", score_bar(score) +
                         f'<span class="score-text">{text}</span>', valuetext=text)


def edited_logits(ex: Example, scores: tuple[float, ...] | None) -> np.ndarray:
    """The example's scores, with the listed ones replaced by the reader's."""
    if scores is None:
        return ex.logits
    if len(scores) != listed_count(ex):
        raise InputError("scores", f"Scores takes {listed_count(ex)} numbers after {ex.label}, one per "
                                   f"listed token; got {len(scores)}.")
    return np.concatenate([np.array(scores, dtype=np.float64), ex.logits[len(scores):]])


def score_rows(ex: Example, logits: np.ndarray, weights: np.ndarray, probs: np.ndarray) -> list[Row]:
    rows = [Row(ex.tokens[i], float(probs[i]), (score_cell(i, ex.tokens[i], float(logits[i])), weight_text(weights[i])))
            for i in range(listed_count(ex))]
    rest_weight = float(weights[listed_count(ex):].sum())
    return rows + rest_row(ex, probs, ("", weight_text(rest_weight)))


@widget("distribution", "Scores and probabilities", params=[
    Choice("example", "Prompt", default="peaked", options=ALL_CHOICES, control="radio"),
    SCORES,
])
def distribution_view(example: str, scores: tuple[float, ...] | None = None) -> View:
    ex = EXAMPLES[example]
    logits = edited_logits(ex, scores)
    probs = sampling.softmax(logits)
    weights = np.exp(logits)   # the scores here are at most 10, so exp() is safe to show as is
    total = float(weights.sum())
    table = prob_table(f"After {ex.label}: probability = exp(score) \u00f7 {weight_text(total)}, "
                       "the sum of every exp(score)", ("Score", "exp(score)"),
                       score_rows(ex, logits, weights, probs), phone_hides=(1,))
    first, second = (int(i) for i in np.argsort(-probs, kind="stable")[:2])
    figures = stats([("Tokens", f"{ex.size:,}"),
                     ("Sum of exp(score)", weight_text(total)),
                     ("Most likely", f"{quoted(ex.tokens[first])} {percent(float(probs[first]))}")])
    summary = (f"After {ex.label}, {quoted(ex.tokens[first])} has score {logits[first]:.2f} and probability "
               f"{percent(float(probs[first]))}; the next, {quoted(ex.tokens[second])}, has score "
               f"{logits[second]:.2f} and probability {percent(float(probs[second]))}.")
    extra = example_note(ex)
    return View(figures + table + (note(extra) if extra else ""), summary)
