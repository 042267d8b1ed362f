"""The model the site ships, and the decoding comparison the build ran with it.

The build (``ngram/prepare.py``) trains the model once per corpus, caches
it, and hands the bytes over with ``use_model_bytes``; the same bytes travel
in the site's wheel as ``ngram/model.bin``, which is where the browser finds
them.  ``default_model()`` therefore works in both places::

    model = default_model()   # build: the handed-over bytes; browser: model.bin

The comparison (corpus facts and the decoding table) is build-time only: the
build hands it over with ``use_comparison`` for the article's facts.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import NamedTuple

from .model import Model

MODEL_RESOURCE = "model.bin"  # inside the ngram package of the site's wheel

_handed_over: dict[str, object] = {}


class Comparison(NamedTuple):
    """What the article quotes about the model and its decoding table.

    corpus:   ``corpus_info()`` of the training text (name, licence, words...).
    model:    facts about the trained model (vocabulary, order, bytes, n-grams).
    settings: how the table was made (prompts, runs per prompt, length, seed).
    rows:     ``decoding_table``'s rows.
    """

    corpus: dict
    model: dict
    settings: dict
    rows: list


def use_model_bytes(data: bytes) -> None:
    """Make ``default_model()`` return the model stored in ``data`` (``Model.to_bytes``)."""
    _handed_over["model"] = bytes(data)
    default_model.cache_clear()


@functools.cache
def default_model() -> Model:
    """Return the site's model: the bytes handed over, else the wheel's ``model.bin``.

    Loaded once, on first use: the browser pays for it only when a widget
    that generates text is first drawn.
    """
    data = _handed_over.get("model")
    if data is None:
        resource = importlib.resources.files(__package__).joinpath(MODEL_RESOURCE)
        if not resource.is_file():
            raise RuntimeError(
                "there is no trained model here: the site's wheel carries ngram/model.bin, "
                "and in CPython ngram.prepare.prepare(cache) trains or loads one first."
            )
        data = resource.read_bytes()
    return Model.from_bytes(data)


def use_comparison(comparison: Comparison) -> None:
    """Make ``default_comparison()`` return ``comparison``."""
    _handed_over["comparison"] = comparison


def default_comparison() -> Comparison:
    """Return the comparison the build computed (see ``ngram.prepare``)."""
    comparison = _handed_over.get("comparison")
    if comparison is None:
        raise RuntimeError(
            "the decoding comparison is computed by the build: call "
            "ngram.prepare.prepare(cache) before the article's facts."
        )
    return comparison
