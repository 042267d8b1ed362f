"""How the views list a distribution: every token of a small example, the head of a big one.

A table of 50,257 rows helps nobody, so a big example lists its best few
tokens and sums up the others in one row ("+ 50,247 more tokens"), with
their total probability as the bar. Examples keep their tokens best first,
so the head is simply the first rows.
"""
from __future__ import annotations

import numpy as np

from .charts import Row, rest_label
from .examples import Example

SMALL_ENOUGH = 12      # an example this size or smaller is listed in full
HEAD = 10              # how many tokens of a bigger one are listed


def listed_count(ex: Example) -> int:
    return ex.size if ex.size <= SMALL_ENOUGH else HEAD


def rest_row(ex: Example, probs: np.ndarray, cells: tuple[str, ...] = (), kept: bool = True,
             drawn: np.ndarray | None = None, start: int | None = None) -> list[Row]:
    """The summing row for the tokens from `start` (default: after the head) to the end, if any."""
    start = listed_count(ex) if start is None else start
    unlisted = ex.size - start
    if unlisted <= 0:
        return []
    share = None if drawn is None else float(drawn[start:].sum())
    return [Row(rest_label(unlisted), float(probs[start:].sum()), cells, kept=kept,
                rest=unlisted, drawn=share)]


def example_note(ex: Example) -> str:
    """Say how a big example was made, under its figure."""
    if ex.size <= SMALL_ENOUGH:
        return ""
    return (f"The {ex.size:,} scores are synthetic: {HEAD} named tokens set by hand, the rest "
            "falling off as a power law of their rank.")
