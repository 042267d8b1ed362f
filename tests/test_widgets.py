"""The article's widget views, as pure functions: what they draw is what `sampling` computes."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import sampling
import widgetkit
from widgets import facts
from widgetkit import InputError
from widgets.charts import percent, shown_token
from widgets.draw import drawn_ids
from widgets.examples import EXAMPLES, GPT2_VOCABULARY
from widgets.explorer import run_stages
from widgets.listing import HEAD, listed_count

ARTICLE_WIDGETS = ("distribution", "draw", "temperature", "top_k", "top_p", "explorer")
BAR = re.compile(r'<rect class="(fill|drawn)" data-token="([^"]*)" data-p="([^"]*)"( data-rest="(\d+)")?')


def bars(html: str, kind: str = "fill") -> list[tuple[str, float, int]]:
    """(token, p, tokens summed) of every bar of one kind, in order; a listed token sums 1."""
    return [(token, float(p), int(rest or 1)) for k, token, p, _, rest in BAR.findall(html) if k == kind]


def listed(html: str, kind: str = "fill") -> dict[str, float]:
    """The bars of single tokens (not the rows that sum up many), by token."""
    return {token: p for token, p, n in bars(html, kind) if not token.startswith("+ ")}


def render(name: str, **state) -> widgetkit.View:
    return widgetkit.render(name, {key: str(value) for key, value in state.items()})


def kept_tokens(html: str) -> list[str]:
    rows = re.findall(r'<tr class="kept[^"]*"><th scope="row"><code>([^<]*)</code>', html)
    return [row.replace("\u2423", " ") for row in rows]


# ---- every widget ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ARTICLE_WIDGETS)
def test_every_widget_renders_its_defaults_with_bars_that_carry_token_and_p(name):
    view = widgetkit.REGISTRY[name].render({})
    assert view.summary and bars(view.html)
    drawn_rects = (view.html.count("<rect ") - view.html.count('<rect class="track"')
                   - view.html.count('<rect class="score-'))   # a score's bar (distribution) is no probability
    assert drawn_rects == len(BAR.findall(view.html))   # no bar without its token and p


@pytest.mark.parametrize("name", [n for n in ARTICLE_WIDGETS if n != "top_k"])
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_every_prompt_shows_bars_that_add_up_to_one(name, example):
    view = render(name, example=example)
    assert sum(p for _, p, _ in bars(view.html)) == pytest.approx(1.0, rel=1e-12)
    assert sum(n for _, _, n in bars(view.html)) == EXAMPLES[example].size


def test_examples_are_ranked_best_first_and_the_big_one_has_gpt2s_vocabulary():
    for ex in EXAMPLES.values():
        assert list(ex.scores) == sorted(ex.scores, reverse=True) and len(set(ex.scores)) == ex.size
    big = EXAMPLES["big"]
    assert big.size == GPT2_VOCABULARY and big.tokens[HEAD] == f"token #{HEAD + 1}"
    assert not big.logits.flags.writeable


# ---- distribution ----------------------------------------------------------------------

@pytest.mark.parametrize("example", ["peaked", "flat"])
def test_distribution_bars_are_the_softmax_of_the_scores(example):
    ex = EXAMPLES[example]
    shown = listed(render("distribution", example=example).html)
    assert shown == dict(zip(ex.tokens, sampling.softmax(ex.logits).tolist()))


def test_distribution_big_lists_the_head_and_sums_the_rest():
    ex = EXAMPLES["big"]
    probs = sampling.softmax(ex.logits)
    shown = bars(render("distribution", example="big").html)
    assert [t for t, _, _ in shown[:HEAD]] == list(ex.tokens[:HEAD])
    assert shown[-1] == ("+ 50,247 more tokens", float(probs[HEAD:].sum()), ex.size - HEAD)


# ---- temperature -----------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 0.3, 1.0, 2.5])
def test_temperature_bars_are_sampling_stages_probs(temperature):
    ex = EXAMPLES["flat"]
    shown = listed(render("temperature", example="flat", temperature=temperature).html)
    expected = sampling.sampling_stages(ex.logits, temperature=temperature).probs
    assert shown == dict(zip(ex.tokens, expected.tolist()))


def test_temperature_above_one_hands_the_big_tail_its_share():
    cold = bars(render("temperature", example="big", temperature=0.7).html)[-1][1]
    hot = bars(render("temperature", example="big", temperature=1.5).html)[-1][1]
    assert cold < 0.05 < 0.8 < hot


# ---- draws -----------------------------------------------------------------------------

def test_draw_without_a_press_shows_no_draws_and_keeps_its_state():
    view = render("draw", example="flat", seed=5, draws=0, recent="")
    assert view.state == {"seed": 5, "draws": 0, "recent": ""} and not bars(view.html, "drawn")
    assert "press a button" in view.summary


@pytest.mark.parametrize("button, n", [("hundred", 100), ("ten_thousand", 10_000)])
def test_draw_button_moves_to_the_next_seed_and_shows_those_draws(button, n):
    ex = EXAMPLES["flat"]
    view = render("draw", example="flat", seed=7, **{button: str(n)})
    assert view.state["seed"] == 8 and view.state["draws"] == n
    probs = sampling.softmax(ex.logits)
    counts = np.bincount(drawn_ids(probs, 8, n), minlength=ex.size)
    assert listed(view.html, "drawn") == dict(zip(ex.tokens, (counts / n).tolist()))


def test_draw_is_reproducible_from_its_state_alone():
    pressed = render("draw", example="big", seed=0, ten_thousand="10000")
    replayed = render("draw", example="big", **pressed.state)
    assert replayed.html == pressed.html and replayed.state == pressed.state


def test_draw_ids_are_sampling_draw_tokens_with_that_seed():
    probs = sampling.softmax(EXAMPLES["big"].logits)
    expected = sampling.draw_tokens(probs, np.random.default_rng(3), 500)
    assert np.array_equal(drawn_ids(probs, 3, 500), expected)


def test_generate_shows_the_picked_token_and_remembers_recent_picks():
    ex = EXAMPLES["flat"]
    probs = sampling.softmax(ex.logits)
    view = render("draw", example="flat", seed=2, recent="1 2", generate="1")
    assert view.state == {"seed": 3, "draws": 1, "recent": "1 2 3"}
    picked = ex.tokens[int(drawn_ids(probs, 3, 1)[0])]
    assert f'<tr class="kept chosen"><th scope="row"><code>{shown_token(picked)}</code> <span class="tag">chosen</span>' in view.html
    assert view.html.count('class="tag"') == 1
    history = re.search(r'<span class="history">(.*?)</span>', view.html).group(1)
    assert re.findall(r"<code>([^<]*)</code>", history) == [
        shown_token(ex.tokens[int(drawn_ids(probs, s, 1)[0])]) for s in (3, 2, 1)]


def test_draw_forgets_all_but_the_last_eight_picks():
    view = render("draw", seed=20, recent=" ".join(map(str, range(1, 21))), generate="1")
    assert view.state["recent"].split() == [str(s) for s in range(14, 22)]


@pytest.mark.parametrize("recent", ["a b", "-1", "1.5"])
def test_draw_refuses_a_malformed_recent_list_naming_it(recent):
    with pytest.raises(InputError) as caught:
        render("draw", recent=recent)
    assert caught.value.param == "recent"


# ---- top-k -----------------------------------------------------------------------------

@pytest.mark.parametrize("top_k", [1, 3, 7, 12])
def test_top_k_keeps_what_sampling_keeps_and_reports_its_mass(top_k):
    view = render("top_k", top_k=top_k)
    for ex in (EXAMPLES["peaked"], EXAMPLES["flat"]):
        kept = np.isfinite(sampling.apply_top_k(ex.logits, top_k))
        mass = float(sampling.softmax(ex.logits)[kept].sum())
        assert f"top-{top_k} keeps {percent(mass)} of the mass" in view.html
    expected = [t for ex in (EXAMPLES["peaked"], EXAMPLES["flat"])
                for t, k in zip(ex.tokens, np.isfinite(sampling.apply_top_k(ex.logits, top_k))) if k]
    assert kept_tokens(view.html) == expected


def test_top_k_summary_contrasts_the_two_prompts():
    assert render("top_k", top_k=3).summary == (
        "Top-3 keeps 98.6% of the mass after \u201cThe Eiffel Tower is in \u2026\u201d but "
        "39.3% of the mass after \u201cMy favourite fruit is \u2026\u201d.")


@pytest.mark.parametrize("raw", ["", "abc", "-3", "0", "13", "1e9", "2.5"])
def test_top_k_bad_input_raises_an_input_error_naming_top_k(raw):
    with pytest.raises(InputError) as caught:
        widgetkit.render("top_k", {"top_k": raw})
    assert caught.value.param == "top_k" and "Top-k" in caught.value.message
    assert "whole number from 1 to 12" in caught.value.message


def test_handle_answers_a_bad_top_k_as_invalid_with_its_message():
    reply = json.loads(widgetkit.handle(json.dumps({"type": "render", "id": 9, "widget": "top_k",
                                                  "state": {"top_k": ""}})))
    assert reply["type"] == "invalid" and reply["param"] == "top_k"
    assert reply["message"] == "Top-k needs a value: a whole number from 1 to 12."


# ---- top-p -----------------------------------------------------------------------------

@pytest.mark.parametrize("example", list(EXAMPLES))
@pytest.mark.parametrize("top_p", [0.0, 0.5, 0.9, 0.95, 1.0])
def test_top_p_nucleus_is_samplings(example, top_p):
    ex = EXAMPLES[example]
    view = render("top_p", example=example, top_p=top_p)
    size = sampling.nucleus_size(ex.logits, top_p)
    assert f"holds {size:,} of {ex.size:,} tokens" in view.summary
    kept = np.isfinite(sampling.apply_top_p(ex.logits, top_p))
    assert kept.sum() == size and kept[:size].all()   # ranked best first, so a prefix


def test_top_p_big_rows_show_head_crossing_token_and_the_sums_around_it():
    ex = EXAMPLES["big"]
    probs = sampling.softmax(ex.logits)
    shown = bars(render("top_p", example="big", top_p=0.95).html)
    size = sampling.nucleus_size(ex.logits, 0.95)
    assert [n for _, _, n in shown] == [1] * HEAD + [size - 1 - HEAD, 1, ex.size - size]
    assert shown[HEAD + 1] == (ex.tokens[size - 1], float(probs[size - 1]), 1)
    assert shown[HEAD][1] == float(probs[HEAD:size - 1].sum())
    assert '<tr class="kept nucleus cut">' in render("top_p", example="big", top_p=0.95).html


def test_top_p_marks_exactly_one_cut_after_the_last_kept_token():
    html = render("top_p", example="flat", top_p=0.9).html
    assert html.count(" cut\"") == 1 and kept_tokens(html)[-1] == " kiwi"


@pytest.mark.parametrize("example, top_p", [("flat", 0.9), ("big", 0.95)])
def test_top_p_marks_the_nucleus_rows_and_no_others_not_by_colour_alone(example, top_p):
    html = render("top_p", example=example, top_p=top_p).html
    rows = re.findall(r'<tr class="([^"]*)"', html)
    assert rows and all(("nucleus" in c.split()) == ("kept" in c.split()) for c in rows)
    assert "removed" in rows[-1] and 'class="zone-label"' in html and ">nucleus<" in html


def test_top_p_chart_has_a_text_alternative():
    html = render("top_p", example="big", top_p=0.9).html
    label = re.search(r'<svg class="running" [^>]*role="img" aria-label="([^"]+)"', html).group(1)
    assert "the nucleus holds 208 of 50,257 tokens" in label


# ---- explorer --------------------------------------------------------------------------

SETTINGS = [
    dict(temperature=1.0, top_k=None, top_p=None, min_p=None),
    dict(temperature=0.8, top_k=50, top_p=0.9, min_p=0.05),
    dict(temperature=1.5, top_k=None, top_p=0.9, min_p=0.1),
    dict(temperature=0.0, top_k=5, top_p=None, min_p=None),
    dict(temperature=2.0, top_k=GPT2_VOCABULARY, top_p=1.0, min_p=0.0),
]
# Typical last, as transformers applies it; 1 is the box's "keep every token".
TYPICAL = [None, 0.2, 0.9, 1.0]


def explorer_state(example: str, settings: dict, typical_p=None) -> dict:
    return {"example": example, "typical_p": "" if typical_p is None else str(typical_p),
            **{k: "" if v is None else str(v) for k, v in settings.items()}}


def expected_final(logits: np.ndarray, settings: dict, typical_p) -> np.ndarray:
    """sampling_stages' distribution, then (if on) the typical filter on what it left, renormalised."""
    final = sampling.sampling_stages(logits, **settings)
    if typical_p is None or typical_p == 1.0:
        return final.probs
    return sampling.softmax(sampling.apply_typical(final.filtered, typical_p))


@pytest.mark.parametrize("typical_p", TYPICAL)
@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("example", list(EXAMPLES))
def test_explorer_final_bars_are_sampling_stages_probs(example, settings, typical_p):
    ex = EXAMPLES[example]
    view = widgetkit.render("explorer", explorer_state(example, settings, typical_p))
    probs = expected_final(ex.logits, settings, typical_p)
    head = listed_count(ex)
    expected = probs[:head].tolist() + ([float(probs[head:].sum())] if ex.size > head else [])
    assert [p for _, p, _ in bars(view.html)] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert f"{int(np.count_nonzero(probs)):,} of {ex.size:,} tokens left" in view.summary
    assert view.state == {}   # the explorer never changes a control


@pytest.mark.parametrize("settings", SETTINGS[:4])
def test_explorer_stages_one_by_one_agree_with_sampling_stages(settings):
    logits = EXAMPLES["big"].logits
    stages, at_t = run_stages(logits, **settings)
    final = sampling.sampling_stages(logits, **settings)
    assert np.array_equal(stages[-1].logits > -np.inf, final.kept)
    assert np.array_equal(at_t, sampling.sampling_stages(logits, temperature=settings["temperature"]).probs)
    assert [s.name for s in stages] == ["temperature", "top-k", "top-p", "min-p", "typical"]


def test_explorer_typical_keeps_the_tokens_whose_surprise_is_nearest_the_entropy():
    """On the fruit prompt, typical 0.5 drops the two favourites: their surprise lies further
    below the entropy than the next tokens' lies from it (Meister et al.'s rule)."""
    ex = EXAMPLES["flat"]
    view = widgetkit.render("explorer", explorer_state("flat", SETTINGS[0], 0.5))
    probs = sampling.softmax(ex.logits)
    entropy = -np.sum(probs * np.log(probs))
    distance = np.abs(-np.log(probs) - entropy)
    kept = [p > 0 for _, p, _ in bars(view.html)]
    assert not kept[0] and not kept[1] and any(kept)
    assert distance[kept].max() < distance[~np.array(kept)].min()
    assert probs[kept].sum() >= 0.5 > probs[kept].sum() - probs[kept].min()   # just enough mass
    assert "Typical 0.5</strong> keeps 6 of 12" in view.html


def test_explorer_lists_each_step_in_the_order_applied():
    html = widgetkit.render("explorer", explorer_state("big", SETTINGS[1], 0.9)).html
    steps = re.findall(r"<li><strong>([^<]+)</strong>", html)
    assert steps == ["Scores", "Temperature 0.8", "Top-k 50", "Top-p 0.9", "Min-p 0.05", "Typical 0.9", "Renormalise:"]


def test_explorer_empty_boxes_are_off():
    view = widgetkit.render("explorer", {"example": "flat", "temperature": "1", "top_k": "",
                                         "top_p": "", "min_p": "", "typical_p": ""})
    assert "12 of 12 tokens left" in view.summary and "Top-k</strong> off" in view.html
    assert "Typical</strong> off" in view.html and "typical off" in view.summary


@pytest.mark.parametrize("param, raw", [("top_k", "-3"), ("top_k", "1e9"), ("top_k", "2.5"),
                                        ("top_p", "1.5"), ("top_p", "abc"), ("min_p", "-0.1"),
                                        ("temperature", "4"), ("temperature", ""), ("typical_p", "0"),
                                        ("typical_p", "1.5")])
def test_explorer_bad_input_names_its_parameter(param, raw):
    with pytest.raises(InputError) as caught:
        widgetkit.render("explorer", {param: raw})
    assert caught.value.param == param


# ---- facts -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def article_facts() -> dict:
    return {**facts.sampling_facts(), **facts.article_facts(), **facts.typical_facts()}   # compute() adds the n-gram model's too


def test_facts_cover_every_name_the_article_prints_and_print_as_text(article_facts):
    from conftest import ROOT
    used = set(re.findall(r"\{\{ facts\.(\w+) \}\}", (ROOT / "content" / "sampling.md").read_text()))
    # gen_* and beam_tree_*: the n-gram model's facts (generation_facts), which need the trained model
    mine = {name for name in used if not name.startswith(("gen_", "beam_tree_"))}
    assert mine <= set(article_facts) and all(isinstance(article_facts[name], str) for name in mine)


def test_facts_agree_with_what_the_widgets_show(article_facts):
    big = render("top_p", example="big", top_p=0.95)
    assert f"holds {article_facts['big_p95']} of" in big.summary
    drawn = render("draw", example="big", draws=10_000, seed=0)
    assert f"{article_facts['big_tail_draws']} draws landed outside the top {HEAD}" in drawn.summary
    assert render("top_k", top_k=3).summary.count(article_facts["flat_k3"]) == 1


def test_facts_order_shows_temperature_first_widens_the_nucleus(article_facts):
    to_int = lambda key: int(article_facts[key].replace(",", ""))
    assert to_int("big_t07_p90") < to_int("big_p90") < to_int("big_t15_p90")
    assert to_int("big_k50_then_p90") < to_int("big_p90_then_k50") == 50
    assert to_int("big_t15_minp10") < to_int("big_t15_p90")


# ---- small pieces ----------------------------------------------------------------------

@pytest.mark.parametrize("p, text", [(0.5, "50.0%"), (0.0, "0.0%"), (1.0, "100.0%"), (1e-6, "<0.1%"),
                                     (0.99997, ">99.9%"), (1 - 1e-15, "100.0%")])
def test_percent_never_rounds_a_share_to_zero_or_a_part_to_the_whole(p, text):
    assert percent(p) == text


def test_shown_token_marks_only_the_leading_space():
    assert shown_token(" Paris") == "\u2423Paris" and shown_token("token #12") == "token #12"


# ---- Numbers: a list of numbers edited in the view ---------------------------------------

from widgetkit import Numbers, widget  # noqa: E402  (the kind under test, beside its users)
from widgets.distribution import SCORES  # noqa: E402


def test_numbers_reads_the_list_as_text_or_as_numbers():
    kind = Numbers("xs", "Values", default=(1.0, 2.0), min=-1, max=5, step=0.5, length=3)
    assert kind.parse("1, 2.5,-1") == (1.0, 2.5, -1.0)
    assert kind.parse([0, 4.5, 5]) == (0.0, 4.5, 5.0)
    assert kind.text((1.0, 2.5, -1.0)) == "1,2.5,-1"
    assert kind.parse(kind.text((0.1, 3.3, 4.7))) == (0.1, 3.3, 4.7)   # the text round-trips


@pytest.mark.parametrize("raw, words", [
    ("1,2", "Values takes 3 numbers from -1 to 5, separated by commas; got 2."),
    ("1,2,3,4", "Values takes 3 numbers from -1 to 5, separated by commas; got more than 3."),
    ("1,x,3", "Values: entry 2 takes a number from -1 to 5; got 'x'."),
    ("1,2,", "Values: entry 3 takes a number from -1 to 5; got ''."),
    ("1,2,9", "Values: entry 3 takes a number from -1 to 5; got '9'."),
    ("nan,2,3", "Values: entry 1 takes a number from -1 to 5; got 'nan'."),
    ("1,inf,3", "Values: entry 2 takes a number from -1 to 5; got 'inf'."),
    ([1, True, 3], "Values: entry 2 takes a number from -1 to 5; got True."),
    ("", "Values needs a value: 3 numbers from -1 to 5, separated by commas."),
    ({"a": 1}, "Values takes 3 numbers from -1 to 5, separated by commas."),
])
def test_numbers_refuses_a_bad_list_naming_the_entry_and_what_it_takes(raw, words):
    kind = Numbers("xs", "Values", default=(1.0, 2.0, 3.0), min=-1, max=5, step=0.5, length=3)
    with pytest.raises(InputError) as caught:
        kind.parse(raw)
    assert caught.value.param == "xs" and caught.value.message == words


def test_numbers_without_a_default_takes_empty_for_the_views_own_and_any_length_up_to_its_limit():
    kind = Numbers("xs", "Values", min=0, max=1, step=0.1, max_length=4)
    assert kind.parse("") is None and kind.parse(None) is None and kind.text(None) == ""
    assert kind.parse("0.5") == (0.5,)
    with pytest.raises(InputError, match="got more than 4"):
        kind.parse("," * 10_000)   # split no further than the limit: a long text costs nothing
    assert "or nothing for the figure's own" in kind.accepted()


def test_numbers_declaration_is_checked_when_the_widget_registers():
    with pytest.raises(ValueError, match="finite bounds"):
        Numbers("xs", "Values", min=0, max=0, step=0.1)
    with pytest.raises(ValueError, match="reset by 'example', which is not one of its parameters"):
        widget("broken_numbers", "Broken", params=[Numbers("xs", "Values", min=0, max=1, step=0.1,
                                                           reset_by=("example",))])
    assert "broken_numbers" not in widgetkit.REGISTRY


def test_numbers_handle_carries_the_marks_the_page_makes_a_slider_of():
    html = SCORES.handle(3, 6.4, 'Score of "fact" <b>', "<svg></svg>", valuetext="6.40")
    assert html.startswith('<div class="edit-handle" data-edit="scores" data-index="3" data-value="6.4" '
                           'data-label="Score of &quot;fact&quot; &lt;b&gt;" data-valuetext="6.40">')


@pytest.mark.parametrize("example", list(EXAMPLES))
def test_distribution_with_dragged_scores_is_the_softmax_of_those_scores(example):
    ex = EXAMPLES[example]
    n = listed_count(ex)
    scores = [round(-3 + 0.7 * i, 1) for i in range(n)]   # every order of the tokens turned around
    view = render("distribution", example=example, scores=",".join(map(str, scores)))
    logits = np.concatenate([scores, ex.logits[n:]])
    expected = sampling.softmax(logits)
    shown = bars(view.html)
    np.testing.assert_allclose([p for _, p, _ in shown[:n]], expected[:n], rtol=1e-12)
    assert re.findall(r'data-edit="scores" data-index="(\d+)" data-value="([^"]+)"', view.html) == [
        (str(i), f"{s:g}") for i, s in enumerate(scores)]
    top = int(np.argmax(expected))
    assert view.summary.startswith(f"After {ex.label}, \u201c{ex.tokens[top].strip()}\u201d has score {logits[top]:.2f}")


def test_distribution_without_scores_draws_the_examples_own_and_reset_returns_there():
    own = render("distribution", example="peaked")
    edited = render("distribution", example="peaked", scores="1,2,3,4,5,6,7,8,9,10,0,-1")
    assert edited.html != own.html
    assert render("distribution", example="peaked", scores=SCORES.text(EXAMPLES["peaked"].scores)).html == own.html
    assert render("distribution", example="peaked", scores="").html == own.html


def test_distribution_refuses_scores_that_do_not_fit_the_prompt():
    twelve = SCORES.text(EXAMPLES["peaked"].scores)
    with pytest.raises(InputError) as caught:
        render("distribution", example="big", scores=twelve)
    assert caught.value.param == "scores"
    assert caught.value.message.startswith("Scores takes 10 numbers after ")
    reply = json.loads(widgetkit.handle(json.dumps({"type": "render", "id": "0:1", "widget": "distribution",
                                                 "state": {"example": "peaked", "scores": "1,2,99"}})))
    assert reply == {"id": "0:1", "type": "invalid", "param": "scores",
                     "message": "Scores: entry 3 takes a number from -10 to 10; got '99'."}
