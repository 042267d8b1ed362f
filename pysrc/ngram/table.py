"""The decoding comparison: how often each strategy ends up looping.

A small-scale version of Holtzman et al. (2020), Table 1: generations from
the same prompts with greedy decoding, beam search, pure sampling,
temperature, top-k and nucleus sampling (the rows of ``methods.METHODS``,
with greedy decoding again under a repetition penalty), summarised as plain
data for a build step to render.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .decoding import Generation, Step, generate, method_params
from .methods import HUMAN_ROW, TABLE_ROWS, Method, TableRow
from .metrics import distinct_n, ends_in_repetition
from .model import Model


def prompts_from_text(
    model: Model, text: str, count: int, words: int = 4
) -> list[list[int]]:
    """Return up to ``count`` distinct sentence beginnings as token ids.

    ``text`` is in the corpus format (one sentence per line, tokens spaced),
    typically ``held_out_text()``.  A beginning is the first ``words`` tokens
    of a sentence with more tokens than that, all in the vocabulary; the
    chosen ones are spread evenly over the text.
    """
    return [prompt for prompt, _ in passages_from_text(model, text, count, words, 0)]


def passages_from_text(
    model: Model, text: str, count: int, words: int = 4, length: int = 200
) -> list[tuple[list[int], list[int]]]:
    """Return up to ``count`` (prompt, continuation) pairs of token ids.

    The prompt is a sentence beginning as ``prompts_from_text`` picks them;
    the continuation is the ``length`` tokens of the text that follow it
    (``</s>`` between sentences, ``<unk>`` for words the vocabulary lacks):
    what a person wrote next, to measure the methods against.  Beginnings
    with fewer than ``length`` tokens after them are passed over.
    """
    stream, starts = _sentence_stream(model, text)
    candidates: list[tuple[list[int], list[int]]] = []
    seen: set[tuple[int, ...]] = set()
    for start, end in zip(starts, starts[1:]):
        prompt = stream[start : start + words]
        after = stream[start + words : start + words + length]
        if end - start - 1 <= words or model.unk_id in prompt or tuple(prompt) in seen:
            continue  # end - start - 1: the sentence's tokens, its </s> not counted
        if len(after) < length:
            break
        seen.add(tuple(prompt))
        candidates.append((prompt, after))
    if len(candidates) <= count:
        return candidates
    picks = np.linspace(0, len(candidates) - 1, count).round().astype(int)
    return [candidates[i] for i in picks]


def _sentence_stream(model: Model, text: str) -> tuple[list[int], list[int]]:
    """Return the text as one id list (``</s>`` after each sentence) and where
    each sentence starts, plus the end of the stream."""
    stream: list[int] = []
    starts: list[int] = []
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        starts.append(len(stream))
        ids = (model.token_id(token) for token in tokens)
        stream.extend(model.unk_id if i is None else i for i in ids)
        stream.append(model.eos_id)
    return stream, starts + [len(stream)]


def decoding_table(
    model: Model,
    prompts: Sequence[Sequence[int] | str],
    n_per_prompt: int,
    length: int,
    seed: int,
    rows: Sequence[tuple[Method, TableRow]] = TABLE_ROWS,
) -> list[dict[str, object]]:
    """Return one summary row per row of the comparison, as plain data.

    Methods that do not sample (greedy, beam) run once per prompt, the others
    ``n_per_prompt`` times, each generation ``length`` tokens long.  Each
    row holds: ``key``, ``method``, ``label``, ``params``, ``generations``,
    ``repetition_percent`` (share ending in a phrase repeated 3+ times),
    ``repetition_percent_but_last`` (the same, each text's last token left out),
    ``distinct_2`` (mean over generations), ``mean_length`` (tokens; equal
    to ``length`` because generations never stop early),
    ``mean_sentence_length`` (tokens per sentence the generations finished,
    ``</s>`` not counted, the first sentence counting only its generated
    part; None if none finished), ``mean_candidates`` (tokens chosen among
    per step, see ``Step.candidates``) and ``perplexity`` (the model's, on
    the generated tokens).  Strings among ``prompts`` are encoded with the
    model.  The same seed gives the same table.
    """
    prompt_ids = [
        model.encode(p)[0] if isinstance(p, str) else [int(i) for i in p] for p in prompts
    ]
    summaries = []
    for row_index, (method, row) in enumerate(rows):
        runs = n_per_prompt if method.sampled else 1
        generations = [
            generate(
                model,
                prompt,
                method.key,
                length,
                # An independent stream per generation: a row's results do
                # not depend on which rows ran before it.
                np.random.default_rng([seed, row_index, prompt_index, run]),
                nucleus_p=None,  # a third of the time, and not reported
                **row.changes,
            )
            for prompt_index, prompt in enumerate(prompt_ids)
            for run in range(runs)
        ]
        summaries.append(
            {
                "key": row.key,
                "method": method.key,
                "label": row.label,
                "params": method_params(method.key, **row.changes),
                **_summary(generations, model.eos_id),
            }
        )
    return summaries


def reference_row(
    model: Model,
    passages: Sequence[tuple[Sequence[int], Sequence[int]]],
    label: str = HUMAN_ROW.label,
) -> dict[str, object]:
    """Return the row of what people wrote: the continuations of ``passages``.

    The same columns as ``decoding_table``'s rows (key and method ``"human"``),
    the paper's "Human" row.  Its perplexity scores ``<unk>`` as a word, because
    people use rare words; ``mean_candidates`` is None.
    """
    generations = []
    for prompt, continuation in passages:
        context = [int(i) for i in prompt]
        steps = []
        for token in continuation:
            probability = float(model.probabilities(context, allow_unk=True)[token])
            steps.append(Step(int(token), probability, None, 0, 0))
            context.append(int(token))
        generations.append(
            Generation("human", {}, tuple(prompt), tuple(int(t) for t in continuation), tuple(steps))
        )
    return {
        "key": HUMAN_ROW.key,
        "method": HUMAN_ROW.key,
        "label": label,
        "params": {},
        **_summary(generations, model.eos_id),
        "mean_candidates": None,
    }


def _summary(generations: list[Generation], eos_id: int) -> dict[str, object]:
    """Return the measured columns for one method's generations."""
    steps = [step for g in generations for step in g.steps]
    return {
        "generations": len(generations),
        "repetition_percent": 100.0
        * float(np.mean([ends_in_repetition(g.tokens) for g in generations])),
        # The same test without each text's last token: a fixed-length beam
        # search has nothing to plan for at its last step and takes the
        # likeliest token, which often breaks the loop it was in.
        "repetition_percent_but_last": 100.0
        * float(np.mean([ends_in_repetition(g.tokens[:-1]) for g in generations])),
        "distinct_2": float(np.mean([distinct_n(g.tokens, 2) for g in generations])),
        "mean_length": float(np.mean([len(g.tokens) for g in generations])),
        "mean_sentence_length": _mean_sentence_length(generations, eos_id),
        "mean_candidates": float(np.mean([s.candidates for s in steps])),
        # The model's perplexity on the text: exp of the mean surprise of its
        # tokens.  Low means the text is what the model expects, token by token.
        "perplexity": math.exp(-float(np.mean(np.log([s.probability for s in steps])))),
    }


def _mean_sentence_length(generations: list[Generation], eos_id: int) -> float | None:
    """Return tokens per finished sentence, pooled over all generations."""
    finished_tokens = 0
    sentences = 0
    for generation in generations:
        ends = [i for i, token in enumerate(generation.tokens) if token == eos_id]
        if ends:
            sentences += len(ends)
            finished_tokens += ends[-1] + 1 - len(ends)  # </s> is not a word
    return finished_tokens / sentences if sentences else None
