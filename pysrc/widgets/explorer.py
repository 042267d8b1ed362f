"""All the knobs at once: temperature, then top-k, top-p, min-p and typical, every stage on show.

The order is transformers' (its _get_logits_processor appends the typical filter
after min-p; sampling_stages stops at min-p): each filter sees only what the one
before it left, renormalised. Any filter can be off (an empty box); no control
ever changes another. The pipeline runs once: the public filters one by one,
which keep the same survivors as sampling_stages (a test checks it), and the
final bars are the softmax of what the last one left.
"""
from __future__ import annotations

from typing import NamedTuple
from html import escape

import numpy as np

import sampling

from widgetkit import Choice, Number, View, widget
from .charts import Row, count, note, percent, prob_table, remembered, shown_token
from .examples import ALL_CHOICES, EXAMPLES, GPT2_VOCABULARY, Example
from .listing import example_note, listed_count, rest_row
from .words import quoted, setting


class Stage(NamedTuple):
    """One step of the pipeline: its name, its setting, the logits after it and how many
    tokens those leave (counted once per array: an off step passes its input on)."""

    name: str
    value: float | int | None
    logits: np.ndarray
    left: int


def stage(name: str, value, logits: np.ndarray, left: int | None = None) -> Stage:
    """A Stage, counting the tokens its logits leave unless they are known."""
    return Stage(name, value, logits, int(np.count_nonzero(logits > -np.inf)) if left is None else left)


def typical(logits: np.ndarray, mass: float) -> np.ndarray:
    """Locally typical filtering; a mass of 1 keeps every token, as transformers' generate()
    skips the filter at typical_p = 1 (sampling.apply_typical takes only 0 < mass < 1)."""
    return logits if mass >= 1 else sampling.apply_typical(logits, mass)


def run_stages(logits: np.ndarray, temperature: float, top_k, top_p, min_p,
               typical_p=None) -> tuple[list[Stage], np.ndarray]:
    """Temperature, then each filter on what the previous step left (an off filter passes all);
    and the distribution at temperature T, before any filter."""
    at_t = sampling.sampling_stages(logits, temperature=temperature)   # handles 0 (greedy) too
    stages = [stage("temperature", temperature, at_t.scaled)]
    steps = (("top-k", top_k, sampling.apply_top_k), ("top-p", top_p, sampling.apply_top_p),
             ("min-p", min_p, sampling.apply_min_p), ("typical", typical_p, typical))
    for name, value, apply in steps:
        previous = stages[-1]
        if value is None:
            stages.append(stage(name, value, previous.logits, previous.left))
        else:
            stages.append(stage(name, value, apply(previous.logits, value)))
    return stages, at_t.probs


class Final(NamedTuple):
    """What the pipeline ends with: the scores after temperature, the distribution sampled
    from (softmax of what the last filter left) and which tokens are in it."""

    scaled: np.ndarray
    probs: np.ndarray
    kept: np.ndarray


def final_of(stages: list[Stage], at_t: np.ndarray) -> Final:
    filtered = stages[-1].logits
    # No filter removed anything: the final distribution is the one at T, already computed.
    probs = at_t if stages[-1].left == stages[0].left else sampling.softmax(filtered)
    return Final(stages[0].logits, probs, filtered > -np.inf)


STEP_NAMES = ("kept", "greedy", "top-k", "top-p", "min-p", "typical")   # what removed a token, by code


def removed_by(stages: list[Stage]) -> np.ndarray:
    """For each token, a code into STEP_NAMES: the step that removed it (0 if it survived).

    A step only ever removes, so a token's code follows from how many steps in a row it
    survived: all of them, 0; the first k, k + 1 (temperature removes only when greedy).
    """
    survived = np.zeros(stages[0].logits.size, dtype=np.int8)
    for stage in stages:
        if stage.left < stage.logits.size:   # a step that removed nothing changes no count
            survived += stage.logits > -np.inf
        else:
            survived += 1
    return np.where(survived == len(stages), 0, survived + 1).astype(np.int8)


def rest_removal(who: np.ndarray, start: int) -> str:
    """'kept 40<br>top-k 50,207': what happened to the unlisted tokens, one line per step."""
    counts = np.bincount(who[start:], minlength=len(STEP_NAMES))
    return "<br>".join(f"{STEP_NAMES[code]} {count(int(n))}" for code, n in enumerate(counts) if n)


def explorer_rows(ex: Example, final: Final, at_t: np.ndarray, who: np.ndarray) -> list[Row]:
    rows = []
    for i in range(listed_count(ex)):
        scaled = final.scaled[i]
        cells = (f"{ex.scores[i]:.2f}", f"{scaled:.2f}" if scaled > -np.inf else "\u2014",
                 percent(float(at_t[i])), STEP_NAMES[who[i]])
        rows.append(Row(ex.tokens[i], float(final.probs[i]), cells, kept=bool(final.kept[i])))
    start = listed_count(ex)
    return rows + rest_row(ex, final.probs, ("", "", percent(float(at_t[start:].sum())), rest_removal(who, start)),
                           kept=bool(final.kept[start:].any()))


def step_item(stage: Stage, before: int) -> str:
    if stage.value is None:
        return f"<li><strong>{stage.name.capitalize()}</strong> off: {all_pass(before)}.</li>"
    if stage.name == "temperature":
        action = ("keeps only the most likely token (greedy)" if stage.value == 0
                  else f"divides every score by {stage.value:g}; nobody is removed")
        return f"<li><strong>Temperature {stage.value:g}</strong> {action}.</li>"
    return (f"<li><strong>{stage.name.capitalize()} {stage.value:g}</strong> keeps {count(stage.left)} "
            f"of {count(before)}.</li>")


def all_pass(n: int) -> str:
    return "the one token left passes" if n == 1 else f"all {count(n)} pass"


def pipeline_list(ex: Example, stages: list[Stage], final: Final) -> str:
    items = [f"<li><strong>Scores</strong> for {count(ex.size)} tokens.</li>"]
    before = ex.size
    for stage in stages:
        items.append(step_item(stage, before))
        before = stage.left
    top = int(np.argmax(final.probs))
    token = f"<code>{escape(shown_token(ex.tokens[top]))}</code>"
    share = (f"the {count(before)} tokens left share 100%; {token} gets {percent(float(final.probs[top]))}"
             if before > 1 else f"{token}, the only token left, gets 100%")
    items.append(f"<li><strong>Renormalise:</strong> {share}.</li>")
    return '<ol class="pipeline">' + "".join(items) + "</ol>"


@widget("explorer", "All together", params=[
    Choice("example", "Prompt", default="big", options=ALL_CHOICES, control="radio"),
    Number("temperature", "Temperature", default=1.0, min=0.0, max=3.0, step=0.05, control="range",
           help="Applied first. 0 is greedy."),
    Number("top_k", "Top-k", default=None, min=1, max=GPT2_VOCABULARY, integer=True, optional=True,
           control="number", help="Empty for off. A k beyond the vocabulary keeps every token."),
    Number("top_p", "Top-p", default=None, min=0.0, max=1.0, step=0.01, optional=True,
           control="number", help="Empty for off; from 0 to 1."),
    Number("min_p", "Min-p", default=None, min=0.0, max=1.0, step=0.01, optional=True,
           control="number", help="Empty for off; from 0 to 1."),
    Number("typical_p", "Typical", default=None, min=0.01, max=1.0, step=0.01, optional=True,
           control="number", help="Applied last. Empty for off; from 0.01 to 1 (1 keeps every token)."),
])
@remembered
def explorer_view(example: str, temperature: float, top_k, top_p, min_p, typical_p) -> View:
    ex = EXAMPLES[example]
    stages, at_t = run_stages(ex.logits, temperature, top_k, top_p, min_p, typical_p)
    final = final_of(stages, at_t)
    table = prob_table(f"{ex.label}: every stage, in the order applied",
                       ("Score", "\u00f7 T", "p at T", "Removed by"), explorer_rows(ex, final, at_t, removed_by(stages)),
                       bar_header="Sampled from", phone_hides=(0, 2))
    left = int(final.kept.sum())
    top = int(np.argmax(final.probs))
    summary = (f"Temperature {temperature:g}, top-k {setting(top_k)}, top-p {setting(top_p)}, min-p {setting(min_p)}, "
               f"typical {setting(typical_p)}: "
               f"{count(left)} of {count(ex.size)} tokens left; {quoted(ex.tokens[top])} gets "
               f"{percent(float(final.probs[top]))}.")
    extra = example_note(ex)
    return View(pipeline_list(ex, stages, final) + table + (note(extra) if extra else ""), summary)
