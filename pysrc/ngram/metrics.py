"""Measures of degenerate text: looping tails and lack of variety.

Holtzman et al. (2020, Table 1) count a generation as ending in repetition
when a phrase of at least two tokens repeats at least three times in a row
at its very end.  That is what ``repeating_tail`` looks for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

MIN_PHRASE_TOKENS = 2
MIN_REPEATS = 3


class RepeatingTail(NamedTuple):
    """A phrase repeated back to back up to the end of a token sequence."""

    start: int  # index of the first token of the first full repeat
    phrase_length: int
    repeats: int


def repeating_tail(
    tokens: Sequence[int],
    min_phrase: int = MIN_PHRASE_TOKENS,
    min_repeats: int = MIN_REPEATS,
) -> RepeatingTail | None:
    """Return the longest run of a phrase repeating at the end, or None.

    For each phrase length ``L`` the phrase is the last ``L`` tokens; it
    repeats ``r`` times when the last ``r * L`` tokens are ``r`` copies of
    it.  Among lengths with ``r >= min_repeats`` the one covering the most
    tokens wins (the shortest phrase on a tie, so "a b" x 4 is reported
    rather than "a b a b" x 2).
    """
    sequence = np.asarray(tokens)
    n = len(sequence)
    best: RepeatingTail | None = None
    for length in range(min_phrase, n // min_repeats + 1):
        same = sequence[length:] == sequence[:-length]
        mismatches = np.flatnonzero(~same)
        # Trailing matches of a token with the one `length` earlier make the
        # end periodic; every `length` of them adds one copy of the phrase.
        periodic = len(same) - (mismatches[-1] + 1 if len(mismatches) else 0)
        repeats = 1 + periodic // length
        if repeats >= min_repeats and (best is None or repeats * length > best.repeats * best.phrase_length):
            best = RepeatingTail(n - repeats * length, length, repeats)
    return best


def repetition_start(tokens: Sequence[int]) -> int | None:
    """Return where the repeating tail begins (for highlighting), or None."""
    tail = repeating_tail(tokens)
    return None if tail is None else tail.start


def ends_in_repetition(tokens: Sequence[int]) -> bool:
    """Return whether ``tokens`` end in a phrase (2+ tokens) repeated 3+ times."""
    return repeating_tail(tokens) is not None


def distinct_n(tokens: Sequence[int], n: int) -> float:
    """Return the share of distinct n-grams among all n-grams (0 if there are none)."""
    total = len(tokens) - n + 1
    if total <= 0:
        return 0.0
    grams = {tuple(tokens[i : i + n]) for i in range(total)}
    return len(grams) / total
