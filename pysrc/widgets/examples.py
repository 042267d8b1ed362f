"""The article's example next-token distributions.

Two are small and made up by hand, shaped like what a real model returns, to
make one point each: after "The Eiffel Tower is in" almost all the mass sits on
one token (a peaked distribution); after "My favourite fruit is" it spreads over
many reasonable answers (a flat one). They pretend the vocabulary has twelve
tokens, so every bar fits on a phone.

The third has GPT-2's full vocabulary of 50,257 tokens. Its ten most likely
tokens are named and scored by hand; the other 50,247 are generated: their
scores fall in a straight line against the logarithm of their rank (a power
law, as word frequencies do), which is roughly the shape of a real model's
tail. Nothing in it is random, so every build and every browser gets the same
numbers. Tokens keep their leading space, as GPT-2's do.
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import cached_property

import numpy as np

GPT2_VOCABULARY = 50_257


class RankedTokens(Sequence):
    """The named tokens, then "token #N" for every further rank N up to `size`.

    Made on demand: a view lists a handful of the 50,257, and building them all
    would cost a quarter of a second of the browser's start-up.
    """

    def __init__(self, named: tuple[str, ...], size: int) -> None:
        self.named = named
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self.size)))
        i = operator.index(index)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(f"rank {index} is outside the {self.size:,} tokens")
        return self.named[i] if i < len(self.named) else f"token #{i + 1}"


class Example:
    """One prompt and the model's scores for the tokens that could come next.

    Tokens are listed best first (the views rely on that order to list the
    head of a long distribution and sum up the rest).
    """

    def __init__(self, key: str, prompt: str, tokens: Sequence[str], scores: Sequence[float]):
        self.key = key
        self.prompt = prompt
        self.tokens = tokens
        self.scores = scores   # the model's logits, one per token, highest first

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def label(self) -> str:
        """How the radio buttons name it: the prompt, trailing off."""
        return f"\u201c{self.prompt} \u2026\u201d"

    @cached_property
    def logits(self) -> np.ndarray:
        logits = np.array(self.scores, dtype=np.float64)
        logits.flags.writeable = False  # shared by every view: nobody may change it
        return logits


def power_law_tail(last_score: float, first_rank: int, size: int,
                   gap: float = 0.6, slope: float = 1.3) -> np.ndarray:
    """Scores for ranks first_rank..size: `gap` below the last named token, then
    falling by `slope` per unit of log(rank), so probability ~ rank ** -slope.

    Example: power_law_tail(3.0, 11, 12) -> array([2.4, 2.287...])
    """
    ranks = np.arange(first_rank, size + 1, dtype=np.float64)
    return last_score - gap - slope * np.log(ranks / first_rank)


def with_long_tail(key: str, prompt: str, named: list[tuple[str, float]], size: int) -> Example:
    """An example whose named tokens are followed by a generated tail up to `size` tokens.

    Tail tokens are called by their rank ("token #11"), since they stand for
    no particular word.
    """
    tokens, scores = zip(*named)
    all_scores = np.concatenate([scores, power_law_tail(scores[-1], len(named) + 1, size)])
    all_scores.flags.writeable = False
    return Example(key, prompt, RankedTokens(tokens, size), all_scores)


EXAMPLES = {
    "peaked": Example(
        "peaked", "The Eiffel Tower is in",
        (" Paris", " France", " the", " fact", " central", " Europe", " Las", " a", " need",
         " Texas", " downtown", " my"),
        (9.0, 6.4, 5.1, 4.2, 3.2, 2.9, 1.9, 1.7, 1.3, 1.0, 0.6, -0.5),
    ),
    "flat": Example(
        "flat", "My favourite fruit is",
        (" mango", " the", " apple", " banana", " strawberry", " pineapple", " watermelon",
         " orange", " peach", " kiwi", " cherry", " grapes"),
        (2.1, 2.0, 1.95, 1.8, 1.7, 1.5, 1.45, 1.4, 1.2, 1.0, 0.9, 0.7),
    ),
    "big": with_long_tail(
        "big", "The old lighthouse keeper opened the door and saw",
        [(" a", 6.0), (" the", 5.3), (" his", 4.6), (" nothing", 4.3), (" an", 4.0),
         (" that", 3.7), (" two", 3.4), (" her", 3.3), (" something", 3.2), (" no", 3.0)],
        GPT2_VOCABULARY,
    ),
}

SMALL = ("peaked", "flat")
SMALL_ENOUGH = 12      # an example this size or smaller is listed in full, and its size goes unsaid
ALL_CHOICES = tuple((key, f"{ex.label} ({ex.size:,} tokens)" if ex.size > SMALL_ENOUGH else ex.label)
                    for key, ex in EXAMPLES.items())
