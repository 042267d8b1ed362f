"""What the article says in words about the figures it quotes from `facts.article_facts()`.

The numbers come from the build; these tests check the sentences around them still hold
(the top three tokens, the draws beyond the nucleus, min-p's band of scores, the loop test).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ngram
import sampling
from widgets import facts
from widgets.charts import percent, shown_token
from widgets.draw import drawn_ids
from widgets.examples import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "content" / "sampling.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def found() -> dict:
    return facts.article_facts()


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_top_three_tokens_are_the_ones_top_k_3_keeps(found):
    peaked = EXAMPLES["peaked"]
    kept = np.flatnonzero(np.isfinite(sampling.apply_top_k(peaked.logits, 3)))
    assert [found["peaked_tokens"][i] for i in kept] == found["peaked_tokens"][:3]
    assert found["peaked_tokens"][:3] == [shown_token(peaked.tokens[i]) for i in np.argsort(-peaked.logits)[:3]]
    ten = np.flatnonzero(np.isfinite(sampling.apply_top_k(peaked.logits, 10)))
    assert {found["peaked_tokens"][i] for i in ten} >= set(found["peaked_tokens"][8:10])   # "admits ... down to"


def test_draws_beyond_the_nucleus_are_counted_from_the_figures_draws(found):
    big = EXAMPLES["big"]
    probs = facts.probs_of(big)
    nucleus = sampling.nucleus_size(big.logits, facts.NUCLEUS_P)
    order = np.argsort(-probs, kind="stable")
    outside = set(order[nucleus:].tolist())
    drawn = drawn_ids(probs, 0, facts.DRAWS)
    assert as_int(found["big_p95_outside_draws"]) == sum(int(i) in outside for i in drawn)
    # fewer than the draws outside the top ten: the nucleus is the wider line
    assert as_int(found["big_p95_outside_draws"]) < as_int(facts.draw_facts(EXAMPLES["flat"], big)["big_tail_draws"])
    assert 0 < probs[order[nucleus:]].sum() <= 1 - facts.NUCLEUS_P + 1e-9
    # "each token drawn ... has a 5.0% chance of coming from beyond the nucleus": the mass past it
    assert found["big_p95_outside_mass"] == percent(probs[order[nucleus:]].sum())


@pytest.mark.parametrize("temperature", [0.5, 1.0, 1.5, 2.0, 3.0])
def test_min_p_keeps_the_band_of_scores_below_the_top_one(temperature):
    """The article's rule: after temperature T, min-p keeps z_i >= z_top - T ln(1/p_min)."""
    big = EXAMPLES["big"]
    kept = sampling.sampling_stages(big.logits, temperature=temperature, min_p=facts.MIN_P).kept
    band = facts.min_p_band(temperature, facts.MIN_P)
    assert np.array_equal(kept, big.logits >= big.logits.max() - band)


def test_min_p_widens_with_temperature_but_stays_far_below_top_p(found):
    kept = [as_int(found[f"big_{t}_minp10_kept"]) for t in ("t1", "t15", "t2")]
    assert kept[0] < kept[1] < kept[2]
    assert kept[1] < as_int(facts.sampling_facts()["big_t15_p90"]) / 100
    assert [float(found[f"minp_band_{t}"]) for t in ("t1", "t15", "t2")] == [2.30, 3.45, 4.61]


def test_the_loop_rule_the_article_states_is_the_codes(found):
    from ngram import metrics
    assert found["loop_min_phrase"] == str(metrics.MIN_PHRASE_TOKENS)
    assert found["loop_many_repeats"] == str(metrics.MANY_REPEATS)
    # "at least twice and at least three tokens long, or more than fifty times"
    assert metrics.ends_in_repetition(list("xyz" * 2)) and not metrics.ends_in_repetition(list("xy" * 50))
    assert metrics.ends_in_repetition(list("xy" * 51))


def test_temperature_alone_writes_text_nearer_greedy_than_people(site_model):
    ppl = {row["method"]: row["perplexity"] for row in ngram.default_comparison().rows}
    assert abs(ppl["temperature"] - ppl["greedy"]) < abs(ppl["temperature"] - ppl["human"])


def test_every_predict_question_has_a_static_answer():
    assert ARTICLE.count('<details class="reveal" markdown="1">') == ARTICLE.count("</details>") >= 3
    assert ARTICLE.count("<summary>Show the answer</summary>") >= 3


def test_every_token_the_article_names_is_one_of_its_examples():
    """Tokens named in the prose itself (the explanations of why each one is there) must exist."""
    import re
    named = set(re.findall(r"`(␣[^`]+)`", ARTICLE))
    known = {shown_token(t) for key in ("peaked", "flat") for t in EXAMPLES[key].tokens}
    assert named and named <= known


def test_the_k3_answer_nearly_everything_against_under_half():
    shares = facts.sampling_facts()
    assert float(shares["peaked_k3"].rstrip("%")) > 95 and float(shares["flat_k3"].rstrip("%")) < 50


def test_the_min_p_answer_words_hold():
    shares = facts.sampling_facts()
    assert as_int(shares["big_t15_p90"]) >= 10_000                        # "tens of thousands"
    assert float(shares["big_tail_t15"].rstrip("%")) > 50                  # the tail holds most of it


# ---- penalties and typical sampling (issue 13, part 2) -------------------------------------

@pytest.fixture(scope="module")
def with_model(site_model) -> dict:
    return {**facts.generation_facts(ngram.default_comparison()), **facts.penalty_facts(ngram.default_model())}


def percent_of(text: str) -> float:
    return float(text.rstrip("%"))


def test_the_vocabulary_is_the_common_words_and_the_special_tokens_the_article_names(with_model):
    """"... the 3,997 most common ... and 3 special ones, which mark the start of a sentence,
    its end, and an "unknown" word": the counts add up, and the specials are those three."""
    from ngram.tokens import BOS, EOS, SPECIAL_TOKENS, UNK
    f, model = with_model, ngram.default_model()
    specials = len(SPECIAL_TOKENS)
    assert model.vocabulary[:specials] == SPECIAL_TOKENS == (BOS, EOS, UNK)
    assert not set(model.vocabulary[specials:]) & set(SPECIAL_TOKENS)
    assert as_int(f["gen_special_tokens"]) == specials
    assert as_int(f["gen_vocabulary_words"]) + specials == as_int(f["gen_vocabulary"]) == model.vocabulary_size


def test_the_repetition_penalty_delays_the_loop_and_perplexity_falls(with_model):
    f = with_model
    assert as_int(f["gen_pen_rep_loop_after"]) > 10 * as_int(f["gen_pen_loop_after"])      # "it comes later"
    assert 0 < percent_of(f["gen_rep_greedy_penalty"]) < percent_of(f["gen_rep_greedy"])   # "still end in a loop"
    assert float(f["gen_d2_greedy_penalty"]) > float(f["gen_d2_greedy"])           # "distinct pairs rise"
    assert float(f["gen_ppl_greedy_penalty"]) < float(f["gen_ppl_greedy"])         # "even falls"
    assert float(f["gen_pen_rep_changed_ppl"]) > float(f["gen_ppl_greedy"])            # "unlikely by the model's lights"
    assert float(f["gen_pen_rep_kept_ppl"]) < float(f["gen_ppl_greedy"])              # "even more easily than the loop"
    assert float(f["gen_ppl_greedy_penalty"]) < float(f["gen_ppl_human"]) / 3      # "a long way from"


def test_the_frequency_penalty_breaks_loops_and_refuses_the_and_the_full_stop(with_model):
    f = with_model
    assert f["gen_rep_greedy_frequency"] == "0%"                                    # "does break the loops"
    assert float(f["gen_d2_greedy_frequency"]) >= float(f["gen_d2_human"]) - 0.05  # "as varied as"
    assert float(f["gen_sent_greedy_frequency"]) > 1.25 * float(f["gen_sent_human"])   # "run to ... against"
    assert as_int(f["gen_pen_freq_the"]) + as_int(f["gen_pen_freq_stop"]) > as_int(f["gen_pen_freq_changed"]) / 2
    assert as_int(f["gen_pen_freq_ten_uses"]) == round(np.exp(10 * ngram.methods.FREQUENCY_PENALTY))


def test_what_typical_sampling_keeps_is_what_the_article_says():
    f, big, flat = facts.typical_facts(), EXAMPLES["big"], EXAMPLES["flat"]
    assert f["typical_flat05_top_dropped"] == [shown_token(t) for t in flat.tokens[:2]]   # "the two favourites"
    assert f["typical_big_t15_09_dropped"] == [shown_token(t) for t in big.tokens[:2]]    # "the two most likely"
    assert as_int(f["typical_big_t15_09_kept"]) == big.size - 2
    assert f["typical_big09_kept"] == facts.sampling_facts()["big_p90"]                   # "as top-p 0.9 does"
    assert f["typical_peaked09_kept"] == "1"                                              # "keeps it alone"
