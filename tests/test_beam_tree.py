"""The beam search tree in CPython: its numbers are ngram's beam search, node by node.

The view's nodes carry data-step, data-rank, data-parent, data-token, data-logp and
data-state; each test reads them and compares with ngram (`beam_steps`, `generate`) or with
a brute-force ranking of every extension done here from the model's logits.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import ngram
import widgetkit
from ngram.decoding import beam_steps
from widgetkit import InputError
from widgets.beam_tree import MAX_STEPS, PROMPT_TEXT, PROMPTS, Search, beam_tree_facts

DEFAULTS = widgetkit.REGISTRY["beam_tree"].defaults()
NODE = re.compile(r'<g class="node ([a-z ]+)" data-step="(\d+)" data-rank="(\d+)" data-parent="(\d+)" '
                  r'data-token="(\d+)" data-logp="([^"]+)" data-state="(best|kept|cut)">')
SETTINGS = [(prompt, width, steps) for prompt, _ in PROMPTS for width in (2, 3, 4) for steps in (1, 4, MAX_STEPS)]


@pytest.fixture(scope="module")
def model(site_model) -> ngram.Model:
    return ngram.default_model()


def render(**state) -> widgetkit.View:
    return widgetkit.render("beam_tree", {key: str(value) for key, value in state.items()})


class Node:
    def __init__(self, classes, step, rank, parent, token, logp, state):
        self.classes, self.state = classes.split(), state
        self.step, self.rank, self.parent, self.token = int(step), int(rank), int(parent), int(token)
        self.logp = float(logp)


def nodes(view) -> list[Node]:
    return [Node(*found) for found in NODE.findall(view.html)]


def prompt_ids(model, prompt: str) -> list[int]:
    return [i for _, i in model.tokenize(PROMPT_TEXT[prompt])]


def best_tokens(view_nodes: list[Node]) -> list[int]:
    return [n.token for n in sorted((n for n in view_nodes if n.state == "best"), key=lambda n: n.step)]


# ---- the numbers are ngram's ----------------------------------------------------------------

@pytest.mark.parametrize("prompt,width,steps", SETTINGS)
def test_every_node_is_a_step_of_ngrams_beam_search(model, prompt, width, steps):
    view = render(prompt=prompt, beam_width=width, steps=steps)
    expected = list(beam_steps(model, prompt_ids(model, prompt), steps, width, cut_shown=width))
    shown = nodes(view)
    assert len(shown) == sum(len(step.tokens) for step in expected)
    by_place = {(n.step, n.rank): n for n in shown}
    for i, step in enumerate(expected, start=1):
        for rank, (parent, token, score) in enumerate(zip(step.parents, step.tokens, step.scores)):
            node = by_place[(i, rank)]
            assert (node.parent, node.token) == (parent, token)
            assert node.logp == score   # exact: the view prints repr of ngram's float
            assert (node.state == "cut") == (rank >= step.kept)


@pytest.mark.parametrize("prompt,width,steps", SETTINGS)
def test_the_highlighted_sequence_is_what_generate_writes_with_beam_search(model, prompt, width, steps):
    view = render(prompt=prompt, beam_width=width, steps=steps)
    ids = prompt_ids(model, prompt)
    written = ngram.generate(model, ids, "beam", steps, beam_width=width).tokens
    assert best_tokens(nodes(view)) == list(written)
    shown_ids = [int(i) for i in re.search(r'data-ids="([\d ]+)"', view.html).group(1).split()]
    assert shown_ids == ids + list(written)


def test_the_cut_nodes_are_the_next_best_extensions_by_brute_force(model):
    """Rank every extension of every kept sequence by hand: the view keeps the best `width`
    and shows the next `width` as cut, step after step."""
    width, steps = 3, MAX_STEPS
    ids = prompt_ids(model, "list")
    shown = nodes(render(prompt="list", beam_width=width, steps=steps))
    kept: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    for step in range(1, steps + 1):
        everything = sorted(
            ((score + float(logp), h + (token,))
             for h, score in kept
             for token, logp in enumerate(model.logits(ids + list(h))) if np.isfinite(logp)),
            key=lambda pair: -pair[0])
        here = sorted((n for n in shown if n.step == step), key=lambda n: n.rank)
        assert [n.logp for n in here] == pytest.approx([s for s, _ in everything[:2 * width]], abs=1e-9)
        kept = [(h, s) for s, h in everything[:width]]
        assert [n.token for n in here[:width]] == [h[-1] for h, _ in kept]


# ---- kept and cut ---------------------------------------------------------------------------

@pytest.mark.parametrize("prompt,width,steps", SETTINGS)
def test_each_step_keeps_width_sequences_and_cuts_only_worse_ones_which_have_no_children(
        model, prompt, width, steps):
    shown = nodes(render(prompt=prompt, beam_width=width, steps=steps))
    for step in range(1, steps + 1):
        here = [n for n in shown if n.step == step]
        kept = [n for n in here if n.state != "cut"]
        cut = [n for n in here if n.state == "cut"]
        assert sorted(n.rank for n in kept) == list(range(width))
        assert len(cut) == width and all(n.rank >= width for n in cut)
        assert max(n.logp for n in cut) <= min(n.logp for n in kept)
        assert sum(n.state == "best" for n in here) == 1
        children_of = {n.parent for n in shown if n.step == step + 1}
        assert not children_of & {n.rank for n in cut}   # a cut sequence is never extended
        assert all("cut" in n.classes for n in cut) and not any("cut" in n.classes for n in kept)


@pytest.mark.parametrize("prompt,width,steps", SETTINGS)
def test_the_best_sequence_has_the_largest_log_probability_of_the_final_beams(model, prompt, width, steps):
    view = render(prompt=prompt, beam_width=width, steps=steps)
    shown = nodes(view)
    final = [n for n in shown if n.step == steps and n.state != "cut"]
    best = next(n for n in final if n.state == "best")
    assert best.logp == max(n.logp for n in final)
    listed = [float(x) for x in re.findall(r'<li class="(?:best|kept)" data-logp="([^"]+)"', view.html)]
    assert listed == sorted(listed, reverse=True) and listed[0] == best.logp and len(listed) == width
    # and it is the sum of the model's log-probabilities of its tokens, each in its context
    ids, tokens = prompt_ids(model, prompt), best_tokens(shown)
    total = sum(float(model.logits(ids + tokens[:i])[t]) for i, t in enumerate(tokens))
    assert best.logp == pytest.approx(total, abs=1e-9)
    # the highlighted path runs parent to child from the first step to the last
    path = sorted((n for n in shown if n.state == "best"), key=lambda n: n.step)
    assert [n.step for n in path] == list(range(1, steps + 1))
    assert all(child.parent == parent.rank for parent, child in zip(path, path[1:]))


def test_showing_the_cut_extensions_changes_nothing_that_is_kept(model):
    ids = prompt_ids(model, "exception")
    plain = list(beam_steps(model, ids, MAX_STEPS, 4))
    shown = list(beam_steps(model, ids, MAX_STEPS, 4, cut_shown=4))
    assert [s.hypotheses for s in plain] == [s.hypotheses for s in shown]
    assert all(len(s.tokens) == s.kept for s in plain)
    assert [s.scores for s in plain] == [s.scores[:s.kept] for s in shown]


# ---- why it loops -------------------------------------------------------------------------

@pytest.mark.parametrize("prompt", [p for p, _ in PROMPTS])
def test_every_prompt_comes_back_to_its_own_words_at_the_default_settings(model, prompt):
    search = Search.make(model, PROMPT_TEXT[prompt], DEFAULTS["beam_width"], DEFAULTS["steps"])
    found = search.repeat()
    assert found is not None, f"{PROMPT_TEXT[prompt]!r} no longer loops: choose another prompt"
    text = search.prompt + search.best
    copy = text[found.start:found.start + found.length]
    assert text[found.earlier:found.earlier + found.length] == copy
    assert found.start + found.length > len(search.prompt) and found.earlier + found.length <= found.start
    view = render(prompt=prompt)
    assert view.html.count('<mark class="loop') == 2
    marked = re.findall(r'<tr class="kept chosen"><th scope="row"><code>([^<]*)</code>', view.html)
    in_continuation = [search.shown(t) for t in copy[max(len(search.prompt) - found.start, 0):]]
    assert marked == in_continuation and marked   # the table marks the repeat's new tokens
    assert "comes back to" in view.html and "which repeats \u201c" in view.summary


def test_a_search_that_repeats_nothing_says_so(model):
    view = render(prompt="list", beam_width=2, steps=4)
    assert Search.make(model, PROMPT_TEXT["list"], 2, 4).repeat() is None
    assert "which repeats no phrase" in view.summary and "<mark" not in view.html
    assert "No phrase repeats yet: add steps" in view.html


def test_the_explanation_quotes_the_views_own_numbers(model):
    view = render()
    search = Search.make(model, PROMPT_TEXT[DEFAULTS["prompt"]], DEFAULTS["beam_width"], DEFAULTS["steps"])
    first, second = search.steps[-1].scores[:2]
    mean = math.exp(first / DEFAULTS["steps"])
    assert f"{100 * mean:.1f}% on average" in view.html
    assert f"makes the best {math.exp(first - second):.1f} times as likely" in view.html
    probs = [float(p) for p in re.findall(r'<rect class="fill" data-token="[^"]*" data-p="([^"]+)"', view.html)]
    assert np.prod(probs) == pytest.approx(math.exp(first), rel=1e-9)   # the table's bars multiply to it


def test_facts_are_the_default_view(model):
    found = beam_tree_facts(model)
    view = render()
    assert found["beam_tree_best_logp"] in view.summary and found["beam_tree_best"] in view.summary
    assert f"\u201c{found['beam_tree_repeat']}\u201d" in view.summary
    assert found["beam_tree_mean_p"] + " on average" in view.html
    assert found["beam_tree_width"] == str(DEFAULTS["beam_width"]) and found["beam_tree_steps"] == str(DEFAULTS["steps"])


# ---- the figure as a reader gets it -----------------------------------------------------------

def test_the_tree_is_an_image_with_a_title_in_a_focusable_labelled_scroll_box(model):
    view = render()
    box = re.search(r'<div class="beam-scroll" role="region" tabindex="0" aria-label="([^"]+)">', view.html)
    assert box and "scrolls sideways" in box.group(1)
    svg = re.search(r'<svg class="beam-tree"[^>]*>', view.html).group(0)
    assert 'role="img"' in svg and 'aria-label="Tree of the search' in svg
    assert re.search(r'<svg class="beam-tree"[^>]*><title>Tree of the search', view.html)
    assert "style=" not in view.html and not re.search(r'\s(fill|stroke|color)="', view.html)   # CSS classes only
    tokens = re.findall(r'<text class="tok"[^>]*>([^<]*)</text>', view.html)
    assert "list" in tokens and len(tokens) == len(nodes(view)) + 1   # real text, the prompt's word too


def test_the_view_is_the_same_for_the_same_state(model):
    assert render(prompt="class", beam_width=4, steps=5) == render(prompt="class", beam_width=4, steps=5)
    assert render(prompt="class", beam_width=4, steps=5).html != render(prompt="class", beam_width=3, steps=5).html


@pytest.mark.parametrize("name,value,words", [
    ("beam_width", "1", "whole number from 2 to 4"),
    ("beam_width", "5", "whole number from 2 to 4"),
    ("beam_width", "2.5", "whole number from 2 to 4"),
    ("beam_width", "", "needs a value"),
    ("steps", "0", f"whole number from 1 to {MAX_STEPS}"),
    ("steps", str(MAX_STEPS + 1), f"whole number from 1 to {MAX_STEPS}"),
    ("steps", "many", f"whole number from 1 to {MAX_STEPS}"),
    ("prompt", "Tell me a story", "one of 'list'"),
])
def test_bad_settings_are_refused_with_an_input_error_naming_the_control(model, name, value, words):
    with pytest.raises(InputError) as caught:
        render(**{name: value})
    assert caught.value.param == name and words in caught.value.message


def test_an_unknown_setting_is_refused(model):
    with pytest.raises(InputError) as caught:
        render(temperature=1)
    assert caught.value.param == "temperature"
