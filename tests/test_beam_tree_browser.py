"""The beam search tree in Chromium: it goes live, and each control redraws it to CPython's view.

After each action the test reads the form's state from the page, draws the same state in
CPython and compares the summary, every node of the tree (step, rank, parent, token id,
exact log-probability, state) and the bars of the table under it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

import widgetkit
from conftest import wait_ready, watch_context, watch_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("site_model")]
ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "sampling.html"
RENDER_TIMEOUT_MS = 30_000   # the first draw also reads the model into Python
NODE = re.compile(r'<g class="node [a-z ]+" data-step="(\d+)" data-rank="(\d+)" data-parent="(\d+)" '
                  r'data-token="(\d+)" data-logp="([^"]+)" data-state="([a-z]+)">')
BAR = re.compile(r'<rect class="fill" data-token="([^"]*)" data-p="([^"]+)"')
FIELDS = "f => Object.fromEntries(new FormData(f))"


def shown_nodes(figure) -> list[tuple]:
    return [tuple(n) for n in figure.locator("g.node[data-rank]").evaluate_all(
        "els => els.map(e => [e.dataset.step, e.dataset.rank, e.dataset.parent, e.dataset.token, "
        "Number(e.dataset.logp), e.dataset.state])")]


def expected_nodes(view) -> list[tuple]:
    return [(s, r, p, t, float(logp), state) for s, r, p, t, logp, state in NODE.findall(view.html)]


def shown_bars(figure) -> list[tuple]:
    return [tuple(b) for b in figure.locator("rect.fill").evaluate_all(
        "els => els.map(e => [e.dataset.token, Number(e.dataset.p)])")]


def assert_shows_cpython_view(figure) -> widgetkit.View:
    """The figure, live and with no request pending, is CPython's view of the state its form holds
    (a page whose Python never started is never busy: being live is checked first)."""
    expect(figure).to_have_attribute("data-stage", "ready")
    expect(figure).not_to_have_attribute("aria-busy", "true", timeout=RENDER_TIMEOUT_MS)
    view = widgetkit.render("beam_tree", figure.locator("form").evaluate(FIELDS))
    expect(figure.locator(".summary")).to_have_text(view.summary)
    assert shown_nodes(figure) == expected_nodes(view)   # exact: the page prints Python's repr
    assert shown_bars(figure) == [(t, float(p)) for t, p in BAR.findall(view.html)]
    return view


def test_beam_tree_goes_live_and_each_control_redraws_it_to_the_cpython_view(watched, site_url):
    watched.goto(site_url + ARTICLE)
    figure = watched.locator('[data-widget="beam_tree"]')
    first = assert_shows_cpython_view(figure)   # the build's figure, before Python starts
    wait_ready(figure)

    figure.get_by_role("slider", name="Beam width").focus()
    watched.keyboard.press("ArrowLeft")   # width 3 -> 2, as a keyboard user would
    expect(figure.locator(".summary")).to_contain_text("Beam search of width 2 ")
    assert assert_shows_cpython_view(figure).html != first.html

    figure.get_by_label("Here the exception is raised only").check()
    expect(figure.locator(".summary")).to_contain_text("Here the exception is raised only")
    assert_shows_cpython_view(figure)

    figure.get_by_role("slider", name="Steps").fill("4")
    expect(figure.locator(".summary")).to_contain_text("over 4 steps")
    view = assert_shows_cpython_view(figure)
    assert {n[0] for n in expected_nodes(view)} == {"1", "2", "3", "4"}
    expect(figure.locator(".message")).to_be_hidden()


def test_beam_tree_on_a_phone_scrolls_in_its_own_box_which_the_keyboard_can_reach(browser, site_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  color_scheme="dark")
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    figure = page.locator('[data-widget="beam_tree"]')
    wait_ready(figure)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    box = figure.locator(".beam-scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")   # the tree is wider than a phone
    assert figure.locator(".view").evaluate("v => v.scrollWidth <= v.clientWidth")   # only the box scrolls
    box.focus()
    expect(box).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(box).not_to_have_js_property("scrollLeft", 0)
    watch.assert_clean()
    context.close()
