"""Write with a real model: a prompt, a decoding method, and the text it produces.

The model is the `ngram` package's trigram model of Python's documentation
(`ngram.default_model()`: in the browser, the wheel's model.bin, read on the
first draw). The view is a pure function of its state. Two hidden values make
each draw repeatable, so the build's figure, the browser's and a test's agree:
`step` (how many tokens are shown; the buttons move it) and `seed` (the
random stream of the sampling methods; "New seed" moves it).

The methods, their labels and their defaults come from `ngram.methods.METHODS`.
Every method but beam search also takes the penalties against repetition
(repetition, frequency, presence), so the reader can break greedy decoding's loop.

What the figure shows, for the tokens written so far:
- the text, with a phrase that repeats at its end (Holtzman et al.'s measure:
  2 or more tokens, 3 or more times) marked copy by copy;
- a chart: per step, how many tokens the nucleus (top-p) of the model's own
  distribution holds against a fixed k, and the model's probability of the
  token chosen;
- the last step: the model's best candidates, which ones the method kept, and
  the one it chose.
Every bar of the chart carries data-step with data-nucleus or data-p (the exact
numbers), and the text carries data-ids (the token ids), for tests.

`run_of` makes a `Run`, the plain record of one generation; the functions after
it each draw one part of the figure from it.
"""
from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

import numpy as np

import ngram
from ngram.decoding import penalized, step_stages
from ngram.methods import COMPARISON_K, METHOD, METHODS, NUCLEUS_P, PENALTIES
from ngram.tokens import EOS, token_pieces

from widgetkit import Button, Choice, Number, Text, View, widget
from .charts import Row, count, more_tokens, note, percent, prob_table, stats
from .words import quoted

METHOD_CHOICES = tuple((m.key, m.choice) for m in METHODS)
MAX_LENGTH = 200
LISTED = 5          # candidates listed for the last step (plus the chosen one, if lower)
END_OF_SENTENCE = "[end of sentence]"
PENALTY_NAMES = {"repetition_penalty": "repetition", "frequency_penalty": "frequency",
                 "presence_penalty": "presence"}


def default(method: str) -> float:
    """The default of the one setting a method takes from the controls."""
    m = METHOD[method]
    return m.settings[m.control]


@widget("generate", "Write with a real model", params=[
    Text("prompt", "Prompt", default="The value of", max_length=120, control="text"),
    Choice("method", "Decoding", default="greedy", options=METHOD_CHOICES, control="radio"),
    Number("beam_width", "Beam width", default=default("beam"), min=1, max=16, integer=True,
           control="number", help="Hypotheses kept, 1 to 16."),
    Number("temperature", "Temperature", default=default("temperature"), min=0.0, max=2.0, step=0.05,
           control="range", help="0 is greedy; below 1 sharpens, above 1 flattens."),
    Number("top_k", "k", default=default("top_k"), min=1, max=4000, integer=True, control="number",
           help="Keep the k likeliest tokens, 1 to 4,000."),
    Number("top_p", "p", default=default("top_p"), min=0.01, max=1.0, step=0.01, control="number",
           help="Keep the likeliest tokens that hold p, 0.01 to 1."),
    Number("min_p", "Min-p", default=default("min_p"), min=0.0, max=1.0, step=0.01, control="number",
           help="Keep tokens at least min-p times as likely as the best, 0 to 1."),
    Number("repetition_penalty", "Repetition penalty", default=PENALTIES["repetition_penalty"], min=1.0,
           max=3.0, step=0.05, control="number",
           help="1 is off; above 1 makes each token already in the text less likely, 1 to 3. "
                "Not for beam search."),
    Number("frequency_penalty", "Frequency penalty", default=PENALTIES["frequency_penalty"], min=-2.0,
           max=2.0, step=0.1, control="number",
           help="Subtracted from a token's score once for every time it is already in the text, -2 to 2."),
    Number("presence_penalty", "Presence penalty", default=PENALTIES["presence_penalty"], min=-2.0,
           max=2.0, step=0.1, control="number",
           help="Subtracted once from the score of every token already in the text, -2 to 2."),
    Number("length", "Length in tokens", default=60, min=1, max=MAX_LENGTH, integer=True,
           control="number", help=f"1 to {MAX_LENGTH}."),
    Button("next_token", "Next token", default=None, control="button", value="next"),
    Button("write_all", "Write all", default=None, control="button", value="all"),
    Button("start_over", "Start over", default=None, control="button", value="restart"),
    Button("new_seed", "New seed", default=None, control="button", value="seed"),
    Number("step", "Tokens shown", default=MAX_LENGTH, min=0, max=MAX_LENGTH, integer=True,
           control="hidden"),
    Number("seed", "Seed", default=1, min=0, max=2**31 - 1, integer=True, control="hidden"),
])
def generate_view(prompt: str, method: str, length: int, next_token: str | None, write_all: str | None,
                  start_over: str | None, new_seed: str | None, step: int, seed: int, **controls) -> View:
    model = ngram.default_model()
    step = next_step(step, length, next_token, write_all, start_over)
    seed = (seed + 1) % 2**31 if new_seed else seed
    run = run_of(model, prompt, method, method_settings(method, controls), min(step, length), length, seed)
    ignored = method == "beam" and penalized(controls)
    parts = [stats(stat_pairs(run)), text_html(model, run), *notes(model, run, ignored),
             step_chart_of(run, model.vocabulary_size), last_step_table(model, run)]
    return View("".join(parts), summary(run), state={"step": step, "seed": seed})


def next_step(step: int, length: int, next_token, write_all, start_over) -> int:
    """How many tokens to show after a button press (none pressed: as many as before)."""
    if start_over:
        return 0
    if write_all:
        return MAX_LENGTH  # "all": whatever the length is, now or after it changes
    if next_token and step < length:
        return step + 1
    return step


def method_settings(method: str, controls: dict) -> dict:
    """What a method takes from the controls: its one setting (the filters at temperature 1),
    and the penalties unless it is beam search."""
    m = METHOD[method]
    own = {} if m.control is None else {m.control: controls[m.control]}
    penalties = {} if method == "beam" else {name: controls[name] for name in PENALTIES}
    return {**own, **penalties}


# -- the record ------------------------------------------------------------------


class LastStep(NamedTuple):
    """The newest token's step (before any token: the first one's), as the table shows it."""

    logits: np.ndarray      # the model's own
    kept: np.ndarray        # the tokens the method chose among (beam search: every one)
    chosen: int | None      # None before any token


class Run(NamedTuple):
    """One generation as the figure shows it."""

    method: str
    settings: dict                      # every setting the method took, defaults filled in
    length: int
    seed: int
    prompt: list[tuple[str, int]]       # (token as typed, id)
    tokens: tuple[int, ...]             # generated so far
    probabilities: list[float]          # the model's probability of each token chosen (before any
                                        # filter or penalty)
    nucleus_sizes: list[int]            # tokens in the model's nucleus at each step, at `nucleus_p`
    loop: ngram.RepeatingTail | None    # the paper's test: a phrase repeating up to the very end
    broken_loop: ngram.RepeatingTail | None   # else, one that only the last token breaks
    last: LastStep


def run_of(model: ngram.Model, prompt_text: str, method: str, settings: dict, shown: int, length: int,
           seed: int) -> Run:
    """Generate `shown` tokens (of `length`) and keep what the figure needs, each step computed once."""
    prompt = model.tokenize(prompt_text)
    ids = [i for _, i in prompt]
    generation = ngram.generate(model, ids, method, shown, rng=seed, nucleus_p=nucleus_p(settings), **settings)
    tokens = generation.tokens
    loop = ngram.repeating_tail(tokens)
    broken = ngram.repeating_tail(tokens[:-1]) if loop is None and len(tokens) > 1 else None
    return Run(method, generation.params, length, seed, prompt, tokens,
               [s.probability for s in generation.steps], [s.nucleus_size for s in generation.steps],
               loop, broken, last_step_of(model, generation))


def last_step_of(model: ngram.Model, generation: ngram.Generation) -> LastStep:
    """The newest token's step; with nothing written yet, the distribution of the first token."""
    tokens = generation.tokens
    context = list(generation.prompt) + list(tokens[:-1])
    logits = model.logits(context)
    if generation.method == "beam":
        kept = np.isfinite(logits)
    else:
        kept = step_stages(logits, context, generation.method, generation.params).kept
    return LastStep(logits, kept, tokens[-1] if tokens else None)


def nucleus_p(settings: dict) -> float:
    """The p of the nucleus the chart counts: the method's own, else the paper's 0.95."""
    return settings.get("top_p", NUCLEUS_P)


def fixed_k(settings: dict) -> int:
    return int(settings.get("top_k", COMPARISON_K))


def perplexity(run: Run) -> float:
    """The model's perplexity on the tokens written: exp of their mean surprise."""
    return math.exp(-float(np.mean(np.log(run.probabilities))))


def marked(run: Run) -> ngram.RepeatingTail | None:
    """The loop the figure marks: one that reaches the end, or one only the last token breaks."""
    return run.loop or run.broken_loop


def unknown_words(model: ngram.Model, run: Run) -> list[str]:
    return list(dict.fromkeys(t for t, i in run.prompt if i == model.unk_id))


def penalties_text(settings: dict) -> str:
    """'a repetition penalty of 1.2 and a presence penalty of 0.5', for the penalties that are on."""
    on = [f"a {PENALTY_NAMES[name]} penalty of {settings[name]:g}"
          for name, off in PENALTIES.items() if settings.get(name, off) != off]
    return " and ".join(on)


# -- the text --------------------------------------------------------------------


def text_html(model: ngram.Model, run: Run) -> str:
    """The prompt as typed, then the tokens written, each copy of a looping phrase marked."""
    words = [t for t, _ in run.prompt] + [model.vocabulary[t] for t in run.tokens]
    pieces = token_pieces(words)
    n = len(run.prompt)
    prompt_html = "".join(
        f'<span class="unknown">{escape(piece)}</span>' if i == model.unk_id else escape(piece)
        for piece, (_, i) in zip(pieces[:n], run.prompt))
    ids = " ".join(str(i) for i in [*(i for _, i in run.prompt), *run.tokens])
    return (f'<p class="gen-text" data-ids="{ids}" data-prompt-tokens="{n}">'
            f'<span class="gen-prompt">{prompt_html}</span>{written_html(run, pieces[n:])}</p>')


def written_html(run: Run, pieces: list[str]) -> str:
    loop = marked(run)
    start = len(pieces) if loop is None else loop.start
    html = [escape(p) for p in pieces[:start]]
    for copy in range(loop.repeats if loop else 0):
        first = start + copy * loop.phrase_length
        text = escape("".join(pieces[first:first + loop.phrase_length]))
        html.append(f'<mark class="loop loop-{copy % 2}">{text}</mark>')
    if run.broken_loop:
        html.append(escape(pieces[-1]))
    if run.tokens and run.loop is None:  # the newest token, unless it closes a marked copy
        html[-1] = f'<span class="newest">{html[-1]}</span>'
    return "".join(html)


def notes(model: ngram.Model, run: Run, penalties_ignored: bool) -> list[str]:
    found = []
    unknown = unknown_words(model, run)
    if unknown:
        listed = ", ".join(escape(quoted(word)) for word in unknown)
        found.append(f'<p class="figure-note unknown-words">Not in the model\'s vocabulary of '
                     f"{count(model.vocabulary_size)} tokens: {listed}. It reads each as "
                     "&lt;unk&gt;, its stand-in for a rare word, and carries on.</p>")
    if not run.prompt:
        found.append(note("With no prompt, the model starts a sentence of its own."))
    if run.method == "beam" and 0 < len(run.tokens) < run.length:
        found.append(note("Beam search shows its best hypothesis so far: the next step can change "
                          "earlier tokens too."))
    if penalties_ignored:
        found.append(note("Beam search here takes no penalty: each of its hypotheses would need its own."))
    if run.broken_loop:
        found.append(note(broken_loop_text(run)))
    return found


def broken_loop_text(run: Run) -> str:
    why = (" At its last step beam search has nothing left to plan for, so it takes the likeliest "
           "single token." if run.method == "beam" and len(run.tokens) == run.length else "")
    return ("Only the last token breaks the loop, so by the paper's test (a loop that runs to the "
            f"very end) this text does not end in one.{why}")


# -- the chart -------------------------------------------------------------------


def step_chart_of(run: Run, vocabulary: int) -> str:
    return step_chart(run.nucleus_sizes, run.probabilities, run.length, nucleus_p(run.settings),
                      fixed_k(run.settings), vocabulary, loop_span(run), chart_text(run))


def loop_span(run: Run) -> tuple[int, int] | None:
    """The tokens of the marked loop, as (first, after the last), for the chart's shading."""
    loop = marked(run)
    return None if loop is None else (loop.start, loop.start + loop.repeats * loop.phrase_length)


def chart_text(run: Run) -> str:
    if not run.tokens:
        return "Nothing written yet, so the chart is empty."
    sizes, probs = run.nucleus_sizes, run.probabilities
    return (f"Chart over {len(run.tokens)} steps. Top: tokens in the nucleus at p = {nucleus_p(run.settings):g}, "
            f"from {count(min(sizes))} to {count(max(sizes))} (median {count(int(np.median(sizes)))}), "
            f"against a fixed k of {count(fixed_k(run.settings))}. Bottom: the model's probability of each "
            f"chosen token, from {percent(min(probs))} to {percent(max(probs))}, "
            f"mean {percent(float(np.mean(probs)))}.")


# -- the last step ---------------------------------------------------------------


def last_step_table(model: ngram.Model, run: Run) -> str:
    """The distribution of the newest token (or the first, before any), what was kept, what chosen."""
    last = run.last
    probs = np.exp(last.logits)
    order = np.argsort(-probs, kind="stable")
    listed = [int(t) for t in order[:LISTED]]
    if last.chosen is not None and last.chosen not in listed:
        listed.append(last.chosen)
    rows = [candidate_row(model, t, probs, last, order) for t in listed]
    rest = [t for t in order[LISTED:] if int(t) != last.chosen and probs[t] > 0]  # not <s>, <unk>
    if rest:
        rows.append(Row(more_tokens(len(rest)), float(probs[rest].sum()), ("", ""),
                        kept=bool(last.kept[rest].any()), rest=len(rest)))
    caption = (f"Step {len(run.tokens)}: {keeps_text(run)}, chose {quoted(shown(model, last.chosen))}"
               if last.chosen is not None else "The first token's candidates")
    return prob_table(caption, ("Rank", "Kept"), rows, bar_header="Model's probability", phone_hides=(0,))


def keeps_text(run: Run) -> str:
    if run.method == "beam":
        return f"beam search extends {run.settings['beam_width']} hypotheses"
    n = int(run.last.kept.sum())
    return f"{METHOD[run.method].name.lower()} kept {count(n)} token{'s' if n != 1 else ''}"


def candidate_row(model: ngram.Model, token: int, probs: np.ndarray, last: LastStep, order: np.ndarray) -> Row:
    rank = int(np.flatnonzero(order == token)[0]) + 1
    kept = bool(last.kept[token])
    return Row(shown(model, token), float(probs[token]), (count(rank), "yes" if kept else "no"),
               kept=kept, note="chosen" if token == last.chosen else "")


def shown(model: ngram.Model, token: int) -> str:
    word = model.vocabulary[token]
    return END_OF_SENTENCE if word == EOS else word


# -- words -----------------------------------------------------------------------


def stat_pairs(run: Run) -> list[tuple[str, str]]:
    pairs = [("Tokens", f"{len(run.tokens)} of {run.length}"), ("Ends in a loop", loop_text(run))]
    if run.tokens:
        pairs.append(("Distinct pairs", f"{ngram.distinct_n(run.tokens, 2):.2f}"))
        pairs.append(("Perplexity", f"{perplexity(run):.1f}"))
    if METHOD[run.method].sampled:
        pairs.append(("Seed", str(run.seed)))
    return pairs


def loop_text(run: Run) -> str:
    if run.broken_loop:
        return "no, but all tokens before the last do"
    if run.loop is None:
        return "no"
    return f"{run.loop.phrase_length} tokens \u00d7 {run.loop.repeats}"


def summary(run: Run) -> str:
    penalties = penalties_text(run.settings)
    start = (f"{METHOD[run.method].name}{' with ' + penalties if penalties else ''} wrote "
             f"{len(run.tokens)} of {run.length} tokens")
    typed = "".join(token_pieces([t for t, _ in run.prompt]))
    after = f" after {quoted(typed)}" if run.prompt else ""
    if run.loop is not None:
        end = (f"; the last {run.loop.phrase_length * run.loop.repeats} are a "
               f"{run.loop.phrase_length}-token phrase repeated {run.loop.repeats} times.")
    elif run.broken_loop:
        end = (f"; all but the last token end in a {run.broken_loop.phrase_length}-token phrase "
               f"repeated {run.broken_loop.repeats} times.")
    elif run.tokens:
        end = "; no phrase repeats at its end."
    else:
        end = "."
    return start + after + end


# -- the step chart ---------------------------------------------------------------

CHART_W, CHART_H = 400, 214
LEFT, RIGHT = 44, 346      # the plot; right of it, the label of the k line
TOP_PANEL = (18, 88)      # nucleus size, log scale (top, bottom)
LOW_PANEL = (122, 180)    # probability of the chosen token, 0 to 1


def x_of(step: int, length: int) -> float:
    """The left edge of step `step` (1-based) on the x axis."""
    return LEFT + (RIGHT - LEFT) * (step - 1) / length


def y_of_size(n: float, vocabulary: int) -> float:
    top, bottom = TOP_PANEL
    return bottom - (bottom - top) * math.log(max(n, 1)) / math.log(vocabulary)


def y_of_p(p: float) -> float:
    top, bottom = LOW_PANEL
    return bottom - (bottom - top) * p


def step_chart(sizes: list[int], probs: list[float], length: int, top_p: float, fixed_k: int,
               vocabulary: int, loop: tuple[int, int] | None, description: str) -> str:
    """Two bar charts over the steps: nucleus size against a fixed k, and the chosen token's probability."""
    width = (RIGHT - LEFT) / length
    bar = max(width * 0.8, 0.6)
    parts = [f'<svg class="steps" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
             f'aria-label="{escape(description)}" data-length="{length}">']
    if loop is not None:  # the steps of the loop, behind both panels
        x, end = x_of(loop[0] + 1, length), x_of(loop[1] + 1, length)
        parts.append(f'<rect class="loop-zone" x="{x:.2f}" y="{TOP_PANEL[0]}" '
                     f'width="{end - x:.2f}" height="{LOW_PANEL[1] - TOP_PANEL[0]}"/>'
                     f'<text class="loop-label" x="{RIGHT}" y="{LOW_PANEL[0] - 6}" text-anchor="end">'
                     f'shaded: the loop</text>')
    for i, (n, p) in enumerate(zip(sizes, probs), start=1):
        x = x_of(i, length) + (width - bar) / 2
        y_n, y_p = y_of_size(n, vocabulary), y_of_p(p)
        parts.append(f'<rect class="nucleus-bar" data-step="{i}" data-nucleus="{n}" x="{x:.2f}" '
                     f'y="{y_n:.2f}" width="{bar:.2f}" height="{max(TOP_PANEL[1] - y_n, 0.8):.2f}"/>')
        parts.append(f'<rect class="chosen-bar" data-step="{i}" data-p="{p!r}" x="{x:.2f}" '
                     f'y="{y_p:.2f}" width="{bar:.2f}" height="{max(LOW_PANEL[1] - y_p, 0.8):.2f}"/>')
    y_k = y_of_size(fixed_k, vocabulary)
    parts += [
        f'<line class="k-line" data-k="{fixed_k}" x1="{LEFT}" y1="{y_k:.2f}" x2="{RIGHT}" y2="{y_k:.2f}"/>',
        f'<text class="k-label" x="{RIGHT + 4}" y="{y_k + 4:.2f}">k = {count(fixed_k)}</text>',
        f'<text class="panel-label" x="{LEFT}" y="{TOP_PANEL[0] - 6}">Tokens in the nucleus, p = {top_p:g} '
        f'(log scale)</text>',
        f'<text class="panel-label" x="{LEFT}" y="{LOW_PANEL[0] - 6}">Probability of the chosen token</text>',
        *axes(length, vocabulary),
        '</svg>',
    ]
    return "".join(parts)


def axes(length: int, vocabulary: int) -> list[str]:
    marks = [f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{RIGHT}" y2="{bottom}"/>'
             for bottom in (TOP_PANEL[1], LOW_PANEL[1])]
    for n in (1, 10, 100, 1000):
        if n < vocabulary:
            marks.append(f'<text x="{LEFT - 4}" y="{y_of_size(n, vocabulary) + 4:.2f}" '
                         f'text-anchor="end">{count(n)}</text>')
    for p in (0, 0.5, 1):
        marks.append(f'<text x="{LEFT - 4}" y="{y_of_p(p) + 4:.2f}" text-anchor="end">{p:g}</text>')
    for step in sorted({1, (length + 1) // 2, length}):
        x = x_of(step, length) + (RIGHT - LEFT) / length / 2
        marks.append(f'<text x="{x:.2f}" y="{LOW_PANEL[1] + 14}" text-anchor="middle">{step}</text>')
    marks.append(f'<text x="{(LEFT + RIGHT) / 2}" y="{CHART_H - 4}" text-anchor="middle">step</text>')
    return marks
