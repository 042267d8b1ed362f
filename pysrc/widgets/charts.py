"""HTML and SVG pieces the views share. Pure string building; every text is escaped.

Bars are SVG rectangles sized with attributes (not inline styles), so the pages
keep a strict Content-Security-Policy; colours come from the site's stylesheet.
Every bar carries data-token and data-p (the exact number drawn), so tests can
compare a figure with what the sampling module computes. A row that stands for
many unlisted tokens also carries data-rest, the number of tokens it sums.
"""
from __future__ import annotations

import functools
import math
from collections import OrderedDict
from html import escape
from typing import NamedTuple

import numpy as np


class Row(NamedTuple):
    """One token of a distribution as the tables show it (or, with rest > 0, many)."""

    token: str
    p: float                 # probability drawn as the bar (0..1)
    cells: tuple[str, ...] = ()   # extra columns before the bar, already formatted
    kept: bool = True
    note: str = ""           # extra class names, e.g. "chosen"
    rest: int = 0            # > 0: the row sums up this many tokens not listed
    drawn: float | None = None    # share of draws that landed here (a second bar)


def remembered(view, size: int = 256):
    """A view that keeps its last `size` results: dragging a slider back and forth asks for
    the same settings again and again. Views are pure, so a kept result is the same result.
    Settings are told apart by their exact repr (0.0 and -0.0 print differently)."""
    kept: OrderedDict = OrderedDict()

    @functools.wraps(view)
    def remembering(**settings):
        key = tuple((name, repr(value)) for name, value in settings.items())
        if key in kept:
            kept.move_to_end(key)
            return kept[key]
        kept[key] = result = view(**settings)
        if len(kept) > size:
            kept.popitem(last=False)
        return result

    return remembering


def shown_token(token: str) -> str:
    """Make a leading space visible, as tokenizers keep it: ' Paris' -> '␣Paris'."""
    return "\u2423" + token[1:] if token.startswith(" ") else token


def percent(p: float, digits: int = 1) -> str:
    """A probability as a percentage that never rounds a non-zero share to 0 or a partial one to 100."""
    text = f"{100 * p:.{digits}f}"
    if 0 < p and float(text) == 0:
        return f"<{10 ** -digits:g}%"
    if p < 1 - 1e-12 and float(text) == 100:   # below 1 by more than rounding noise
        return f">{100 - 10 ** -digits:g}%"
    return text + "%"


def count(n: int) -> str:
    """A whole number with thousands separators: 50257 -> '50,257'."""
    return f"{n:,}"


def more_tokens(n: int) -> str:
    return f"+ {count(n)} more token{'s' if n != 1 else ''}"


def bar(token: str, p: float, kind: str = "fill", rest: int = 0) -> str:
    width = max(0.0, min(1.0, p)) * 100
    rest_attr = f' data-rest="{rest}"' if rest else ""
    return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" '
            f'focusable="false"><rect class="track" width="100" height="10"/>'
            f'<rect class="{kind}" data-token="{escape(token)}" data-p="{p!r}"{rest_attr} '
            f'width="{width:.4f}" height="10"/></svg>')


def prob_table(caption: str, headers: tuple[str, ...], rows: list[Row],
               bar_header: str = "Probability", phone_hides: tuple[int, ...] = ()) -> str:
    """A table: token, extra columns, a bar and the probability in words.

    When any row has a `drawn` share, its bar cell holds a second bar under the
    first, so probability and share of draws line up for comparison.
    phone_hides: positions (in `headers`) of columns a narrow screen leaves out.
    """
    if any(r.drawn is not None for r in rows):
        bar_header = f"{bar_header} / share of draws"
    head = '<th scope="col">Token</th>' + "".join(
        f'<th scope="col"{optional(i, phone_hides)}>{escape(h)}</th>' for i, h in enumerate(headers))
    head += f'<th scope="col" class="bar-col">{escape(bar_header)}</th>'
    body = "".join(table_row(r, phone_hides) for r in rows)
    return (f'<table class="dist"><caption>{escape(caption)}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def optional(position: int, phone_hides: tuple[int, ...], base: str = "") -> str:
    """The class attribute of a cell, marked "opt" when a phone may hide its column."""
    classes = " ".join(c for c in (base, "opt" if position in phone_hides else "") if c)
    return f' class="{classes}"' if classes else ""


def table_row(r: Row, phone_hides: tuple[int, ...] = ()) -> str:
    classes = " ".join(c for c in ("kept" if r.kept else "removed", "rest" if r.rest else "", r.note) if c)
    name = (f'<span class="rest-label">{escape(more_tokens(r.rest))}</span>' if r.rest
            else f"<code>{escape(shown_token(r.token))}</code>")
    if "chosen" in r.note.split():   # said in words too, not by its colour alone
        name += ' <span class="tag">chosen</span>'
    cells = "".join(f'<td{optional(i, phone_hides, "num")}>{c}</td>' for i, c in enumerate(r.cells))
    return f'<tr class="{classes}"><th scope="row">{name}</th>{cells}{bar_cell(r)}</tr>'


def bar_cell(r: Row) -> str:
    lines = [(r.p, "fill")] + ([(r.drawn, "drawn")] if r.drawn is not None else [])
    inner = "".join(f'<div class="bar-cell {kind}-line">{bar(r.token, p, kind, r.rest)}'
                    f'<span class="p">{percent(p)}</span></div>' for p, kind in lines)
    return f'<td class="bar-col">{inner}</td>'


def stat(label: str, value: str) -> str:
    return f'<div class="stat"><dt>{escape(label)}</dt><dd>{value}</dd></div>'


def stats(pairs: list[tuple[str, str]]) -> str:
    return '<dl class="stats">' + "".join(stat(k, v) for k, v in pairs) + "</dl>"


def note(text: str) -> str:
    """A sentence under a figure (already escaped HTML)."""
    return f'<p class="figure-note">{text}</p>'


# The running-total chart of the top-p widget: how much probability the best
# r tokens hold together, against r, with the line where the total reaches p.

CHART_W, CHART_H = 420, 170
PLOT = {"left": 34, "right": 346, "top": 12, "bottom": 138}
SAMPLES = 240   # points on a long curve: enough for a smooth line, few enough to send


class RankScale(NamedTuple):
    """Where rank r (1..n) goes along the x axis: linear for a few tokens, log for many."""

    n: int

    @property
    def log(self) -> bool:
        return self.n > 50

    def x(self, rank: float) -> float:
        span = PLOT["right"] - PLOT["left"]
        if self.log:
            return PLOT["left"] + span * math.log(rank) / math.log(self.n)
        return PLOT["left"] + span * rank / self.n

    def ticks(self) -> list[int]:
        if not self.log:
            return list(range(1, self.n + 1))
        return [r for r in (1, 10, 100, 1_000, 10_000) if r < self.n] + [self.n]


def y_of(total: float) -> float:
    return PLOT["bottom"] - (PLOT["bottom"] - PLOT["top"]) * total


def sample_ranks(n: int) -> np.ndarray:
    """Ranks at which a long curve is drawn, spread evenly on a log scale."""
    if n <= SAMPLES:
        return np.arange(1, n + 1)
    return np.unique(np.round(np.geomspace(1, n, SAMPLES)).astype(int))


def curve_path(running: np.ndarray, scale: RankScale) -> str:
    """The running total as steps (few tokens) or a line through sampled ranks (many)."""
    if scale.log:
        points = [(scale.x(r), y_of(running[r - 1])) for r in sample_ranks(scale.n)]
        return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    path = f"M{scale.x(0):.1f},{y_of(0):.1f}"
    for r in range(1, scale.n + 1):   # each token adds its probability across its own slot
        path += f" V{y_of(running[r - 1]):.1f} H{scale.x(r):.1f}"
    return path


def tick_marks(scale: RankScale) -> str:
    marks = []
    for r in scale.ticks():
        x = scale.x(r - 0.5) if not scale.log else scale.x(r)
        marks.append(f'<text x="{x:.1f}" y="{PLOT["bottom"] + 14}" text-anchor="middle">{count(r)}</text>')
    for total in (0, 0.5, 1):
        marks.append(f'<text x="{PLOT["left"] - 4}" y="{y_of(total) + 4:.1f}" text-anchor="end">{total:g}</text>')
    return "".join(marks)


def running_total_chart(running: np.ndarray, top_p: float, nucleus: int, description: str,
                        curve: str | None = None) -> str:
    """An SVG of the running total by rank, the line at p, and where the nucleus ends.
    curve: curve_path(running, RankScale(running.size)), when the caller keeps it (it depends on
    the distribution only, not on p)."""
    scale = RankScale(running.size)
    x_cut = scale.x(nucleus)   # the right edge of the last token kept
    axis_label = "rank (log scale)" if scale.log else "rank"
    return (
        f'<svg class="running" viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{escape(description)}">'
        f'<line class="axis" x1="{PLOT["left"]}" y1="{PLOT["bottom"]}" x2="{PLOT["right"]}" y2="{PLOT["bottom"]}"/>'
        f'<line class="axis" x1="{PLOT["left"]}" y1="{PLOT["top"]}" x2="{PLOT["left"]}" y2="{PLOT["bottom"]}"/>'
        f'<path class="nucleus-zone" d="M{PLOT["left"]},{PLOT["top"]} H{x_cut:.1f} V{PLOT["bottom"]} '
        f'H{PLOT["left"]} Z"/>'
        f'<line class="p-line" x1="{PLOT["left"]}" y1="{y_of(top_p):.1f}" x2="{PLOT["right"]}" y2="{y_of(top_p):.1f}"/>'
        f'<path class="curve" d="{curve or curve_path(running, scale)}"/>'
        f'<line class="cut-line" x1="{x_cut:.1f}" y1="{PLOT["top"]}" x2="{x_cut:.1f}" y2="{PLOT["bottom"]}"/>'
        f'<text class="p-label" x="{PLOT["right"] + 4}" y="{y_of(top_p) + 4:.1f}">p = {top_p:g}</text>'
        f'{zone_label(x_cut)}'
        f'{tick_marks(scale)}'
        f'<text x="{(PLOT["left"] + PLOT["right"]) / 2}" y="{CHART_H - 2}" text-anchor="middle">{axis_label}</text>'
        f'</svg>'
    )


def zone_label(x_cut: float) -> str:
    """The word "nucleus" at the foot of its shaded zone (the curve is high by the cut), inside
    the zone when it fits, else just right of it."""
    y = PLOT["bottom"] - 6
    if x_cut - PLOT["left"] >= 56:
        return f'<text class="zone-label" x="{x_cut - 4:.1f}" y="{y}" text-anchor="end">nucleus</text>'
    return f'<text class="zone-label" x="{x_cut + 4:.1f}" y="{y}">\u2190 nucleus</text>'
