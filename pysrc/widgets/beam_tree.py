"""Beam search drawn as a tree, on the article's n-gram model.

The numbers are `ngram`'s own beam search (`ngram.decoding.beam_steps`, the
one `ngram.generate` runs): at each step it ranks the extensions of the kept
hypotheses, keeps the best `beam_width` and cuts the rest. The figure draws
the kept ones and, faded, the best `beam_width` it cut, each as a node with
its token and the total log-probability of the sequence it ends; the best
final sequence is highlighted from the prompt to its last token.

Under the tree: the best sequence as text, with any phrase it repeats marked;
every final beam with its log-probability; the best sequence token by token
with the model's probability of each token (the reason it wins, and loops).

Every node carries data-step, data-rank (in the step's ranking, best first),
data-parent (the rank of its parent one step before), data-token (the id),
data-logp (the exact total) and data-state (best, kept or cut), for tests.
"""
from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

import ngram
from ngram.decoding import BeamStep, beam_steps
from ngram.tokens import EOS, is_word, token_pieces

from widgetkit import Choice, Number, View, widget
from .charts import Row, count, note, percent, prob_table, remembered, stats
from .words import quoted

# Sentence beginnings from the documentation the model did not learn from, after which the best
# sequence comes back to words the text already holds, at the default width and steps (found by
# trying; tests/test_beam_tree.py checks that it still does).
PROMPTS = (
    ("list", "Return a list of folder names"),
    ("exception", "Here the exception is raised only"),
    ("class", "A class definition defines a class"),
)
PROMPT_TEXT = dict(PROMPTS)
END = "[end]"          # how the tree shows the end-of-sentence token
LONGEST = 14           # characters of a token the tree shows; longer ones end in "…"
MAX_STEPS = 6          # the tree stays a few columns wide, and a view stays well under 20 ms


@widget("beam_tree", "Beam search, step by step", params=[
    Choice("prompt", "Prompt", default="list", options=PROMPTS, control="radio"),
    Number("beam_width", "Beam width", default=3, min=2, max=4, step=1, integer=True, control="range",
           help="How many sequences beam search keeps at each step."),
    Number("steps", "Steps", default=6, min=1, max=MAX_STEPS, step=1, integer=True, control="range",
           help="How many tokens it adds."),
])
@remembered
def beam_tree_view(prompt: str, beam_width: int, steps: int) -> View:
    search = Search.make(ngram.default_model(), PROMPT_TEXT[prompt], beam_width, steps)
    parts = [stats(search.stat_pairs()), search.text_html(), scrolling(tree_svg(search)), legend(),
             search.finals_html(), search.best_table(), note(escape(search.why()))]
    return View("".join(parts), search.summary())


class Repeat(NamedTuple):
    """A phrase of the continuation that the text already held earlier."""

    start: int      # where the repeat starts, counted in prompt + continuation
    length: int     # tokens
    earlier: int    # where the phrase first appeared


class Search(NamedTuple):
    """One beam search as the figure shows it."""

    model: ngram.Model
    prompt_text: str
    prompt: tuple[int, ...]
    width: int
    steps: tuple[BeamStep, ...]

    @classmethod
    def make(cls, model: ngram.Model, prompt_text: str, width: int, length: int) -> Search:
        prompt = tuple(i for _, i in model.tokenize(prompt_text))
        return cls(model, prompt_text, prompt, width,
                   tuple(beam_steps(model, prompt, length, width, cut_shown=width)))

    # -- numbers ---------------------------------------------------------------

    @property
    def best(self) -> tuple[int, ...]:
        return self.steps[-1].hypotheses[0]

    @property
    def best_score(self) -> float:
        return self.steps[-1].scores[0]

    def best_path(self) -> list[int]:
        """The rank, at each step, of the node the best final sequence passes through."""
        ranks = [0]
        for step in reversed(self.steps[1:]):
            ranks.append(step.parents[ranks[-1]])
        return ranks[::-1]

    def alive(self) -> list[set[int]]:
        """The kept nodes, at each step, that some final sequence passes through."""
        found = [set(range(self.steps[-1].kept))]
        for step in reversed(self.steps[1:]):
            found.append({step.parents[r] for r in found[-1]})
        return found[::-1]

    def best_scores(self) -> list[float]:
        """The running log-probability along the best sequence, after each of its tokens."""
        return [step.scores[rank] for step, rank in zip(self.steps, self.best_path())]

    def token_probabilities(self) -> list[float]:
        """The model's probability of each token of the best sequence, in its context."""
        totals = [0.0, *self.best_scores()]
        return [math.exp(after - before) for before, after in zip(totals, totals[1:])]

    def repeat(self) -> Repeat | None:
        """The longest phrase of at least two words in the continuation that the text
        (prompt or continuation) already held, without overlapping its earlier copy."""
        text = self.prompt + self.best
        n = len(self.prompt)
        found = None
        for length in range(2, len(self.best) + 1):
            first: dict[tuple[int, ...], int] = {}
            for start in range(len(text) - length + 1):
                phrase = text[start:start + length]
                earlier = first.setdefault(phrase, start)
                if (start + length > n and earlier + length <= start
                        and sum(is_word(self.model.vocabulary[t]) for t in phrase) >= 2):
                    found = Repeat(start, length, earlier)
                    break
        return found

    # -- words ------------------------------------------------------------------

    def shown(self, token: int) -> str:
        word = self.model.vocabulary[token]
        return END if word == EOS else word

    def phrase(self, tokens: tuple[int, ...]) -> str:
        """Tokens as the text reads them (no capitals added; the end of a sentence dropped)."""
        return "".join(token_pieces([self.model.vocabulary[t] for t in tokens], False)).strip()

    def continuation(self, tokens: tuple[int, ...]) -> str:
        """A continuation as text, after "…" and the prompt's last word: "…names. Return a list of"."""
        words = [self.model.vocabulary[t] for t in self.prompt + tokens]
        pieces = token_pieces(words)[len(self.prompt) - 1:] if self.prompt else token_pieces(words)
        return "\u2026" + "".join(pieces).lstrip()

    def text_html(self) -> str:
        """The prompt and the best continuation, its repeated phrase and that phrase's first copy marked."""
        words = [self.model.vocabulary[t] for t in self.prompt + self.best]
        pieces = [escape(p) for p in token_pieces(words)]
        found = self.repeat()
        if found is not None:
            for copy, start in enumerate((found.earlier, found.start)):
                end = start + found.length - 1
                pieces[start] = f'<mark class="loop loop-{copy}">{pieces[start]}'
                pieces[end] += "</mark>"
        n = len(self.prompt)
        return (f'<p class="gen-text beam-text" data-ids="{" ".join(map(str, self.prompt + self.best))}">'
                f'<span class="gen-prompt">{"".join(pieces[:n])}</span>{"".join(pieces[n:])}</p>')

    def stat_pairs(self) -> list[tuple[str, str]]:
        probs = self.token_probabilities()
        found = self.repeat()
        return [("Best log-probability", signed(self.best_score)),
                ("Its tokens' probability", f"{percent(min(probs))} to {percent(max(probs))}"),
                ("Repeats", quoted(self.phrase(self.text_of(found))) if found else "nothing yet")]

    def text_of(self, found: Repeat) -> tuple[int, ...]:
        return (self.prompt + self.best)[found.start:found.start + found.length]

    def finals_html(self) -> str:
        last = self.steps[-1]
        items = "".join(
            f'<li class="{"best" if rank == 0 else "kept"}" data-logp="{last.scores[rank]!r}">'
            f'{escape(self.continuation(last.hypotheses[rank]))} '
            f'<span class="lp">{signed(last.scores[rank])}</span></li>'
            for rank in range(last.kept))
        return (f'<p class="beam-finals-title">The {last.kept} sequences kept at the end, best first, '
                f'with the log-probability of their new tokens:</p><ol class="beam-finals">{items}</ol>')

    def best_table(self) -> str:
        found = self.repeat()
        copy = range(0) if found is None else range(found.start, found.start + found.length)
        n = len(self.prompt)
        rows = [Row(self.shown(t), p, (str(i), signed(total)), note="chosen" if n + i - 1 in copy else "")
                for i, (t, p, total) in enumerate(zip(self.best, self.token_probabilities(),
                                                      self.best_scores()), start=1)]
        marked = "; the rows of the phrase it repeats are marked" if found else ""
        return prob_table("The best sequence token by token: the model's probability of each token, "
                          "and the log-probability so far (the sum of the logs of those probabilities)"
                          + marked, ("Step", "Log-prob so far"), rows, bar_header="Probability of the token",
                          phone_hides=(0,))   # the rows are in step order anyway

    def mean_probability(self, rank: int = 0) -> float:
        """The geometric mean of the model's probabilities of a final sequence's new tokens."""
        return math.exp(self.steps[-1].scores[rank] / len(self.steps))

    def why(self) -> str:
        """Why the best sequence wins, and loops, in the numbers of this search."""
        start = ("A sequence's log-probability is the sum of the logs of its tokens' probabilities, "
                 "so a single unlikely token costs it for good. ")
        last = self.steps[-1]
        if last.kept > 1:
            ratio = math.exp(last.scores[0] - last.scores[1])
            start += (f"The best sequence's tokens had a probability of {percent(self.mean_probability())} "
                      f"on average (the geometric mean), the runner-up's {percent(self.mean_probability(1))}: "
                      f"over {len(self.steps)} tokens that makes the best {ratio:.1f} times as likely. ")
        found = self.repeat()
        if found is None:
            more = "add steps, or change the width," if len(self.steps) < MAX_STEPS else "change the width"
            return start + f"No phrase repeats yet: {more} to watch it come back to one."
        return (start + f"It comes back to {quoted(self.phrase(self.text_of(found)))}: a loop of likely tokens "
                "keeps every step's probability high, so the product over the whole sequence favours it.")

    def summary(self) -> str:
        found = self.repeat()
        ending = (f", which repeats {quoted(self.phrase(self.text_of(found)))}" if found
                  else ", which repeats no phrase")
        return (f"Beam search of width {self.width} over {len(self.steps)} "
                f"step{'s' if len(self.steps) != 1 else ''} after {quoted(self.prompt_text)}: the tree "
                f"keeps {self.width} sequences at each step and shows the {self.width} best it cut; the best "
                f"final sequence, {quoted(self.continuation(self.best))}, has log-probability "
                f"{signed(self.best_score)}{ending}.")


def signed(x: float) -> str:
    """A log-probability with a true minus sign: -7.123 -> '−7.12'."""
    return f"{x:.2f}".replace("-", "\u2212")


# -- the tree -------------------------------------------------------------------------

CHAR_W = 7.2          # width of one character of the tree's monospace 12 px text
NODE_H, ROW_H = 32, 40
GAP, PAD = 22, 6      # between columns; inside a node
TOP = 22              # room for the step numbers


class Placed(NamedTuple):
    x: float
    y: float
    width: float


def label(token: str) -> str:
    return token if len(token) <= LONGEST else token[:LONGEST - 1] + "\u2026"


def column_orders(search: Search) -> list[list[int]]:
    """The ranks of each step's nodes from top to bottom: grouped under their parents, in their
    parents' order, so no two edges cross; best first within a group."""
    orders: list[list[int]] = []
    above = {0: 0}   # the prompt is the one node before the first step
    for step in search.steps:
        order = sorted(range(len(step.tokens)), key=lambda r: (above[step.parents[r]], r))
        orders.append(order)
        above = {rank: position for position, rank in enumerate(order) if rank < step.kept}
    return orders


def tree_svg(search: Search) -> str:
    orders = column_orders(search)
    rows = max(len(order) for order in orders)
    height = TOP + rows * ROW_H
    root_text = "\u2026" + label(search.shown(search.prompt[-1])) if search.prompt else "start"
    root = Placed(0, TOP + (rows - 1) * ROW_H / 2, len(root_text) * CHAR_W + 2 * PAD)
    x = root.width + GAP
    places: list[dict[int, Placed]] = []
    for step, order in zip(search.steps, orders):
        width = max(max(len(label(search.shown(step.tokens[r]))) for r in order), 6) * CHAR_W + 2 * PAD
        offset = TOP + (rows - len(order)) * ROW_H / 2
        places.append({rank: Placed(x, offset + i * ROW_H, width) for i, rank in enumerate(order)})
        x += width + GAP
    total_w = x - GAP
    best, alive = search.best_path(), search.alive()
    desc = escape(tree_description(search))
    parts = [f'<svg class="beam-tree" width="{total_w:.0f}" height="{height}" '
             f'viewBox="0 0 {total_w:.0f} {height}" role="img" aria-label="{desc}">',
             f'<title>{desc}</title>']
    edges: list[tuple[bool, str]] = []   # (on the best path, the edge)
    nodes = [node_svg(root, root_text, "0.00", "best", 'data-step="0"')]
    for i, (step, place) in enumerate(zip(search.steps, places)):
        parent_places = {0: root} if i == 0 else places[i - 1]
        column = place[0]
        parts.append(f'<text class="step-no" x="{column.x + column.width / 2:.1f}" y="14" '
                     f'text-anchor="middle">{i + 1}</text>')
        for rank, at in place.items():
            state = "best" if rank == best[i] else "kept" if rank < step.kept else "cut"
            ended = "" if state != "kept" or rank in alive[i] or i == len(search.steps) - 1 else " ended"
            edges.append((state == "best", edge_svg(parent_places[step.parents[rank]], at, state)))
            data = (f'data-step="{i + 1}" data-rank="{rank}" data-parent="{step.parents[rank]}" '
                    f'data-token="{step.tokens[rank]}" data-logp="{step.scores[rank]!r}" data-state="{state}"')
            nodes.append(node_svg(at, label(search.shown(step.tokens[rank])), signed(step.scores[rank]),
                                  state + ended, data))
    edges.sort(key=lambda edge: edge[0])   # the best path last, so it is drawn over the others
    return "".join(parts + [edge for _, edge in edges] + nodes) + "</svg>"


def scrolling(svg: str) -> str:
    """The tree in a box of its own that scrolls sideways on a narrow screen (and takes the
    keyboard's focus, so that arrow keys scroll it), rather than shrinking its text."""
    return (f'<div class="beam-scroll" role="region" tabindex="0" '
            f'aria-label="The search tree (it scrolls sideways when wider than the screen)">{svg}</div>')


def tree_description(search: Search) -> str:
    best = " → ".join(search.shown(t) for t in search.best)
    cut = sum(len(step.tokens) - step.kept for step in search.steps)
    return (f"Tree of the search: at each of {len(search.steps)} steps, the {search.width} kept sequences "
            f"and {count(cut)} cut extensions in all, each token with the log-probability of its sequence. "
            f"Highlighted path: {best}, ending at {signed(search.best_score)}.")


def edge_svg(parent: Placed, child: Placed, state: str) -> str:
    x1, y1 = parent.x + parent.width, parent.y + NODE_H / 2
    x2, y2 = child.x, child.y + NODE_H / 2
    mid = (x1 + x2) / 2
    return (f'<path class="edge {state}" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} '
            f'{mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>')


def node_svg(at: Placed, token: str, logp: str, state: str, data: str) -> str:
    cx = at.x + at.width / 2
    return (f'<g class="node {state}" {data}><rect x="{at.x:.1f}" y="{at.y:.1f}" width="{at.width:.1f}" '
            f'height="{NODE_H}" rx="4"/><text class="tok" x="{cx:.1f}" y="{at.y + 13:.1f}" '
            f'text-anchor="middle">{escape(token)}</text><text class="lp" x="{cx:.1f}" '
            f'y="{at.y + 26:.1f}" text-anchor="middle">{logp}</text></g>')


def legend() -> str:
    return ('<p class="figure-note beam-legend"><span class="key best">highlighted</span>: the best '
            'sequence; <span class="key kept">solid</span>: kept (its word greyed once every extension '
            'of it is cut); <span class="key cut">dashed</span>: the best of the cut. Under each token: the log-probability of the sequence up to it. '
            f'{END} ends a sentence. Scroll the tree sideways if it is wider than the screen.</p>')


def beam_tree_facts(model: ngram.Model) -> dict:
    """What the article says about the figure in its first state (the widget's defaults)."""
    from widgetkit import REGISTRY

    d = REGISTRY["beam_tree"].defaults()
    search = Search.make(model, PROMPT_TEXT[d["prompt"]], d["beam_width"], d["steps"])
    probs, found = search.token_probabilities(), search.repeat()
    return {
        "beam_tree_prompt": PROMPT_TEXT[d["prompt"]],
        "beam_tree_width": str(d["beam_width"]),
        "beam_tree_steps": str(d["steps"]),
        "beam_tree_best": search.continuation(search.best),
        "beam_tree_best_logp": signed(search.best_score),
        "beam_tree_min_p": percent(min(probs)),
        "beam_tree_mean_p": percent(search.mean_probability()),
        "beam_tree_runner_up_mean_p": percent(search.mean_probability(1)),
        "beam_tree_ratio": f"{math.exp(search.steps[-1].scores[0] - search.steps[-1].scores[1]):.1f}",
        "beam_tree_repeat": search.phrase(search.text_of(found)) if found else "",
    }
