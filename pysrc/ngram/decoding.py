"""Decoding strategies over a ``Model``: greedy, beam search and sampling.

Every choice of a token, greedy ones included (temperature 0), goes through
the ``sampling`` package: the penalties first (as transformers applies its
logits processors before its warpers), then ``sampling_stages`` applies
temperature, top-k, top-p and min-p in ``sample_token``'s order and ``draw_tokens`` makes the
draw, which that package documents as the very draw ``sample_token`` makes
(a test checks it), while also telling how many tokens survived the
filters.  Beam search is the one strategy that package does not cover, and
lives here.

Generations have a fixed length, as in Holtzman et al.: the model may emit
``</s>`` and then simply starts a new sentence.  With a trigram model,
greedy decoding is a function of the last two tokens, so it must return to
a pair it has seen and from then on loop forever.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

import sampling

from .methods import COMPARISON_K, METHOD, NUCLEUS_P, PENALTIES, accepted_settings

if TYPE_CHECKING:   # annotations only: the model's module loads with the model
    from .model import Model

METHODS = tuple(METHOD)


class Step(NamedTuple):
    """What happened when one token was chosen."""

    token: int
    probability: float  # of the token under the model's own distribution
    nucleus_size: int | None  # tokens top-p would keep of the model's distribution (p: see generate)
    fixed_k: int  # the k that top-k keeps at every step, for comparison
    candidates: int  # tokens the method chose among: 1 for greedy, the
    # width for beam search, the tokens left after truncation when sampling


class Progress(NamedTuple):
    """The state after each step of ``generate_steps``.

    ``tokens`` are all tokens generated so far.  For beam search they are
    the best hypothesis so far, whose earlier tokens may differ from the
    previous step's.
    """

    tokens: tuple[int, ...]
    step: Step


class Generation(NamedTuple):
    """A finished generation: the new tokens and one record per token."""

    method: str
    params: dict[str, float]
    prompt: tuple[int, ...]
    tokens: tuple[int, ...]
    steps: tuple[Step, ...]


def method_params(method: str, **params: float) -> dict[str, float]:
    """Return ``params`` completed with the method's defaults, after checking them."""
    accepted = accepted_settings(method)
    unknown = set(params) - set(accepted)
    if unknown:
        raise TypeError(f"{method} takes no parameter {sorted(unknown)}")
    return {**accepted, **params}


def generate(
    model: Model,
    prompt_ids: Sequence[int],
    method: str,
    length: int,
    rng: np.random.Generator | int | None = None,
    *,
    nucleus_p: float | None = NUCLEUS_P,
    **params: float,
) -> Generation:
    """Return ``length`` new tokens after ``prompt_ids``, chosen by ``method``.

    ``method`` is one of ``METHODS``; ``params`` are its settings
    (``beam_width``, ``temperature``, ``top_k``, ``top_p``, ``min_p``, and
    for all but beam search ``repetition_penalty``, ``frequency_penalty`` and
    ``presence_penalty``; see ``methods.METHODS`` for defaults).  ``rng`` (a
    numpy Generator or a seed) drives the sampling methods; the same seed
    gives the same text.  Each step records the size of the model's nucleus
    at ``nucleus_p``; None leaves ``Step.nucleus_size`` as None, which saves
    a third of the time of a sampling step.
    """
    settings = method_params(method, **params)
    prompt = tuple(int(i) for i in prompt_ids)
    if method == "beam":
        width = int(settings["beam_width"])
        tokens: tuple[int, ...] = ()
        for progress in _beam_progress(model, prompt, length, width, None):
            tokens = progress.tokens
        steps = _beam_records(model, prompt, tokens, width, nucleus_p)
    else:
        steps = tuple(
            progress.step
            for progress in _token_progress(model, prompt, length, rng, method, settings, nucleus_p)
        )
        tokens = tuple(step.token for step in steps)
    return Generation(method, settings, prompt, tokens, steps)


def generate_steps(
    model: Model,
    prompt_ids: Sequence[int],
    method: str,
    length: int,
    rng: np.random.Generator | int | None = None,
    *,
    nucleus_p: float | None = NUCLEUS_P,
    **params: float,
) -> Iterator[Progress]:
    """Yield a ``Progress`` after each new token (for a step-by-step widget).

    Same arguments as ``generate``, and the same tokens for the same seed.
    For beam search each step yields the current best hypothesis, and its
    ``Step`` describes that hypothesis's newest token.
    """
    settings = method_params(method, **params)
    prompt = tuple(int(i) for i in prompt_ids)
    if method == "beam":
        width = int(settings["beam_width"])
        return _beam_progress(model, prompt, length, width, nucleus_p)
    return _token_progress(model, prompt, length, rng, method, settings, nucleus_p)


# -- one token at a time ------------------------------------------------------


def _token_progress(
    model: Model,
    prompt: tuple[int, ...],
    length: int,
    rng: np.random.Generator | int | None,
    method: str,
    settings: dict[str, float],
    nucleus_p: float | None,
) -> Iterator[Progress]:
    """Yield progress for greedy decoding and the sampling methods."""
    generator = np.random.default_rng(rng)
    context = list(prompt)
    tokens: list[int] = []
    fixed_k = int(settings.get("top_k", COMPARISON_K))
    # When the method is top-p at temperature 1 with no penalty, the tokens it keeps are the
    # nucleus the step records: count them once.
    nucleus_is_kept = (method == "top_p" and settings["top_p"] == nucleus_p and settings["temperature"] == 1
                       and not penalized(settings))
    for _ in range(length):
        logits = model.logits(context)
        stages = step_stages(logits, context, method, settings)
        # sampling_stages runs sample_token's pipeline and exposes which
        # tokens survived; drawing from its probabilities with draw_tokens
        # is, by that package's contract, the draw sample_token makes.
        token = int(sampling.draw_tokens(stages.probs, generator, 1)[0])
        candidates = int(np.count_nonzero(stages.kept))
        nucleus = candidates if nucleus_is_kept else nucleus_size(logits, nucleus_p)
        context.append(token)
        tokens.append(token)
        yield Progress(tuple(tokens), _record(logits, token, fixed_k, candidates, nucleus))


def step_stages(
    logits: np.ndarray, context: Sequence[int], method: str, settings: dict[str, float]
) -> sampling.SamplingStages:
    """Every stage of one step of a token-by-token method: the penalties on the tokens of
    ``context`` (prompt included, as transformers does by default), then ``sample_token``'s
    pipeline.  ``settings`` are complete (see ``method_params``)."""
    return sampling.sampling_stages(penalize(logits, context, settings), **sampling_settings(method, settings))


def penalize(logits: np.ndarray, context: Sequence[int], settings: dict[str, float]) -> np.ndarray:
    """The logits after the penalties in ``settings`` (the same array when every one is off).

    The model's logits are log-probabilities, all negative, so a repetition penalty r turns a
    seen token's probability p into p ** r before renormalising."""
    if settings.get("repetition_penalty", 1.0) != 1.0:
        logits = sampling.apply_repetition_penalty(logits, context, settings["repetition_penalty"])
    if settings.get("frequency_penalty", 0.0) != 0.0 or settings.get("presence_penalty", 0.0) != 0.0:
        logits = sampling.apply_frequency_presence_penalty(
            logits, context, settings["frequency_penalty"], settings["presence_penalty"])
    return logits


def penalized(settings: dict[str, float]) -> bool:
    """Whether any penalty is on."""
    return any(settings.get(name, off) != off for name, off in PENALTIES.items())


def sampling_settings(method: str, settings: dict[str, float]) -> dict[str, float | None]:
    """Return ``sample_token`` keyword arguments for a method's settings."""
    return {
        # greedy is temperature 0: the first most likely token, always
        "temperature": 0.0 if method == "greedy" else settings.get("temperature", 1.0),
        "top_k": int(settings["top_k"]) if "top_k" in settings else None,
        "top_p": settings.get("top_p"),
        "min_p": settings.get("min_p"),
    }


def nucleus_size(logits: np.ndarray, nucleus_p: float | None) -> int | None:
    """How many tokens of the model's own distribution top-p keeps (None: not recorded)."""
    return None if nucleus_p is None else int(sampling.nucleus_size(logits, nucleus_p))


def _record(logits: np.ndarray, token: int, fixed_k: int, candidates: int, nucleus: int | None) -> Step:
    """Return the step record for ``token`` chosen from ``logits``."""
    return Step(
        token=int(token),
        # logits are normalised log-probabilities, so exp gives the
        # probability at temperature 1 before any truncation or penalty.
        probability=math.exp(logits[token]),
        nucleus_size=nucleus,
        fixed_k=fixed_k,
        candidates=candidates,
    )


# -- beam search --------------------------------------------------------------


class BeamStep(NamedTuple):
    """One step of beam search: the extensions it ranked, best first.

    The first ``kept`` extensions are the hypotheses it keeps (``hypotheses``
    holds their tokens); any after them are the best it cut, for a figure of
    the search.  ``parents`` index the previous step's ``hypotheses`` (the
    empty hypothesis before the first step); ``scores`` are total
    log-probabilities of the generated tokens.
    """

    parents: tuple[int, ...]
    tokens: tuple[int, ...]
    scores: tuple[float, ...]
    kept: int
    hypotheses: tuple[tuple[int, ...], ...]


def beam_steps(
    model: Model, prompt_ids: Sequence[int], length: int, width: int, cut_shown: int = 0
) -> Iterator[BeamStep]:
    """Yield each step of beam search, with up to ``cut_shown`` of the best extensions it cut.

    Standard beam search: every step extends each of the ``width`` kept
    hypotheses by every token and keeps the ``width`` extensions with the
    highest total log-probability.  No length penalty is needed because all
    hypotheses have the same length.  Ties go to the earlier hypothesis,
    then the smaller token id, so width 1 is exactly greedy decoding.
    Showing cut extensions changes nothing about which are kept.
    """
    if width < 1:
        raise ValueError("beam_width must be at least 1")
    prompt = tuple(int(i) for i in prompt_ids)
    hypotheses: list[tuple[int, ...]] = [()]
    scores = np.zeros(1)
    for _ in range(length):
        totals = scores[:, None] + np.stack([model.logits(prompt + h) for h in hypotheses])
        parents, tokens = _best_extensions(totals, width + cut_shown)
        kept = min(width, len(parents))
        scores = totals[parents[:kept], tokens[:kept]]
        hypotheses = [
            hypotheses[p] + (t,) for p, t in zip(parents[:kept].tolist(), tokens[:kept].tolist())
        ]
        yield BeamStep(tuple(parents.tolist()), tuple(tokens.tolist()),
                       tuple(totals[parents, tokens].tolist()), kept, tuple(hypotheses))


def _beam_progress(
    model: Model, prompt: tuple[int, ...], length: int, width: int, nucleus_p: float | None
) -> Iterator[Progress]:
    """Yield the best hypothesis after each step of beam search (see ``beam_steps``)."""
    for step in beam_steps(model, prompt, length, width):
        best = step.hypotheses[0]
        # the model keeps recent logits, so asking again for the best's parent costs nothing
        logits = model.logits(prompt + best[:-1])
        yield Progress(best, _record(logits, best[-1], COMPARISON_K, width, nucleus_size(logits, nucleus_p)))


def _best_extensions(totals: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (hypothesis, token) index pairs of the ``width`` best totals, best first."""
    flat = totals.ravel()
    keep = min(width, int(np.count_nonzero(np.isfinite(flat))))
    if keep < flat.size:
        # Partitioning finds the cut-off value in linear time; everything at
        # or above it is then sorted, ties by position, for a stable result.
        cutoff = np.partition(flat, flat.size - keep)[flat.size - keep]
        chosen = np.flatnonzero(flat >= cutoff)
    else:
        chosen = np.arange(flat.size)
    chosen = chosen[np.lexsort((chosen, -flat[chosen]))][:keep]
    return np.divmod(chosen, totals.shape[1])


def _beam_records(
    model: Model,
    prompt: tuple[int, ...],
    tokens: tuple[int, ...],
    width: int,
    nucleus_p: float | None,
) -> tuple[Step, ...]:
    """Return step records along the finished best hypothesis."""
    records = []
    for i, token in enumerate(tokens):
        logits = model.logits(prompt + tokens[:i])
        records.append(_record(logits, token, COMPARISON_K, width, nucleus_size(logits, nucleus_p)))
    return tuple(records)
