"""Write with a real model: a prompt, a decoding method, and the text it produces.

The model is the `ngram` package's trigram model of Python's documentation
(`ngram.default_model()`: in the browser, the wheel's model.bin, read on the
first draw). The view is a pure function of its state. Two hidden values make
each draw repeatable, so the build's figure, the browser's and a test's agree:
`step` (how many tokens are shown; the buttons move it) and `seed` (the
random stream of the sampling methods; "New seed" moves it).

What the figure shows, for the tokens written so far:
- the text, with a phrase that repeats at its end (Holtzman et al.'s measure:
  2 or more tokens, 3 or more times) marked copy by copy;
- a chart: per step, how many tokens the nucleus (top-p) holds against a fixed
  k, and the model's probability of the token chosen;
- the last step: the model's best candidates, which ones the method kept, and
  the one it chose.
Every bar of the chart carries data-step with data-nucleus or data-p (the exact
numbers), and the text carries data-ids (the token ids), for tests.
"""
from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

import numpy as np

import ngram
import sampling
from ngram.decoding import method_params, sampling_settings
from ngram.tokens import EOS, token_pieces

from widgetkit import Button, Choice, Number, Text, View, widget
from .charts import Row, count, note, percent, prob_table, rest_label, stats
from .words import quoted

METHOD_CHOICES = (
    ("greedy", "Greedy"),
    ("beam", "Beam search"),
    ("sample", "Pure sampling"),
    ("temperature", "Temperature"),
    ("top_k", "Top-k"),
    ("top_p", "Top-p (nucleus)"),
    ("min_p", "Min-p"),
)
METHOD_NAMES = {
    "greedy": "Greedy decoding", "beam": "Beam search", "sample": "Pure sampling",
    "temperature": "Sampling with temperature", "top_k": "Top-k sampling",
    "top_p": "Nucleus (top-p) sampling", "min_p": "Min-p sampling",
}
MAX_LENGTH = 200
LISTED = 5          # candidates listed for the last step (plus the chosen one, if lower)
END_OF_SENTENCE = "[end of sentence]"


@widget("generate", "Write with a real model", params=[
    Text("prompt", "Prompt", default="The value of", max_length=120, control="text"),
    Choice("method", "Decoding", default="greedy", options=METHOD_CHOICES, control="radio"),
    Number("beam_width", "Beam width", default=16, min=1, max=16, integer=True, control="number",
           help="Hypotheses kept, 1 to 16."),
    Number("temperature", "Temperature", default=0.7, min=0.0, max=2.0, step=0.05, control="range",
           help="0 is greedy; below 1 sharpens, above 1 flattens."),
    Number("top_k", "k", default=40, min=1, max=4000, integer=True, control="number",
           help="Keep the k likeliest tokens, 1 to 4,000."),
    Number("top_p", "p", default=0.95, min=0.01, max=1.0, step=0.01, control="number",
           help="Keep the likeliest tokens that hold p, 0.01 to 1."),
    Number("min_p", "Min-p", default=0.1, min=0.0, max=1.0, step=0.01, control="number",
           help="Keep tokens at least min-p times as likely as the best, 0 to 1."),
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
def generate_view(prompt: str, method: str, beam_width: int, temperature: float, top_k: int,
                  top_p: float, min_p: float, length: int, next_token: str | None,
                  write_all: str | None, start_over: str | None, new_seed: str | None,
                  step: int, seed: int) -> View:
    model = ngram.default_model()
    step = next_step(step, length, next_token, write_all, start_over)
    seed = (seed + 1) % 2**31 if new_seed else seed
    run = Run.make(model, prompt, method, method_settings(method, beam_width, temperature, top_k,
                                                             top_p, min_p), min(step, length), length, seed)
    parts = [stats(run.stat_pairs()), run.text_html(), *run.notes(), run.chart(), run.last_step()]
    return View("".join(parts), run.summary(), state={"step": step, "seed": seed})


def nucleus_sizes_of(generation: ngram.Generation, logits: list[np.ndarray]) -> list[int]:
    """How many tokens the nucleus holds at each step of a generation: at the method's own p
    for top-p (top-p at temperature 1 kept exactly its nucleus, so the count is already in
    the step's record), else at the paper's p = 0.95."""
    if generation.method == "top_p":
        return [step.candidates for step in generation.steps]
    return [sampling.nucleus_size(step_logits, ngram.NUCLEUS_P) for step_logits in logits]


def next_step(step: int, length: int, next_token, write_all, start_over) -> int:
    """How many tokens to show after a button press (none pressed: as many as before)."""
    if start_over:
        return 0
    if write_all:
        return MAX_LENGTH  # "all": whatever the length is, now or after it changes
    if next_token and step < length:
        return step + 1
    return step


def method_settings(method: str, beam_width: int, temperature: float, top_k: int, top_p: float,
                    min_p: float) -> dict:
    """The one setting each method takes from the controls (the filters at temperature 1)."""
    return {"greedy": {}, "sample": {}, "beam": {"beam_width": beam_width},
            "temperature": {"temperature": temperature}, "top_k": {"top_k": top_k},
            "top_p": {"top_p": top_p}, "min_p": {"min_p": min_p}}[method]


class Run(NamedTuple):
    """One generation as the figure shows it."""

    model: ngram.Model
    method: str
    settings: dict
    length: int
    seed: int
    prompt: list[tuple[str, int]]       # (token as typed, id)
    tokens: tuple[int, ...]             # generated so far
    logits: list[np.ndarray]            # the model's logits at each step (one more at step 0)
    loop: ngram.RepeatingTail | None    # the paper's test: a phrase repeating up to the very end
    broken_loop: ngram.RepeatingTail | None   # else, one that only the last token breaks
    nucleus_sizes: list[int]            # tokens in the nucleus at each step (see nucleus_sizes_of)

    @classmethod
    def make(cls, model, prompt_text, method, settings, shown, length, seed) -> Run:
        prompt = model.tokenize(prompt_text)
        ids = [i for _, i in prompt]
        generation = ngram.generate(model, ids, method, shown, rng=seed, record_nucleus=False, **settings)
        tokens = generation.tokens
        # At step i the model saw the prompt and tokens[:i]; at step 0 with nothing
        # written yet, the figure shows the distribution for the first token.
        contexts = [ids + list(tokens[:i]) for i in range(max(len(tokens), 1))]
        logits = [model.logits(c) for c in contexts]
        loop = ngram.repeating_tail(tokens)
        broken = ngram.repeating_tail(tokens[:-1]) if loop is None and len(tokens) > 1 else None
        return cls(model, method, settings, length, seed, prompt, tokens, logits, loop, broken,
                   nucleus_sizes_of(generation, logits[:len(tokens)]))

    @property
    def marked(self) -> ngram.RepeatingTail | None:
        """The loop the figure marks: one that reaches the end, or one only the last token breaks."""
        return self.loop or self.broken_loop

    # -- numbers -------------------------------------------------------------

    @property
    def top_p(self) -> float:
        """The p of the nucleus the chart counts: the method's own, else the paper's 0.95."""
        return self.settings.get("top_p", ngram.NUCLEUS_P)

    @property
    def fixed_k(self) -> int:
        return self.settings.get("top_k", ngram.COMPARISON_K)

    def probabilities(self) -> list[float]:
        """The model's probability of each chosen token (before any filter)."""
        return [math.exp(float(self.logits[i][t])) for i, t in enumerate(self.tokens)]

    def perplexity(self) -> float:
        """The model's perplexity on the tokens written: exp of their mean surprise."""
        return math.exp(-float(np.mean([self.logits[i][t] for i, t in enumerate(self.tokens)])))

    @property
    def unknown(self) -> list[str]:
        return list(dict.fromkeys(t for t, i in self.prompt if i == self.model.unk_id))

    # -- text ----------------------------------------------------------------

    def text_html(self) -> str:
        """The prompt as typed, then the tokens written, each copy of a looping phrase marked."""
        words = [t for t, _ in self.prompt] + [self.model.vocabulary[t] for t in self.tokens]
        pieces = token_pieces(words)
        n = len(self.prompt)
        prompt_html = "".join(
            f'<span class="unknown">{escape(piece)}</span>' if i == self.model.unk_id else escape(piece)
            for piece, (_, i) in zip(pieces[:n], self.prompt))
        ids = " ".join(str(i) for i in [*(i for _, i in self.prompt), *self.tokens])
        return (f'<p class="gen-text" data-ids="{ids}" data-prompt-tokens="{n}">'
                f'<span class="gen-prompt">{prompt_html}</span>{self.written_html(pieces[n:])}</p>')

    def written_html(self, pieces: list[str]) -> str:
        loop = self.marked
        start = len(pieces) if loop is None else loop.start
        html = [escape(p) for p in pieces[:start]]
        for copy in range(loop.repeats if loop else 0):
            first = start + copy * loop.phrase_length
            text = escape("".join(pieces[first:first + loop.phrase_length]))
            html.append(f'<mark class="loop loop-{copy % 2}">{text}</mark>')
        if self.broken_loop:
            html.append(escape(pieces[-1]))
        if self.tokens and self.loop is None:  # the newest token, unless it closes a marked copy
            html[-1] = f'<span class="newest">{html[-1]}</span>'
        return "".join(html)

    def notes(self) -> list[str]:
        found = []
        if self.unknown:
            listed = ", ".join(escape(quoted(word)) for word in self.unknown)
            found.append(f'<p class="figure-note unknown-words">Not in the model\'s vocabulary of '
                         f"{count(self.model.vocabulary_size)} tokens: {listed}. It reads each as "
                         "&lt;unk&gt;, its stand-in for a rare word, and carries on.</p>")
        if not self.prompt:
            found.append(note("With no prompt, the model starts a sentence of its own."))
        if self.method == "beam" and 0 < len(self.tokens) < self.length:
            found.append(note("Beam search shows its best hypothesis so far: the next step can change "
                              "earlier tokens too."))
        if self.broken_loop:
            found.append(note(self.broken_loop_text()))
        return found

    def broken_loop_text(self) -> str:
        why = (" At its last step beam search has nothing left to plan for, so it takes the likeliest "
               "single token." if self.method == "beam" and len(self.tokens) == self.length else "")
        return ("Only the last token breaks the loop, so by the paper's test (a loop that runs to the "
                f"very end) this text does not end in one.{why}")

    # -- the chart -------------------------------------------------------------

    def chart(self) -> str:
        return step_chart(self.nucleus_sizes, self.probabilities(), self.length, self.top_p,
                          self.fixed_k, self.model.vocabulary_size,
                          self.loop_span(), self.chart_text())

    def loop_span(self) -> tuple[int, int] | None:
        """The tokens of the marked loop, as (first, after the last), for the chart's shading."""
        loop = self.marked
        return None if loop is None else (loop.start, loop.start + loop.repeats * loop.phrase_length)

    def chart_text(self) -> str:
        if not self.tokens:
            return "Nothing written yet, so the chart is empty."
        sizes, probs = self.nucleus_sizes, self.probabilities()
        return (f"Chart over {len(self.tokens)} steps. Top: tokens in the nucleus at p = {self.top_p:g}, "
                f"from {count(min(sizes))} to {count(max(sizes))} (median {count(int(np.median(sizes)))}), "
                f"against a fixed k of {count(self.fixed_k)}. Bottom: the model's probability of each "
                f"chosen token, from {percent(min(probs))} to {percent(max(probs))}, "
                f"mean {percent(float(np.mean(probs)))}.")

    # -- the last step -----------------------------------------------------------

    def last_step(self) -> str:
        """The distribution of the newest token (or the first, before any), what was kept, what chosen."""
        logits = self.logits[-1]
        chosen = self.tokens[-1] if self.tokens else None
        kept = self.kept_mask(logits)
        probs = np.exp(logits)
        order = np.argsort(-probs, kind="stable")
        listed = [int(t) for t in order[:LISTED]]
        if chosen is not None and chosen not in listed:
            listed.append(chosen)
        rows = [self.candidate_row(t, probs, kept, order, chosen) for t in listed]
        rest = [t for t in order[LISTED:] if int(t) != chosen and probs[t] > 0]  # not <s>, <unk>
        if rest:
            rows.append(Row(rest_label(len(rest)), float(probs[rest].sum()), ("", ""),
                            kept=bool(kept[rest].any()), rest=len(rest)))
        caption = (f"Step {len(self.tokens)}: {self.keeps_text(kept)}, chose "
                   f"{quoted(self.shown(chosen))}" if chosen is not None
                   else "The first token's candidates")
        return prob_table(caption, ("Rank", "Kept"), rows, bar_header="Model's probability",
                          phone_hides=(0,))

    def kept_mask(self, logits: np.ndarray) -> np.ndarray:
        """Which tokens the method chose among at this step (beam search: every one)."""
        if self.method == "beam":
            return np.isfinite(logits)
        filters = sampling_settings(self.method, method_params(self.method, **self.settings))
        return sampling.sampling_stages(logits, **filters).kept

    def keeps_text(self, kept: np.ndarray) -> str:
        if self.method == "beam":
            return f"beam search extends {self.settings['beam_width']} hypotheses"
        n = int(kept.sum())
        return f"{METHOD_NAMES[self.method].lower()} kept {count(n)} token{'s' if n != 1 else ''}"

    def candidate_row(self, token: int, probs, kept, order, chosen) -> Row:
        rank = int(np.flatnonzero(order == token)[0]) + 1
        return Row(self.shown(token), float(probs[token]), (count(rank), "yes" if kept[token] else "no"),
                   kept=bool(kept[token]), note="chosen" if token == chosen else "")

    def shown(self, token: int | None) -> str:
        word = self.model.vocabulary[token]
        return END_OF_SENTENCE if word == EOS else word

    # -- words -------------------------------------------------------------------

    def stat_pairs(self) -> list[tuple[str, str]]:
        pairs = [("Tokens", f"{len(self.tokens)} of {self.length}"), ("Ends in a loop", self.loop_text())]
        if self.tokens:
            pairs.append(("Distinct pairs", f"{ngram.distinct_n(self.tokens, 2):.2f}"))
            pairs.append(("Perplexity", f"{self.perplexity():.1f}"))
        if self.method not in ("greedy", "beam"):
            pairs.append(("Seed", str(self.seed)))
        return pairs

    def loop_text(self) -> str:
        if self.broken_loop:
            return "no, but all tokens before the last do"
        if self.loop is None:
            return "no"
        return f"{self.loop.phrase_length} tokens \u00d7 {self.loop.repeats}"

    def summary(self) -> str:
        start = f"{METHOD_NAMES[self.method]} wrote {len(self.tokens)} of {self.length} tokens"
        typed = "".join(token_pieces([t for t, _ in self.prompt]))
        after = f" after {quoted(typed)}" if self.prompt else ""
        if self.loop is not None:
            end = (f"; the last {self.loop.phrase_length * self.loop.repeats} are a "
                   f"{self.loop.phrase_length}-token phrase repeated {self.loop.repeats} times.")
        elif self.broken_loop:
            end = (f"; all but the last token end in a {self.broken_loop.phrase_length}-token phrase "
                   f"repeated {self.broken_loop.repeats} times.")
        elif self.tokens:
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
