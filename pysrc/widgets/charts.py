"""HTML and SVG pieces the views share. Pure string building; every text is escaped.

Bars are SVG rectangles sized with attributes (not inline styles), so the pages
keep a strict Content-Security-Policy; colours come from the site's stylesheet.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Row:
    """One token of a distribution as the tables show it."""

    token: str
    p: float                 # probability drawn as the bar (0..1)
    cells: tuple[str, ...] = ()   # extra columns before the bar, already formatted
    kept: bool = True
    note: str = ""           # extra class names, e.g. "chosen"


def shown_token(token: str) -> str:
    """Make leading spaces visible, as tokenizers keep them: ' Paris' -> '␣Paris'."""
    return token.replace(" ", "\u2423")


def percent(p: float, digits: int = 1) -> str:
    if 0 < p < 0.5 * 10 ** -digits / 100:
        return f"<{10 ** -digits:g}%"
    return f"{100 * p:.{digits}f}%"


def bar(token: str, p: float) -> str:
    width = max(0.0, min(1.0, p)) * 100
    return (f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" '
            f'focusable="false"><rect class="track" width="100" height="10"/>'
            f'<rect class="fill" data-token="{escape(token)}" data-p="{p!r}" '
            f'width="{width:.4f}" height="10"/></svg>')


def prob_table(caption: str, headers: tuple[str, ...], rows: list[Row]) -> str:
    """A table: token, extra columns, a bar and the probability in words."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in ("Token", *headers))
    head += '<th scope="col" class="bar-col">Probability</th>'
    body = "".join(table_row(r) for r in rows)
    return (f'<table class="dist"><caption>{escape(caption)}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def table_row(r: Row) -> str:
    classes = " ".join(c for c in ("kept" if r.kept else "removed", r.note) if c)
    cells = "".join(f'<td class="num">{c}</td>' for c in r.cells)
    return (f'<tr class="{classes}"><th scope="row"><code>{escape(shown_token(r.token))}</code></th>'
            f'{cells}<td class="bar-col"><div class="bar-cell">{bar(r.token, r.p)}'
            f'<span class="p">{percent(r.p)}</span></div></td></tr>')


def stat(label: str, value: str) -> str:
    return f'<div class="stat"><dt>{escape(label)}</dt><dd>{value}</dd></div>'


def stats(pairs: list[tuple[str, str]]) -> str:
    return '<dl class="stats">' + "".join(stat(k, v) for k, v in pairs) + "</dl>"
