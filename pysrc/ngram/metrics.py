"""Measures of degenerate text: looping tails and lack of variety.

The loop test is the one Holtzman et al. (2020) released with their paper,
in ``metrics/repetition.py`` of https://github.com/ari-holtzman/degen
(commit 3bbf847). For each phrase length from 1 to 90 tokens it counts how
many copies of the text's last phrase of that length stand back to back at
the very end; the length with the most copies wins (the shortest on a tie).
The text ends in repetition when that phrase is there at least twice and is
at least three tokens long, or when it is there more than 50 times (so a
one- or two-token loop counts only once it has run for a long time).
``repeating_tail`` applies the same rule; the code is ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

MAX_PHRASE_TOKENS = 90     # the longest phrase the released code looks for
MIN_PHRASE_TOKENS = 3      # a shorter phrase counts only when it repeats very often ...
MANY_REPEATS = 50          # ... that is, more than this many times
MIN_REPEATS = 2


class RepeatingTail(NamedTuple):
    """A phrase repeated back to back up to the end of a token sequence."""

    start: int  # index of the first token of the first full repeat
    phrase_length: int
    repeats: int


def tail_repeats(sequence: np.ndarray, length: int) -> int:
    """How many copies of the last ``length`` tokens stand back to back at the end (at least 1)."""
    if length >= len(sequence):
        return 1
    same = sequence[length:] == sequence[:-length]
    mismatches = np.flatnonzero(~same)
    # Trailing matches of a token with the one `length` earlier make the end
    # periodic; every `length` of them adds one copy of the phrase.
    periodic = len(same) - (mismatches[-1] + 1 if len(mismatches) else 0)
    return 1 + periodic // length


def repeating_tail(tokens: Sequence[int]) -> RepeatingTail | None:
    """Return the phrase repeating at the very end by the rule above, or None."""
    sequence = np.asarray(tokens)
    n = len(sequence)
    if n == 0:
        return None
    counts = [tail_repeats(sequence, length) for length in range(1, MAX_PHRASE_TOKENS + 1)]
    best = int(np.argmax(counts))      # the first of the largest counts: the shortest phrase
    length, repeats = best + 1, counts[best]
    if repeats >= MIN_REPEATS and (length >= MIN_PHRASE_TOKENS or repeats > MANY_REPEATS):
        return RepeatingTail(n - repeats * length, length, repeats)
    return None


def repetition_start(tokens: Sequence[int]) -> int | None:
    """Return where the repeating tail begins (for highlighting), or None."""
    tail = repeating_tail(tokens)
    return None if tail is None else tail.start


def ends_in_repetition(tokens: Sequence[int]) -> bool:
    """Return whether ``tokens`` end in a loop by the rule above."""
    return repeating_tail(tokens) is not None


def distinct_n(tokens: Sequence[int], n: int) -> float:
    """Return the share of distinct n-grams among all n-grams (0 if there are none)."""
    total = len(tokens) - n + 1
    if total <= 0:
        return 0.0
    grams = {tuple(tokens[i : i + n]) for i in range(total)}
    return len(grams) / total
