"""The generation widget driven in Chromium: what the page shows is what the view computes in CPython.

The view is deterministic for a given state, so after each action the test reads the
form's state from the page, renders the same state in CPython, and compares the text,
the token ids and the chart's numbers (data-nucleus, data-p).
"""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

import widgetkit
from conftest import wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("site_model")]
ROOT = Path(__file__).resolve().parent.parent
RENDER_TIMEOUT_MS = 30_000   # the first draw also reads the model into Python
DEFAULTS = widgetkit.REGISTRY["generate"].defaults()
PENALTIES_AND_TEXT = ("prompt", "length", "repetition_penalty", "frequency_penalty", "presence_penalty")


def page_state(widget) -> dict:
    """The form's values as the page sends them (no button pressed)."""
    return widget.locator("form").evaluate("f => Object.fromEntries(new FormData(f))")


def expected_view(state: dict):
    return widgetkit.render("generate", state)


def shown(widget) -> dict:
    text = widget.locator(".gen-text")
    return {
        "text": text.text_content(),
        "ids": text.get_attribute("data-ids"),
        "nucleus": widget.locator("rect.nucleus-bar").evaluate_all("els => els.map(e => Number(e.dataset.nucleus))"),
        "p": widget.locator("rect.chosen-bar").evaluate_all("els => els.map(e => Number(e.dataset.p))"),
    }


def expected_parts(view) -> dict:
    paragraph = re.search(r'<p class="gen-text" data-ids="([\d ]*)".*?</p>', view.html)
    chart = re.search(r'<svg class="steps".*?</svg>', view.html).group(0)
    return {
        "text": unescape(re.sub(r"<[^>]+>", "", paragraph.group(0))),
        "ids": paragraph.group(1),
        "nucleus": [int(x) for x in re.findall(r'data-nucleus="(\d+)"', chart)],
        "p": [float(x) for x in re.findall(r'data-p="([^"]+)"', chart)],
    }


def assert_matches_cpython(widget, view, live: bool = True) -> None:
    """Wait until no request is pending, then compare the page with `view`: summary, text,
    token ids and chart. (Each control sends as it moves; the glue sends the latest state
    after the reply it waits for, and marks the figure aria-busy until the last reply.) The
    figure must be live: a page whose Python never started is never busy, and would pass;
    live=False compares the figure as built, before any script has run."""
    if live:
        expect(widget).to_have_attribute("data-stage", "ready")
        expect(widget).not_to_have_attribute("aria-busy", "true", timeout=RENDER_TIMEOUT_MS)
    expect(widget.locator(".summary")).to_have_text(view.summary)
    page, cpython = shown(widget), expected_parts(view)
    assert page["text"] == cpython["text"] and page["ids"] == cpython["ids"]
    assert page["nucleus"] == cpython["nucleus"]
    np.testing.assert_allclose(page["p"], cpython["p"], rtol=1e-12, atol=0)


def act(widget, action) -> None:
    """Do one thing to the widget and check the page against CPython for the state it sent."""
    before = page_state(widget)
    sent = action(widget, before)
    assert_matches_cpython(widget, expected_view(sent))
    expect(widget.locator(".message")).to_be_hidden()


def choose(method: str, **values):
    def action(widget, state):
        widget.locator(f'input[name="method"][value="{method}"]').check()
        for name, value in values.items():
            widget.locator(f'input[name="{name}"]').fill(str(value))
        return {**state, "method": method, **{k: str(v) for k, v in values.items()}}
    return action


def press(button: str, value: str):
    def action(widget, state):
        widget.locator(f'button[name="{button}"]').click()
        return {**state, button: value}
    return action


@pytest.fixture
def generator(shared):
    """The generation figure, live, on the module's shared page (each test sets what it reads)."""
    return shared.locator('[data-widget="generate"]')


def test_generate_prerendered_figure_matches_cpython(watched, site_url):
    watched.goto(site_url + "sampling.html")
    generator = watched.locator('[data-widget="generate"]')
    assert_matches_cpython(generator, expected_view(page_state(generator)), live=False)
    assert generator.locator("mark.loop").count() > 2      # greedy's loop, marked copy by copy


def test_generate_every_method_in_the_browser_matches_cpython(generator):
    wait_ready(generator)
    for action in (choose("beam", beam_width=4), choose("sample"), press("new_seed", "seed"),
                   choose("temperature", temperature=1.3), choose("top_k", top_k=5),
                   choose("top_p", top_p=0.8), press("new_seed", "seed"), choose("min_p", min_p=0.2),
                   choose("greedy", length=100)):
        act(generator, action)


def test_generate_a_repetition_penalty_breaks_greedy_decodings_loop_in_the_browser(generator):
    wait_ready(generator)
    act(generator, choose("greedy", **{name: DEFAULTS[name] for name in PENALTIES_AND_TEXT}))
    assert generator.locator("mark.loop").count() > 2      # the default: greedy, looping
    act(generator, choose("greedy", repetition_penalty=1.2))
    expect(generator.locator("mark.loop")).to_have_count(0)
    expect(generator.locator(".summary")).to_contain_text("with a repetition penalty of 1.2")
    act(generator, choose("top_k", frequency_penalty=0.5, presence_penalty=-0.4))


def test_generate_word_by_word(generator):
    wait_ready(generator)
    act(generator, choose("top_p"))
    act(generator, press("start_over", "restart"))
    assert len(generator.locator(".gen-text").get_attribute("data-ids").split()) == 3  # "The value of"
    for _ in range(3):
        act(generator, press("next_token", "next"))
    assert page_state(generator)["step"] == "3"
    assert generator.locator("rect.chosen-bar").count() == 3
    expect(generator.locator(".dist caption")).to_contain_text("Step 3:")
    act(generator, press("write_all", "all"))
    assert generator.locator("rect.chosen-bar").count() == 60


def test_generate_reports_unknown_words(generator):
    wait_ready(generator)
    act(generator, choose("top_k", prompt="The zebra returns"))
    expect(generator.locator(".unknown-words")).to_contain_text("\u201czebra\u201d")
    expect(generator.locator(".gen-text .unknown")).to_have_text(" zebra")


def test_generate_bad_input_shows_a_message_and_keeps_the_last_view(generator):
    wait_ready(generator)
    act(generator, choose("top_p", top_p=0.95))   # 0.95 is put back below: the view must not move
    before = shown(generator)
    generator.get_by_label("p", exact=True).fill("7")
    expect(generator.locator(".message")).to_contain_text("p takes a number from 0.01 to 1; got '7'.")
    expect(generator.get_by_label("p", exact=True)).to_have_attribute("aria-invalid", "true")
    assert shown(generator) == before
    generator.get_by_label("p", exact=True).fill("0.95")
    expect(generator.locator(".message")).to_be_hidden()
    # A number field sends "" for text that is not a number, whatever was typed.
    generator.get_by_label("Length in tokens").evaluate(
        "el => { el.value = 'abc'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(generator.locator(".message")).to_contain_text("Length in tokens needs a value")
    assert shown(generator) == before
    generator.get_by_label("Length in tokens").fill("30")
    assert_matches_cpython(generator, expected_view(page_state(generator)))
    expect(generator.locator(".message")).to_be_hidden()
    assert generator.locator("rect.chosen-bar").count() == 30
