"""The article in Chromium: every widget, driven through its controls, shows what `sampling`
computes in CPython; bad input gets a message and changes nothing; the page works on a phone,
with a keyboard, for a screen reader (axe-core), in print and with JavaScript off.

Each test that needs Python in the page waits for it once (Pyodide boots per page) and then
drives several controls, so one page load checks a whole widget.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

import sampling
import widgetkit
from conftest import ROOT, open_article, watch_context, watch_page
from test_widgets import bars as view_bars
from widgets.draw import drawn_ids
from widgets.examples import EXAMPLES

pytestmark = pytest.mark.browser

ARTICLE = "sampling.html"
ARTICLE_ASIDES = (ROOT / "content" / "sampling.md").read_text(encoding="utf-8").count("\n::: aside\n")
ARTICLE_WIDGETS = ["distribution", "draw", "draw", "temperature", "top_k", "top_p", "top_p", "explorer"]
BAD_INPUTS = ["", "-3", "1e9"]


# ---- reading a widget ------------------------------------------------------------------

def widget(page, name: str, nth: int = 0):
    return page.locator(f'[data-widget="{name}"]').nth(nth)


FIELDS = """f => {
  const state = {};
  for (const e of f.elements) {
    if (!e.name || e.type === "submit" || (e.type === "radio" && !e.checked)) continue;
    state[e.name] = e.value;
  }
  return state;
}"""


def form_state(w) -> dict:
    """The values the page sends: every named field but the buttons (sent only when pressed).
    Read from the fields directly, since before Python is ready they are disabled."""
    return w.locator("form").evaluate(FIELDS)


def shown_bars(w, kind: str = "fill") -> list[tuple[str, float]]:
    return [tuple(pair) for pair in w.locator(f"rect.{kind}").evaluate_all(
        "els => els.map(e => [e.dataset.token, Number(e.dataset.p)])")]


def row_classes(w) -> list[str]:
    return w.locator("tbody tr").evaluate_all("rows => rows.map(r => r.className)")


def assert_bars(shown: list[tuple[str, float]], expected: list[tuple[str, float]]):
    assert [t for t, _ in shown] == [t for t, _ in expected]
    np.testing.assert_allclose([p for _, p in shown], [p for _, p in expected], rtol=1e-12, atol=1e-15)


def expected_bars(html: str, kind: str = "fill") -> list[tuple[str, float]]:
    return [(token, p) for token, p, _ in view_bars(html, kind)]


def assert_shows(w, view: widgetkit.View):
    expect(w.locator(".summary")).to_have_text(view.summary)
    assert_bars(shown_bars(w), expected_bars(view.html))
    assert_bars(shown_bars(w, "drawn"), expected_bars(view.html, "drawn"))


def assert_shows_cpython_view(w, name: str) -> widgetkit.View:
    """The figure equals the CPython view of the form's current state."""
    view = widgetkit.render(name, form_state(w))
    assert_shows(w, view)
    return view


def press(w, name: str, button: str, value: str) -> widgetkit.View:
    """Press a button and check the figure against the CPython view of the state it was pressed in."""
    view = widgetkit.render(name, {**form_state(w), button: value})
    w.locator(f'button[name="{button}"]').click()
    assert_shows(w, view)
    assert {k: form_state(w)[k] for k in view.state} == {k: str(v) for k, v in view.state.items()}
    return view


def refusal(name: str, state: dict) -> str:
    """The message CPython gives for this state (it must be refused)."""
    with pytest.raises(widgetkit.InputError) as caught:
        widgetkit.render(name, state)
    return caught.value.message


def assert_bad_inputs_change_nothing(w, box, name: str, bad: list[str], words: str):
    # name: the widget's name, for the CPython message to compare with
    """Each bad value: its own message naming the control, the last good figure kept, the box flagged."""
    before_bars, before_summary = shown_bars(w), w.locator(".summary").text_content()
    for raw in bad:
        box.fill(raw)
        message = refusal(name, form_state(w))
        assert words in message
        expect(w.locator(".message")).to_have_text(message)
        expect(box).to_have_attribute("aria-invalid", "true")
        assert shown_bars(w) == before_bars and w.locator(".summary").text_content() == before_summary


# ---- every figure is there before any script runs ----------------------------------------

def test_every_prerendered_figure_is_the_cpython_view(watched, site_url):
    watched.goto(site_url + ARTICLE)
    found = watched.locator("[data-widget]")
    names = found.evaluate_all("ws => ws.map(w => w.dataset.widget)")
    assert [n for n in names if n in ARTICLE_WIDGETS] == ARTICLE_WIDGETS
    for i, name in enumerate(names):
        if name not in ARTICLE_WIDGETS:
            continue   # a colleague's widget, tested in its own file
        w = found.nth(i)
        view = widgetkit.render(name, form_state(w))
        assert_bars(shown_bars(w), expected_bars(view.html))
        assert w.locator(".summary").text_content() == view.summary


def test_without_javascript_every_figure_is_shown_and_print_hides_the_controls(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    figures = page.locator("[data-widget]")
    assert figures.count() >= len(ARTICLE_WIDGETS)
    for w in figures.all():
        expect(w).to_have_attribute("data-stage", "static")
        expect(w.locator("rect.fill").first).to_be_visible()
        expect(w.locator(".summary")).not_to_be_empty()
        expect(w.locator(".stage")).to_contain_text("needs JavaScript")
    expect(page.locator("math").first).to_be_visible()
    expect(page.locator(".highlight").first).to_be_visible()
    page.emulate_media(media="print")
    expect(figures.first.locator(".controls")).to_be_hidden()
    expect(figures.first.locator(".view")).to_be_visible()
    watch.assert_clean()
    context.close()


def test_figures_are_numbered_and_captioned_and_citations_lead_to_the_reference_list(browser, site_url):
    """What a reader of a paper expects, with scripts off: Figure 1, 2, ... in page order, each
    with a caption that describes it to a screen reader; every "Figure N" in the text leads to
    figure N; citations are numbered in order of first use and lead to a reference list entry
    with a link to the work."""
    context = browser.new_context(java_script_enabled=False)
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    figures = page.locator("[data-widget]")
    numbers = figures.evaluate_all("fs => fs.map(f => f.querySelector('.figure-number')?.textContent)")
    assert numbers == [f"Figure {n}." for n in range(1, figures.count() + 1)]
    for figure in figures.all():
        caption = figure.locator(".caption").text_content().strip()
        assert len(caption.split()) >= 8, caption                 # a sentence or two, not a stub
        expect(figure).to_have_accessible_description(re.compile("^" + re.escape(caption[:40])))
    links = page.locator("a.figure-ref")
    assert links.count() >= figures.count()
    for text, target in links.evaluate_all("as => as.map(a => [a.textContent, a.getAttribute('href')])"):
        number = page.locator(target).locator(".figure-number").text_content()
        assert number == text.replace("\xa0", " ") + "."
    links.first.click()
    expect(page.locator(links.first.get_attribute("href"))).to_be_in_viewport()

    cited = page.locator(".citation a").evaluate_all("as => as.map(a => Number(a.textContent))")
    first_use = list(dict.fromkeys(cited))
    entries = page.locator(".references li")
    assert first_use == list(range(1, entries.count() + 1))    # every entry cited, numbered by first use
    for entry in entries.all():
        assert entry.locator("a[href^='https://']").count() >= 1   # arXiv, DOI or the commit read
    page.locator(".citation a").first.click()
    expect(page.locator("#ref-1")).to_be_in_viewport()
    watch.assert_clean()
    context.close()


# ---- each widget, live ------------------------------------------------------------------

def test_distribution_and_temperature_follow_their_radios_and_slider(shared):
    dist = widget(shared, "distribution")
    dist.get_by_label("My favourite fruit", exact=False).check()
    flat = EXAMPLES["flat"]
    assert_shows_cpython_view(dist, "distribution")
    assert_bars(shown_bars(dist), list(zip(flat.tokens, sampling.softmax(flat.logits).tolist())))

    temp = widget(shared, "temperature")
    temp.get_by_label("The old lighthouse keeper", exact=False).check()
    temp.get_by_label("Temperature").fill("1.5")
    view = assert_shows_cpython_view(temp, "temperature")
    probs = sampling.sampling_stages(EXAMPLES["big"].logits, temperature=1.5).probs
    assert shown_bars(temp)[-1][1] == pytest.approx(float(probs[10:].sum()), rel=1e-12)
    assert "Effective candidates" in view.html
    temp.get_by_label("Temperature").focus()
    shared.keyboard.press("Home")   # the slider's minimum: temperature 0, greedy
    expect(temp.locator(".summary")).to_contain_text("At temperature 0,")
    assert shown_bars(temp)[0] == (" a", 1.0)


def test_draw_buttons_give_reproducible_draws_from_the_seed_they_keep(shared):
    draw = widget(shared, "draw")
    flat = EXAMPLES["flat"]
    probs = sampling.softmax(flat.logits)

    draw.get_by_label("My favourite fruit", exact=False).focus()
    shared.keyboard.press("Tab")   # from the radio group to the first button, as a keyboard user would
    generate = draw.get_by_role("button", name="Generate the next token")
    expect(generate).to_be_focused()
    assert generate.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"   # visible focus
    seed = int(form_state(draw)["seed"])
    view = widgetkit.render("draw", {**form_state(draw), "generate": "1"})
    shared.keyboard.press("Enter")
    assert_shows(draw, view)
    picked = flat.tokens[int(sampling.draw_tokens(probs, np.random.default_rng(seed + 1), 1)[0])]
    expect(draw.locator("tr.chosen code")).to_have_text(picked.replace(" ", "\u2423"))
    assert form_state(draw)["seed"] == str(seed + 1) and form_state(draw)["recent"] == str(seed + 1)

    for button, n in (("hundred", 100), ("ten_thousand", 10_000)):
        seed = int(form_state(draw)["seed"])
        press(draw, "draw", button, str(n))
        counts = np.bincount(sampling.draw_tokens(probs, np.random.default_rng(seed + 1), n), minlength=flat.size)
        assert_bars(shown_bars(draw, "drawn"), list(zip(flat.tokens, (counts / n).tolist())))
        assert form_state(draw)["draws"] == str(n)

    big = widget(shared, "draw", 1)
    press(big, "draw", "ten_thousand", "10000")
    state = form_state(big)
    ids = drawn_ids(sampling.softmax(EXAMPLES["big"].logits), int(state["seed"]), 10_000)
    assert shown_bars(big, "drawn")[-1][1] == pytest.approx(np.count_nonzero(ids >= 10) / 10_000, rel=1e-12)
    assert_shows_cpython_view(big, "draw")


def test_top_k_box_keeps_what_sampling_keeps_and_refuses_bad_input(shared):
    top_k = widget(shared, "top_k")
    box = top_k.get_by_label("Top-k")
    box.fill("5")
    assert_shows_cpython_view(top_k, "top_k")
    kept = [c.startswith("kept") for c in row_classes(top_k)]
    expected = [bool(k) for key in ("peaked", "flat")
                for k in np.isfinite(sampling.apply_top_k(EXAMPLES[key].logits, 5))]
    assert kept == expected
    flat = EXAMPLES["flat"]
    mass = sampling.softmax(flat.logits)[:5].sum()
    expect(top_k.locator(".summary")).to_contain_text(f"{100 * mass:.1f}% of the mass after")

    assert_bad_inputs_change_nothing(top_k, box, "top_k", [*BAD_INPUTS, "13", "2.5"], "whole number from 1 to 12")
    box.fill("")
    box.press_sequentially("abc")   # Chromium lets no letter in: the box stays empty
    expect(top_k.locator(".message")).to_contain_text("Top-k needs a value")
    box.fill("3")
    expect(top_k.locator(".message")).to_be_hidden()
    assert_shows_cpython_view(top_k, "top_k")


def test_top_p_slider_moves_the_cut_on_small_and_big_prompts(shared):
    small = widget(shared, "top_p")
    small.get_by_label("Top-p").fill("0.5")
    assert_shows_cpython_view(small, "top_p")
    size = sampling.nucleus_size(EXAMPLES["flat"].logits, 0.5)
    assert [c.startswith("kept") for c in row_classes(small)] == [i < size for i in range(12)]
    assert "cut" in row_classes(small)[size - 1].split()
    small.get_by_label("Top-p").focus()
    shared.keyboard.press("ArrowRight")   # one step of 0.01
    expect(small.locator(".summary")).to_contain_text("With p = 0.51,")
    small.get_by_label("The Eiffel Tower", exact=False).check()
    expect(small.locator(".summary")).to_contain_text("holds 1 of 12 tokens")

    big = widget(shared, "top_p", 1)
    for p in ("0.9", "0.99"):
        big.get_by_label("Top-p").fill(p)
        assert_shows_cpython_view(big, "top_p")
        size = sampling.nucleus_size(EXAMPLES["big"].logits, float(p))
        expect(big.locator(".summary")).to_contain_text(f"holds {size:,} of 50,257 tokens")
        expect(big.locator("svg.running")).to_have_attribute("aria-label", f"Running total of probability by rank after "
               f"\u201cThe old lighthouse keeper opened the door and saw \u2026\u201d: it reaches p = {p} at rank "
               f"{size:,}, so the nucleus holds {size:,} of 50,257 tokens.")


def test_explorer_applies_every_control_in_order_and_resets_none(shared):
    ex = widget(shared, "explorer")
    big = EXAMPLES["big"]
    settings = {"Temperature": "0.8", "Top-k": "50", "Top-p": "0.9", "Min-p": "0.05", "Typical": "0.9"}
    for label, value in settings.items():
        ex.get_by_label(label).fill(value)
    assert_shows_cpython_view(ex, "explorer")
    filtered = sampling.sampling_stages(big.logits, temperature=0.8, top_k=50, top_p=0.9, min_p=0.05).filtered
    final = sampling.softmax(sampling.apply_typical(filtered, 0.9))   # typical last, as in transformers
    assert_bars(shown_bars(ex)[:10], list(zip(big.tokens[:10], final[:10].tolist())))
    expect(ex.locator(".summary")).to_contain_text(f"{np.count_nonzero(final)} of 50,257 tokens left")
    expect(ex.locator("ol.pipeline")).to_contain_text(f"Typical 0.9 keeps {np.count_nonzero(final)} of "
                                                      f"{np.count_nonzero(np.isfinite(filtered))}")

    ex.get_by_label("Top-p").fill("")   # empty: top-p off
    assert_shows_cpython_view(ex, "explorer")
    expect(ex.locator("ol.pipeline")).to_contain_text("Top-p off")
    ex.get_by_label("My favourite fruit", exact=False).check()
    assert_shows_cpython_view(ex, "explorer")
    for label, value in {**settings, "Top-p": ""}.items():   # no control reset another
        expect(ex.get_by_label(label)).to_have_value(value)

    assert_bad_inputs_change_nothing(ex, ex.get_by_label("Top-k"), "explorer", ["-3", "1e9"], "Top-k takes")
    ex.get_by_label("Top-k").fill("50")
    expect(ex.locator(".message")).to_be_hidden()
    assert_bad_inputs_change_nothing(ex, ex.get_by_label("Min-p"), "explorer", ["2", "-0.5"], "Min-p takes")
    ex.get_by_label("Min-p").fill("0.05")
    expect(ex.locator(".message")).to_be_hidden()
    assert_bad_inputs_change_nothing(ex, ex.get_by_label("Typical"), "explorer", ["0", "1.5"],
                                     "Typical takes")
    ex.get_by_label("Typical").fill("0.9")
    expect(ex.locator(".message")).to_be_hidden()
    assert_shows_cpython_view(ex, "explorer")


def test_a_number_box_holding_no_number_gets_its_message_not_off(shared):
    """Chromium gives scripts "" for "0.5e", as for an empty box, which here means "off": the
    page sends "not a number" instead, and the reader gets Python's message for that box."""
    ex = widget(shared, "explorer")
    box = ex.get_by_label("Top-p")
    box.fill("0.5")
    assert_shows_cpython_view(ex, "explorer")
    good_bars, good_summary = shown_bars(ex), ex.locator(".summary").text_content()
    box.press("End")
    box.press_sequentially("e")   # "0.5e" is in the box; its value, for scripts, is ""
    assert box.evaluate("b => b.validity.badInput")
    message = refusal("explorer", {**form_state(ex), "top_p": "not a number"})
    assert "Top-p takes" in message
    expect(ex.locator(".message")).to_have_text(message)
    expect(box).to_have_attribute("aria-invalid", "true")
    assert shown_bars(ex) == good_bars and ex.locator(".summary").text_content() == good_summary
    box.fill("0.9")
    expect(ex.locator(".message")).to_be_hidden()
    assert_shows_cpython_view(ex, "explorer")


# ---- readers -----------------------------------------------------------------------------

def test_phone_has_no_sideways_scroll_and_touch_sized_controls(browser, site_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  color_scheme="dark")
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    open_article(page, site_url)
    no_overflow = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_overflow)
    big_draw = widget(page, "draw", 1)
    big_draw.get_by_role("button", name="Draw 10,000").tap()
    expect(big_draw.locator('input[name="seed"]')).to_have_value("1")   # the next draws are shown
    explorer = widget(page, "explorer")
    explorer.get_by_label("Top-k").fill("50")
    expect(explorer.locator(".summary")).to_contain_text("top-k 50")
    assert page.evaluate(no_overflow)
    assert page.evaluate("() => [...document.querySelectorAll('.view')].every(v => v.scrollWidth <= v.clientWidth)")
    mine = ", ".join(f'[data-widget="{name}"]' for name in {*ARTICLE_WIDGETS, "generate"})
    heights = page.locator(f":is({mine}) :is(input:not([type=hidden], [type=radio]), button, .control-radio label)").evaluate_all(
        "els => els.filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 43.5   # about 44 px, a fingertip
    watch.assert_clean()
    context.close()


def test_axe_finds_no_violations_in_light_or_dark(watched, site_url):
    open_article(watched, site_url)
    for scheme in ("light", "dark"):
        watched.emulate_media(color_scheme=scheme)
        results = Axe().run(watched)
        assert results.violations_count == 0, results.generate_report()


RECORD_LIVE_ORDER = """
window.__liveOrder = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const figure = change.target;
    if (figure.dataset.stage === "ready" && !window.__liveOrder.includes(figure.id)) window.__liveOrder.push(figure.id);
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"] });
"""


def test_python_starts_from_the_snapshot_and_figures_go_live_in_page_order(watched, site_url):
    watched.add_init_script(RECORD_LIVE_ORDER)
    open_article(watched, site_url)
    in_page = watched.locator("[data-widget]").evaluate_all("els => els.map(e => e.id)")
    assert watched.evaluate("() => window.__liveOrder") == in_page
    marks = {}
    for worker in watched.workers:   # Python's worker (the download worker may have closed)
        try:
            marks.update(worker.evaluate(
                "() => Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"))
        except Exception:
            pass
    assert "python:from-snapshot" in marks                 # restored, not booted from scratch
    assert marks["python:ready"] <= marks["python:first-figure"] <= marks["python:all-figures"]


def test_python_starts_with_the_page_head_and_only_on_pages_with_figures(watched, site_url):
    """python.js starts the workers while the page is still being parsed (before DOMContentLoaded);
    a page without figures starts none."""
    open_article(watched, site_url)
    loaded = watched.evaluate("() => performance.timeOrigin + performance.getEntriesByType('navigation')[0].domContentLoadedEventStart")
    started = [worker.evaluate("() => performance.timeOrigin") for worker in watched.workers
               if worker.url.endswith("worker.js")]
    assert len(started) == 1 and started[0] < loaded
    watched.goto(site_url + "index.html")
    watched.wait_for_load_state("load")
    watched.wait_for_timeout(500)
    assert watched.workers == [] and watched.evaluate("() => typeof Python") == "undefined"


# ---- reading layout: one colour per meaning, margin notes, wide figures --------------------

def static_page(browser, site_url, **context_options):
    """The article with scripts off (the layout and the colours need no Python), and its watch."""
    context = browser.new_context(java_script_enabled=False, **context_options)
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    return context, page, watch


# For each meaning: where its colour shows in the legend, and where in the figures. Computed
# colours, so a rule that paints one figure differently from the legend fails here.
MEANINGS = {
    "kept": (".colour-key .kept rect.fill", "fill", "[data-widget] tr.kept rect.fill, svg.beam-tree .node.kept rect", ["fill", "stroke"]),
    "removed": (".colour-key .removed rect.fill", "stroke", "[data-widget] tr.removed rect.fill, svg.beam-tree .edge.cut", ["stroke", "stroke"]),
    "nucleus": (".colour-key .nucleus code", "border-left-color", "tr.nucleus > th, tr.cut > td, svg.running .cut-line, svg.steps .nucleus-bar",
                ["border-left-color", "border-bottom-color", "stroke", "fill"]),
    "chosen": (".colour-key .chosen .tag", "border-top-color", "[data-widget] tr.chosen .tag, svg.steps .chosen-bar, svg.beam-tree .edge.best",
               ["border-top-color", "fill", "stroke"]),
}

COLOURS = """([selector, properties]) => [...document.querySelectorAll(selector)].map(e => {
  const style = getComputedStyle(e);
  for (const p of properties) { const v = style.getPropertyValue(p); if (v && v !== "none" && v !== "rgba(0, 0, 0, 0)") return v; }
  return "none";
})"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_meaning_has_one_colour_in_the_legend_and_every_figure(browser, site_url, scheme):
    context, page, watch = static_page(browser, site_url, color_scheme=scheme)
    legend = page.locator(".colour-key")
    expect(legend).to_be_visible()
    seen = {}
    for meaning, (key, key_property, used, properties) in MEANINGS.items():
        colour = page.evaluate(COLOURS, [key, [key_property]])
        assert len(colour) == 1 and colour[0] != "none", meaning
        found = set()
        for selector in used.split(", "):   # each kind of mark, with the property that paints it
            prop = properties[used.split(", ").index(selector)]
            values = page.evaluate(COLOURS, [selector, [prop]])
            assert values, f"no {selector} on the page"
            found |= set(values)
        assert found == {colour[0]}, f"{meaning}: {found} in the figures, {colour[0]} in the legend"
        seen[meaning] = colour[0]
    assert len(set(seen.values())) == len(seen)   # and no two meanings share a colour
    # Not by colour alone: removed rows are crossed out, a chosen row says so in words.
    assert page.locator("tr.removed th").first.evaluate("e => getComputedStyle(e).textDecorationLine") == "line-through"
    expect(page.locator("[data-widget] tr.chosen .tag").first).to_have_text("chosen")
    watch.assert_clean()
    context.close()


MEASURE = """p => {   // the longest line of a paragraph, in characters
  const text = p.firstChild, lines = new Map();
  for (let i = 0; i < text.length; i++) {
    const range = document.createRange(); range.setStart(text, i); range.setEnd(text, i + 1);
    const top = Math.round(range.getBoundingClientRect().top);
    lines.set(top, (lines.get(top) || 0) + 1);
  }
  return Math.max(...lines.values());
}"""

BOX = "e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; }"


def test_wide_screen_puts_asides_in_the_margin_and_figures_wider_than_the_text(browser, site_url):
    context, page, watch = static_page(browser, site_url, viewport={"width": 1400, "height": 900})
    first = page.locator("article > p").first
    assert 60 <= first.evaluate(MEASURE) <= 80   # a comfortable measure
    text = first.evaluate(BOX)
    asides = page.locator("article > aside.aside")
    assert asides.count() == ARTICLE_ASIDES >= 3   # every '::: aside' of the article, in the margin
    for aside in asides.all():
        box = aside.evaluate(BOX)
        assert box["left"] >= text["right"] + 16 and box["width"] >= 200   # beside the text, not over it
    for figure in page.locator("article > figure.widget").all():
        assert figure.evaluate(BOX)["width"] >= text["width"] + 200
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    watch.assert_clean()
    context.close()


@pytest.mark.parametrize("width, media", [(360, "screen"), (900, "screen"), (1400, "print")])
def test_narrow_screens_and_paper_keep_asides_in_the_text_and_figures_in_the_column(browser, site_url, width, media):
    context, page, watch = static_page(browser, site_url, viewport={"width": width, "height": 800})
    page.emulate_media(media=media)
    text = page.locator("article > p").first.evaluate(BOX)
    for aside in page.locator("article > aside.aside").all():
        box = aside.evaluate(BOX)
        assert abs(box["left"] - text["left"]) < 1 and abs(box["width"] - text["width"]) < 1
        assert aside.evaluate("e => getComputedStyle(e).float") == "none"
    for figure in page.locator("article > figure.widget").all():
        assert figure.evaluate(BOX)["width"] <= text["width"] + 17   # a phone lets a figure out by 8 px a side
    expect(page.locator(".colour-key")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    watch.assert_clean()
    context.close()


def test_text_far_below_is_laid_out_only_as_the_reader_nears_it_and_paper_gets_every_line(browser, site_url):
    """The article's text skips layout until it nears the screen (content-visibility: README,
    "Speed"); a link to a reference or a heading far below still lands on it, and paper gets
    every line."""
    # A phone's width, and a screen tall enough to reach past the contents into the text.
    context, page, watch = static_page(browser, site_url, viewport={"width": 390, "height": 2400})
    # What is inside a paragraph (its links, code, emphasis) is skipped, not the paragraph's box.
    inner = page.locator("article > p > :is(a, code, em)")
    laid_out = "e => e.checkVisibility({ contentVisibilityAuto: true })"
    on_screen = inner.evaluate_all("els => els.findIndex(e => e.getBoundingClientRect().top < innerHeight)")
    assert on_screen >= 0 and inner.nth(on_screen).evaluate(laid_out)   # the first screen is laid out
    assert not inner.last.evaluate(laid_out)                     # the end of the article is not, yet
    inner.last.evaluate("e => e.scrollIntoView()")
    page.wait_for_function(laid_out, arg=inner.last.element_handle())   # laid out once near
    page.set_viewport_size({"width": 390, "height": 800})
    for target in ["ref-9", "references", page.locator("article h2").last.get_attribute("id")]:
        page.goto("about:blank")
        page.goto(f"{site_url}{ARTICLE}#{target}")
        top = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top", target)
        assert abs(top) < 2, (target, top)
    page.emulate_media(media="print")
    assert page.locator("article > :is(p, ul, ol, .highlight, .table-wrap, table)").evaluate_all(
        "els => els.every(e => getComputedStyle(e).contentVisibility === 'visible')")
    watch.assert_clean()
    context.close()
