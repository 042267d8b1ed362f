"""From logits to a token: the stages of sampling, and the draw itself.

sample_token and sampling_stages run the same pipeline (temperature, then
top-k, then top-p, then min-p: the order of transformers' generate) and
draw through the same primitive as draw_tokens, so a widget that shows the
stages and a sentence generated token by token never disagree.

Drawing is by inverse CDF: one uniform number u from rng.random() per token,
then the first token whose running probability passes u. Only PCG64's
rng.random, cumsum and searchsorted are used, so a seed gives the same
tokens in CPython and in Pyodide.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_count, check_fraction, check_logits, check_probs, check_rng, check_temperature, check_top_k
from .core import divide, in_play, min_p_keep, probabilities, scatter, token_ids, top_k_keep, top_p_keep


class SamplingStages(NamedTuple):
    """Every stage of one sampling step, as read-only vocabulary-sized arrays.

    logits:   the logits as given.
    scaled:   after temperature. For temperature 0 (greedy) only the first
              index of the maximum keeps its logit; every other token is -inf.
    filtered: after top-k, top-p and min-p, in that order; removed tokens are -inf.
    probs:    the final distribution: softmax of `filtered`, 0 for removed tokens.
    kept:     True for the tokens that survived (finite `filtered`).
    """

    logits: np.ndarray
    scaled: np.ndarray
    filtered: np.ndarray
    probs: np.ndarray
    kept: np.ndarray


def sampling_stages(logits, temperature=1.0, top_k=None, top_p=None, min_p=None) -> SamplingStages:
    """Show each stage of sample_token for the same settings (None means off).

    Example: sampling_stages(np.log([0.5, 0.3, 0.2]), top_k=2).probs -> array([0.625, 0.375, 0.])
    """
    logits = check_logits(logits)
    settings = check_settings(temperature, top_k, top_p, min_p)
    scaled, ids, values = pipeline(logits, *settings)
    size = logits.size
    return SamplingStages(
        logits=read_only(logits.copy()),
        scaled=read_only(scaled),
        filtered=read_only(scatter(ids, values, size, fill=-np.inf)),
        probs=read_only(scatter(ids, probabilities(values), size, fill=0.0)),
        kept=read_only(scatter(ids, True, size, fill=False)),
    )


def sample_token(logits, rng, temperature=1.0, top_k=None, top_p=None, min_p=None) -> int:
    """Choose the next token: temperature, then top-k, top-p, min-p, then one draw.

    None switches a filter off. temperature=0 is greedy: the first index of
    the maximum (it still uses one number from rng, so a sequence of draws
    stays in step whatever the settings). With the same seed, the token
    equals draw_tokens(sampling_stages(...).probs, rng, 1)[0].

    Example: sample_token(np.log([0.5, 0.3, 0.2]), np.random.default_rng(0), temperature=0) -> 0
    """
    logits = check_logits(logits)
    settings = check_settings(temperature, top_k, top_p, min_p)
    check_rng(rng)
    _, ids, values = pipeline(logits, *settings)
    position = inverse_cdf(probabilities(values), rng.random(1))[0]  # one draw among the survivors
    return int(token_ids(ids, position))


def draw_tokens(probs, rng, n) -> np.ndarray:
    """Draw n token ids at once, independently, from a probability vector.

    probs may be any non-negative weights with a positive sum (they are
    normalised by their total). A token of probability 0 is never drawn.

    Example: draw_tokens([0.0, 1.0], np.random.default_rng(0), 3) -> array([1, 1, 1])
    """
    probs = check_probs(probs)
    n = check_count(n)
    check_rng(rng)
    return inverse_cdf(probs, rng.random(n)).astype(np.int64)


def inverse_cdf(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Turn uniform numbers in [0, 1) into token positions drawn from probs.

    Example: inverse_cdf(np.array([0.5, 0.0, 0.5]), np.array([0.2, 0.7])) -> array([0, 2])
    """
    running = np.cumsum(probs)  # the CDF: mass of each token plus all before it
    total = running[-1]  # 1 up to rounding; weights need not be normalised
    positions = np.searchsorted(running, uniforms * total, side="right")  # first token whose CDF passes u
    last = np.searchsorted(running, total, side="left")  # the last token that adds mass (so not a 0)
    return np.minimum(positions, last)  # u * total can round up to total: stay on a real token


def pipeline(logits: np.ndarray, temperature: float, top_k, top_p, min_p):
    """Run checked logits through temperature and the filters.

    Returns the scaled logits and the ids and logits of the surviving tokens
    (ids None: no token was removed, see in_play).

    Example: pipeline(np.log([0.5, 0.3, 0.2]), 1.0, 2, None, None)[1] -> array([0, 1])
    """
    scaled = greedy(logits) if temperature == 0 else divide(logits, temperature)  # 1. temperature
    ids, values = in_play(scaled)  # the tokens still in the running
    if top_k is not None:
        ids, values = narrow(ids, values, top_k_keep(values, top_k))  # 2. top-k
    if top_p is not None:
        ids, values = narrow(ids, values, top_p_keep(values, top_p, 1))  # 3. top-p, among what top-k left
    if min_p is not None:
        ids, values = narrow(ids, values, min_p_keep(values, min_p, 1))  # 4. min-p, against the favourite
    return scaled, ids, values


def greedy(logits: np.ndarray) -> np.ndarray:
    """Temperature 0: the first index of the maximum keeps its logit, all others -inf.

    Example: greedy(np.array([1.0, 3.0, 3.0])) -> array([-inf, 3., -inf])
    """
    best = int(np.argmax(logits))  # argmax returns the first of tied maxima
    return scatter(np.array([best]), logits[best], logits.size, fill=-np.inf)


def narrow(ids: np.ndarray, values: np.ndarray, kept: np.ndarray):
    """Keep only the survivors of one filter.

    Example: narrow(np.array([4, 7]), np.array([1.0, 2.0]), np.array([1])) -> (array([7]), array([2.]))
    """
    return token_ids(ids, kept), values[kept]


def check_settings(temperature, top_k, top_p, min_p):
    """Check sample_token's settings; None means off (temperature None means 1).

    Example: check_settings(1, None, 0.9, None) -> (1.0, None, 0.9, None)
    """
    temperature = 1.0 if temperature is None else check_temperature(temperature, allow_zero=True)
    top_k = None if top_k is None else check_top_k(top_k)
    top_p = None if top_p is None else check_fraction("top_p", top_p)
    min_p = None if min_p is None else check_fraction("min_p", min_p)
    return temperature, top_k, top_p, min_p


def read_only(array: np.ndarray) -> np.ndarray:
    """Mark an array read-only, so a SamplingStages record cannot be changed.

    Example: read_only(np.zeros(2)).flags.writeable -> False
    """
    array.flags.writeable = False
    return array
