"""Top-p (nucleus): keep the most likely tokens until their probabilities add up to p.

The figure lists the tokens by rank with their running total, draws the
running total as a curve with a line at p, and marks where the nucleus ends.
It takes any example, including the one with GPT-2's full vocabulary, where
the nucleus can hold thousands of tokens.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

import sampling

from widgetkit import Choice, Number, View, widget
from .charts import (RankScale, Row, count, curve_path, note, percent, prob_table, remembered,
                     running_total_chart, stats)
from .examples import ALL_CHOICES, EXAMPLES, SMALL_ENOUGH, Example
from .listing import example_note, listed_count, rest_row


class Nucleus(NamedTuple):
    """What top-p keeps of one example. Tokens are ranked best first, so it is a prefix."""

    probs: np.ndarray     # the distribution before the cut
    running: np.ndarray   # running total of probs, by rank
    after: np.ndarray     # the distribution sampled from: the nucleus, renormalised
    size: int             # how many tokens the nucleus holds

    @property
    def mass(self) -> float:
        return float(self.probs[: self.size].sum())


def nucleus_of(ex: Example, top_p: float) -> Nucleus:
    stages = sampling.sampling_stages(ex.logits, top_p=top_p)
    probs, running = ranked_mass(ex.key)
    return Nucleus(probs, running, stages.probs, int(stages.kept.sum()))


@lru_cache(maxsize=None)   # one per example: they do not depend on p
def ranked_mass(key: str) -> tuple[np.ndarray, np.ndarray]:
    """An example's distribution before the cut, and its running total by rank (read-only)."""
    probs = sampling.softmax(EXAMPLES[key].logits)
    running = np.cumsum(probs)
    probs.flags.writeable = running.flags.writeable = False
    return probs, running


@lru_cache(maxsize=None)
def curve_of(key: str) -> str:
    """The running-total curve of an example, as an SVG path (the same for every p)."""
    running = ranked_mass(key)[1]
    return curve_path(running, RankScale(running.size))


def running_text(ex: Example, total: float) -> str:
    """A running total, precise enough to tell apart the totals on either side of the cut
    (in a long tail, neighbouring tokens differ by thousandths of a percent)."""
    return percent(total, 1 if ex.size <= SMALL_ENOUGH else 3)


def token_row(ex: Example, nuc: Nucleus, i: int) -> Row:
    kept = i < nuc.size
    after = percent(float(nuc.after[i])) if kept else "\u2014"
    return Row(ex.tokens[i], float(nuc.probs[i]), (running_text(ex, float(nuc.running[i])), after),
               kept=kept, note=nucleus_note(kept, i == nuc.size - 1))


def nucleus_note(kept: bool, last: bool) -> str:
    """The classes of a row: the nucleus's rows are marked, and the last of them closes it."""
    return " ".join(c for c in ("nucleus" if kept else "", "cut" if last else "") if c)


def span_row(ex: Example, nuc: Nucleus, start: int, stop: int) -> list[Row]:
    """One row for ranks start..stop-1, all on the same side of the cut."""
    kept = stop <= nuc.size
    after = percent(float(nuc.after[start:stop].sum())) if kept else "\u2014"
    cells = (running_text(ex, float(nuc.running[stop - 1])), after)
    return rest_row(ex, nuc.probs, cells, kept=kept, start=start, stop=stop, note=nucleus_note(kept, False))


def nucleus_rows(ex: Example, nuc: Nucleus) -> list[Row]:
    """Every token of a small example; for a big one the head, the token that crosses p, and sums."""
    head = listed_count(ex)
    rows = [token_row(ex, nuc, i) for i in range(head)]
    if nuc.size <= head:
        return rows + span_row(ex, nuc, head, ex.size)
    last = nuc.size - 1   # the token that carries the total past p
    return rows + span_row(ex, nuc, head, last) + [token_row(ex, nuc, last)] + span_row(ex, nuc, nuc.size, ex.size)


def chart_description(ex: Example, nuc: Nucleus, top_p: float) -> str:
    return (f"Running total of probability by rank after {ex.label}: it reaches p = {top_p:g} at rank "
            f"{count(nuc.size)}, so the nucleus holds {count(nuc.size)} of {count(ex.size)} tokens.")


@widget("top_p", "Top-p (nucleus)", params=[
    Choice("example", "Prompt", default="flat", options=ALL_CHOICES, control="radio"),
    Number("top_p", "Top-p", default=0.9, min=0.0, max=1.0, step=0.01, control="range",
           help="Keep the most likely tokens until their probabilities add up to p."),
])
@remembered
def top_p_view(example: str, top_p: float) -> View:
    ex = EXAMPLES[example]
    nuc = nucleus_of(ex, top_p)
    figures = stats([("Nucleus", f"{count(nuc.size)} of {count(ex.size)} tokens"),
                     ("Mass kept", percent(nuc.mass)),
                     ("Smallest kept", percent(float(nuc.probs[nuc.size - 1]), 3))])
    chart = running_total_chart(nuc.running, top_p, nuc.size, chart_description(ex, nuc, top_p),
                                curve=curve_of(example))
    table = prob_table(f"{ex.label} by rank, with the running total; the nucleus ends at the marked line",
                       ("Running total", "After top\u2011p"), nucleus_rows(ex, nuc))
    summary = (f"With p = {top_p:g}, the nucleus after {ex.label} holds {count(nuc.size)} of "
               f"{count(ex.size)} tokens, {percent(nuc.mass)} of the mass.")
    extra = example_note(ex)
    return View(figures + chart + table + (note(extra) if extra else ""), summary)
