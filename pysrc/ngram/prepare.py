"""The article's build step: the generation widget's model and the decoding comparison,
made once per machine. Build-time only (content/site.yml names it under `build:`, which
keeps it out of the browser's wheel).

Both depend only on the documentation of the Python running the build (the
corpus) and on the sources of the `ngram` and `sampling` packages. So they are
cached in .cache/ngram/, each under a hash of exactly those inputs: the first
build pays (about 10 s to clean the corpus and train, a minute or so for the
table), every later build and test reads two files. Training and the table are
deterministic, so two builds of the same sources still give the same bytes.

`prepare(cache)` hands both to the `ngram` package (`ngram.default_model()` and
`ngram.default_comparison()` then work for the widget views and the article's
facts) and returns the model's bytes as the file the build adds to the site's wheel.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import ngram
import sampling
from ngram.corpus import raw_documents
from pydoc_data import topics as pydoc_topics

# The comparison of decoding methods (after Holtzman et al. 2020, Table 1): the
# beginnings of held-out sentences, each continued once by every method, for as
# many tokens as in the paper. 50 texts a row: enough to tell 0% from 18% from
# 100%, in about a minute (twice the texts would double the wait after every
# change to the ngram or sampling sources, for no change in the story).
TABLE_SETTINGS = {"prompts": 50, "prompt_words": 4, "runs_per_prompt": 1, "length": 200, "seed": 2020}
# The ngram modules a trained model depends on (the rest only decode).
MODEL_SOURCES = ("corpus.py", "tokens.py", "model.py")
KEEP_ENTRIES = 4  # cache entries of each kind kept, newest first


def prepare(cache: Path) -> dict[str, bytes]:
    """Hand the model and the comparison to `ngram`, made or read from the cache;
    return the files the site's wheel must carry, by their path in it."""
    folder = cache / "ngram"   # this step's own corner of the build's cache
    model_key = digest(corpus_digest(folder), *package_sources(ngram, MODEL_SOURCES))
    data, model_facts = cached_model(folder, model_key)
    ngram.use_model_bytes(data)
    table_key = digest(model_key, json.dumps(TABLE_SETTINGS, sort_keys=True),
                       *package_sources(ngram), *package_sources(sampling))
    comparison = cached_comparison(folder, table_key, model_facts)
    ngram.use_comparison(comparison)
    return {f"ngram/{ngram.shipped.MODEL_RESOURCE}": data}


@functools.lru_cache(maxsize=1)
def corpus_digest(folder: Path | None = None) -> str:
    """A hash of the documentation the corpus is cleaned from. Reading it takes half a second
    or more, and a preview runs this step again after each edit to the site's Python, so the
    hash is kept in the cache (when given a folder) under a key that names this Python's
    standard library: its version, its folder and that folder's date (which changes when a
    module is added or removed), and the documentation topics' file."""
    if folder is None:
        return digest(*raw_documents())
    stdlib, topics = Path(sysconfig.get_paths()["stdlib"]), Path(pydoc_topics.__file__)
    stamp = digest(sys.version, *(f"{p}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in (stdlib, topics)))
    kept = folder / f"corpus-{stamp}.txt"
    if kept.exists():
        return kept.read_text(encoding="utf-8").strip()
    value = digest(*raw_documents())
    remember(folder, kept.name, value.encode("utf-8"), "corpus-*.txt")
    return value


def package_sources(package, names: tuple[str, ...] | None = None) -> list[str]:
    """The text of a package's modules (all, or those named), in a fixed order."""
    folder = Path(package.__file__).parent
    paths = [folder / n for n in names] if names else sorted(folder.glob("*.py"))
    return [f"{p.name}\n{p.read_text(encoding='utf-8')}" for p in paths]


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def cached_model(folder: Path, key: str) -> tuple[bytes, dict]:
    """The trained model's bytes and facts about it and its corpus."""
    data_path, facts_path = folder / f"model-{key}.bin", folder / f"model-{key}.json"
    if data_path.exists() and facts_path.exists():
        return data_path.read_bytes(), json.loads(facts_path.read_text(encoding="utf-8"))
    print("Training the n-gram model on Python's documentation (once per machine) ...", flush=True)
    started = time.perf_counter()
    model = ngram.train(ngram.corpus_text())
    data = model.to_bytes()
    facts = {"corpus": ngram.corpus_info(), "model": model_facts(model, data),
             "seconds": round(time.perf_counter() - started, 1)}
    remember(folder, data_path.name, data, "model-*.bin")
    remember(folder, facts_path.name, json_bytes(facts), "model-*.json")
    return data, facts


def model_facts(model: ngram.Model, data: bytes) -> dict:
    return {"order": model.order, "vocabulary": model.vocabulary_size, "bytes": len(data),
            "ngrams": [int(table.counts.size) for table in model.tables]}


def cached_comparison(folder: Path, key: str, model_facts: dict) -> ngram.Comparison:
    path = folder / f"comparison-{key}.json"
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
    else:
        print("Comparing decoding methods on the n-gram model (once per machine, about a minute) ...",
              flush=True)
        saved = run_comparison(ngram.default_model())
        remember(folder, path.name, json_bytes(saved), "comparison-*.json")
    return ngram.Comparison(corpus=model_facts["corpus"], model=model_facts["model"],
                            settings=saved["settings"], rows=saved["rows"])


def run_comparison(model: ngram.Model) -> dict:
    """The decoding table over held-out prompts, what people wrote after those prompts
    first (the paper's "Human" row), and the prompts it used."""
    s = TABLE_SETTINGS
    started = time.perf_counter()
    passages = ngram.passages_from_text(model, ngram.held_out_text(), s["prompts"],
                                        s["prompt_words"], s["length"])
    prompts = [prompt for prompt, _ in passages]
    rows = [ngram.reference_row(model, passages, "Held-out documentation"),
            *ngram.decoding_table(model, prompts, s["runs_per_prompt"], s["length"], s["seed"])]
    settings = {**s, "prompts": len(prompts), "prompt_texts": [model.decode(p) for p in prompts],
                "seconds": round(time.perf_counter() - started, 1)}
    return {"settings": settings, "rows": rows}


def json_bytes(value) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True) + "\n").encode("utf-8")


def remember(folder: Path, name: str, data: bytes, kind: str) -> None:
    """Write a cache entry in one rename (builds may run side by side), and let only the
    newest few of its kind stay."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", delete=False) as f:
        f.write(data)
    os.replace(f.name, folder / name)
    entries = sorted(folder.glob(kind), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_ENTRIES:]:
        old.unlink(missing_ok=True)
