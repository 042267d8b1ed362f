"""The article's example next-token distributions.

Made up by hand, but shaped like what a real model returns, to make one point
each: after "The Eiffel Tower is in" almost all the mass sits on one token
(a peaked distribution); after "My favourite fruit is" it spreads over many
reasonable answers (a flat one). Tokens keep their leading space, as GPT-2's do.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Example:
    key: str
    prompt: str
    tokens: tuple[str, ...]
    scores: tuple[float, ...]   # the model's logits, one per token

    @property
    def logits(self) -> np.ndarray:
        return np.array(self.scores, dtype=np.float64)


EXAMPLES = {
    "peaked": Example(
        "peaked", "The Eiffel Tower is in",
        (" Paris", " France", " the", " central", " Europe", " Las", " a", " Texas", " downtown", " my"),
        (9.0, 6.4, 5.1, 3.2, 2.9, 1.9, 1.7, 1.0, 0.6, -0.5),
    ),
    "flat": Example(
        "flat", "My favourite fruit is",
        (" mango", " the", " apple", " banana", " strawberry", " pineapple", " watermelon",
         " orange", " peach", " kiwi", " cherry", " grapes"),
        (2.1, 2.0, 1.95, 1.8, 1.7, 1.5, 1.45, 1.4, 1.2, 1.0, 0.9, 0.7),
    ),
}

EXAMPLE_CHOICES = tuple((key, f"\u201c{ex.prompt} \u2026\u201d") for key, ex in EXAMPLES.items())
