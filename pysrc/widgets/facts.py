"""Numbers the article quotes, computed by the build from the same code the widgets run.

The article writes `{{ facts.NAME }}`; the build calls `compute()` once and passes
its dict to every article. Values are formatted strings, ready to print.

Two kinds of numbers live here. Most are computed from the article's example
distributions with the `sampling` module, so the text always agrees with the
figures. The results of Holtzman et al. cannot be computed: they are quoted
once, in PAPER, with where they come from.
"""
from __future__ import annotations

import numpy as np

import ngram
import sampling

from .charts import count, percent
from .draw import counts_of, drawn_ids
from .examples import EXAMPLES, GPT2_VOCABULARY, Example
from widgetkit import REGISTRY
from .listing import HEAD

# Holtzman, Buys, Du, Forbes, Choi, "The Curious Case of Neural Text Degeneration",
# ICLR 2020, arXiv:1904.09751, Table 1: GPT-2 Large, 5,000 continuations of up to
# 200 tokens each. Perplexity is the model's own perplexity on the generated text;
# repetition is the share of continuations that end in a repeating loop; HUSE
# (higher is better) combines human judgement with the model's probabilities.
PAPER = {
    "paper_passages": "5,000",
    "paper_tokens": "200",
    "paper_ppl_human": "12.38",
    "paper_ppl_greedy": "1.50",
    "paper_ppl_pure": "22.73",
    "paper_ppl_nucleus": "13.13",
    "paper_rep_human": "0.28%",
    "paper_rep_greedy": "73.66%",
    "paper_rep_beam16": "28.94%",
    "paper_rep_nucleus": "0.36%",
    "paper_rep_topk40_t07": "8.86%",
    "paper_huse_nucleus": "0.97",
    "paper_huse_topk640": "0.94",
    "paper_huse_t09": "0.79",
    "paper_huse_pure": "0.67",
    "paper_huse_topk40": "0.19",
    "paper_huse_topk40_t07": "0.08",
}

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
    return {**sampling_facts(), **generation_facts(ngram.default_comparison())}


def sampling_facts() -> dict:
    """The paper's numbers and everything computed from the example distributions."""
    peaked, flat, big = EXAMPLES["peaked"], EXAMPLES["flat"], EXAMPLES["big"]
    return {
        **PAPER,
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

    gen_rows is a list, one formatted row per method, for the article's table loop.
    """
    corpus, model, settings = comparison.corpus, comparison.model, comparison.settings
    rows = {row["method"]: row for row in comparison.rows}
    facts = {
        "gen_words": count(corpus["words"]),
        "gen_training_words": count(corpus["training_words"]),
        "gen_held_out_words": count(corpus["held_out_words"]),
        "gen_python": corpus["source"].rsplit(" ", 1)[-1],
        "gen_licence": corpus["licence"],
        "gen_vocabulary": count(model["vocabulary"]),
        "gen_model_kb": count(round(model["bytes"] / 1000)),
        "gen_trigrams": count(model["ngrams"][-1]),
        "gen_prompts": count(settings["prompts"]),
        "gen_length": count(settings["length"]),
        "gen_example_prompt": settings["prompt_texts"][0],
        "gen_rows": [formatted_row(row) for row in comparison.rows],
        **example_facts(ngram.default_model()),
    }
    sampled = [row["repetition_percent"] for method, row in rows.items() if method not in ("human", "greedy", "beam")]
    facts["gen_rep_sampling_max"] = f"{max(sampled):.0f}%"
    for method, row in rows.items():
        shown = formatted_row(row)
        facts.update({f"gen_rep_{method}": shown["repetition"], f"gen_d2_{method}": shown["distinct_2"],
                      f"gen_rep_{method}_but_last": f"{row['repetition_percent_but_last']:.0f}%",
                      f"gen_ppl_{method}": shown["perplexity"], f"gen_n_{method}": shown["generations"]})
    return facts


def example_facts(model: ngram.Model) -> dict:
    """What the generation widget shows in its first state (greedy, with its default prompt),
    and along a nucleus-sampled text from the same prompt, as long as the table's."""
    from .generate import MAX_LENGTH, Run   # imported here: generate imports the model package

    defaults = REGISTRY["generate"].defaults()
    greedy = Run.make(model, defaults["prompt"], "greedy", {}, defaults["length"], defaults["length"],
                      defaults["seed"])
    nucleus = Run.make(model, defaults["prompt"], "top_p", {"top_p": ngram.NUCLEUS_P}, MAX_LENGTH,
                       MAX_LENGTH, defaults["seed"])
    sizes = nucleus.nucleus_sizes
    return {
        "gen_prompt": defaults["prompt"],
        "gen_widget_length": str(defaults["length"]),
        "gen_greedy_loop_tokens": str(greedy.loop.repeats * greedy.loop.phrase_length),
        "gen_greedy_loop_phrase": str(greedy.loop.phrase_length),
        "gen_greedy_perplexity": f"{greedy.perplexity():.1f}",
        "gen_greedy_under_1pct": str(sum(p < 0.01 for p in greedy.probabilities())),
        "gen_nucleus_tokens": str(MAX_LENGTH),
        "gen_nucleus_min": count(min(sizes)),
        "gen_nucleus_max": count(max(sizes)),
        "gen_nucleus_median": count(int(np.median(sizes))),
        "gen_nucleus_under_k": str(sum(n < ngram.COMPARISON_K for n in sizes)),
        "gen_nucleus_perplexity": f"{nucleus.perplexity():.1f}",
        "gen_nucleus_under_1pct": str(sum(p < 0.01 for p in nucleus.probabilities())),
    }


# The rows of the paper's Table 1 that match a row of ours, by our method names.
PAPER_REPETITION = {"human": "paper_rep_human", "greedy": "paper_rep_greedy", "beam": "paper_rep_beam16",
                    "top_p": "paper_rep_nucleus"}


def formatted_row(row: dict) -> dict:
    paper = PAPER_REPETITION.get(row["method"])
    sentence = row["mean_sentence_length"]
    return {
        "label": row["label"],
        "generations": count(row["generations"]),
        "repetition": f"{row['repetition_percent']:.0f}%",
        "paper": "\u2014" if paper is None else PAPER[paper],
        "distinct_2": f"{row['distinct_2']:.2f}",
        "sentence": "\u2014" if sentence is None else f"{sentence:.1f}",
        "perplexity": f"{row['perplexity']:.1f}",
    }
