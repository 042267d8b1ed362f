"""The temperature widget, driven in Chromium: what it shows is what `sampling` computes."""
from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import wait_ready
from widgets.examples import EXAMPLES
from widgets.temperature import temperature_probs

pytestmark = pytest.mark.browser


def shown_bars(widget) -> dict[str, float]:
    pairs = widget.locator("rect.fill").evaluate_all(
        "els => els.map(e => [e.dataset.token, Number(e.dataset.p)])")
    return dict(pairs)


def expected_bars(example: str, temperature: float) -> dict[str, float]:
    ex = EXAMPLES[example]
    return dict(zip(ex.tokens, temperature_probs(ex.logits, temperature).tolist()))


def assert_bars_match(widget, example: str, temperature: float):
    shown, expected = shown_bars(widget), expected_bars(example, temperature)
    assert shown.keys() == expected.keys()
    np.testing.assert_allclose([shown[t] for t in expected], list(expected.values()), rtol=1e-12, atol=1e-15)


def test_temperature_prerendered_figure_matches_cpython(watched, site_url):
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    assert_bars_match(widget, "peaked", 1.0)


def test_temperature_slider_redraws_with_python_in_the_browser(watched, site_url):
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    widget.get_by_label("Temperature").fill("0.5")
    expect(widget.locator(".summary")).to_contain_text("At temperature 0.5,")
    assert_bars_match(widget, "peaked", 0.5)


def test_temperature_keyboard_and_radio(watched, site_url):
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    widget.get_by_label("Temperature").focus()
    watched.keyboard.press("ArrowRight")          # one step of 0.05 up from 1
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.05,")
    widget.get_by_label("My favourite fruit", exact=False).check()
    expect(widget.locator("rect.fill").first).to_have_attribute("data-token", " mango")
    assert_bars_match(widget, "flat", 1.05)


def test_temperature_zero_is_greedy(watched, site_url):
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    widget.get_by_label("Temperature").fill("0")
    expect(widget.locator(".summary")).to_contain_text("At temperature 0,")
    bars = shown_bars(widget)
    assert bars[" Paris"] == 1.0 and sum(bars.values()) == 1.0



# Records every render the page asks its Python worker for (the first render of each figure, which
# the page message carries, marked "first"; with the number of renders unanswered as it is sent),
# and which have been answered.
RECORD_RENDERS = """
window.__renders = [];
window.__answered = new Set();
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      if (event.data && ["view", "invalid", "error"].includes(event.data.type)) window.__answered.add(event.data.id);
    });
  }
  postMessage(message, ...rest) {
    if (message && message.type === "render") {
      const waiting = window.__renders.filter(([id]) => !window.__answered.has(id)).length;
      window.__renders.push([message.id, message.widget, message.state, undefined, waiting]);
    }
    if (message && message.type === "page") {
      for (const r of message.renders) window.__renders.push([r.id, r.widget, r.state, "first"]);
    }
    return super.postMessage(message, ...rest);
  }
};
"""
ALL_ANSWERED = "() => window.__renders.every(([id]) => window.__answered.has(id))"


def temperatures_asked(page, first: bool = False) -> list[str]:
    """The temperatures of the renders asked for the temperature widgets once live (or, with
    first, of their first renders)."""
    return page.evaluate("""first => window.__renders
      .filter(([, w, , why]) => w === 'temperature' && (why === 'first') === first)
      .map(([, , s]) => s.temperature)""", first)


def test_slider_steps_are_drawn_ahead_and_shown_from_the_page(watched, site_url):
    """After a view, the views one step either side are asked for before the reader moves; a
    step onto one is shown without asking Python again, and is what CPython computes."""
    watched.add_init_script(RECORD_RENDERS)
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    widget.get_by_label("Temperature").focus()
    watched.keyboard.press("ArrowRight")                       # 1.05: asked for
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.05,")
    watched.wait_for_function(
        "() => window.__renders.some(([, w, s]) => w === 'temperature' && s.temperature === '1.1')")
    watched.wait_for_function(ALL_ANSWERED)
    assert temperatures_asked(watched).count("1.1") == 1      # drawn ahead, before the reader moved
    watched.keyboard.press("ArrowRight")                       # 1.1: shown from the page
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.1,")
    assert_bars_match(widget, "peaked", 1.1)
    assert temperatures_asked(watched).count("1.1") == 1      # not asked for again
    watched.keyboard.press("ArrowLeft")                        # back to 1.05: kept
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.05,")
    assert_bars_match(widget, "peaked", 1.05)
    assert temperatures_asked(watched).count("1.05") == 1


def test_a_fast_drag_ends_on_the_view_of_its_last_value(watched, site_url):
    watched.add_init_script(RECORD_RENDERS)
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    widget.get_by_label("Temperature").evaluate("""input => {
      for (const v of ["1.5", "2", "0.3", "2.5", "0.7"]) {
        input.value = v;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }""")
    expect(widget.locator(".summary")).to_contain_text("At temperature 0.7,")
    watched.wait_for_function(ALL_ANSWERED)                    # later answers do not replace it
    expect(widget.locator(".summary")).to_contain_text("At temperature 0.7,")
    assert_bars_match(widget, "peaked", 0.7)
    assert "2" not in temperatures_asked(watched)              # coalesced: never drawn


def test_a_step_back_to_the_first_state_is_shown_from_the_view_drawn_going_live(watched, site_url):
    """The view Python draws when the figure goes live is kept: the first step back to where the
    reader started is shown with no request."""
    watched.add_init_script(RECORD_RENDERS)
    watched.goto(site_url + "sampling.html")
    widget = watched.locator('[data-widget="temperature"]').first
    wait_ready(widget)
    slider = widget.get_by_label("Temperature")
    start = slider.input_value()
    assert start in temperatures_asked(watched, first=True)     # drawn once, going live
    slider.focus()
    watched.keyboard.press("ArrowRight")                       # 1.05: asked for
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.05,")
    watched.wait_for_function(ALL_ANSWERED)                    # and the steps either side of it
    watched.keyboard.press("ArrowLeft")                        # back to the start: kept
    expect(widget.locator(".summary")).to_contain_text(f"At temperature {float(start):g},")
    assert_bars_match(widget, "peaked", float(start))
    watched.wait_for_function(ALL_ANSWERED)                    # the steps drawn ahead from there
    assert start not in temperatures_asked(watched)            # never asked for once live
    assert temperatures_asked(watched).count("1.05") == 1


# Every slider of the page, with the values one step either way of the one its figure was first
# drawn for, as the browser steps it (none past the end of its range); and whether each was asked.
FIRST_STEPS = """() => {
  const firsts = window.__renders.filter(([, , , why]) => why === 'first');
  const roots = [...document.querySelectorAll('[data-widget]')];
  return roots.flatMap((root, figure) => [...root.querySelectorAll('input[type=range]')].flatMap((slider) => {
    const [, widget, state] = firsts[figure];
    return [1, -1].flatMap((n) => {
      const probe = slider.cloneNode();
      probe.value = state[slider.name];
      if (n > 0) probe.stepUp(); else probe.stepDown();
      if (probe.value === state[slider.name]) return [];
      const wanted = JSON.stringify({ ...state, [slider.name]: probe.value });
      const asked = window.__renders.some(
        ([, w, s, why]) => why !== 'first' && w === widget && JSON.stringify(s) === wanted);
      return [[widget, slider.name, probe.value, asked]];
    });
  }));
}"""


def test_once_every_figure_is_live_each_sliders_first_steps_are_drawn_ahead(watched, site_url):
    """With Python idle, one step either way of every slider of the page is drawn before the
    reader moves any, one figure at a time; the first move then shows with no request."""
    watched.add_init_script(RECORD_RENDERS)
    watched.goto(site_url + "sampling.html")
    for widget in watched.locator("[data-widget]").all():
        wait_ready(widget)
    watched.wait_for_function(f"() => ({FIRST_STEPS})().every(([, , , asked]) => asked)")
    steps = watched.evaluate(FIRST_STEPS)
    assert len(steps) == 13                                     # 7 sliders, one at the end of its range
    watched.wait_for_function(ALL_ANSWERED)
    # One figure at a time: never more than one figure's steps (two sliders here) in flight.
    assert max(watched.evaluate("() => window.__renders.filter(r => r[3] !== 'first').map(r => r[4])")) <= 3
    widget = watched.locator('[data-widget="temperature"]').first
    slider = widget.get_by_label("Temperature")
    before = len(watched.evaluate("() => window.__renders"))
    slider.focus()
    watched.keyboard.press("ArrowRight")
    expect(widget.locator(".summary")).to_contain_text("At temperature 1.05,")
    assert_bars_match(widget, "peaked", 1.05)
    watched.wait_for_function(ALL_ANSWERED)
    asked = watched.evaluate("n => window.__renders.slice(n).map(([, w, s]) => [w, s.temperature])", before)
    assert ["temperature", "1.05"] not in asked                # shown from the page, not asked again
