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
