"""A small interpolated Kneser-Ney word n-gram language model and its decoders.

Build time (CPython)::

    from ngram import corpus_text, held_out_text, train, CORPUS
    model = train(corpus_text())          # about a second; cache the bytes
    data = model.to_bytes()

The build hands the bytes to ``use_model_bytes`` and ships them in the
site's wheel as ``ngram/model.bin``; in both places (CPython and Pyodide)::

    model = default_model()
    ids, unknown = model.encode("The value of")
    for progress in generate_steps(model, ids, "top_p", 50, rng=7, top_p=0.95):
        print(model.decode(ids + list(progress.tokens)))

``CORPUS`` (name, licence, word counts of the training text) is computed on
first access, because cleaning the documentation takes a few seconds and the
browser never needs it (it is not in ``__all__``, so ``import *`` does not
compute it).
"""

import importlib

# Where each name lives. Importing this package imports none of its modules: each is
# imported when one of its names is first used (PEP 562), so the browser, which only
# draws from the shipped model, never loads the corpus and training code, and a page
# that has no generate widget does not load the model at all.
_HOMES = {
    "corpus": ("LICENCE", "clean_text", "corpus_info", "corpus_text", "held_out_text"),
    "decoding": ("METHODS", "Generation", "Progress", "Step", "generate", "generate_steps"),
    "methods": ("COMPARISON_K", "METHOD", "NUCLEUS_P", "PAPER", "PENALTIES", "TABLE_ROWS", "Method",
                "TableRow"),
    "metrics": ("RepeatingTail", "distinct_n", "ends_in_repetition", "repeating_tail",
                "repetition_start"),
    "model": ("Model", "train"),
    "shipped": ("Comparison", "default_comparison", "default_model", "use_comparison",
                "use_model_bytes"),
    "table": ("decoding_table", "passages_from_text", "prompts_from_text", "reference_row"),
    "tokens": ("BOS", "EOS", "UNK"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_HOME_OF)


def __getattr__(name: str):
    """A public name, from its module on first use; ``CORPUS`` computed on first access."""
    if name == "CORPUS":
        from .corpus import corpus_info
        return corpus_info()
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f".{_HOME_OF[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
