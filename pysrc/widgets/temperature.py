"""Temperature: divide the scores, then softmax; watch the distribution sharpen or flatten."""
from __future__ import annotations

import numpy as np

import sampling

from .base import Choice, Number, View, widget
from .charts import Row, percent, prob_table, shown_token, stats
from .examples import EXAMPLE_CHOICES, EXAMPLES


def temperature_probs(logits: np.ndarray, temperature: float) -> np.ndarray:
    """The distribution sampled from at this temperature (0 means greedy: all on the argmax)."""
    return sampling.sampling_stages(logits, temperature=temperature).probs


@widget("temperature", "Temperature", params=[
    Choice("example", "Prompt", default="peaked", options=EXAMPLE_CHOICES, control="radio"),
    Number("temperature", "Temperature", default=1.0, min=0.0, max=3.0, step=0.05, control="range",
           help="0 is greedy; below 1 sharpens, above 1 flattens."),
])
def temperature_view(example: str, temperature: float) -> View:
    ex = EXAMPLES[example]
    probs = temperature_probs(ex.logits, temperature)
    scaled = "—" if temperature == 0 else None
    rows = [Row(token, float(p), (f"{score:.2f}", scaled or f"{score / temperature:.2f}"))
            for token, score, p in zip(ex.tokens, ex.scores, probs)]
    effective = sampling.effective_candidates(probs)
    top = int(np.argmax(probs))
    table = prob_table(f"\u201c{ex.prompt} \u2026\u201d at temperature {temperature:g}",
                       ("Score", "Score ÷ T"), rows)
    figures = stats([("Temperature", f"{temperature:g}"),
                     ("Entropy", f"{sampling.entropy(probs):.2f} nats"),
                     ("Effective candidates", f"{effective:.2f}")])
    summary = (f"At temperature {temperature:g}, {shown_token(ex.tokens[top])} gets "
               f"{percent(float(probs[top]))}; effective number of candidates {effective:.2f}.")
    return View(figures + table, summary)
