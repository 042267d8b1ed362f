"""Specification of the sampling core, written as tests.

Logits are built as np.log(probs), so every expectation reads as
probabilities. Every call goes through `unchanged`, which checks the input
array is the same afterwards. Property tests (hypothesis) cover random
logits with ties, -inf entries and huge values.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sampling
import sampling.core
from sampling import (
    apply_frequency_presence_penalty,
    apply_min_p,
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    apply_typical,
    draw_tokens,
    effective_candidates,
    entropy,
    nucleus_size,
    sample_token,
    sampling_stages,
    softmax,
)
from sampling.draw import inverse_cdf

PROPERTY = settings(max_examples=40, deadline=None)
THOROUGH = settings(max_examples=150, deadline=None)  # for the fast top-p against its reference


# ---------------------------------------------------------------- helpers


def logits_of(*probs):
    """Logits whose softmax is `probs` (a 0 becomes -inf)."""
    with np.errstate(divide="ignore"):
        return np.log(np.array(probs, dtype=np.float64))


def unchanged(function, logits, *args, **kwargs):
    """Call function(logits, ...) and check it left the input array as it was."""
    before = np.array(logits, copy=True)
    result = function(logits, *args, **kwargs)
    assert np.array_equal(np.asarray(logits), before, equal_nan=True), f"{function.__name__} changed its input"
    return result


def kept(filtered_logits):
    """Which tokens a filter kept: those with a finite logit."""
    return np.isfinite(filtered_logits)


def rng(seed=0):
    return np.random.default_rng(seed)


@contextmanager
def first_guess(m):
    """Make top-p rank only m tokens at first, so small tests exercise its growing search."""
    saved = sampling.core.FIRST_GUESS
    sampling.core.FIRST_GUESS = m
    try:
        yield
    finally:
        sampling.core.FIRST_GUESS = saved


def reference_top_p(logits, top_p, min_tokens_to_keep=1):
    """Top-p written plainly with a full sort, to check the fast partial-selection one.

    Rank every token (highest logit first, ties lower id first), walk down
    the ranking and keep a token while the mass strictly above it is < top_p
    (tokens of probability 0 never, the first min_tokens_to_keep always; at
    top_p = 1 every token of probability > 0).
    """
    probs = softmax(logits)
    out = np.full(logits.size, -np.inf)
    mass_above = 0.0
    for rank, token in enumerate(np.argsort(-logits, kind="stable")):
        if rank < min_tokens_to_keep or ((mass_above < top_p or top_p == 1) and probs[token] > 0):
            out[token] = logits[token]
        mass_above += probs[token]
    return out


@st.composite
def logits_arrays(draw, max_size=40):
    """1-D logits with at least one finite entry: continuous, tied, huge, or partly -inf."""
    size = draw(st.integers(1, max_size))
    kind = draw(st.sampled_from(["continuous", "ties", "huge"]))
    if kind == "continuous":
        element = st.floats(-20, 20, allow_nan=False)
    elif kind == "ties":
        element = st.sampled_from([-3.0, -1.0, 0.0, 0.5, 2.0])
    else:
        element = st.sampled_from([-1e4, -50.0, 0.0, 1e4, 1e4 - 1.0])
    values = np.array(draw(st.lists(element, min_size=size, max_size=size)))
    removed = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    removed[draw(st.integers(0, size - 1))] = False  # at least one token stays in play
    return np.where(removed, -np.inf, values)


fractions = st.floats(0, 1)
min_keeps = st.integers(1, 4)


# ---------------------------------------------------------------- softmax


def test_softmax_recovers_probabilities():
    assert np.allclose(unchanged(softmax, logits_of(0.5, 0.3, 0.2)), [0.5, 0.3, 0.2])


def test_softmax_minus_inf_gets_probability_zero():
    probs = unchanged(softmax, logits_of(0.5, 0.0, 0.5))
    assert probs[1] == 0.0 and np.allclose(probs, [0.5, 0.0, 0.5])


@pytest.mark.parametrize(
    "logits",
    [[1e4, -1e4], [1e4, 1e4 - 1.0], [-1e4, -1e4, -1e4], [1e4, -np.inf, -1e4], [1e300, -1e300]],
)
def test_softmax_huge_logits_give_no_nan_and_no_warning(logits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probs = unchanged(softmax, np.array(logits))
    assert not np.isnan(probs).any()
    assert probs.sum() == pytest.approx(1.0)


def test_softmax_accepts_lists_and_float32():
    assert np.allclose(softmax([0.0, 0.0]), [0.5, 0.5])
    assert softmax(np.zeros(2, dtype=np.float32)).dtype == np.float64


@PROPERTY
@given(logits_arrays())
def test_softmax_sums_to_one(logits):
    probs = unchanged(softmax, logits)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(probs[logits == -np.inf] == 0.0)


# ---------------------------------------------------------------- temperature


def test_apply_temperature_divides_the_logits():
    assert np.array_equal(unchanged(apply_temperature, np.array([2.0, 1.0, -np.inf]), 0.5), [4.0, 2.0, -np.inf])


def test_apply_temperature_accepts_an_int_and_returns_a_new_array():
    logits = logits_of(0.5, 0.3, 0.2)
    scaled = unchanged(apply_temperature, logits, 1)
    assert np.array_equal(scaled, logits) and scaled is not logits


def test_apply_temperature_below_one_sharpens_above_one_flattens():
    logits = logits_of(0.5, 0.3, 0.2)
    cold, hot = softmax(apply_temperature(logits, 0.5)), softmax(apply_temperature(logits, 2.0))
    assert entropy(cold) < entropy(softmax(logits)) < entropy(hot)


def test_apply_temperature_too_small_to_divide_by_is_refused():
    with pytest.raises(ValueError, match="temperature"):
        unchanged(apply_temperature, np.array([1e300, 0.0]), 1e-10)


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, math.nan, math.inf, True, "1", None])
def test_apply_temperature_rejects(temperature):
    with pytest.raises(ValueError, match="temperature"):
        unchanged(apply_temperature, logits_of(0.5, 0.5), temperature)


# ---------------------------------------------------------------- top-k


@pytest.mark.parametrize(
    "probs, top_k, min_tokens_to_keep, expected",
    [
        ([0.4, 0.3, 0.2, 0.1], 2, 1, [1, 1, 0, 0]),
        ([0.1, 0.4, 0.2, 0.3], 1, 1, [0, 1, 0, 0]),
        ([0.3, 0.3, 0.3, 0.1], 2, 1, [1, 1, 1, 0]),  # ties at the k-th value are all kept
        ([0.4, 0.3, 0.2, 0.1], 4, 1, [1, 1, 1, 1]),  # k = vocabulary
        ([0.4, 0.3, 0.2, 0.1], 99, 1, [1, 1, 1, 1]),  # k > vocabulary
        ([0.4, 0.3, 0.2, 0.1], 1, 3, [1, 1, 1, 0]),  # min_tokens_to_keep raises k
        ([0.5, 0.0, 0.5, 0.0], 3, 1, [1, 0, 1, 0]),  # -inf tokens stay removed
    ],
)
def test_apply_top_k_cases(probs, top_k, min_tokens_to_keep, expected):
    logits = logits_of(*probs)
    out = unchanged(apply_top_k, logits, top_k, min_tokens_to_keep)
    assert np.array_equal(kept(out), np.array(expected, dtype=bool))
    assert np.array_equal(out[kept(out)], logits[kept(out)])  # kept logits are not changed


def test_apply_top_k_huge_logits():
    out = unchanged(apply_top_k, np.array([1e4, -1e4, 1e4 - 1.0]), 2)
    assert np.array_equal(kept(out), [True, False, True])


@pytest.mark.parametrize("top_k", [np.int64(2), np.int32(2), 2])
def test_apply_top_k_accepts_numpy_integers(top_k):
    assert kept(unchanged(apply_top_k, logits_of(0.5, 0.3, 0.2), top_k)).sum() == 2


@pytest.mark.parametrize("top_k", [0, -1, 2.5, 2.0, np.float64(2), True, np.bool_(True), math.nan, "2", None])
def test_apply_top_k_rejects(top_k):
    with pytest.raises(ValueError, match="top_k"):
        unchanged(apply_top_k, logits_of(0.5, 0.3, 0.2), top_k)


@PROPERTY
@given(logits_arrays(), st.integers(1, 50), min_keeps)
def test_apply_top_k_keeps_at_least_k_and_never_a_worse_token(logits, top_k, min_tokens_to_keep):
    out = unchanged(apply_top_k, logits, top_k, min_tokens_to_keep)
    in_play = np.isfinite(logits)
    assert kept(out).sum() >= min(max(top_k, min_tokens_to_keep), in_play.sum())
    dropped = in_play & ~kept(out)
    if dropped.any():
        assert logits[dropped].max() < out[kept(out)].min()


# ---------------------------------------------------------------- top-p


@pytest.mark.parametrize(
    "probs, top_p, min_tokens_to_keep, expected",
    [
        ([0.5, 0.3, 0.2], 0.6, 1, [1, 1, 0]),  # 0.3 crosses 0.6 and is kept
        ([0.5, 0.3, 0.2], 0.85, 1, [1, 1, 1]),
        ([0.2, 0.5, 0.3], 0.4, 1, [0, 1, 0]),
        ([0.3, 0.3, 0.3, 0.1], 0.5, 1, [1, 1, 0, 0]),  # tie: lower id first
        ([0.1, 0.3, 0.3, 0.3], 0.5, 1, [0, 1, 1, 0]),
        ([0.5, 0.3, 0.2], 1.0, 1, [1, 1, 1]),  # p = 1 keeps every token of probability > 0
        ([0.5, 0.0, 0.5, 0.0], 1.0, 1, [1, 0, 1, 0]),  # ...and drops those of probability 0
        ([0.5, 0.3, 0.2], 0.0, 1, [1, 0, 0]),  # p = 0 keeps min_tokens_to_keep
        ([0.2, 0.3, 0.5], 0.0, 2, [0, 1, 1]),
        ([0.5, 0.3, 0.2], 0.1, 3, [1, 1, 1]),  # min_tokens_to_keep wins over p
        ([0.5, 0.0, 0.3, 0.2], 0.6, 1, [1, 0, 1, 0]),  # -inf tokens take no part
    ],
)
def test_apply_top_p_cases(probs, top_p, min_tokens_to_keep, expected):
    logits = logits_of(*probs)
    out = unchanged(apply_top_p, logits, top_p, min_tokens_to_keep)
    assert np.array_equal(kept(out), np.array(expected, dtype=bool))
    assert np.array_equal(out[kept(out)], logits[kept(out)])


@pytest.mark.parametrize(
    "logits, top_p, expected",
    [
        ([1e4, -1e4, 1e4], 0.5, [1, 0, 0]),  # exact halves: the tied token 2 has 0.5 above it
        ([1e4, -1e4, 1e4], 0.75, [1, 0, 1]),
        ([0.0, -1e4], 1.0, [1, 0]),  # exp(-1e4) rounds to probability 0: removed even at p = 1
        ([0.0, 0.0, -46.0], 1.0, [1, 1, 1]),  # 0.5 + 0.5 = 1 above a 1e-20 token: still kept at p = 1
        ([0.0, 0.0, -46.0], 0.999, [1, 1, 0]),
        ([-1e4, -1e4 - 1.0], 0.9, [1, 1]),
    ],
)
def test_apply_top_p_huge_logits(logits, top_p, expected):
    out = unchanged(apply_top_p, np.array(logits), top_p)
    assert np.array_equal(kept(out), np.array(expected, dtype=bool))


@pytest.mark.parametrize("top_p", [1.5, -0.1, math.nan, math.inf, True, "0.9", None])
def test_apply_top_p_rejects(top_p):
    with pytest.raises(ValueError, match="top_p"):
        unchanged(apply_top_p, logits_of(0.5, 0.3, 0.2), top_p)


def test_apply_top_p_rejects_min_tokens_to_keep_below_one():
    with pytest.raises(ValueError, match="min_tokens_to_keep"):
        unchanged(apply_top_p, logits_of(0.5, 0.5), 0.9, 0)


@THOROUGH
@given(logits_arrays(), fractions, min_keeps, st.sampled_from([1, 2, 3, 7, 1024]))
def test_apply_top_p_equals_full_sort_reference(logits, top_p, min_tokens_to_keep, guess):
    with first_guess(guess):  # small guesses make the partial selection grow on small inputs
        out = unchanged(apply_top_p, logits, top_p, min_tokens_to_keep)
    assert np.array_equal(out, reference_top_p(logits, top_p, min_tokens_to_keep))


@pytest.mark.parametrize("seed", range(6))
def test_apply_top_p_equals_full_sort_reference_on_a_large_vocabulary(seed):
    generator = rng(seed)
    logits = np.round(generator.standard_normal(20_000) * 3, 1)  # rounding makes many ties
    logits[generator.random(logits.size) < 0.1] = -np.inf
    for top_p in (0.0, 0.5, 0.9, 0.95, 0.999, 1.0):
        out = unchanged(apply_top_p, logits, top_p)
        assert np.array_equal(out, reference_top_p(logits, top_p))


@PROPERTY
@given(logits_arrays(), fractions)
def test_apply_top_p_keeps_the_smallest_prefix_reaching_p(logits, top_p):
    out = unchanged(apply_top_p, logits, top_p)
    probs = softmax(logits)
    order = np.argsort(-logits, kind="stable")
    kept_in_order = kept(out)[order]
    count = kept_in_order.sum()
    assert kept_in_order[:count].all()  # a prefix of the ranking
    positive_mass = probs[probs > 0].sum()
    assert probs[order[:count]].sum() >= min(top_p, positive_mass) - 1e-12  # it reaches p
    assert count == 1 or probs[order[: count - 1]].sum() < top_p + 1e-12  # one token fewer would not


# ---------------------------------------------------------------- min-p


@pytest.mark.parametrize(
    "probs, min_p, min_tokens_to_keep, expected",
    [
        ([0.5, 0.3, 0.2], 0.5, 1, [1, 1, 0]),  # 0.2 < 0.5 * 0.5
        ([0.5, 0.3, 0.2], 0.0, 1, [1, 1, 1]),
        ([0.4, 0.4, 0.2], 1.0, 1, [1, 1, 0]),  # only the top probability (both tied tokens)
        ([0.5, 0.3, 0.2], 0.9, 2, [1, 1, 0]),  # min_tokens_to_keep keeps the best two regardless
        ([0.5, 0.2, 0.2, 0.1], 1.0, 2, [1, 1, 0, 0]),  # tie for second place: lower id first
        ([0.5, 0.0, 0.3, 0.2], 0.5, 1, [1, 0, 1, 0]),
    ],
)
def test_apply_min_p_cases(probs, min_p, min_tokens_to_keep, expected):
    logits = logits_of(*probs)
    out = unchanged(apply_min_p, logits, min_p, min_tokens_to_keep)
    assert np.array_equal(kept(out), np.array(expected, dtype=bool))
    assert np.array_equal(out[kept(out)], logits[kept(out)])


def test_apply_min_p_huge_logits():
    out = unchanged(apply_min_p, np.array([1e4, -1e4, 1e4 - 1.0]), 0.3)
    assert np.array_equal(kept(out), [True, False, True])  # e^-1 = 0.37 >= 0.3


@pytest.mark.parametrize("min_p", [1.01, -0.1, math.nan, -math.inf, True, None])
def test_apply_min_p_rejects(min_p):
    with pytest.raises(ValueError, match="min_p"):
        unchanged(apply_min_p, logits_of(0.5, 0.3, 0.2), min_p)


@PROPERTY
@given(logits_arrays(), fractions, min_keeps)
def test_apply_min_p_removes_exactly_the_unlikely_tokens(logits, min_p, min_tokens_to_keep):
    out = unchanged(apply_min_p, logits, min_p, min_tokens_to_keep)
    probs = softmax(logits)
    likely = (probs >= min_p * probs.max()) & np.isfinite(logits)
    assert np.all(kept(out)[likely])  # every likely token stays
    assert kept(out).sum() <= max(likely.sum(), min_tokens_to_keep)  # others only to reach the minimum


# ---------------------------------------------------------------- typical


@pytest.mark.parametrize(
    "probs, mass, min_tokens_to_keep, expected",
    [
        # entropy H = 1.03 nats; surprises -log p = 0.69, 1.20, 1.61: 0.3 is the most typical
        ([0.5, 0.3, 0.2], 0.3, 1, [0, 1, 0]),  # the favourite is dropped
        ([0.5, 0.3, 0.2], 0.5, 1, [1, 1, 0]),  # 0.3 + 0.5 crosses 0.5
        ([0.5, 0.3, 0.2], 0.9, 1, [1, 1, 1]),
        ([0.5, 0.3, 0.2], 0.1, 2, [1, 1, 0]),  # the two most typical
        ([0.5, 0.0, 0.3, 0.2], 0.3, 1, [0, 0, 1, 0]),
        ([0.25, 0.25, 0.25, 0.25], 0.3, 1, [1, 1, 1, 1]),  # all equally typical
    ],
)
def test_apply_typical_cases(probs, mass, min_tokens_to_keep, expected):
    logits = logits_of(*probs)
    out = unchanged(apply_typical, logits, mass, min_tokens_to_keep)
    assert np.array_equal(kept(out), np.array(expected, dtype=bool))
    assert np.array_equal(out[kept(out)], logits[kept(out)])


@pytest.mark.parametrize("mass", [0, 0.0, 1, 1.0, 1.5, -0.5, math.nan, True, None])
def test_apply_typical_rejects(mass):
    with pytest.raises(ValueError, match="mass"):
        unchanged(apply_typical, logits_of(0.5, 0.3, 0.2), mass)


@PROPERTY
@given(logits_arrays(), st.floats(0.01, 0.99), min_keeps)
def test_apply_typical_keeps_enough_mass(logits, mass, min_tokens_to_keep):
    out = unchanged(apply_typical, logits, mass, min_tokens_to_keep)
    assert kept(out).sum() >= min(min_tokens_to_keep, np.isfinite(logits).sum())
    assert softmax(logits)[kept(out)].sum() >= mass - 1e-9


# ---------------------------------------------------------------- all filters


FILTERS = [
    ("top_k", lambda logits, value, keep: apply_top_k(logits, 1 + int(value * 10), keep)),
    ("top_p", apply_top_p),
    ("min_p", apply_min_p),
]


@pytest.mark.parametrize("name, apply", FILTERS, ids=[name for name, _ in FILTERS])
@PROPERTY
@given(logits=logits_arrays(), value=fractions, keep=min_keeps)
def test_filters_keep_the_argmax_and_never_change_the_input(name, apply, logits, value, keep):
    out = unchanged(apply, logits, value, keep)
    assert kept(out)[np.argmax(logits)]
    assert np.all(out[kept(out)] == logits[kept(out)])


def test_typical_is_the_filter_that_may_drop_the_argmax():
    assert not kept(apply_typical(logits_of(0.5, 0.3, 0.2), 0.3))[0]


BAD_LOGITS = [
    pytest.param([], id="empty"),
    pytest.param([[0.1, 0.2], [0.3, 0.4]], id="2-D"),
    pytest.param(1.0, id="0-D"),
    pytest.param([0.0, math.nan], id="NaN"),
    pytest.param([0.0, math.inf], id="+inf"),
    pytest.param([-math.inf, -math.inf], id="all -inf"),
    pytest.param("abc", id="text"),
]
LOGIT_FUNCTIONS = [
    ("softmax", softmax),
    ("apply_temperature", lambda logits: apply_temperature(logits, 1.0)),
    ("apply_top_k", lambda logits: apply_top_k(logits, 2)),
    ("apply_top_p", lambda logits: apply_top_p(logits, 0.9)),
    ("apply_min_p", lambda logits: apply_min_p(logits, 0.1)),
    ("apply_typical", lambda logits: apply_typical(logits, 0.9)),
    ("sample_token", lambda logits: sample_token(logits, rng())),
    ("sampling_stages", lambda logits: sampling_stages(logits)),
    ("nucleus_size", lambda logits: nucleus_size(logits, 0.9)),
    ("apply_repetition_penalty", lambda logits: apply_repetition_penalty(logits, [0], 1.2)),
    ("apply_frequency_presence_penalty", lambda logits: apply_frequency_presence_penalty(logits, [0], 0.5, 0.5)),
]


@pytest.mark.parametrize("name, function", LOGIT_FUNCTIONS, ids=[name for name, _ in LOGIT_FUNCTIONS])
@pytest.mark.parametrize("logits", BAD_LOGITS)
def test_logits_bad_input_is_rejected(name, function, logits):
    with pytest.raises(ValueError, match="logits"):
        function(logits)


def test_logits_error_messages_say_what_to_do():
    with pytest.raises(ValueError, match=r"logits must not contain NaN; got NaN at index 1\."):
        softmax([0.0, math.nan])
    with pytest.raises(ValueError, match=r"got \+inf at index 2"):
        softmax([0.0, 1.0, math.inf])
    with pytest.raises(ValueError, match=r"^top_p must be a number from 0 to 1; got 1\.5\.$"):
        apply_top_p([0.0], 1.5)


@pytest.mark.parametrize("min_tokens_to_keep", [0, -1, 1.5, True, None])
@pytest.mark.parametrize("apply", [apply_top_k, apply_top_p, apply_min_p, apply_typical])
def test_min_tokens_to_keep_rejects(apply, min_tokens_to_keep):
    with pytest.raises(ValueError, match="min_tokens_to_keep"):
        unchanged(apply, logits_of(0.5, 0.3, 0.2), 0.5 if apply is not apply_top_k else 1, min_tokens_to_keep)


# ---------------------------------------------------------------- sample_token


def test_sample_token_same_seed_same_token():
    logits = np.random.default_rng(7).standard_normal(500)
    for seed in range(20):
        first = unchanged(sample_token, logits, rng(seed), temperature=0.8, top_p=0.95)
        assert first == sample_token(logits, rng(seed), temperature=0.8, top_p=0.95)


def test_sample_token_returns_a_python_int():
    assert type(sample_token(logits_of(0.5, 0.5), rng())) is int


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(
    "logits, expected",
    [([1.0, 3.0, 3.0], 1), ([5.0, -np.inf, 1.0], 0), ([-1e4, 1e4], 1), ([-np.inf, 0.0, 0.0], 1)],
)
def test_sample_token_temperature_zero_is_greedy(logits, expected, seed):
    assert unchanged(sample_token, np.array(logits), rng(seed), temperature=0) == expected
    assert sample_token(np.array(logits), rng(seed), temperature=0.0, top_k=2, top_p=0.5, min_p=0.5) == expected


def test_sample_token_draws_only_kept_tokens():
    logits = logits_of(0.4, 0.3, 0.2, 0.1)
    tokens = {sample_token(logits, rng(seed), top_k=2) for seed in range(200)}
    assert tokens == {0, 1}


def test_sample_token_applies_top_k_before_top_p():
    # top-k leaves 0.4 and 0.3, renormalised to 0.57 and 0.43; top-p 0.5 then keeps 0.57 alone.
    # (top-p first would have kept both.)
    stages = sampling_stages(logits_of(0.4, 0.3, 0.2, 0.1), top_k=2, top_p=0.5)
    assert np.array_equal(stages.kept, [True, False, False, False])
    assert {sample_token(logits_of(0.4, 0.3, 0.2, 0.1), rng(s), top_k=2, top_p=0.5) for s in range(50)} == {0}


def test_sample_token_follows_the_distribution():
    logits = logits_of(0.5, 0.3, 0.2)
    generator = rng(1)
    tokens = [sample_token(logits, generator) for _ in range(2000)]
    assert np.allclose(np.bincount(tokens, minlength=3) / 2000, [0.5, 0.3, 0.2], atol=0.04)


@PROPERTY
@given(
    logits=logits_arrays(),
    seed=st.integers(0, 2**32),
    temperature=st.sampled_from([0, 0.5, 1, 1.7]),
    top_k=st.none() | st.integers(1, 10),
    top_p=st.none() | fractions,
    min_p=st.none() | fractions,
)
def test_sample_token_equals_one_draw_from_the_stages(logits, seed, temperature, top_k, top_p, min_p):
    options = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    token = unchanged(sample_token, logits, rng(seed), **options)
    stages = sampling_stages(logits, **options)
    assert stages.kept[token]
    assert token == draw_tokens(stages.probs, rng(seed), 1)[0]


@pytest.mark.parametrize(
    "options, name",
    [
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=math.nan), "temperature"),
        (dict(temperature=math.inf), "temperature"),
        (dict(top_k=0), "top_k"),
        (dict(top_k=True), "top_k"),
        (dict(top_p=1.5), "top_p"),
        (dict(min_p=-0.1), "min_p"),
        (dict(min_p=math.nan), "min_p"),
    ],
)
def test_sample_token_rejects(options, name):
    with pytest.raises(ValueError, match=name):
        unchanged(sample_token, logits_of(0.5, 0.5), rng(), **options)


def test_sample_token_rejects_an_rng_that_is_not_a_generator():
    with pytest.raises(TypeError, match="rng"):
        sample_token(logits_of(0.5, 0.5), 0)


def test_sample_token_none_means_off():
    logits = logits_of(0.4, 0.3, 0.2, 0.1)
    for seed in range(10):
        assert sample_token(logits, rng(seed), temperature=None) == sample_token(logits, rng(seed))


# ---------------------------------------------------------------- sampling_stages


def test_sampling_stages_fields():
    logits = logits_of(0.4, 0.3, 0.2, 0.1)
    stages = unchanged(sampling_stages, logits, temperature=0.5, top_k=3, top_p=0.9)
    assert np.array_equal(stages.logits, logits)
    assert np.array_equal(stages.scaled, logits / 0.5)
    assert np.array_equal(stages.kept, np.isfinite(stages.filtered))
    assert np.array_equal(stages.filtered[stages.kept], stages.scaled[stages.kept])
    assert stages.probs.sum() == pytest.approx(1.0)
    assert np.all(stages.probs[~stages.kept] == 0)


def test_sampling_stages_temperature_zero_keeps_only_the_first_argmax():
    stages = sampling_stages(np.array([1.0, 3.0, 3.0]), temperature=0)
    assert np.array_equal(stages.scaled, [-np.inf, 3.0, -np.inf])
    assert np.array_equal(stages.probs, [0.0, 1.0, 0.0])
    assert np.array_equal(stages.kept, [False, True, False])


def test_sampling_stages_is_immutable():
    stages = sampling_stages(logits_of(0.5, 0.3, 0.2), top_p=0.9)
    with pytest.raises(AttributeError):
        stages.probs = np.zeros(3)
    for field in ("logits", "scaled", "filtered", "probs", "kept"):
        with pytest.raises(ValueError):
            getattr(stages, field)[0] = 0


def test_sampling_stages_keeps_its_own_copy_of_the_logits():
    logits = logits_of(0.5, 0.3, 0.2)
    stages = sampling_stages(logits)
    logits[0] = 9.0
    assert stages.logits[0] == np.log(0.5)


@PROPERTY
@given(
    logits=logits_arrays(),
    temperature=st.sampled_from([0, 0.3, 1, 2.5]),
    top_k=st.none() | st.integers(1, 10),
    top_p=st.none() | fractions,
    min_p=st.none() | fractions,
)
def test_sampling_stages_equal_the_filters_chained(logits, temperature, top_k, top_p, min_p):
    stages = unchanged(sampling_stages, logits, temperature, top_k, top_p, min_p)
    expected = stages.scaled
    if temperature:
        assert np.array_equal(stages.scaled, apply_temperature(logits, temperature))
    if top_k is not None:
        expected = apply_top_k(expected, top_k)
    if top_p is not None:
        expected = apply_top_p(expected, top_p)
    if min_p is not None:
        expected = apply_min_p(expected, min_p)
    assert np.array_equal(stages.filtered, expected)
    assert np.array_equal(stages.probs, softmax(stages.filtered))
    assert stages.probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert stages.kept[np.argmax(stages.scaled)]  # the argmax survives every filter


# ---------------------------------------------------------------- draw_tokens


def test_draw_tokens_same_seed_same_tokens():
    probs = softmax(np.random.default_rng(3).standard_normal(1000))
    assert np.array_equal(draw_tokens(probs, rng(5), 100), draw_tokens(probs, rng(5), 100))


def test_draw_tokens_returns_n_int64_ids():
    tokens = draw_tokens([0.5, 0.5], rng(), 10)
    assert tokens.shape == (10,) and tokens.dtype == np.int64
    assert draw_tokens([0.5, 0.5], rng(), 0).shape == (0,)


def test_draw_tokens_follow_the_distribution():
    tokens = draw_tokens([0.1, 0.2, 0.3, 0.4], rng(), 10_000)
    assert np.allclose(np.bincount(tokens, minlength=4) / 10_000, [0.1, 0.2, 0.3, 0.4], atol=0.02)


def test_draw_tokens_accepts_counts():
    tokens = draw_tokens([0, 3, 1], rng(), 4000)
    assert np.allclose(np.bincount(tokens, minlength=3) / 4000, [0, 0.75, 0.25], atol=0.03)


@pytest.mark.parametrize("probs", [[0.0, 1.0, 0.0], [0.5, 0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 1e-300], [1.0, 0.0]])
def test_draw_tokens_never_draws_a_zero_probability_token(probs):
    tokens = draw_tokens(probs, rng(), 5000)
    assert np.all(np.array(probs)[tokens] > 0)


def test_draw_tokens_edges_of_the_unit_interval():
    # u = 0 lands on the first token with mass; u just below 1 (u * total can round
    # up to total) on the last token with mass, never on the zeros around them.
    probs = np.array([0.0, 0.1, 0.2, 0.7, 0.0, 0.0])
    uniforms = np.array([0.0, np.nextafter(1.0, 0.0), 1.0])
    assert np.array_equal(inverse_cdf(probs, uniforms), [1, 3, 3])
    assert inverse_cdf(np.array([0.0, 0.3, 0.3, 0.3]), np.array([np.nextafter(1.0, 0.0)]))[0] == 3


@PROPERTY
@given(st.lists(st.sampled_from([0.0, 0.0, 1e-12, 0.1, 0.5, 2.0]), min_size=1, max_size=30), st.integers(0, 2**32))
def test_draw_tokens_property_only_tokens_with_mass(weights, seed):
    weights = np.array(weights)
    if weights.sum() == 0:
        weights[0] = 1.0
    tokens = draw_tokens(weights, rng(seed), 200)
    assert np.all(weights[tokens] > 0)


@pytest.mark.parametrize("probs", [[], [[0.5, 0.5]], [0.5, -0.1], [0.5, math.nan], [math.inf, 1.0], [0.0, 0.0], "x"])
def test_draw_tokens_rejects_bad_probs(probs):
    with pytest.raises(ValueError, match="probs"):
        draw_tokens(probs, rng(), 1)


@pytest.mark.parametrize("n", [-1, 1.5, True, None, "10"])
def test_draw_tokens_rejects_bad_n(n):
    with pytest.raises(ValueError, match=r"^n must"):
        draw_tokens([0.5, 0.5], rng(), n)


def test_draw_tokens_rejects_an_rng_that_is_not_a_generator():
    with pytest.raises(TypeError, match="rng"):
        draw_tokens([0.5, 0.5], np.random.RandomState(0), 1)


def test_draw_tokens_pinned_sequence():
    # The browser checks that Pyodide draws these same tokens from the same seed.
    probs = softmax(np.arange(8.0) / 2)
    assert draw_tokens(probs, rng(2024), 12).tolist() == PINNED_DRAWS


PINNED_DRAWS = [7, 5, 5, 7, 7, 4, 3, 4, 6, 4, 6, 7]


# ---------------------------------------------------------------- entropy and friends


@pytest.mark.parametrize(
    "probs, expected",
    [
        ([0.25, 0.25, 0.25, 0.25], math.log(4)),
        ([0.5, 0.5, 0.0], math.log(2)),  # 0 * log 0 counts as 0
        ([1.0, 0.0, 0.0], 0.0),
        ([3, 3], math.log(2)),  # counts are normalised
    ],
)
def test_entropy_cases(probs, expected):
    assert unchanged(entropy, np.array(probs, dtype=float)) == pytest.approx(expected)


def test_entropy_of_a_sure_token_is_plus_zero():
    assert math.copysign(1.0, entropy([0.0, 1.0])) == 1.0


def test_effective_candidates_is_exp_entropy():
    assert effective_candidates([0.25] * 4) == pytest.approx(4.0)
    assert effective_candidates([1.0, 0.0]) == 1.0
    assert effective_candidates([0.5, 0.3, 0.2]) == pytest.approx(math.exp(entropy([0.5, 0.3, 0.2])))


@PROPERTY
@given(logits_arrays())
def test_entropy_is_between_zero_and_log_vocabulary(logits):
    probs = softmax(logits)
    assert -1e-12 <= entropy(probs) <= math.log(probs.size) + 1e-12
    assert 1.0 - 1e-12 <= effective_candidates(probs) <= probs.size * (1 + 1e-12)


@pytest.mark.parametrize("function", [entropy, effective_candidates])
@pytest.mark.parametrize("probs", [[], [0.5, -0.5], [math.nan], [0.0]])
def test_entropy_rejects_bad_probs(function, probs):
    with pytest.raises(ValueError, match="probs"):
        function(probs)


@pytest.mark.parametrize(
    "probs, top_p, expected",
    [([0.5, 0.3, 0.2], 0.6, 2), ([0.5, 0.3, 0.2], 0.0, 1), ([0.5, 0.3, 0.2], 1.0, 3), ([0.5, 0.0, 0.5], 1.0, 2)],
)
def test_nucleus_size_cases(probs, top_p, expected):
    assert unchanged(nucleus_size, logits_of(*probs), top_p) == expected


@PROPERTY
@given(logits_arrays(), fractions)
def test_nucleus_size_counts_what_apply_top_p_keeps(logits, top_p):
    assert nucleus_size(logits, top_p) == kept(apply_top_p(logits, top_p)).sum()


def test_nucleus_size_rejects_bad_top_p():
    with pytest.raises(ValueError, match="top_p"):
        nucleus_size(logits_of(0.5, 0.5), 2)


# ---------------------------------------------------------------- penalties


def reference_repetition_penalty(logits, previous_tokens, penalty):
    """transformers' RepetitionPenaltyLogitsProcessor, token by token: each token seen once."""
    out = np.array(logits, dtype=np.float64)
    for token in set(previous_tokens):
        score = out[token]
        out[token] = score * penalty if score < 0 else score / penalty
    return out


def test_repetition_penalty_divides_a_positive_score_and_multiplies_a_negative_one():
    out = unchanged(apply_repetition_penalty, np.array([2.0, -1.0, 0.5, -3.0]), [0, 1], 2.0)
    assert out.tolist() == [1.0, -2.0, 0.5, -3.0]


def test_repetition_penalty_on_log_probabilities_makes_a_seen_token_less_likely():
    logits = logits_of(0.5, 0.3, 0.2)
    probs = softmax(unchanged(apply_repetition_penalty, logits, [0], 1.5))
    assert probs[0] == pytest.approx(0.5 ** 1.5 / (0.5 ** 1.5 + 0.3 + 0.2))  # exp(1.5 log p) = p^1.5
    assert probs[1] / probs[2] == pytest.approx(0.3 / 0.2)   # the others keep their ratio


def test_repetition_penalty_counts_each_previous_token_once():
    logits = logits_of(0.5, 0.3, 0.2)
    once = apply_repetition_penalty(logits, [1], 1.3)
    assert np.array_equal(unchanged(apply_repetition_penalty, logits, [1, 1, 1, 1], 1.3), once)


@pytest.mark.parametrize("previous", [[], np.array([], dtype=np.int64)])
def test_repetition_penalty_with_nothing_seen_or_penalty_one_changes_nothing(previous):
    logits = logits_of(0.5, 0.3, 0.2)
    assert np.array_equal(unchanged(apply_repetition_penalty, logits, previous, 1.5), logits)
    assert np.array_equal(unchanged(apply_repetition_penalty, logits, [0, 1, 2], 1), logits)


def test_repetition_penalty_returns_a_new_array_and_keeps_removed_tokens_removed():
    logits = logits_of(0.5, 0.0, 0.5)
    out = unchanged(apply_repetition_penalty, logits, [0, 1], 1.2)
    assert out is not logits and out[1] == -np.inf and out[0] == pytest.approx(1.2 * math.log(0.5))


def test_repetition_penalty_below_one_rewards_a_seen_token():
    probs = softmax(apply_repetition_penalty(logits_of(0.5, 0.3, 0.2), [2], 0.5))
    assert probs[2] > 0.2


def test_repetition_penalty_that_overflows_says_so():
    with pytest.raises(ValueError, match=r"^penalty 0\.5 is too far from 1 for these logits"):
        unchanged(apply_repetition_penalty, np.array([1e308, 0.0]), [0], 0.5)


@PROPERTY
@given(logits=logits_arrays(), data=st.data(), penalty=st.floats(0.1, 10))
def test_repetition_penalty_property_is_transformers_rule(logits, data, penalty):
    previous = data.draw(st.lists(st.integers(0, logits.size - 1), max_size=30))
    out = unchanged(apply_repetition_penalty, logits, previous, penalty)
    assert np.array_equal(out, reference_repetition_penalty(logits, previous, penalty))
    unseen = np.setdiff1d(np.arange(logits.size), previous)
    assert np.array_equal(out[unseen], logits[unseen])
    if penalty >= 1:   # a penalty never raises a seen token's score
        assert np.all(out[previous] <= logits[previous])


@pytest.mark.parametrize("penalty", [0, -1.2, 0.0, math.nan, math.inf, True, "1.2", None])
def test_repetition_penalty_rejects_a_penalty_that_is_not_positive_and_finite(penalty):
    with pytest.raises(ValueError, match=r"^penalty must be a finite number greater than 0, such as 1\.2"):
        unchanged(apply_repetition_penalty, logits_of(0.5, 0.5), [0], penalty)


@pytest.mark.parametrize("apply", [
    lambda logits, previous: apply_repetition_penalty(logits, previous, 1.2),
    lambda logits, previous: apply_frequency_presence_penalty(logits, previous, 0.5, 0.5),
], ids=["repetition", "frequency_presence"])
@pytest.mark.parametrize("previous, words", [
    ([3], r"ids from 0 to 2 \(one per logit\); got 3 at index 0"),
    ([0, -1], r"ids from 0 to 2 \(one per logit\); got -1 at index 1"),
    ([0.5], r"whole-number token ids; got 0\.5"),
    ([True], r"whole-number token ids; got True"),
    ([[0, 1]], r"a 1-D sequence of token ids; got shape \(1, 2\)"),
    (None, r"a 1-D sequence of token ids; got shape \(\)"),
])
def test_penalties_reject_previous_tokens_that_are_not_ids_of_these_logits(apply, previous, words):
    with pytest.raises(ValueError, match="^previous_tokens must be " + words):
        unchanged(apply, logits_of(0.5, 0.3, 0.2), previous)


def test_frequency_presence_penalty_is_openais_rule():
    logits = np.array([1.0, 1.0, 1.0, 1.0])
    out = unchanged(apply_frequency_presence_penalty, logits, [0, 0, 0, 1, 3, 0], 0.5, 0.25)
    # token 0: 4 times, token 1 and 3: once, token 2: never
    assert out.tolist() == [1.0 - 4 * 0.5 - 0.25, 1.0 - 0.5 - 0.25, 1.0, 1.0 - 0.5 - 0.25]


def test_frequency_presence_penalty_negative_values_encourage_repetition():
    probs = softmax(apply_frequency_presence_penalty(logits_of(0.5, 0.3, 0.2), [2, 2], -1.0, -0.5))
    assert probs[2] > 0.2


def test_frequency_presence_penalty_zero_changes_nothing_and_keeps_removed_tokens_removed():
    logits = logits_of(0.5, 0.0, 0.5)
    out = unchanged(apply_frequency_presence_penalty, logits, [0, 1, 1], 0.0, 0.0)
    assert out is not logits and np.array_equal(out, logits)
    assert apply_frequency_presence_penalty(logits, [1], 2.0, 2.0)[1] == -np.inf
    assert apply_frequency_presence_penalty(logits, [1], -2.0, -2.0)[1] == -np.inf


@PROPERTY
@given(logits=logits_arrays(), data=st.data(), frequency=st.floats(-2, 2), presence=st.floats(-2, 2))
def test_frequency_presence_penalty_property_lowers_each_token_by_its_count(logits, data, frequency, presence):
    previous = data.draw(st.lists(st.integers(0, logits.size - 1), max_size=30))
    out = unchanged(apply_frequency_presence_penalty, logits, previous, frequency, presence)
    for token in range(logits.size):
        c = previous.count(token)
        assert out[token] == logits[token] - frequency * c - presence * (c > 0)
    # Order does not matter, only how often each token came.
    assert np.array_equal(out, apply_frequency_presence_penalty(logits, sorted(previous), frequency, presence))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16])
def test_penalties_take_token_ids_of_any_integer_type(dtype):
    """Pyodide's numpy indexes with int32, where bincount refuses int64: every integer type works."""
    logits, previous = logits_of(0.5, 0.3, 0.2), np.array([2, 0, 2], dtype=dtype)
    assert np.array_equal(apply_frequency_presence_penalty(logits, previous, 0.5, 0.1),
                          apply_frequency_presence_penalty(logits, [2, 0, 2], 0.5, 0.1))
    assert np.array_equal(apply_repetition_penalty(logits, previous, 1.5),
                          apply_repetition_penalty(logits, [2, 0, 2], 1.5))


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
@pytest.mark.parametrize("value", [2.5, -2.01, math.nan, math.inf, True, "0.5", None])
def test_frequency_presence_penalty_rejects_values_outside_openais_range(name, value):
    penalties = {"frequency_penalty": 0.0, "presence_penalty": 0.0, name: value}
    with pytest.raises(ValueError, match=rf"^{name} must be a number from -2 to 2"):
        unchanged(apply_frequency_presence_penalty, logits_of(0.5, 0.5), [0], **penalties)


def test_public_api_is_exported():
    for name in sampling.__all__:
        assert hasattr(sampling, name)
