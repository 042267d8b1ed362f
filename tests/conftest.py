"""Shared fixtures: one build of the real site per test session, served on 127.0.0.1.

Browser tests see the site exactly as deployed: served from a sub-path (as GitHub
project pages are), every request to another host aborted and reported, and any
console error or page error failing the test.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

import widgetkit
from ngram import prepare
from sitegen import browser
from sitegen.serve import serving
from sitegen.site import build_site

ROOT = Path(__file__).resolve().parent.parent
# The article's widgets, registered as its build registers them (content/site.yml: widgets), for
# the tests that draw them in CPython; a build puts the registry back as it found it.
widgetkit.import_widgets(["widgets"], skip=frozenset({"widgets.facts"}))
SUB_PATH = "nextword"
READY_TIMEOUT_MS = 90_000


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory) -> Path:
    """The cache of every build the tests make, so that they never write into the repository's
    .cache/: it borrows, read-only, the downloads and the base runtime (Pyodide and numpy,
    py-compiled) when the repository's cache has them, and starts from a copy of its n-gram
    model and table (the builds add to it); everything else is made here."""
    cache = tmp_path_factory.mktemp("cache")
    repo = ROOT / ".cache"
    for kept in [repo / "downloads", *repo.glob("runtime-base-*")]:
        if kept.is_dir():
            (cache / kept.name).symlink_to(kept, target_is_directory=True)
    if (repo / "ngram").is_dir():
        shutil.copytree(repo / "ngram", cache / "ngram")
    return cache


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, build_cache) -> Path:
    """The real site, built once from this checkout's sources."""
    out = tmp_path_factory.mktemp("build") / "_site"
    build_site(ROOT, out, cache=build_cache)
    return out


@pytest.fixture(scope="module")
def site_model(build_cache) -> None:
    """The article's n-gram model and decoding table, the ones its built site ships, handed to
    `ngram` for a module's tests that compute on the CPython side (made once, in the tests' cache;
    handed over again for each module, since a build or a test may hand `ngram` another)."""
    prepare.prepare(build_cache)


@pytest.fixture(scope="session")
def site_url(built_site) -> str:
    """Base URL of the built site, served under /nextword/ by a local static server."""
    with serving(built_site, SUB_PATH) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, **browser.launch_options()}


@dataclass
class Watch:
    """What a page did that a reader's page must never do."""

    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def assert_clean(self):
        assert self.foreign_requests == [], f"requests to other hosts: {self.foreign_requests}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


def watch_context(context) -> Watch:
    watch = Watch()

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            watch.foreign_requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return watch


def watch_page(page, watch: Watch) -> None:
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))


@pytest.fixture
def watched(context, page):
    """The page fixture, with foreign requests blocked and console errors collected."""
    watch = watch_context(context)
    watch_page(page, watch)
    yield page
    watch.assert_clean()


@pytest.fixture(scope="module")
def live_article(browser, site_url):
    """One page of the article, every figure live, for a module's tests that drive figures a
    page's history does not change the meaning of: each test sets the controls it reads (and
    checks what it sees against CPython's view of the form's state), so none needs a fresh page,
    and Python starts once per module instead of once per test."""
    context = browser.new_context()
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    open_article(page, site_url)
    yield page, watch
    context.close()


@pytest.fixture
def shared(live_article):
    """The module's live article page; what it did that a reader's page must never do fails
    the test during which it happened."""
    page, watch = live_article
    yield page
    found = Watch(list(watch.foreign_requests), list(watch.console_errors))
    watch.foreign_requests.clear()
    watch.console_errors.clear()
    found.assert_clean()


def open_article(page, site_url: str) -> None:
    """Open the article and wait until every figure on it is live."""
    page.goto(site_url + "sampling.html")
    for widget in page.locator("[data-widget]").all():
        wait_ready(widget)


def wait_ready(widget_locator):
    from playwright.sync_api import expect
    expect(widget_locator).to_have_attribute("data-stage", "ready", timeout=READY_TIMEOUT_MS)
