"""Drawing tokens: one at a time, or thousands at once beside the probabilities they follow.

The view is a pure function of its state. `seed` and `draws` describe the
draws on screen: draw_tokens(probs, default_rng(seed), draws). A button asks
for new draws, so the view moves on to the next seed and hands it back
(View.state) for the page to keep. `recent` holds the seeds of the last few
single draws, so the list of recent picks can be recomputed too, on
whichever prompt is selected. The same state gives the same tokens in
CPython and in the browser.
"""
from __future__ import annotations

from html import escape

import numpy as np

import sampling

from widgetkit import Button, Choice, InputError, Number, Text, View, widget
from .charts import Row, count, note, percent, prob_table, shown_token, stats
from .examples import ALL_CHOICES, EXAMPLES, Example
from .listing import example_note, listed_count, rest_row
from .words import quoted

RECENT = 8          # single picks remembered
MAX_SEED = 2 ** 31 - 1


def drawn_ids(probs: np.ndarray, seed: int, draws: int) -> np.ndarray:
    """The token ids on screen for this state (the same in CPython and Pyodide)."""
    return sampling.draw_tokens(probs, np.random.default_rng(seed), draws)


def counts_of(ids: np.ndarray, size: int) -> np.ndarray:
    """How often each token was drawn. bincount wants the platform's index type, which in
    the browser (32-bit WebAssembly) is narrower than the int64 ids draw_tokens returns."""
    return np.bincount(ids.astype(np.intp), minlength=size)


def parse_recent(recent: str) -> list[int]:
    """'4 7 9' -> [4, 7, 9]: the seeds of the recent single picks, oldest first."""
    words = recent.split()
    if not all(w.isdigit() and int(w) <= MAX_SEED for w in words):
        raise InputError("recent", "recent takes the seeds of recent single draws, "
                                   f"whole numbers separated by spaces; got {recent!r}.")
    return [int(w) for w in words][-RECENT:]


def next_state(pressed: str | None, seed: int, draws: int, recent: list[int]) -> tuple[int, int, list[int]]:
    """A button means new draws: the next seed, the button's count; a single pick is remembered."""
    if pressed is None:
        return seed, draws, recent
    seed, draws = min(seed + 1, MAX_SEED), int(pressed)
    return seed, draws, (recent + [seed])[-RECENT:] if draws == 1 else recent


def draw_rows(ex: Example, probs: np.ndarray, shares: np.ndarray | None, picked: int | None) -> list[Row]:
    listed = listed_count(ex)
    rows = [Row(ex.tokens[i], float(probs[i]), drawn=None if shares is None else float(shares[i]),
                note="chosen" if i == picked else "")
            for i in range(listed)]
    picked_in_rest = picked is not None and picked >= listed
    return rows + rest_row(ex, probs, drawn=shares, note="chosen" if picked_in_rest else "")


def pick_line(ex: Example, picked: int, recent_ids: list[int]) -> str:
    history = " ".join(f"<code>{escape(shown_token(ex.tokens[i]))}</code>" for i in reversed(recent_ids))
    return (f'<p class="pick">Next token: <strong><code>{escape(shown_token(ex.tokens[picked]))}</code></strong>'
            f' <span class="history">Recent picks, newest first: {history}</span></p>')


def largest_gap(probs: np.ndarray, shares: np.ndarray) -> float:
    """How far the draws' shares are from the probabilities at worst (in probability)."""
    return float(np.max(np.abs(shares - probs)))


def batch_summary(ex: Example, draws: int, ids: np.ndarray, shares: np.ndarray, probs: np.ndarray) -> str:
    top = int(counts_of(ids, ex.size).argmax())
    sentence = (f"{count(draws)} draws: {quoted(ex.tokens[top])} came up most, {percent(float(shares[top]))} "
                f"of the time against a probability of {percent(float(probs[top]))}; the largest gap "
                f"between share and probability is {100 * largest_gap(probs, shares):.1f} points.")
    listed = listed_count(ex)
    if ex.size > listed:
        sentence += (f" {count(int((ids >= listed).sum()))} draws landed outside the top {listed}.")
    return sentence


@widget("draw", "Drawing tokens", params=[
    Choice("example", "Prompt", default="flat", options=ALL_CHOICES, control="radio"),
    Button("generate", "Generate the next token", None, control="button", value="1"),
    Button("hundred", "Draw 100", None, control="button", value="100"),
    Button("ten_thousand", "Draw 10,000", None, control="button", value="10000"),
    Number("seed", "Seed", default=0, min=0, max=MAX_SEED, integer=True, control="hidden"),
    Number("draws", "Draws", default=0, min=0, max=10_000, integer=True, control="hidden"),
    Text("recent", "Recent picks", default="", control="hidden"),
])
def draw_view(example: str, generate: str | None, hundred: str | None, ten_thousand: str | None,
              seed: int, draws: int, recent: str) -> View:
    ex = EXAMPLES[example]
    seed, draws, recent_seeds = next_state(generate or hundred or ten_thousand, seed, draws, parse_recent(recent))
    probs = sampling.softmax(ex.logits)
    ids = drawn_ids(probs, seed, draws)
    recent_ids = [int(drawn_ids(probs, s, 1)[0]) for s in recent_seeds]
    state = {"seed": seed, "draws": draws, "recent": " ".join(map(str, recent_seeds))}
    return draw_figure(ex, probs, ids, recent_ids, state)


def draw_figure(ex: Example, probs: np.ndarray, ids: np.ndarray, recent_ids: list[int], state: dict) -> View:
    draws = ids.size
    picked = int(ids[0]) if draws == 1 else None
    shares = counts_of(ids, ex.size) / draws if draws > 1 else None
    caption = (f"{ex.label}: probabilities" + (f" and the shares of {count(draws)} draws" if shares is not None else ""))
    head = pick_line(ex, picked, recent_ids or [picked]) if picked is not None else ""
    pairs = [("Draws shown", count(draws)),
             ("Largest gap", f"{100 * largest_gap(probs, shares):.1f} points")] if shares is not None else []
    html = (stats(pairs) if pairs else "") + head + prob_table(caption, (), draw_rows(ex, probs, shares, picked))
    extra = example_note(ex)
    return View(html + (note(extra) if extra else ""), draw_summary(ex, probs, ids, shares), state)


def draw_summary(ex: Example, probs: np.ndarray, ids: np.ndarray, shares: np.ndarray | None) -> str:
    if ids.size == 0:
        return f"No draws yet for {ex.label}: press a button to draw."
    if shares is None:
        token = int(ids[0])
        return f"Drew {quoted(ex.tokens[token])}, which has probability {percent(float(probs[token]))}."
    return batch_summary(ex, ids.size, ids, shares, probs)
