"""Numbers that describe a distribution: entropy, effective candidates, nucleus size."""

from __future__ import annotations

import numpy as np

from ._checks import check_fraction, check_logits, check_min_tokens, check_probs
from .core import in_play, top_p_keep


def entropy(probs) -> float:
    """Entropy in nats: the average surprise -log p, with 0 * log 0 counted as 0.

    probs may be any non-negative weights with a positive sum (counts from a
    histogram work too): they are normalised first.

    Example: entropy([0.5, 0.5]) -> 0.693... (log 2); entropy([1.0, 0.0]) -> 0.0
    """
    probs = check_probs(probs)
    probs = probs / probs.sum()  # normalise, so counts work as well as probabilities
    log_probs = np.log(probs, out=np.zeros(probs.size), where=probs > 0)  # log 0 left at 0: 0 * log 0 = 0
    return max(0.0, float(-np.sum(probs * log_probs)))  # max() turns -0.0 (one sure token) into 0.0


def effective_candidates(probs) -> float:
    """exp(entropy), the perplexity: how many equally likely tokens would be as uncertain.

    Example: effective_candidates([0.25, 0.25, 0.25, 0.25]) -> 4.0
    """
    return float(np.exp(entropy(probs)))


def nucleus_size(logits, top_p, min_tokens_to_keep=1) -> int:
    """How many tokens apply_top_p(logits, top_p, min_tokens_to_keep) keeps.

    Example: nucleus_size(np.log([0.5, 0.3, 0.2]), 0.6) -> 2
    """
    logits = check_logits(logits)
    top_p = check_fraction("top_p", top_p)
    _, values = in_play(logits)
    return int(top_p_keep(values, top_p, check_min_tokens(min_tokens_to_keep)).size)
