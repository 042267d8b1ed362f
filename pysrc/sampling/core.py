"""Softmax, temperature and the four filters (top-k, top-p, min-p, typical).

Each public function takes a 1-D array of logits (one score per token) and
returns a new array; the input is never changed. A filter removes a token by
setting its logit to -inf, which softmax turns into probability 0. The rules
are those of Hugging Face transformers' logits warpers.

Inside, a filter only looks at the tokens still in play (finite logits) and
answers with the positions it keeps. That lets top-p after top-k work on 50
tokens instead of the whole vocabulary, and lets sample_token chain filters
without rebuilding a vocabulary-sized array after each one.

Ranking rule, wherever an order matters (top-p's cut, min_tokens_to_keep):
tokens are ranked by logit, highest first, and tied logits by token id,
lower id first (a stable sort). Tokens whose probabilities are equal but
whose logits differ (a probability can round to 0) are ranked by logit.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_fraction, check_logits, check_mass, check_min_tokens, check_temperature, check_top_k

# How many top tokens top-p ranks first; it looks 4 times further each time
# that is not enough mass. A nucleus is usually a few hundred tokens.
FIRST_GUESS = 1024


def softmax(logits) -> np.ndarray:
    """Turn logits into probabilities that sum to 1.

    The largest logit is subtracted first, so exp() never overflows: logits
    of +/-1e4 give no NaN and no warning. A -inf logit gets probability 0.

    Example: softmax(np.log([0.5, 0.3, 0.2])) -> array([0.5, 0.3, 0.2])
    """
    logits = check_logits(logits)
    ids, values = in_play(logits)
    return scatter(ids, probabilities(values), logits.size, fill=0.0)


def apply_temperature(logits, temperature) -> np.ndarray:
    """Divide the logits by the temperature.

    Below 1 the distribution gets sharper (the favourite gains), above 1
    flatter. temperature must be a finite number > 0 (an int such as 1 is
    fine); for greedy choice use sample_token(..., temperature=0).

    Example: apply_temperature(np.array([2.0, 1.0]), 0.5) -> array([4., 2.])
    """
    logits = check_logits(logits)
    return divide(logits, check_temperature(temperature))


def apply_top_k(logits, top_k, min_tokens_to_keep=1) -> np.ndarray:
    """Keep the top_k most likely tokens; every other logit becomes -inf.

    A token is kept when its logit is >= the k-th largest logit, so tokens
    tied with the k-th are all kept. k = max(top_k, min_tokens_to_keep);
    a k beyond the vocabulary keeps everything.

    Example: apply_top_k(np.log([0.5, 0.3, 0.2]), 2) -> log of [0.5, 0.3, 0], i.e. [-0.69, -1.2, -inf]
    """
    logits = check_logits(logits)
    k = max(check_top_k(top_k), check_min_tokens(min_tokens_to_keep))
    return filtered(logits, top_k_keep, k)


def apply_top_p(logits, top_p, min_tokens_to_keep=1) -> np.ndarray:
    """Nucleus filter: keep the most likely tokens until their mass reaches top_p.

    Going down the ranking (see the module notes: by logit, ties lower id
    first), a token is kept when the probability mass strictly above it is
    < top_p, so the token that crosses top_p is kept. A token of probability
    0 is never kept, so top_p=1 removes exactly the zero-probability tokens.
    The min_tokens_to_keep best-ranked tokens always stay, so top_p=0 keeps
    exactly min_tokens_to_keep.

    Example: apply_top_p(np.log([0.5, 0.3, 0.2]), 0.6) -> log of [0.5, 0.3, 0]
    """
    logits = check_logits(logits)
    top_p = check_fraction("top_p", top_p)
    return filtered(logits, top_p_keep, top_p, check_min_tokens(min_tokens_to_keep))


def apply_min_p(logits, min_p, min_tokens_to_keep=1) -> np.ndarray:
    """Remove the tokens less likely than min_p times the favourite's probability.

    A token of probability p is removed when p < min_p * max probability.
    Then the min_tokens_to_keep best-ranked tokens are kept regardless.

    Example: apply_min_p(np.log([0.5, 0.3, 0.2]), 0.5) -> log of [0.5, 0.3, 0] (0.2 < 0.5 * 0.5)
    """
    logits = check_logits(logits)
    min_p = check_fraction("min_p", min_p)
    return filtered(logits, min_p_keep, min_p, check_min_tokens(min_tokens_to_keep))


def apply_typical(logits, mass, min_tokens_to_keep=1) -> np.ndarray:
    """Locally typical filter: keep the tokens whose surprise is close to the average.

    The surprise of a token is -log p; the entropy H is the average surprise.
    Tokens are ranked by |-log p - H| (ties lower id first), and kept down the
    ranking up to and including the token whose running mass reaches mass,
    together with any token as close to H as that one. The first
    min_tokens_to_keep of the ranking always stay. mass is strictly between
    0 and 1.

    Example: apply_typical(np.log([0.5, 0.3, 0.2]), 0.3) -> log of [0, 0.3, 0]: -log 0.3 = 1.20 is closest to H = 1.03
    """
    logits = check_logits(logits)
    mass = check_mass(mass)
    return filtered(logits, typical_keep, mass, check_min_tokens(min_tokens_to_keep))


# The pieces below work on the tokens in play only: `values` is a 1-D array of
# finite logits, and a "keep" function answers with the positions (into
# `values`, in increasing order) of the tokens it keeps.


def in_play(logits: np.ndarray):
    """Ids and logits of the tokens not yet removed (finite logit), in id order.

    ids is None when no token is removed: then a token's position is its id,
    and neither array needs to be built.

    Example: in_play(np.array([1.0, -np.inf, 2.0])) -> (array([0, 2]), array([1., 2.]))
    """
    finite = logits > -np.inf
    if finite.all():
        return None, logits  # nothing removed: every token is in play, no copy needed
    ids = np.flatnonzero(finite)
    return ids, logits[ids]


def token_ids(ids, positions):
    """The token ids at some positions among the tokens in play (see in_play).

    Example: token_ids(np.array([4, 7, 9]), np.array([0, 2])) -> array([4, 9]); token_ids(None, 5) -> 5
    """
    return positions if ids is None else ids[positions]


def scatter(ids, values, size: int, fill) -> np.ndarray:
    """A vocabulary-sized array holding `values` at `ids` (None: all) and `fill` elsewhere.

    Example: scatter(np.array([2]), 5.0, 3, fill=0.0) -> array([0., 0., 5.])
    """
    out = np.full(size, fill)
    out[slice(None) if ids is None else ids] = values
    return out


def filtered(logits: np.ndarray, keep, *settings) -> np.ndarray:
    """Apply one keep function to checked logits; removed tokens become -inf.

    Example: filtered(np.array([3.0, 1.0, 2.0]), top_k_keep, 2) -> array([3., -inf, 2.])
    """
    ids, values = in_play(logits)
    kept = keep(values, *settings)
    return scatter(token_ids(ids, kept), values[kept], logits.size, fill=-np.inf)


def probabilities(values: np.ndarray) -> np.ndarray:
    """Softmax of finite logits.

    Example: probabilities(np.log([1.0, 3.0])) -> array([0.25, 0.75])
    """
    probs = values - values.max()  # shift so the top logit is 0: exp() cannot overflow
    np.exp(probs, out=probs)  # weights in (0, 1], the top one exactly 1 (in place: no second big array)
    probs /= probs.sum()  # normalise; the sum is at least 1, so this never divides by 0
    return probs


def divide(logits: np.ndarray, temperature: float) -> np.ndarray:
    """logits / temperature, refusing a temperature so small that it overflows.

    Example: divide(np.array([2.0, 1.0]), 2.0) -> array([1. , 0.5])
    """
    with np.errstate(over="ignore", under="ignore"):
        scaled = logits / temperature  # < 1 sharpens the distribution, > 1 flattens it
    if temperature < 1 and np.count_nonzero(np.isinf(scaled)) != np.count_nonzero(np.isinf(logits)):
        raise ValueError(
            f"temperature {temperature!r} is too small for these logits: dividing by it overflows. "
            "Use a larger temperature, or temperature=0 for greedy choice."
        )
    return scaled


def ranked(values: np.ndarray, m: int) -> np.ndarray:
    """Positions of the m best-ranked tokens (and any tied with the m-th), best first.

    Ranking: highest logit first, tied logits lower id first. Only these
    tokens are sorted, not the whole vocabulary.

    Example: ranked(np.array([1.0, 3.0, 3.0, 2.0]), 2) -> array([1, 2])
    """
    if m < values.size:
        mth_largest = np.partition(values, values.size - m)[values.size - m]  # no full sort needed
        candidates = np.flatnonzero(values >= mth_largest)  # in id order, ties with the m-th included
    else:
        candidates = np.arange(values.size)
    return candidates[np.argsort(-values[candidates], kind="stable")]  # stable: tied logits keep id order


def top_k_keep(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the tokens whose logit is >= the k-th largest.

    Example: top_k_keep(np.array([1.0, 3.0, 3.0, 2.0]), 1) -> array([1, 2])
    """
    if k >= values.size:
        return np.arange(values.size)  # k covers every token in play
    kth_largest = np.partition(values, values.size - k)[values.size - k]  # the k-th largest, found without a sort
    return np.flatnonzero(values >= kth_largest)  # ties with the k-th are all kept


def top_p_keep(values: np.ndarray, top_p: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions top-p keeps, in increasing order.

    Example: top_p_keep(np.log([0.2, 0.5, 0.3]), 0.6, 1) -> array([1, 2])
    """
    return np.sort(nucleus(values, top_p, min_tokens_to_keep))


def nucleus(values: np.ndarray, top_p: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions top-p keeps, best first, ranking only as far down as needed.

    Example: nucleus(np.log([0.2, 0.5, 0.3]), 0.6, 1) -> array([1, 2])
    """
    probs = probabilities(values)
    m = max(FIRST_GUESS, min_tokens_to_keep)
    while True:
        best = ranked(values, m)  # the m best-ranked tokens, best first
        running = np.cumsum(probs[best])  # mass of each token plus all above it
        above = np.concatenate(([0.0], running[:-1]))  # mass strictly above each token
        keep = (above < top_p) & (probs[best] > 0)  # so the token that crosses top_p is kept
        keep[:min_tokens_to_keep] = True  # the best few always stay
        if best.size == values.size or (running[-1] >= top_p and best.size >= min_tokens_to_keep):
            return best[keep]  # the cut fell inside what we ranked: the tokens below are all out
        m *= 4  # not enough mass ranked yet: look further down


def min_p_keep(values: np.ndarray, min_p: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions min-p keeps, in increasing order.

    Example: min_p_keep(np.log([0.5, 0.3, 0.2]), 0.5, 1) -> array([0, 1])
    """
    probs = probabilities(values)
    keep = probs >= min_p * probs.max()  # below min_p times the favourite's probability is out
    keep[ranked(values, min_tokens_to_keep)[:min_tokens_to_keep]] = True  # the best few stay regardless
    return np.flatnonzero(keep)


def typical_keep(values: np.ndarray, mass: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions locally typical sampling keeps, in increasing order.

    Example: typical_keep(np.log([0.5, 0.3, 0.2]), 0.5, 1) -> array([0, 1])
    """
    shifted = values - values.max()  # the top logit becomes 0, so exp() cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum())  # log-softmax: finite even where p rounds to 0
    probs = np.exp(log_probs)
    entropy = -np.sum(probs * log_probs)  # H: the average surprise -log p
    distance = np.abs(-log_probs - entropy)  # how far each token's surprise is from H
    order = np.argsort(distance, kind="stable")  # most typical first, ties lower id first
    running = np.cumsum(probs[order])  # mass of each token plus all more typical ones
    crossing = min(np.count_nonzero(running < mass), values.size - 1)  # first token whose running mass reaches mass
    keep = distance <= distance[order[crossing]]  # it and everything at least as typical
    keep[order[:min_tokens_to_keep]] = True  # the most typical few always stay
    return np.flatnonzero(keep)
