"""The generation widget in CPython, and how the build makes and caches its model.

The widget's view is a pure function of its state, so each test renders a state
and reads the figure: the token ids (data-ids), the marked loop, the chart's
numbers (data-nucleus, data-p). The model is the site's own, made by ngram.prepare in the
tests' cache (see test_prepare_*).
"""
from __future__ import annotations

import html
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import ngram
import sampling
import widgetkit
from ngram import prepare
from widgetkit import InputError
from widgets.generate import MAX_LENGTH, METHOD_CHOICES, method_settings

ROOT = Path(__file__).resolve().parent.parent
METHODS = [value for value, _ in METHOD_CHOICES]
DEFAULTS = widgetkit.REGISTRY["generate"].defaults()


@pytest.fixture(scope="module")
def model(site_model) -> ngram.Model:
    return ngram.default_model()


def render(**state):
    return widgetkit.render("generate", {k: str(v) for k, v in state.items()})


def ids_of(view) -> list[int]:
    return [int(i) for i in re.search(r'data-ids="([\d ]*)"', view.html).group(1).split()]


def text_of(view) -> str:
    """The generated text as the page shows it: the paragraph's text, tags dropped."""
    paragraph = re.search(r'<p class="gen-text".*?</p>', view.html).group(0)
    return html.unescape(re.sub(r"<[^>]+>", "", paragraph))


def chart_numbers(view, name: str) -> list[float]:
    chart = re.search(r'<svg class="steps".*?</svg>', view.html).group(0)
    return [float(x) for x in re.findall(rf'data-{name}="([^"]+)"', chart)]


def settings_of(method: str, **changes) -> dict:
    return method_settings(method, {**DEFAULTS, **changes})


# -- what the widget writes ---------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_generate_view_writes_what_ngram_generates_for_the_seed(model, method):
    view = render(method=method, length=40, seed=7)
    prompt = [i for _, i in model.tokenize(DEFAULTS["prompt"])]
    expected = ngram.generate(model, prompt, method, 40, rng=7, **settings_of(method))
    assert ids_of(view) == prompt + list(expected.tokens)
    assert text_of(view) == model.decode(prompt + list(expected.tokens))
    assert view.state == {"step": MAX_LENGTH, "seed": 7}


RENDER_ELSEWHERE = """
import json, sys
from pathlib import Path
import widgetkit
from ngram import prepare
widgetkit.import_widgets(["widgets"], skip=frozenset({"widgets.facts"}))
prepare.prepare(Path(sys.argv[1]))
print(json.dumps({m: widgetkit.render("generate", {"method": m, "seed": "3"}).html for m in sys.argv[2:]}))
"""


def test_generate_view_is_the_same_for_the_same_state_in_another_process(model, build_cache):
    """The view is a function of its state alone: drawn here after numpy's and Python's global
    random state were moved, and in a fresh process with another hash seed (as the build and the
    browser are two processes), every method writes the same figure."""
    np.random.seed(12345)
    np.random.random(7)
    here = {m: render(method=m, seed=3).html for m in METHODS}
    elsewhere = subprocess.run(
        [sys.executable, "-c", RENDER_ELSEWHERE, str(build_cache), *METHODS], cwd=ROOT, check=True,
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "4242",
                                             "PYTHONPATH": str(ROOT / "pysrc")})
    assert json.loads(elsewhere.stdout) == here


def test_generate_new_seed_changes_sampled_text_not_greedy(model):
    first, again = render(method="top_p", seed=1), render(method="top_p", seed=1, new_seed="seed")
    assert again.state["seed"] == 2 and ids_of(again) == ids_of(render(method="top_p", seed=2))
    assert ids_of(first) != ids_of(again)
    assert ids_of(render(method="greedy", seed=1)) == ids_of(render(method="greedy", seed=9))


def test_generate_default_greedy_text_ends_in_a_marked_loop(model):
    view = render()
    tokens = ids_of(view)[len(model.tokenize(DEFAULTS["prompt"])):]
    tail = ngram.repeating_tail(tokens)
    assert tail is not None
    copies = re.findall(r'<mark class="loop loop-\d">(.*?)</mark>', view.html)
    assert len(copies) == tail.repeats and len(set(copies[1:])) == 1   # after the first, the same text
    assert f"repeated {tail.repeats} times" in view.summary


def test_generate_sampled_text_marks_nothing_when_it_does_not_loop(model):
    view = render(method="top_p", seed=1)
    assert ngram.repeating_tail(ids_of(view)) is None and "<mark" not in view.html
    assert "no phrase repeats at its end" in view.summary


@pytest.mark.parametrize("method", ["greedy", "beam", "top_k", "top_p", "min_p"])
def test_generate_chart_numbers_are_the_models(model, method):
    view = render(method=method, length=30, seed=4, top_p=0.8)
    ids = ids_of(view)
    n_prompt = len(ids) - 30
    logits = [model.logits(ids[:n_prompt + i]) for i in range(30)]
    p = 0.8 if method == "top_p" else ngram.NUCLEUS_P
    assert chart_numbers(view, "nucleus") == [sampling.nucleus_size(l, p) for l in logits]
    assert chart_numbers(view, "p") == [math.exp(l[t]) for l, t in zip(logits, ids[n_prompt:])]
    assert chart_numbers(view, "step") == [float(i) for i in range(1, 31) for _ in (0, 1)]
    k = 40 if method != "top_k" else DEFAULTS["top_k"]
    assert chart_numbers(view, "k") == [k]


@pytest.mark.parametrize("method", ["greedy", "top_k", "top_p"])
def test_generate_penalties_write_what_ngram_generates_with_them(model, method):
    penalties = {"repetition_penalty": 1.3, "frequency_penalty": 0.2, "presence_penalty": 0.1}
    view = render(method=method, length=40, seed=5, **penalties)
    prompt = [i for _, i in model.tokenize(DEFAULTS["prompt"])]
    expected = ngram.generate(model, prompt, method, 40, rng=5, **settings_of(method, **penalties))
    assert ids_of(view) == prompt + list(expected.tokens)
    assert ("with a repetition penalty of 1.3 and a frequency penalty of 0.2 and a presence penalty of 0.1 "
            "wrote 40 of 40") in view.summary


def test_generate_a_repetition_penalty_breaks_the_default_greedy_loop(model):
    assert "<mark" in render().html
    view = render(repetition_penalty=1.2)
    assert "<mark" not in view.html and "no phrase repeats at its end" in view.summary
    assert ids_of(view) != ids_of(render())


def test_generate_last_step_shows_the_one_token_greedy_keeps_under_a_penalty(model):
    """Greedy decoding with a penalty keeps one token: the best after the penalty, marked chosen."""
    view = render(repetition_penalty=3.0, step=30, length=30)
    table = re.search(r'<table class="dist".*?</table>', view.html, re.S).group(0)
    kept_rows = re.findall(r'<tr class="kept[^"]*"', table)
    assert len(kept_rows) == 1 and "chosen" in kept_rows[0]
    assert "greedy decoding kept 1 token" in table


def test_generate_beam_search_says_it_takes_no_penalty(model):
    assert "takes no penalty" in render(method="beam", length=5, repetition_penalty=1.5).html
    assert "takes no penalty" not in render(method="beam", length=5).html
    assert ids_of(render(method="beam", length=5, presence_penalty=1)) == ids_of(render(method="beam", length=5))


def test_generate_chart_is_an_image_with_a_text_and_no_inline_style(model):
    view = render(method="top_p")
    svg = re.search(r"<svg class=\"steps\"[^>]*>", view.html).group(0)
    assert 'role="img"' in svg and 'aria-label="Chart over 60 steps.' in svg
    assert "style=" not in view.html and "<script" not in view.html


# -- stepping --------------------------------------------------------------------------


def test_generate_buttons_move_the_step(model):
    assert render(start_over="restart").state["step"] == 0
    assert render(step=0, next_token="next").state["step"] == 1
    assert render(step=5, next_token="next", length=60).state["step"] == 6
    assert render(step=60, next_token="next", length=60).state["step"] == 60      # at the end: stays
    assert render(step=MAX_LENGTH, next_token="next", length=60).state["step"] == MAX_LENGTH
    assert render(step=3, write_all="all").state["step"] == MAX_LENGTH


def test_generate_stepping_shows_a_prefix_of_the_sampled_text(model):
    full = ids_of(render(method="top_k", seed=5))
    for step in (0, 1, 7):
        view = render(method="top_k", seed=5, step=step)
        assert ids_of(view) == full[:len(full) - 60 + step]
        assert f"Tokens</dt><dd>{step} of 60" in view.html


def test_generate_step_zero_lists_the_first_tokens_candidates(model):
    view = render(step=0)
    assert "The first token&#x27;s candidates" in view.html or "The first token's candidates" in view.html
    assert 'data-step="1"' not in view.html


def test_generate_beam_search_says_its_text_can_still_change(model):
    assert "can change earlier tokens" in render(method="beam", step=5).html
    assert "can change earlier tokens" not in render(method="beam").html


# -- prompts ---------------------------------------------------------------------------


def test_generate_reports_unknown_words_and_keeps_them_as_typed(model):
    view = render(prompt="The zebra gives a Frobnicated value", length=5)
    note = re.search(r'<p class="figure-note unknown-words">(.*?)</p>', view.html).group(1)
    assert "\u201czebra\u201d" in note and "\u201cFrobnicated\u201d" in note and "&lt;unk&gt;" in note
    assert text_of(view).startswith("The zebra gives a Frobnicated value")
    assert "after \u201cThe zebra gives a Frobnicated value\u201d" in view.summary
    assert ids_of(view)[1] == model.unk_id


def test_generate_known_words_raise_no_note(model):
    assert "unknown-words" not in render(prompt="The value of the").html


def test_generate_empty_prompt_starts_a_sentence(model):
    view = render(prompt="", length=10)
    assert len(ids_of(view)) == 10 and "starts a sentence of its own" in view.html


@pytest.mark.parametrize(("name", "value", "words"), [
    ("length", "abc", "Length in tokens takes"),
    ("length", "", "Length in tokens needs a value"),
    ("length", "0", "from 1 to 200"),
    ("top_p", "7", "p takes a number from 0.01 to 1"),
    ("top_k", "2.5", "a whole number"),
    ("beam_width", "17", "from 1 to 16"),
    ("method", "nucleus", "one of 'greedy'"),
    ("repetition_penalty", "0.5", "from 1 to 3"),
    ("frequency_penalty", "2.5", "from -2 to 2"),
    ("presence_penalty", "x", "Presence penalty takes"),
])
def test_generate_bad_input_is_an_input_error_naming_the_control(model, name, value, words):
    with pytest.raises(InputError) as caught:
        render(**{name: value})
    assert caught.value.param == name and words in caught.value.message


def test_generate_handle_replies_invalid_for_bad_input(model):
    reply = json.loads(widgetkit.handle(json.dumps(
        {"type": "render", "id": 4, "widget": "generate", "state": {"top_p": "7", "method": "top_p"}})))
    assert reply["type"] == "invalid" and reply["param"] == "top_p"


# -- the article's numbers ----------------------------------------------------------------


def test_generation_facts_give_the_table_and_the_corpus(model):
    from widgets import facts

    found = facts.generation_facts(ngram.default_comparison())
    assert [row["label"] for row in found["gen_rows"]] == ["Held-out documentation"] + [
        row.label for _, row in ngram.TABLE_ROWS]
    assert [row["label"] for row in found["gen_rows"][-2:]] == ["Greedy, repetition penalty 1.2",
                                                                 "Greedy, frequency penalty 0.5"]
    assert found["gen_rep_greedy"] == "100%"          # a trigram's greedy path must loop
    assert found["gen_licence"] == ngram.LICENCE
    assert int(found["gen_vocabulary"].replace(",", "")) == model.vocabulary_size
    assert found["gen_greedy_loop_phrase"] == str(ngram.repeating_tail(
        ids_of(render())[len(model.tokenize(DEFAULTS["prompt"])):]).phrase_length)


def test_comparison_rows_are_the_decoding_table(model):
    comparison = ngram.default_comparison()
    assert [row["key"] for row in comparison.rows] == ["human", "greedy", "beam", "sample", "temperature",
                                                      "top_k", "top_p", "greedy_penalty", "greedy_frequency"]
    assert comparison.rows[-2]["method"] == "greedy" and comparison.rows[-2]["params"]["repetition_penalty"] == 1.2
    assert comparison.rows[-1]["method"] == "greedy" and comparison.rows[-1]["params"]["frequency_penalty"] == 0.5
    assert {row["generations"] for row in comparison.rows} == {comparison.settings["prompts"]}
    assert {row["mean_length"] for row in comparison.rows} == {comparison.settings["length"]}


# -- the build's model: made once, cached, shipped -----------------------------------------


TINY = ngram.clean_text("The value of an object is stored in the object. The type of an object is "
                        "an object too. A name refers to an object. The list can change, and its "
                        "length can change too. A tuple is like a list, but it cannot change.")


@pytest.fixture
def tiny_corpus(build_cache):
    """ngram.prepare on a corpus of five sentences, so a test can make a cache from nothing."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare, "corpus_digest", lambda folder=None: "tiny")
        patch.setattr(ngram, "corpus_text", lambda: TINY)
        patch.setattr(ngram, "held_out_text", lambda: TINY)
        patch.setattr(ngram, "corpus_info", lambda: {"words": 40})
        patch.setattr(prepare, "TABLE_SETTINGS", {"prompts": 2, "prompt_words": 2, "runs_per_prompt": 1,
                                                 "length": 5, "seed": 1})
        yield patch
    prepare.prepare(build_cache)   # the site's model again, for the tests that follow


def test_prepare_makes_the_model_and_table_once_then_reads_them(tiny_corpus, tmp_path):
    data = prepare.prepare(tmp_path)["ngram/model.bin"]
    assert ngram.default_model().vocabulary == ngram.Model.from_bytes(data).vocabulary
    assert len(ngram.default_comparison().rows) == 1 + len(ngram.TABLE_ROWS)
    made = sorted(p.name for p in (tmp_path / "ngram").iterdir())
    assert [name.split("-")[0] for name in made] == ["comparison", "model", "model"]

    def fail(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    tiny_corpus.setattr(ngram, "train", fail)
    tiny_corpus.setattr(ngram, "decoding_table", fail)
    assert prepare.prepare(tmp_path)["ngram/model.bin"] == data


def test_prepare_keys_follow_the_sources(tiny_corpus, tmp_path):
    prepare.prepare(tmp_path)
    real = prepare.package_sources
    tiny_corpus.setattr(prepare, "package_sources",
                        lambda package, names=None: real(package, names) + ["# changed"])
    prepare.prepare(tmp_path)
    assert len(list((tmp_path / "ngram").glob("model-*.bin"))) == 2


def test_the_sites_wheel_carries_the_model(built_site, model):
    (wheel,) = (built_site / "pyodide").glob("site_code-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert ngram.Model.from_bytes(archive.read("ngram/model.bin")).vocabulary == model.vocabulary
    assert not (ROOT / "pysrc" / "ngram" / "model.bin").exists()   # never written into the sources


def test_the_article_quotes_the_table(built_site):
    page = (built_site / "sampling.html").read_text(encoding="utf-8")
    for row in ngram.default_comparison().rows:
        assert f"<td>{html.escape(row['label'])}</td>" in page


def test_the_articles_claims_hold_for_this_model(model):
    """What "Seeing it happen" says in words about the numbers it quotes (the numbers come from
    the build; the words would not follow them to a different Python's documentation)."""
    from widgets import facts

    rows = {row["key"]: row for row in ngram.default_comparison().rows}
    rep = {m: r["repetition_percent"] for m, r in rows.items()}
    d2 = {m: r["distinct_2"] for m, r in rows.items()}
    ppl = {m: r["perplexity"] for m, r in rows.items()}
    sampled = ("sample", "temperature", "top_k", "top_p")
    assert rep["beam"] < rep["greedy"] and rep["greedy"] > 50          # greedy loops, beam less often
    assert rep["greedy_penalty"] < rep["greedy"]                         # a penalty breaks some loops
    assert rows["beam"]["repetition_percent_but_last"] > rep["beam"]     # "part of the difference"
    assert abs(d2["beam"] - d2["greedy"]) < abs(d2["beam"] - d2["human"])
    assert all(d2[m] > d2["human"] - 0.1 for m in sampled)              # "nearly as varied"
    assert max(ppl["greedy"], ppl["beam"]) < ppl["human"] / 3            # "far more predictable"
    assert max(ppl["temperature"], ppl["top_k"]) < ppl["top_p"] < ppl["human"]
    assert ppl["sample"] < ppl["human"]                                  # unlike GPT-2 in the paper
    found = facts.generation_facts(ngram.default_comparison())
    assert found["gen_greedy_under_1pct"] == "0"                         # "never takes ... unlikely"
    assert 0 < int(found["gen_nucleus_under_k"]) < int(found["gen_nucleus_tokens"]) / 2
    assert int(found["gen_greedy_loop_tokens"]) > 0


def test_generate_marks_a_loop_that_only_the_last_token_breaks(model):
    view = render(method="beam", length=200)
    tokens = ids_of(view)[len(model.tokenize(DEFAULTS["prompt"])):]
    assert ngram.repeating_tail(tokens) is None
    broken = ngram.repeating_tail(tokens[:-1])
    assert broken is not None
    assert len(re.findall(r'<mark class="loop', view.html)) == broken.repeats
    assert "Only the last token breaks the loop" in view.html and "nothing left to plan for" in view.html
    assert "no, but all tokens before the last do" in view.html
    assert f"repeated {broken.repeats} times" in view.summary
