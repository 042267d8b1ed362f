"""Temperature: divide the scores, then softmax; watch the distribution sharpen or flatten."""
from __future__ import annotations

import numpy as np

import sampling

from widgetkit import Choice, Number, View, widget
from .charts import Row, note, percent, prob_table, stats
from .examples import ALL_CHOICES, EXAMPLES, Example
from .listing import example_note, listed_count, rest_row
from .words import quoted


def temperature_probs(logits: np.ndarray, temperature: float) -> np.ndarray:
    """The distribution sampled from at this temperature (0 means greedy: all on the argmax)."""
    return sampling.sampling_stages(logits, temperature=temperature).probs


def scaled_text(score: float, temperature: float) -> str:
    return "\u2014" if temperature == 0 else f"{score / temperature:.2f}"


def temperature_rows(ex: Example, probs: np.ndarray, temperature: float) -> list[Row]:
    rows = [Row(ex.tokens[i], float(probs[i]), (f"{ex.scores[i]:.2f}", scaled_text(ex.scores[i], temperature)))
            for i in range(listed_count(ex))]
    return rows + rest_row(ex, probs, ("", ""))


@widget("temperature", "Temperature", params=[
    Choice("example", "Prompt", default="peaked", options=ALL_CHOICES, control="radio"),
    Number("temperature", "Temperature", default=1.0, min=0.0, max=3.0, step=0.05, control="range",
           help="0 is greedy; below 1 sharpens, above 1 flattens."),
])
def temperature_view(example: str, temperature: float) -> View:
    ex = EXAMPLES[example]
    probs = temperature_probs(ex.logits, temperature)
    effective = sampling.effective_candidates(probs)
    table = prob_table(f"{ex.label} at temperature {temperature:g}", ("Score", "Score \u00f7 T"),
                       temperature_rows(ex, probs, temperature))
    pairs = [("Entropy", f"{sampling.entropy(probs):.2f} nats"),
             ("Effective candidates", f"{effective:.2f}"),
             ("Most likely", f"{quoted(ex.tokens[0])} {percent(float(probs[0]))}")]
    if ex.size > listed_count(ex):
        pairs.append(("Outside the top " + str(listed_count(ex)), percent(float(probs[listed_count(ex):].sum()))))
    summary = (f"At temperature {temperature:g}, {quoted(ex.tokens[0])} gets {percent(float(probs[0]))}; "
               f"effective number of candidates {effective:.2f}.")
    extra = example_note(ex)
    return View(stats(pairs) + table + (note(extra) if extra else ""), summary)
