"""The decoding methods, declared once.

``METHODS`` is the one table: each method's settings and their defaults, the
names a reader sees (the generation widget's choice, the method in a
sentence), its rows in the decoding comparison, and the row of Holtzman et
al.'s Table 1 it matches.  The decoders check settings against it, the widget
builds its choices and defaults from it, the comparison runs its rows, and
the article's figures from the paper are read from ``PAPER``.
"""

from __future__ import annotations

from typing import NamedTuple

NUCLEUS_P = 0.95  # the nucleus the step records and the widget's chart count, unless the method is top-p
COMPARISON_K = 40  # the fixed k shown beside it, unless the method is top-k

# Settings every method but beam search accepts, with the values that switch them off.
PENALTIES: dict[str, float] = {"repetition_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0}

# The comparison's row with a repetition penalty: the value the CTRL paper's authors suggest
# (Keskar et al. 2019, arXiv:1909.05858, as quoted in transformers' RepetitionPenaltyLogitsProcessor:
# "a penalty of around 1.2 to achieve a good balance between truthful generation and lack of repetition").
SUGGESTED_REPETITION_PENALTY = 1.2
# And one with a frequency penalty: half a point off a token's score for each time it is already
# in the text (the OpenAI API's rule; the API takes -2 to 2).
FREQUENCY_PENALTY = 0.5


class PaperRow(NamedTuple):
    """One row of Holtzman et al. (ICLR 2020, arXiv:1904.09751), Table 1: GPT-2 Large,
    5,000 continuations of up to 200 tokens.  None where this project quotes no figure."""

    perplexity: float | None   # the model's own perplexity on the generated text
    repetition: float | None   # % of continuations that end in a repeating loop
    huse: float | None         # human and statistical evaluation combined, higher is better


PAPER_PASSAGES = 5000
PAPER_TOKENS = 200
# By the short names the article's facts use (paper_ppl_greedy, paper_rep_beam16, ...).
PAPER: dict[str, PaperRow] = {
    "human": PaperRow(12.38, 0.28, None),
    "greedy": PaperRow(1.50, 73.66, None),
    "beam16": PaperRow(None, 28.94, None),
    "pure": PaperRow(22.73, 0.22, 0.67),
    "t09": PaperRow(None, None, 0.79),
    "topk40": PaperRow(None, None, 0.19),
    "topk640": PaperRow(None, None, 0.94),
    "topk40_t07": PaperRow(None, 8.86, 0.08),
    "nucleus": PaperRow(13.13, 0.36, 0.97),
}


class TableRow(NamedTuple):
    """A row of the decoding comparison: a method with some settings changed from its defaults."""

    key: str                    # names the row's figures: gen_rep_KEY, gen_ppl_KEY, ...
    changes: dict[str, float]   # settings that differ from the method's defaults
    label: str
    paper: str | None = None    # the matching row of PAPER


class Method(NamedTuple):
    key: str                     # what the decoders and the widget call it
    choice: str                  # the widget's radio label
    name: str                    # the method in a sentence
    settings: dict[str, float]   # every setting it takes, with its default (penalties aside)
    control: str | None          # the one setting the widget's controls give it
    sampled: bool                # draws at random (greedy and beam search do not)
    rows: tuple[TableRow, ...]   # its rows in the comparison


METHODS: tuple[Method, ...] = (
    Method("greedy", "Greedy", "Greedy decoding", {}, None, False,
           (TableRow("greedy", {}, "Greedy", "greedy"),
            TableRow("greedy_penalty", {"repetition_penalty": SUGGESTED_REPETITION_PENALTY},
                     f"Greedy, repetition penalty {SUGGESTED_REPETITION_PENALTY:g}"),
            TableRow("greedy_frequency", {"frequency_penalty": FREQUENCY_PENALTY},
                     f"Greedy, frequency penalty {FREQUENCY_PENALTY:g}"))),
    Method("beam", "Beam search", "Beam search", {"beam_width": 16}, "beam_width", False,
           (TableRow("beam", {}, "Beam search, b=16", "beam16"),)),
    Method("sample", "Pure sampling", "Pure sampling", {}, None, True,
           (TableRow("sample", {}, "Pure sampling", "pure"),)),
    Method("temperature", "Temperature", "Sampling with temperature", {"temperature": 0.7}, "temperature",
           True, (TableRow("temperature", {}, "Sampling, t=0.7"),)),
    Method("top_k", "Top-k", "Top-k sampling", {"top_k": 40, "temperature": 1.0}, "top_k", True,
           (TableRow("top_k", {}, "Top-k, k=40", "topk40"),)),
    Method("top_p", "Top-p (nucleus)", "Nucleus (top-p) sampling", {"top_p": NUCLEUS_P, "temperature": 1.0},
           "top_p", True, (TableRow("top_p", {}, "Nucleus, p=0.95", "nucleus"),)),
    Method("min_p", "Min-p", "Min-p sampling", {"min_p": 0.1, "temperature": 1.0}, "min_p", True, ()),
)
METHOD = {m.key: m for m in METHODS}
# The comparison's rows, in the table's order, with the paper's order of methods first:
# each row's random stream is numbered by its place, so a new row goes at the end.
TABLE_ROWS: tuple[tuple[Method, TableRow], ...] = (
    *((m, row) for m in METHODS for row in m.rows[:1]),
    *((m, row) for m in METHODS for row in m.rows[1:]),
)
HUMAN_ROW = TableRow("human", {}, "Held-out text", "human")  # what people wrote: the paper's "Human"
ROW_BY_KEY = {row.key: row for row in (HUMAN_ROW, *(row for _, row in TABLE_ROWS))}


def accepted_settings(method: str) -> dict[str, float]:
    """Every setting ``method`` takes, with its default: its own, and the penalties unless
    it is beam search (whose hypotheses would each need their own)."""
    if method not in METHOD:
        raise ValueError(f"unknown method {method!r}; expected one of {tuple(METHOD)}")
    own = METHOD[method].settings
    return dict(own) if method == "beam" else {**own, **PENALTIES}


def paper_figure(row: TableRow, column: str) -> float | None:
    """A row's figure in the paper (``perplexity``, ``repetition`` or ``huse``), if quoted."""
    return None if row.paper is None else getattr(PAPER[row.paper], column)
