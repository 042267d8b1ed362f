"""Sampling: how a language model picks its next token, in plain numpy.

Logits in, logits or a token id out; the penalties also take the ids of the
tokens seen so far. Every transform returns a new array and
never changes its input; a removed token gets the logit -inf. Bad arguments
raise a ValueError naming the argument, its value and what is accepted.
The rules follow Hugging Face transformers' logits warpers; see core.py for
the tie rule (higher logit first, tied logits lower id first) and draw.py
for how a token is drawn. +inf and NaN logits are refused; -inf means a
token that is already removed.

Example: sample_token(np.log([0.5, 0.3, 0.2]), np.random.default_rng(0), top_p=0.9) -> 1
"""

from .core import (apply_frequency_presence_penalty, apply_min_p, apply_repetition_penalty, apply_temperature,
                   apply_top_k, apply_top_p, apply_typical, softmax)
from .draw import SamplingStages, draw_tokens, sample_token, sampling_stages
from .measures import effective_candidates, entropy, nucleus_size

__all__ = [
    "SamplingStages",
    "apply_frequency_presence_penalty",
    "apply_min_p",
    "apply_repetition_penalty",
    "apply_temperature",
    "apply_top_k",
    "apply_top_p",
    "apply_typical",
    "draw_tokens",
    "effective_candidates",
    "entropy",
    "nucleus_size",
    "sample_token",
    "sampling_stages",
    "softmax",
]
