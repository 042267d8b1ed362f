"""Scores you can move: the first figure's bars are handles (the "edit" control, a Numbers list).

In Chromium, a mouse drag and arrow keys change a token's score; after each the test reads the
list the form holds, draws the same state in CPython and compares the summary, every probability
bar and every handle's value. Also: the handles are sliders only while the figure is live (none
with scripts off), axe finds nothing wrong after a change, and a phone does not scroll sideways.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

import widgetkit
from conftest import wait_ready, watch_context, watch_page
from widgets.examples import EXAMPLES

pytestmark = pytest.mark.browser
ARTICLE = "sampling.html"
FIELDS = "f => Object.fromEntries(new FormData(f))"
BAR = re.compile(r'<rect class="fill" data-token="([^"]*)" data-p="([^"]+)"')
HANDLE = re.compile(r'data-edit="scores" data-index="(\d+)" data-value="([^"]+)" data-label="[^"]*" '
                    r'data-valuetext="([^"]+)"')
PEAKED = list(EXAMPLES["peaked"].scores)


def figure_of(page):
    return page.locator('[data-widget="distribution"]').first


def scores_field(figure):
    return figure.locator('input[name="scores"]')


def form_state(figure) -> dict:
    return figure.locator("form").evaluate(FIELDS)


def handle(figure, index: int):
    return figure.locator(f'.view [data-edit="scores"][data-index="{index}"]')


def assert_shows_cpython_view(figure) -> widgetkit.View:
    """The figure, once no request is pending, is CPython's view of the state its form holds."""
    expect(figure).not_to_have_attribute("aria-busy", "true")
    view = widgetkit.render("distribution", form_state(figure))
    expect(figure.locator(".summary")).to_have_text(view.summary)
    bars = figure.locator("rect.fill").evaluate_all("els => els.map(e => [e.dataset.token, e.dataset.p])")
    expected = BAR.findall(view.html)
    assert [t for t, _ in bars] == [t for t, _ in expected]
    # Pyodide's numpy may differ from CPython's in the last bit of exp()
    np.testing.assert_allclose([float(p) for _, p in bars], [float(p) for _, p in expected], rtol=1e-12, atol=1e-15)
    handles = figure.locator(".view [data-edit]").evaluate_all(
        "els => els.map(e => [e.dataset.index, e.dataset.value, e.dataset.valuetext, e.getAttribute('aria-valuenow')])")
    assert [tuple(h[:3]) for h in handles] == HANDLE.findall(view.html)
    assert [h[3] for h in handles] == [h[1] for h in handles]      # the sliders say what is drawn
    expect(figure.locator(".message")).to_be_hidden()
    return view


def scores(figure) -> list[float]:
    return [float(x) for x in scores_field(figure).input_value().split(",")]


def drag(page, element, to_fraction: float) -> None:
    """Press the mouse on the element's track, move across it in steps, and let go at to_fraction."""
    element.scroll_into_view_if_needed()
    box = element.locator("[data-edit-track]").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + box["width"] * (0.5 + (to_fraction - 0.5) * step / 5), y)
    page.mouse.up()


def test_a_mouse_drag_and_arrow_keys_move_a_score_and_the_softmax_follows(watched, site_url):
    watched.goto(site_url + ARTICLE)
    figure = figure_of(watched)
    expect(figure.locator(".control-edit")).to_be_hidden()         # no control before it is live
    expect(handle(figure, 1)).not_to_have_attribute("role", "slider")
    wait_ready(figure)
    built = assert_shows_cpython_view(figure)
    france = figure.get_by_role("slider", name="Score of \u201cFrance\u201d")
    expect(france).to_have_attribute("aria-valuenow", "6.4")
    expect(france).to_have_attribute("tabindex", "0")

    # The mouse drags France's score to 97.5% of the scale from -10 to 10: about 9.5, past Paris.
    drag(watched, france, 0.975)
    moved = scores(figure)
    assert moved[1] == pytest.approx(9.5, abs=0.15)
    assert moved[:1] + moved[2:] == PEAKED[:1] + PEAKED[2:]          # only France's entry changed
    view = assert_shows_cpython_view(figure)
    assert view.summary.startswith("After \u201cThe Eiffel Tower is in \u2026\u201d, \u201cFrance\u201d has score")
    expect(france).to_be_focused()                                  # the keys go on from where the mouse left it

    # Keys on a focused handle: one step, Shift for ten, Home to the end of the scale.
    paris = figure.get_by_role("slider", name="Score of \u201cParis\u201d")
    paris.focus()
    watched.keyboard.press("ArrowLeft")
    expect(scores_field(figure)).to_have_value(",".join(f"{x:g}" for x in [8.9, moved[1], *PEAKED[2:]]))
    watched.keyboard.press("Shift+ArrowLeft")
    expect(paris).to_have_attribute("aria-valuenow", "7.9")
    assert_shows_cpython_view(figure)
    watched.keyboard.press("Home")
    expect(paris).to_have_attribute("aria-valuenow", "-10")
    assert_shows_cpython_view(figure)
    expect(paris).to_be_focused()                                   # redrawing keeps the focus

    results = Axe().run(watched, context='[data-widget="distribution"]')
    assert results.violations_count == 0, results.generate_report()

    # Reset puts the built scores back; so does another prompt, whose own scores it draws.
    figure.get_by_role("button", name="Reset the scores").click()
    expect(scores_field(figure)).to_have_value("")
    assert assert_shows_cpython_view(figure).html == built.html
    drag(watched, handle(figure, 0), 0.2)
    expect(scores_field(figure)).not_to_have_value("")
    figure.get_by_label("My favourite fruit", exact=False).check()
    expect(scores_field(figure)).to_have_value("")
    flat = assert_shows_cpython_view(figure)
    assert flat.html == widgetkit.render("distribution", {"example": "flat"}).html


def test_without_scripts_the_bars_are_plain_and_no_control_is_left(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    figure = figure_of(page)
    expect(figure.locator(".view [data-edit]")).to_have_count(len(PEAKED))
    assert figure.locator(".view [data-edit]").evaluate_all(
        "els => els.filter(e => e.hasAttribute('role') || e.hasAttribute('tabindex')).length") == 0
    expect(figure.locator(".control-edit")).to_be_hidden()
    expect(figure.locator(".score-text").first).to_have_text("9.00")
    watch.assert_clean()
    context.close()


def test_on_a_phone_the_handles_alone_take_touch_and_nothing_scrolls_sideways(browser, site_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  color_scheme="dark")
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    figure = figure_of(page)
    wait_ready(figure)
    no_overflow = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    assert figure.locator(".view").evaluate("v => v.scrollWidth <= v.clientWidth")
    paris = handle(figure, 0)
    assert paris.evaluate("e => getComputedStyle(e).touchAction") == "none"
    assert figure.locator("table.dist").evaluate("e => getComputedStyle(e).touchAction") == "auto"
    # A finger on Paris's bar, dragged off its left end (real touch events, through DevTools).
    paris.scroll_into_view_if_needed()
    box = paris.locator("[data-edit-track]").bounding_box()
    y = box["y"] + box["height"] / 2
    touch = context.new_cdp_session(page)
    for kind, x in [("touchStart", box["x"] + box["width"] * 0.9), ("touchMove", box["x"] + box["width"] * 0.4),
                    ("touchMove", box["x"] + 2), ("touchMove", max(0, box["x"] - 20))]:
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(scores_field(figure)).to_have_value(",".join(f"{x:g}" for x in [-10, *PEAKED[1:]]))
    assert_shows_cpython_view(figure)
    assert page.evaluate(no_overflow)
    assert figure.locator(".view").evaluate("v => v.scrollWidth <= v.clientWidth")
    watch.assert_clean()
    context.close()


def test_a_list_python_refuses_shows_its_message_and_keeps_the_last_good_view(watched, site_url):
    """The handles only make good lists; one made otherwise (here by a script) gets Python's
    message, naming the entry, and the figure keeps its view until a good list comes."""
    watched.goto(site_url + ARTICLE)
    figure = figure_of(watched)
    wait_ready(figure)
    good = assert_shows_cpython_view(figure)
    scores_field(figure).evaluate("f => { f.value = '9,6.4,5.1,4.2,3.2,2.9,1.9,1.7,1.3,1,0.6,-12'; }")
    handle(figure, 0).focus()
    watched.keyboard.press("ArrowRight")
    message = "Scores: entry 12 takes a number from -10 to 10; got '-12'."
    # CPython refuses the same list with the same sentence
    with pytest.raises(widgetkit.InputError, match=re.escape(message)):
        widgetkit.render("distribution", form_state(figure))
    expect(figure.locator(".message")).to_have_text(message)
    expect(figure.locator(".summary")).to_have_text(good.summary)
    figure.get_by_role("button", name="Reset the scores").click()
    expect(figure.locator(".message")).to_be_hidden()
    assert assert_shows_cpython_view(figure).html == good.html
