"""How the views list a distribution: every token of a small example, the head of a big one.

A table of 50,257 rows helps nobody, so a big example lists its best few
tokens and sums up the others in one row ("+ 50,247 more tokens"), with
their total probability as the bar. Examples keep their tokens best first,
so the head is simply the first rows.
"""
from __future__ import annotations

import numpy as np

from .charts import Row, more_tokens
from .examples import SMALL_ENOUGH, Example

HEAD = 10              # how many tokens of a bigger one are listed


def listed_count(ex: Example) -> int:
    return ex.size if ex.size <= SMALL_ENOUGH else HEAD


def rest_row(ex: Example, probs: np.ndarray, cells: tuple[str, ...] = (), kept: bool = True,
             drawn: np.ndarray | None = None, start: int | None = None, stop: int | None = None,
             note: str = "") -> list[Row]:
    """One row summing up tokens start..stop-1 (default: all after the head), if there are any."""
    start = listed_count(ex) if start is None else start
    stop = ex.size if stop is None else stop
    unlisted = stop - start
    if unlisted <= 0:
        return []
    share = None if drawn is None else float(drawn[start:stop].sum())
    return [Row(more_tokens(unlisted), float(probs[start:stop].sum()), cells, kept=kept, note=note,
                rest=unlisted, drawn=share)]


def example_note(ex: Example) -> str:
    """Say how a big example was made, under its figure."""
    if ex.size <= SMALL_ENOUGH:
        return ""
    return (f"The {ex.size:,} scores are synthetic: {HEAD} named tokens set by hand, the rest "
            "falling off as a power law of their rank.")
