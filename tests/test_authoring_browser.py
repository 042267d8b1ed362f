"""The author's side in a real browser: a site's own widget goes live, the preview server
reloads on change, shows build errors (even when its first build fails) and recovers, and the
pages keep their Content-Security-Policy."""
from __future__ import annotations

import io
from html import unescape
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import READY_TIMEOUT_MS, wait_ready
from sitegen.serve import serving
from sitegen.site import build_site

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "content"
VIOLATIONS_PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def fixture_url(tmp_path_factory, build_cache):
    out = tmp_path_factory.mktemp("fixture-site") / "_site"
    build_site(ROOT, out, FIXTURE, build_cache)
    with serving(out) as url:
        yield url


def test_site_widget_goes_live_without_javascript_from_its_author(watched, fixture_url):
    watched.add_init_script(VIOLATIONS_PROBE)
    watched.goto(fixture_url + "coins.html")
    coin = watched.locator('[data-widget="coin"]')
    wait_ready(coin)
    coin.get_by_label("Chance of heads").fill("0.8")
    expect(coin.locator(".summary")).to_have_text("Heads 80%, tails 20%.")
    shown = coin.locator("rect.fill").evaluate_all("els => els.map(e => Number(e.dataset.p))")
    np.testing.assert_allclose(shown, [0.8, 0.2], rtol=1e-12)
    assert watched.evaluate("() => window.__cspViolations") == []


def test_every_page_declares_the_strict_policy(built_site):
    for page in built_site.glob("*.html"):
        html = unescape(page.read_text())
        assert ("script-src 'self' 'wasm-unsafe-eval';" in html and "unsafe-eval'" not in
                html.replace("'wasm-unsafe-eval'", "")), page.name
        assert "<script>" not in html and " on" + "click=" not in html, page.name  # no inline script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_preview(content: Path, out: Path, cache: Path):
    """`build.py serve` on a content folder, as an author runs it; returns the process and URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port),
                                "--content", str(content), "--out", str(out), "--cache", str(cache)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "Serving" in line:
            break
        if process.poll() is not None:
            pytest.fail("the preview server stopped: " + line + process.stdout.read())
    threading.Thread(target=process.stdout.read, daemon=True).start()   # keep its pipe drained
    return process, f"http://127.0.0.1:{port}/"


@pytest.fixture
def preview(tmp_path, build_cache):
    """`build.py serve` on a copy of the fixture content."""
    content = Path(shutil.copytree(FIXTURE, tmp_path / "content"))
    process, url = start_preview(content, tmp_path / "_site", build_cache)
    yield content, url
    process.terminate()
    process.wait(timeout=10)


def test_preview_reloads_on_change_and_shows_build_errors(watched, preview):
    content, url = preview
    article = content / "dice.md"
    watched.goto(url + "dice.html")
    expect(watched.locator("h1")).to_have_text("Dice")
    article.write_text(article.read_text().replace("title: Dice", "title: Loaded dice"))
    expect(watched.locator("h1")).to_have_text("Loaded dice", timeout=READY_TIMEOUT_MS)
    article.write_text(article.read_text().replace("temperature=2", "temperature=9"))
    expect(watched.locator("#preview-error")).to_contain_text(
        "content/dice.md:11: widget die: Temperature takes a number from 0.1 to 3; got '9'.",
        timeout=READY_TIMEOUT_MS)
    expect(watched.locator("h1")).to_have_text("Loaded dice")   # the last good build stays


def test_the_preview_makes_the_offline_download_when_asked(preview, tmp_path):
    """The preview leaves the 15 MB download and the file:// bundle out of its rebuilds and makes
    them on the first request, complete."""
    _, url = preview
    site = tmp_path / "_site"
    assert not (site / "nextword-offline.zip").exists() and not (site / "offline").exists()
    with urllib.request.urlopen(url + "nextword-offline.zip") as response:
        data = response.read()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"nextword-offline/coins.html", "nextword-offline/offline/runtime.js"} <= set(names)


def test_a_first_preview_of_a_broken_article_shows_the_error_then_the_fixed_page(watched, tmp_path,
                                                                                  build_cache):
    content = Path(shutil.copytree(FIXTURE, tmp_path / "content"))
    article = content / "dice.md"
    good = article.read_text()
    article.write_text(good.replace("temperature=2", "temperature=9"))
    process, url = start_preview(content, tmp_path / "_site", build_cache)   # serves, not exits
    try:
        watched.goto(url + "dice.html")
        expect(watched.locator("#preview-error")).to_contain_text(
            "content/dice.md:11: widget die: Temperature takes a number from 0.1 to 3; got '9'.")
        article.write_text(good)
        expect(watched.locator("h1")).to_have_text("Dice", timeout=READY_TIMEOUT_MS)
        expect(watched.locator("#preview-error")).to_have_count(0)
        wait_ready(watched.locator('[data-widget="die"]'))
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_python_errors_and_a_dead_worker_leave_the_widget_usable(watched, fixture_url):
    watched.clock.install()   # the page's clock runs as usual until the test moves it on
    watched.goto(fixture_url + "coins.html")
    widget = watched.locator('[data-widget="faulty"]')
    wait_ready(widget)
    divisor = widget.get_by_label("Divisor")
    divisor.fill("5")
    expect(widget.locator(".summary")).to_have_text("One part in 5.")
    divisor.fill("0")                                   # the view raises ZeroDivisionError
    expect(widget.locator(".message")).to_contain_text("ZeroDivisionError")
    expect(widget.locator(".share")).to_have_text("One part in 5: 0.200")   # last good view
    divisor.fill("4")
    expect(widget.locator(".summary")).to_have_text("One part in 4.")
    expect(widget.locator(".message")).to_be_hidden()
    widget.get_by_role("button", name="Stop the worker").click()   # the worker ends itself
    divisor.fill("8")                                   # no answer comes; when the render's time
    watched.clock.run_for(watched.evaluate("Protocol.RENDER_TIMEOUT_MS") + 1000)   # is up,
    expect(widget).not_to_have_attribute("data-stage", "ready")    # the page notices,
    wait_ready(widget)                                  # starts a new worker,
    expect(widget.locator(".summary")).to_have_text("One part in 8.")   # and redraws the lost request
    divisor.fill("9")
    expect(widget.locator(".summary")).to_have_text("One part in 9.")


# ---- what authors write, as readers get it ----

FEATURES = ROOT / "tests" / "fixtures" / "authoring"


@pytest.fixture(scope="module")
def features_url(tmp_path_factory, build_cache):
    """The fixture site plus an article with code, footnotes, citations and numbered figures."""
    top = tmp_path_factory.mktemp("features-site")
    content = Path(shutil.copytree(FIXTURE, top / "content"))
    for path in FEATURES.iterdir():
        shutil.copy(path, content / path.name)
    build_site(ROOT, top / "_site", content, build_cache)
    with serving(top / "_site") as url:
        yield url


def test_copy_button_copies_the_code_from_the_keyboard(watched, context, features_url):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    watched.add_init_script(VIOLATIONS_PROBE)
    watched.goto(features_url + "features.html")
    first = watched.locator(".highlight").first
    button = first.get_by_role("button", name="Copy")
    expect(button).to_be_visible()
    for _ in range(40):   # Tab through the page as a keyboard user does, up to the first copy button
        watched.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    expect(button).to_be_focused()
    assert button.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"   # visible focus
    watched.keyboard.press("Enter")
    expect(first.get_by_role("status")).to_have_text("Copied")
    assert watched.evaluate("() => navigator.clipboard.readText()") == (
        "def softmax(scores):\n    return scores / sum(scores)")
    watched.keyboard.press("Tab")   # the next button copies its own block, with Space this time
    second = watched.locator(".highlight").nth(1)
    expect(second.get_by_role("button", name="Copy")).to_be_focused()
    watched.keyboard.press(" ")
    expect(second.get_by_role("status")).to_have_text("Copied")
    assert watched.evaluate("() => navigator.clipboard.readText()") == "::: widget nothing-here\n[@nobody]"
    assert watched.evaluate("() => window.__cspViolations") == []


def test_without_scripts_the_code_shows_and_no_dead_button(browser, features_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(features_url + "features.html")
    expect(page.locator(".highlight pre").first).to_contain_text("def softmax(scores):")
    assert page.locator("button.copy-code").count() == 0
    context.close()


def test_figure_references_and_citations_lead_to_their_targets(watched, features_url):
    watched.goto(features_url + "features.html")
    watched.get_by_role("link", name="Figure 2").click()
    expect(watched).to_have_url(features_url + "features.html#fig-coin")
    expect(watched.get_by_role("figure", name="Figure 2. A coin, heads up.")).to_be_in_viewport()
    temp = watched.get_by_role("figure", name=re.compile(r"^Figure 1\. "))
    assert temp.evaluate("f => f.id") == "fig-temp"
    watched.locator(".citation a").first.click()
    expect(watched).to_have_url(features_url + "features.html#ref-1")
    expect(watched.locator("#ref-1")).to_contain_text("The curious case of neural text degeneration")


def test_authoring_features_pass_axe_in_light_and_dark(watched, features_url):
    from axe_playwright_python.sync_playwright import Axe
    watched.goto(features_url + "features.html")
    wait_ready(watched.locator('[data-widget="die"]'))
    for scheme in ("light", "dark"):
        watched.emulate_media(color_scheme=scheme)
        results = Axe().run(watched)
        assert results.violations_count == 0, results.generate_report()


def test_features_fit_a_phone(browser, features_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(features_url + "features.html")
    expect(page.locator("button.copy-code").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    heights = page.locator("button.copy-code").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 43.5
    context.close()


def test_the_preview_shows_a_draft_with_its_banner(watched, preview):
    content, url = preview
    watched.goto(url + "dice.html")
    (content / "unfinished.md").write_text(
        "---\ntitle: Half written\ndate: 2026-02-01\nsummary: Not yet.\ndraft: true\n---\n\nSoon.\n")
    dice = content / "dice.md"
    dice.write_text(dice.read_text().replace("title: Dice", "title: Dice again"))
    expect(watched.locator("h1")).to_have_text("Dice again", timeout=READY_TIMEOUT_MS)  # rebuilt
    watched.goto(url + "unfinished.html")
    expect(watched.get_by_role("note")).to_contain_text("Draft.")
    expect(watched.get_by_role("note")).to_be_visible()
    watched.goto(url + "index.html")
    expect(watched.locator("main")).to_contain_text("Half written")   # the preview lists it too
