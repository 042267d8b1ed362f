"""Argument checks shared by the sampling functions.

Every public function checks its arguments up front with these helpers, so a
bad value fails at once with a ValueError whose message names the argument,
shows its value and says what is accepted. The article's widgets show that
message to the reader as it is.
"""

from __future__ import annotations

import numbers

import numpy as np


def show(value: object) -> str:
    """Write a value the way a reader typed it: 1.5, 50, nan, True, 'abc'.

    Example: show(np.float64(1.5)) -> '1.5'
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return repr(value)


def is_number(value: object) -> bool:
    """True for a real number (Python or numpy); False for bool, str, None.

    Example: is_number(np.int64(3)) -> True; is_number(True) -> False
    """
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value: object) -> bool:
    """True for a Python or numpy integer; False for bool and for 3.0.

    Example: is_integer(np.int32(3)) -> True; is_integer(3.0) -> False
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_logits(logits: object) -> np.ndarray:
    """Return the logits as a 1-D float64 array, or raise a ValueError.

    Accepted: a non-empty 1-D array of finite numbers, where -inf marks a
    token that is already removed. Rejected: NaN, +inf (a token that is
    infinitely likely has no meaningful probability), and all -inf (no token
    left to choose). The array returned may be the input itself: callers
    never write into it.

    Example: check_logits([2.0, -np.inf, 0.5]) -> array([2. , -inf, 0.5])
    """
    try:
        array = np.asarray(logits, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"logits must be a 1-D array of numbers; got {type(logits).__name__}.") from None
    if array.ndim != 1:
        raise ValueError(f"logits must be a 1-D array with one logit per token; got shape {array.shape}.")
    if array.size == 0:
        raise ValueError("logits must hold at least one token; got an empty array.")
    largest = array.max()  # NaN wins a max, so one pass finds NaN, +inf and all -inf
    if np.isnan(largest):
        raise ValueError(f"logits must not contain NaN; got NaN at index {_first(np.isnan(array))}.")
    if largest == np.inf:
        raise ValueError(
            f"logits must be finite numbers or -inf (for a removed token); got +inf at index {_first(array == np.inf)}."
        )
    if largest == -np.inf:
        raise ValueError("logits are all -inf, so every token is removed; at least one logit must be finite.")
    return array


def check_probs(probs: object) -> np.ndarray:
    """Return probabilities (or any non-negative weights) as a 1-D float64 array.

    Accepted: a non-empty 1-D array of finite, non-negative numbers with a
    positive sum. They need not sum to 1 (counts from a histogram work too).

    Example: check_probs([0.5, 0.5]) -> array([0.5, 0.5])
    """
    try:
        array = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"probs must be a 1-D array of numbers; got {type(probs).__name__}.") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"probs must be a non-empty 1-D array with one probability per token; got shape {array.shape}."
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        bad = _first(~(np.isfinite(array) & (array >= 0)))
        raise ValueError(f"probs must be finite and at least 0; got {show(array[bad])} at index {bad}.")
    if not array.sum() > 0:
        raise ValueError("probs must have a positive sum; got all zeros.")
    return array


def check_temperature(temperature: object, *, allow_zero: bool = False) -> float:
    """Return the temperature as a float, or raise a ValueError.

    Example: check_temperature(1) -> 1.0
    """
    usable = is_number(temperature) and np.isfinite(temperature)
    if not usable or temperature < 0 or (temperature == 0 and not allow_zero):
        accepted = "of at least 0 (0 means greedy)" if allow_zero else "greater than 0"
        raise ValueError(f"temperature must be a finite number {accepted}; got {show(temperature)}.")
    return float(temperature)


def check_top_k(top_k: object) -> int:
    """Return top_k as an int, or raise a ValueError (bool is not accepted).

    Example: check_top_k(np.int64(50)) -> 50
    """
    if not is_integer(top_k) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer such as 50; got {show(top_k)}.")
    return int(top_k)


def check_fraction(name: str, value: object) -> float:
    """Return a number from 0 to 1 (top_p, min_p) as a float, or raise a ValueError.

    Example: check_fraction("top_p", 0.9) -> 0.9
    """
    if not is_number(value) or not 0 <= value <= 1:  # NaN fails both comparisons
        raise ValueError(f"{name} must be a number from 0 to 1; got {show(value)}.")
    return float(value)


def check_mass(mass: object) -> float:
    """Return the typical-sampling mass, strictly between 0 and 1, as a float.

    Example: check_mass(0.9) -> 0.9
    """
    if not is_number(mass) or not 0 < mass < 1:
        raise ValueError(f"mass must be a number strictly between 0 and 1, such as 0.9; got {show(mass)}.")
    return float(mass)


def check_min_tokens(min_tokens_to_keep: object) -> int:
    """Return min_tokens_to_keep as an int of at least 1, or raise a ValueError.

    Example: check_min_tokens(2) -> 2
    """
    if not is_integer(min_tokens_to_keep) or min_tokens_to_keep < 1:
        raise ValueError(f"min_tokens_to_keep must be an integer of at least 1; got {show(min_tokens_to_keep)}.")
    return int(min_tokens_to_keep)


def check_previous_tokens(previous_tokens: object, size: int) -> np.ndarray:
    """Return the ids of the tokens seen so far as a 1-D array of np.intp, or raise a ValueError.

    Accepted: a 1-D sequence of whole numbers, each a token id from 0 to size - 1 (the
    logits' length); it may be empty, and an id may come any number of times.

    Example: check_previous_tokens([3, 1, 3], 5) -> array([3, 1, 3])
    """
    try:
        array = np.asarray(previous_tokens)
    except (TypeError, ValueError):
        raise ValueError(f"previous_tokens must be a 1-D sequence of token ids; "
                         f"got {type(previous_tokens).__name__}.") from None
    if array.ndim != 1:
        raise ValueError(f"previous_tokens must be a 1-D sequence of token ids; got shape {array.shape}.")
    if array.size == 0:
        return np.zeros(0, dtype=np.intp)
    if array.dtype.kind not in "iu":  # bools, floats and text are not token ids
        bad = next(v for v in array.tolist() if not is_integer(v))
        raise ValueError(f"previous_tokens must be whole-number token ids; got {show(bad)}.")
    outside = (array < 0) | (array >= size)
    if outside.any():
        raise ValueError(f"previous_tokens must be ids from 0 to {size - 1} (one per logit); "
                         f"got {show(array[_first(outside)])} at index {_first(outside)}.")
    return array.astype(np.intp)  # numpy's index type: int32 in Pyodide, where bincount refuses int64


def check_repetition_penalty(penalty: object) -> float:
    """Return the repetition penalty, a finite number > 0 (1 means none), as a float.

    Example: check_repetition_penalty(1.2) -> 1.2
    """
    if not is_number(penalty) or not (0 < penalty < np.inf):  # NaN fails the comparison
        raise ValueError(f"penalty must be a finite number greater than 0, such as 1.2 (1 means no penalty); "
                         f"got {show(penalty)}.")
    return float(penalty)


def check_additive_penalty(name: str, value: object) -> float:
    """Return a frequency or presence penalty, from -2 to 2 as the OpenAI API accepts, as a float.

    Example: check_additive_penalty("presence_penalty", 0.5) -> 0.5
    """
    if not is_number(value) or not -2 <= value <= 2:
        raise ValueError(f"{name} must be a number from -2 to 2 (0 means no penalty); got {show(value)}.")
    return float(value)


def check_count(n: object) -> int:
    """Return the number of draws as an int of at least 0, or raise a ValueError.

    Example: check_count(10_000) -> 10000
    """
    if not is_integer(n) or n < 0:
        raise ValueError(f"n must be a whole number of draws, 0 or more; got {show(n)}.")
    return int(n)


def check_rng(rng: object) -> np.random.Generator:
    """Return rng if it is a numpy Generator, or raise a TypeError.

    Example: check_rng(np.random.default_rng(0)) returns the same generator
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator such as np.random.default_rng(0); got {show(rng)}.")
    return rng


def _first(mask: np.ndarray) -> int:
    """Index of the first True in a boolean mask."""
    return int(np.argmax(mask))
