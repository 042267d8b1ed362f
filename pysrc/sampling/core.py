"""Softmax, temperature, the four filters (top-k, top-p, min-p, typical) and the penalties.

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

from ._checks import (check_additive_penalty, check_fraction, check_logits, check_mass, check_min_tokens,
                      check_previous_tokens, check_repetition_penalty, check_temperature, check_top_k)

# How many of the best tokens top-p ranks at first (see nucleus).
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
    ids, values = in_play(logits)  # tokens already removed (-inf) take no part
    kept = top_k_keep(values, k)
    return scatter(token_ids(ids, kept), values[kept], logits.size, fill=-np.inf)  # all others become -inf


def apply_top_p(logits, top_p, min_tokens_to_keep=1) -> np.ndarray:
    """Nucleus filter: keep the most likely tokens until their mass reaches top_p.

    Going down the ranking (see the module notes: by logit, ties lower id
    first), a token is kept when the probability mass strictly above it is
    < top_p, so the token that crosses top_p is kept. A token of probability
    0 is never kept, and top_p=1 removes exactly those (even where the mass
    above a tiny token rounds to 1).
    The min_tokens_to_keep best-ranked tokens always stay, so top_p=0 keeps
    exactly min_tokens_to_keep.

    Example: apply_top_p(np.log([0.5, 0.3, 0.2]), 0.6) -> log of [0.5, 0.3, 0]
    """
    logits = check_logits(logits)
    top_p = check_fraction("top_p", top_p)
    min_tokens_to_keep = check_min_tokens(min_tokens_to_keep)
    ids, values = in_play(logits)  # tokens already removed (-inf) take no part
    kept = top_p_keep(values, top_p, min_tokens_to_keep)
    return scatter(token_ids(ids, kept), values[kept], logits.size, fill=-np.inf)  # all others become -inf


def apply_min_p(logits, min_p, min_tokens_to_keep=1) -> np.ndarray:
    """Remove the tokens less likely than min_p times the favourite's probability.

    A token of probability p is removed when p < min_p * max probability.
    Then the min_tokens_to_keep best-ranked tokens are kept regardless.

    Example: apply_min_p(np.log([0.5, 0.3, 0.2]), 0.5) -> log of [0.5, 0.3, 0] (0.2 < 0.5 * 0.5)
    """
    logits = check_logits(logits)
    min_p = check_fraction("min_p", min_p)
    min_tokens_to_keep = check_min_tokens(min_tokens_to_keep)
    ids, values = in_play(logits)  # tokens already removed (-inf) take no part
    kept = min_p_keep(values, min_p, min_tokens_to_keep)
    return scatter(token_ids(ids, kept), values[kept], logits.size, fill=-np.inf)  # all others become -inf


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
    min_tokens_to_keep = check_min_tokens(min_tokens_to_keep)
    ids, values = in_play(logits)  # tokens already removed (-inf) take no part
    kept = typical_keep(values, mass, min_tokens_to_keep)
    return scatter(token_ids(ids, kept), values[kept], logits.size, fill=-np.inf)  # all others become -inf


def apply_repetition_penalty(logits, previous_tokens, penalty) -> np.ndarray:
    """Make the tokens already in previous_tokens less likely (CTRL's repetition penalty).

    Each token that occurs in previous_tokens, however often, has its logit
    divided by penalty if it is positive and multiplied by it if it is negative,
    so a penalty above 1 always moves it down and 1 changes nothing; other
    tokens keep their logits. penalty must be a finite number > 0.
    The rule of Hugging Face transformers' RepetitionPenaltyLogitsProcessor
    (src/transformers/generation/logits_process.py, https://github.com/huggingface/transformers),
    after Keskar et al. 2019, https://arxiv.org/abs/1909.05858 (about 1.2, transformers' docs
    report them suggesting). Scores that are log-probabilities are all negative, so there the
    penalty raises a seen token's probability to the power penalty before renormalising.
    Unlike transformers, an int penalty (2) is accepted like the float (2.0).

    Example: apply_repetition_penalty(np.log([0.5, 0.3, 0.2]), [1, 1], 2.0) -> [log 0.5, 2 * log 0.3, log 0.2]
    """
    logits = check_logits(logits)
    seen = np.unique(check_previous_tokens(previous_tokens, logits.size))  # each token once, however often it came
    penalty = check_repetition_penalty(penalty)
    scores = logits[seen]
    out = logits.copy()
    with np.errstate(over="ignore"):
        out[seen] = np.where(scores < 0, scores * penalty, scores / penalty)  # both move the score down for penalty > 1
    if np.isposinf(out.max()) or np.isneginf(out.max()):  # a penalty < 1 overflowed a huge logit, or all went to -inf
        raise ValueError(f"penalty {penalty!r} is too far from 1 for these logits: applying it overflows.")
    return out


def apply_frequency_presence_penalty(logits, previous_tokens, frequency_penalty, presence_penalty) -> np.ndarray:
    """Lower each token's logit by how often, and whether, it occurs in previous_tokens.

    A token that occurs c times loses frequency_penalty * c, plus presence_penalty
    once if c > 0; tokens that do not occur keep their logits. Both penalties are
    numbers from -2 to 2 (negative ones encourage repetition), 0 meaning none.
    The rule the OpenAI API documents for its frequency_penalty and presence_penalty
    ("Frequency and presence penalties", https://platform.openai.com/docs/advanced-usage#frequency-and-presence-penalties):
    mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence.

    Example: apply_frequency_presence_penalty(np.array([1.0, 1.0]), [0, 0], 0.5, 0.25) -> array([-0.25, 1.])
    """
    logits = check_logits(logits)
    counts = np.bincount(check_previous_tokens(previous_tokens, logits.size), minlength=logits.size)  # c[j]
    frequency_penalty = check_additive_penalty("frequency_penalty", frequency_penalty)
    presence_penalty = check_additive_penalty("presence_penalty", presence_penalty)
    return logits - frequency_penalty * counts - presence_penalty * (counts > 0)  # -inf stays -inf


# The pieces below work on the tokens in play only: `values` is a 1-D array of
# finite logits, and a "keep" function answers with the positions (into
# `values`, in increasing order) of the tokens it keeps.


def in_play(logits: np.ndarray):
    """Ids and logits of the tokens not yet removed (finite logit), in id order.

    ids is None when no token is removed: then a token's position is its id,
    and neither array needs to be built.

    Example: in_play(np.array([1.0, -np.inf, 2.0])) -> (array([0, 2]), array([1., 2.]))
    """
    if logits.min() > -np.inf:
        return None, logits  # nothing removed: every token is in play, no copy needed
    ids = np.flatnonzero(logits > -np.inf)
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


def probabilities(values: np.ndarray) -> np.ndarray:
    """Softmax of finite logits: exp(logit), divided by the total so they sum to 1.

    Example: probabilities(np.log([1.0, 3.0])) -> array([0.25, 0.75])
    """
    probs = values - values.max()  # shift so the top logit is 0: exp() cannot overflow, ratios stay the same
    np.exp(probs, out=probs)  # e^(logit - top): the top token gets exactly 1, every other less
    probs /= probs.sum()  # divide by the total (at least 1, never 0) so they sum to 1
    return probs


def divide(logits: np.ndarray, temperature: float) -> np.ndarray:
    """logits / temperature, refusing a temperature so small that the top logit overflows.

    A logit so negative that logit / temperature falls below the float range
    becomes -inf, as float division makes it: that token had probability 0.

    Example: divide(np.array([2.0, 1.0]), 2.0) -> array([1. , 0.5])
    """
    with np.errstate(over="ignore", under="ignore"):
        scaled = logits / temperature  # < 1 sharpens the distribution, > 1 flattens it
    if not np.isfinite(scaled.max()):  # the top logit overflowed to +inf (or all fell to -inf)
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
    if top_p == 1 and min_tokens_to_keep == 1:  # every token of probability > 0: no ranking needed
        return np.flatnonzero(probabilities(values) > 0)
    return np.sort(nucleus(values, top_p, min_tokens_to_keep))


def nucleus(values: np.ndarray, top_p: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions top-p keeps, best first, ranking only as far down as needed.

    Sorting a 50,257-token vocabulary to find a nucleus of a few hundred
    tokens is wasted work, so this ranks the FIRST_GUESS best tokens only
    (np.partition finds them without sorting the rest) and looks 4 times
    further down while the ranked tokens hold less than top_p of the mass.
    It keeps exactly the tokens a full sort would.

    Example: nucleus(np.log([0.2, 0.5, 0.3]), 0.6, 1) -> array([1, 2])
    """
    probs = probabilities(values)
    limit = np.inf if top_p == 1 else top_p  # at 1, rounding must not cut off tiny tokens
    m = max(FIRST_GUESS, min_tokens_to_keep)  # rank at least the tokens that must stay
    while True:
        best = ranked(values, m)  # the m best-ranked tokens, best first
        running = np.cumsum(probs[best])  # mass of each token plus all above it
        above = np.concatenate(([0.0], running[:-1]))  # mass strictly above each token
        keep = (above < limit) & (probs[best] > 0)  # so the token that crosses top_p is kept
        keep[:min_tokens_to_keep] = True  # the best few always stay
        if best.size == values.size or running[-1] >= limit:
            return best[keep]  # the cut fell inside what we ranked: the tokens below are all out
        m *= 4  # not enough mass ranked yet: look further down


def min_p_keep(values: np.ndarray, min_p: float, min_tokens_to_keep: int) -> np.ndarray:
    """Positions min-p keeps, in increasing order.

    Example: min_p_keep(np.log([0.5, 0.3, 0.2]), 0.5, 1) -> array([0, 1])
    """
    probs = probabilities(values)
    keep = probs >= min_p * probs.max()  # below min_p times the favourite's probability is out
    if min_tokens_to_keep > 1:  # (the favourite itself always passes, as min_p <= 1)
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
