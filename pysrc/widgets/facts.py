"""Numbers the article quotes, computed by the build from the same code the widgets run.

The article writes `{{ facts.NAME }}`; the build calls `compute()` once and passes
its dict to every article. Values are formatted strings, ready to print.

Two kinds of numbers live here. Most are computed from the article's example
distributions with the `sampling` module, so the text always agrees with the
figures. The results of Holtzman et al. cannot be computed: they are quoted
once, in ngram.methods.PAPER, with where they come from.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import ngram
import ngram.methods
import sampling
from ngram.tokens import SPECIAL_TOKENS

from .charts import count, percent, shown_token
from .draw import counts_of, drawn_ids
from .examples import EXAMPLES, GPT2_VOCABULARY, Example
from widgetkit import REGISTRY
from .listing import HEAD

# The results of Holtzman, Buys, Du, Forbes, Choi, "The Curious Case of Neural Text
# Degeneration" (ICLR 2020, arXiv:1904.09751), Table 1, are quoted once, in ngram.methods.PAPER.
PAPER_FORMATS = (("perplexity", "ppl", "{:.2f}"), ("repetition", "rep", "{:.2f}%"), ("huse", "huse", "{:.2f}"))


def paper_facts() -> dict:
    """paper_ppl_greedy, paper_rep_beam16, paper_huse_nucleus ...: every figure of the paper
    the article may quote, by its row's short name."""
    facts = {"paper_passages": count(ngram.methods.PAPER_PASSAGES),
             "paper_tokens": str(ngram.methods.PAPER_TOKENS)}
    for row, figures in ngram.PAPER.items():
        for column, short, pattern in PAPER_FORMATS:
            value = getattr(figures, column)
            if value is not None:
                facts[f"paper_{short}_{row}"] = pattern.format(value)
    return facts


GAP_RUNS = 100   # how many runs of draws the "typical gap" is the median of


def probs_of(ex: Example, temperature: float = 1.0) -> np.ndarray:
    return sampling.sampling_stages(ex.logits, temperature=temperature).probs


def one_in(p: float) -> str:
    """A small probability as odds: 5.6e-06 -> 'one in 180,000' (two significant digits)."""
    n = 1 / p
    digits = max(0, len(str(int(n))) - 2)
    return f"one in {count(int(round(n, -digits)))}"


def kept_count(ex: Example, **settings) -> str:
    return count(int(sampling.sampling_stages(ex.logits, **settings).kept.sum()))


def score_facts(peaked: Example, flat: Example, big: Example) -> dict:
    p, f, b = probs_of(peaked), probs_of(flat), probs_of(big)
    gap = peaked.scores[0] - peaked.scores[1]
    return {
        "vocab_gpt2": count(GPT2_VOCABULARY),
        "small_vocab": str(peaked.size),
        "peaked_top": percent(p[0]), "peaked_second": percent(p[1]),
        "peaked_gap": f"{gap:.1f}", "peaked_ratio": f"{np.exp(gap):.1f}",
        "e_squared": f"{np.exp(2):.1f}",   # how much likelier a token two points ahead is
        "flat_top": percent(f[0]), "flat_last": percent(f[-1]),
        "flat_spread": f"{max(flat.scores) - min(flat.scores):.1f}",
        "eff_peaked": f"{sampling.effective_candidates(p):.2f}",
        "eff_flat": f"{sampling.effective_candidates(f):.2f}",
        "eff_big": f"{sampling.effective_candidates(b):.1f}",
        "big_top": percent(b[0]),
        "big_head": str(HEAD),
        "big_head_mass": percent(b[:HEAD].sum()),
        "big_tail_mass": percent(b[HEAD:].sum()),
        "big_tail_count": count(big.size - HEAD),
        "big_tail_largest": percent(b[HEAD], 2),
        "big_tail_average": one_in(float(b[HEAD:].mean())),
        "big_tail_smallest": one_in(float(b[-1])),
    }


def typical_gap(probs: np.ndarray, draws: int) -> float:
    """The median, over many runs, of the largest gap between share of draws and probability."""
    gaps = [np.abs(counts_of(drawn_ids(probs, seed, draws), probs.size) / draws - probs).max()
            for seed in range(1, GAP_RUNS + 1)]
    return float(np.median(gaps))


def draw_facts(flat: Example, big: Example) -> dict:
    tail_draws = int((drawn_ids(probs_of(big), 0, 10_000) >= HEAD).sum())   # the draws the article's figure shows
    return {
        "gap_100": f"{100 * typical_gap(probs_of(flat), 100):.1f}",
        "gap_10000": f"{100 * typical_gap(probs_of(flat), 10_000):.1f}",
        "gap_runs": str(GAP_RUNS),
        "big_tail_draws": count(tail_draws),
    }


def temperature_facts(peaked: Example, big: Example) -> dict:
    return {
        "peaked_top_t05": percent(probs_of(peaked, 0.5)[0]),
        "peaked_top_t2": percent(probs_of(peaked, 2.0)[0]),
        "big_top_t05": percent(probs_of(big, 0.5)[0]),
        "big_tail_t07": percent(probs_of(big, 0.7)[HEAD:].sum()),
        "big_tail_t15": percent(probs_of(big, 1.5)[HEAD:].sum()),
        "big_eff_t15": count(round(sampling.effective_candidates(probs_of(big, 1.5)))),
    }


def top_k_facts(peaked: Example, flat: Example, big: Example) -> dict:
    facts = {}
    for ex in (peaked, flat):
        probs = probs_of(ex)
        for k in (1, 3, 5, 10):
            facts[f"{ex.key}_k{k}"] = percent(probs[:k].sum())
    b = probs_of(big)
    facts.update(big_k40=percent(b[:40].sum()), big_k640=percent(b[:640].sum()))
    return facts


def top_p_facts(peaked: Example, flat: Example, big: Example) -> dict:
    facts = {}
    for ex in (peaked, flat, big):
        for p, name in ((0.9, "90"), (0.95, "95")):
            facts[f"{ex.key}_p{name}"] = count(sampling.nucleus_size(ex.logits, p))
    return facts


def order_facts(peaked: Example, flat: Example, big: Example) -> dict:
    p_then_k = sampling.apply_top_k(sampling.apply_top_p(big.logits, 0.9), 50)
    return {
        "big_k50_then_p90": kept_count(big, top_k=50, top_p=0.9),
        "big_p90_then_k50": count(int(np.isfinite(p_then_k).sum())),
        "big_t15_p90": kept_count(big, temperature=1.5, top_p=0.9),
        "big_t07_p90": kept_count(big, temperature=0.7, top_p=0.9),
        "big_t15_minp10": kept_count(big, temperature=1.5, min_p=0.1),
        "peaked_minp10": kept_count(peaked, min_p=0.1),
        "flat_minp10": kept_count(flat, min_p=0.1),
        "big_minp10": kept_count(big, min_p=0.1),
    }


def compute() -> dict:
    return {**sampling_facts(), **generation_facts(ngram.default_comparison()), **article_facts(),
            **penalty_facts(ngram.default_model()), **typical_facts()}


def sampling_facts() -> dict:
    """The paper's numbers and everything computed from the example distributions."""
    peaked, flat, big = EXAMPLES["peaked"], EXAMPLES["flat"], EXAMPLES["big"]
    return {
        **paper_facts(),
        **score_facts(peaked, flat, big),
        **draw_facts(flat, big),
        **temperature_facts(peaked, big),
        **top_k_facts(peaked, flat, big),
        **top_p_facts(peaked, flat, big),
        **order_facts(peaked, flat, big),
    }


# -- The real model: its corpus and the decoding comparison (ngram/prepare.py makes both) --

def generation_facts(comparison: ngram.Comparison) -> dict:
    """Numbers about the n-gram model and its decoding table, for "Seeing it happen".

    gen_rows is a list, one formatted row per row of the table, for the article's table loop;
    each row's figures are also named by its key (gen_rep_greedy, gen_ppl_greedy_penalty, ...).
    """
    corpus, model, settings = comparison.corpus, comparison.model, comparison.settings
    facts = {
        "gen_words": count(corpus["words"]),
        "gen_training_words": count(corpus["training_words"]),
        "gen_held_out_words": count(corpus["held_out_words"]),
        "gen_python": corpus["source"].rsplit(" ", 1)[-1],
        "gen_licence": corpus["licence"],
        "gen_vocabulary": count(model["vocabulary"]),
        # the vocabulary is the special tokens (<s>, </s>, <unk>) followed by the most common words
        "gen_vocabulary_words": count(model["vocabulary"] - len(SPECIAL_TOKENS)),
        "gen_special_tokens": str(len(SPECIAL_TOKENS)),
        "gen_model_kb": count(round(model["bytes"] / 1000)),
        "gen_trigrams": count(model["ngrams"][-1]),
        "gen_prompts": count(settings["prompts"]),
        "gen_length": count(settings["length"]),
        "gen_example_prompt": settings["prompt_texts"][0],
        "gen_repetition_penalty": f"{ngram.methods.SUGGESTED_REPETITION_PENALTY:g}",
        "gen_rows": [formatted_row(row) for row in comparison.rows],
        **example_facts(ngram.default_model()),
        **beam_facts(ngram.default_model()),
    }
    sampled = [row["repetition_percent"] for row in comparison.rows
               if row["method"] in ngram.METHOD and ngram.METHOD[row["method"]].sampled]
    facts["gen_rep_sampling_max"] = f"{max(sampled):.0f}%"
    for row in comparison.rows:
        shown, key = formatted_row(row), row["key"]
        facts.update({f"gen_rep_{key}": shown["repetition"], f"gen_d2_{key}": shown["distinct_2"],
                      f"gen_rep_{key}_but_last": f"{row['repetition_percent_but_last']:.0f}%",
                      f"gen_ppl_{key}": shown["perplexity"], f"gen_n_{key}": shown["generations"],
                      f"gen_sent_{key}": shown["sentence"]})
    return facts


def example_facts(model: ngram.Model) -> dict:
    """What the generation widget shows in its first state (greedy, with its default prompt),
    and along a nucleus-sampled text from the same prompt, as long as the table's."""
    from .generate import MAX_LENGTH, perplexity, run_of   # imported here: generate imports the model package

    defaults = REGISTRY["generate"].defaults()
    greedy = run_of(model, defaults["prompt"], "greedy", {}, defaults["length"], defaults["length"],
                    defaults["seed"])
    nucleus = run_of(model, defaults["prompt"], "top_p", {"top_p": ngram.NUCLEUS_P}, MAX_LENGTH,
                     MAX_LENGTH, defaults["seed"])
    sizes = nucleus.nucleus_sizes
    return {
        "gen_prompt": defaults["prompt"],
        "gen_widget_length": str(defaults["length"]),
        "gen_greedy_loop_tokens": str(greedy.loop.repeats * greedy.loop.phrase_length),
        "gen_greedy_loop_phrase": str(greedy.loop.phrase_length),
        "gen_greedy_perplexity": f"{perplexity(greedy):.1f}",
        "gen_greedy_under_1pct": str(sum(p < 0.01 for p in greedy.probabilities)),
        "gen_nucleus_tokens": str(MAX_LENGTH),
        "gen_nucleus_min": count(min(sizes)),
        "gen_nucleus_max": count(max(sizes)),
        "gen_nucleus_median": count(int(np.median(sizes))),
        "gen_nucleus_under_k": str(sum(n < ngram.COMPARISON_K for n in sizes)),
        "gen_nucleus_perplexity": f"{perplexity(nucleus):.1f}",
        "gen_nucleus_under_1pct": str(sum(p < 0.01 for p in nucleus.probabilities)),
    }


def paper_repetition(row: dict) -> str:
    """The paper's repetition figure for the row of the same method and settings, or a dash."""
    value = ngram.methods.paper_figure(ngram.methods.ROW_BY_KEY[row["key"]], "repetition")
    return "\u2014" if value is None else f"{value:.2f}%"


def beam_facts(model: ngram.Model) -> dict:
    """What the beam search tree shows in its first state (see beam_tree.beam_tree_facts)."""
    from .beam_tree import beam_tree_facts   # imported here, as generate is: it needs the model

    return beam_tree_facts(model)


def formatted_row(row: dict) -> dict:
    sentence = row["mean_sentence_length"]
    return {
        "label": row["label"],
        "generations": count(row["generations"]),
        "repetition": f"{row['repetition_percent']:.0f}%",
        "paper": paper_repetition(row),
        "distinct_2": f"{row['distinct_2']:.2f}",
        "sentence": "\u2014" if sentence is None else f"{sentence:.1f}",
        "perplexity": f"{row['perplexity']:.1f}",
    }


# -- Figures for the article's corrections (issue 13): self-contained, so they can move --

NUCLEUS_P = 0.95     # the paper's p, used for "draws outside the nucleus"
MIN_P = 0.1          # the min-p the article quotes
DRAWS = 10_000       # the big draw figure's draws (seed 0, as draw_facts uses)


def article_facts() -> dict:
    """Tokens, counts and widths the corrected sentences quote: the peaked prompt's tokens
    in rank order, the draws that land outside the nucleus, min-p's band of scores, and
    the numbers of the loop test (from ngram.metrics, so the prose follows the code)."""
    from ngram import metrics
    from .charts import shown_token

    peaked, big = EXAMPLES["peaked"], EXAMPLES["big"]
    probs = probs_of(big)
    nucleus = np.isfinite(sampling.apply_top_p(big.logits, NUCLEUS_P))
    drawn = drawn_ids(probs, 0, DRAWS)
    facts = {
        "peaked_tokens": [shown_token(t) for t in peaked.tokens],
        "flat_tokens": [shown_token(t) for t in EXAMPLES["flat"].tokens],
        "big_p95_outside_mass": percent(1 - probs[nucleus].sum()),
        "big_p95_outside_draws": count(int((~nucleus[drawn]).sum())),
        "big_draws": count(DRAWS),
        "loop_min_phrase": str(metrics.MIN_PHRASE_TOKENS),
        "loop_many_repeats": str(metrics.MANY_REPEATS),
        "loop_max_phrase": str(metrics.MAX_PHRASE_TOKENS),
    }
    for t, name in ((1.0, "t1"), (1.5, "t15"), (2.0, "t2")):
        facts[f"minp_band_{name}"] = f"{min_p_band(t, MIN_P):.2f}"
        facts[f"big_{name}_minp10_kept"] = kept_count(big, temperature=t, min_p=MIN_P)
    return facts


def min_p_band(temperature: float, min_p: float) -> float:
    """How far below the top score a raw score may lie and still pass min-p after temperature:
    p_i >= min_p * p_top  <=>  z_i / T >= z_top / T + ln(min_p)  <=>  z_i >= z_top - T * ln(1 / min_p)."""
    return temperature * float(np.log(1 / min_p))


# -- Penalties and typical sampling (issue 13, part 2): self-contained like the above --

def penalty_facts(model: ngram.Model) -> dict:
    """What the generation widget shows for greedy decoding from its default prompt, 200 tokens
    long, with no penalty, with the table's repetition penalty and with its frequency penalty:
    where the loop starts, and the steps at which a penalty overrode the model's favourite
    (how many, how likely the model found the tokens taken instead, and which favourites lost)."""
    from .generate import MAX_LENGTH

    prompt = [i for _, i in model.tokenize(REGISTRY["generate"].defaults()["prompt"])]
    plain = ngram.generate(model, prompt, "greedy", MAX_LENGTH, nucleus_p=None)
    repetition = overrides(model, prompt, repetition_penalty=ngram.methods.SUGGESTED_REPETITION_PENALTY)
    frequency = overrides(model, prompt, frequency_penalty=ngram.methods.FREQUENCY_PENALTY)
    r = ngram.methods.SUGGESTED_REPETITION_PENALTY
    return {
        "gen_pen_length": str(MAX_LENGTH),
        "gen_pen_loop_after": str(ngram.repeating_tail(plain.tokens).start),
        "gen_pen_rep_loop_after": str(repetition.loop.start) if repetition.loop else "no loop",
        "gen_pen_rep_changed": str(len(repetition.changed)),
        "gen_pen_rep_changed_ppl": f"{perplexity_of(repetition.changed):.0f}",
        "gen_pen_rep_kept_ppl": f"{perplexity_of(repetition.kept):.1f}",
        "gen_pen_rep_p09": f"{0.9 ** r:.2f}", "gen_pen_rep_p01": f"{0.1 ** r:.3f}",
        "gen_pen_freq_changed": str(len(frequency.changed)),
        "gen_pen_freq_the": str(frequency.lost.count(model.token_id("the"))),
        "gen_pen_freq_stop": str(frequency.lost.count(model.token_id("."))),
        "gen_pen_freq_ten_uses": count(round(np.exp(10 * ngram.methods.FREQUENCY_PENALTY))),
        "gen_frequency_penalty": f"{ngram.methods.FREQUENCY_PENALTY:g}",
    }


class Overrides(NamedTuple):
    """A penalised greedy text, seen against the model's own favourites."""

    loop: ngram.RepeatingTail | None
    changed: list[float]   # the model's probability of each token taken instead of its favourite
    kept: list[float]      # ... and of each token that was its favourite
    lost: list[int]        # the favourite each override passed over


def overrides(model: ngram.Model, prompt: list[int], **penalty: float) -> Overrides:
    from .generate import MAX_LENGTH

    text = ngram.generate(model, prompt, "greedy", MAX_LENGTH, nucleus_p=None, **penalty)
    context, changed, kept, lost = list(prompt), [], [], []
    for step in text.steps:
        favourite = int(np.argmax(model.logits(context)))   # the first of the best, as greedy takes it
        if step.token == favourite:
            kept.append(step.probability)
        else:
            changed.append(step.probability)
            lost.append(favourite)
        context.append(step.token)
    return Overrides(ngram.repeating_tail(text.tokens), changed, kept, lost)


def perplexity_of(probabilities: list[float]) -> float:
    return float(np.exp(-np.mean(np.log(probabilities))))


def typical_facts() -> dict:
    """What typical sampling keeps of the article's examples: a band of surprise around the
    entropy, which can leave the favourites out."""
    peaked, flat, big = EXAMPLES["peaked"], EXAMPLES["flat"], EXAMPLES["big"]
    flat_kept = np.isfinite(sampling.apply_typical(flat.logits, 0.5))
    hot = np.isfinite(sampling.apply_typical(sampling.apply_temperature(big.logits, 1.5), 0.9))
    return {
        "typical_flat05_kept": count(int(flat_kept.sum())),
        "typical_flat05_top_dropped": [shown_token(t) for t, k in zip(flat.tokens[:2], flat_kept) if not k],
        "typical_flat_entropy": f"{sampling.entropy(probs_of(flat)):.2f}",
        "typical_peaked09_kept": count(int(np.isfinite(sampling.apply_typical(peaked.logits, 0.9)).sum())),
        "typical_big09_kept": count(int(np.isfinite(sampling.apply_typical(big.logits, 0.9)).sum())),
        "typical_big_t15_09_kept": count(int(hot.sum())),
        "typical_big_t15_09_dropped": [shown_token(big.tokens[i]) for i in np.flatnonzero(~hot)],
    }
