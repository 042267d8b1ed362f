"""Reading offline, in its three ways: a static server with every other host blocked, a
service worker after one visit (network cut, then a new deploy), and the files opened
straight from disk (file://), as built and as unzipped from the download."""
from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import re
import shutil
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import ROOT, SUB_PATH, Watch, wait_ready, watch_context, watch_page
from sitegen.serve import SiteHandler
from sitegen.site import build_site

ARTICLE = "sampling.html"
ZIP = "nextword-offline.zip"
# Resolves when a service worker controls the page; returns this site's cache names.
CONTROLLED = """async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
  }
  return (await caches.keys()).filter((name) => name.startsWith("nextword "));
}"""
# Asks the browser to look for a new sw.js now; resolves once the new build is installed.
UPDATE_INSTALLED = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  await registration.update();
  const next = registration.installing || registration.waiting;
  if (!next) return "no update";
  while (next.state === "installing") {
    await new Promise((r) => next.addEventListener("statechange", r, { once: true }));
  }
  return next.state;
}"""
# Resolves once the site's registration at `scope` has no build waiting and its active one is activated.
NEW_BUILD_ACTIVE = """async (scope) => {
  const registration = await navigator.serviceWorker.getRegistration(scope);
  const settled = () => !registration.waiting && registration.active.state === "activated";
  while (!settled()) {
    const changing = registration.waiting || registration.active;
    await new Promise((r) => changing.addEventListener("statechange", r, { once: true }));
  }
  return true;
}"""
# What a page opened from disk gets when it fetches a file next to it.
FETCH_FROM_DISK = "() => fetch('index.html').then(() => 'fetched', () => 'refused')"


@contextmanager
def serving(site: Path):
    """Serve a built site under /nextword/, as conftest's site_url does; stopping it cuts the network."""
    top = site.parent / "www"
    top.mkdir(exist_ok=True)
    if not (top / SUB_PATH).exists():
        (top / SUB_PATH).symlink_to(site, target_is_directory=True)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SiteHandler, directory=str(top)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{SUB_PATH}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def from_disk(context, page):
    """The page fixture for pages opened from disk: a request to any network is foreign (and
    aborted), and any console error fails the test, as `watched` does for served pages."""
    watch = Watch()

    def abort(route):
        watch.foreign_requests.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?|ftp)://"), abort)
    watch_page(page, watch)
    yield page
    watch.assert_clean()


def temperature_widget(page):
    return page.locator('[data-widget="temperature"]').first


def assert_widget_responds(page):
    widget = temperature_widget(page)
    wait_ready(widget)
    widget.get_by_label("Temperature").fill("0.5")
    expect(widget.locator(".summary")).to_contain_text("At temperature 0.5,")


def watch_from_outside_the_site(context, url: str) -> None:
    """Wait until the waiting build has taken over, watching from a page of the same origin
    outside the site's folder: a page inside would be a client of the old build and keep it."""
    page = context.new_page()
    page.goto(url.removesuffix(f"{SUB_PATH}/"))   # the server's folder listing
    assert page.evaluate(NEW_BUILD_ACTIVE, f"/{SUB_PATH}/")
    page.close()


def content_with_summary(folder: Path, summary: str) -> Path:
    """A copy of the site's content, in folder, whose article has another one-sentence summary."""
    content = Path(shutil.copytree(ROOT / "content", folder))
    article = content / "sampling.md"
    text = re.sub(r"^summary: .*$", f"summary: {summary}", article.read_text(encoding="utf-8"),
                  count=1, flags=re.MULTILINE)
    article.write_text(text, encoding="utf-8")
    return content


# ---- what the build writes -------------------------------------------------------------

def test_service_worker_lists_every_served_file_with_its_sha256(built_site):
    precache = json.loads(re.search(r"^const PRECACHE = (\{.*\});", (built_site / "sw.js").read_text(),
                                    re.MULTILINE).group(1))
    listed = dict(precache["files"])
    served = {p.relative_to(built_site).as_posix() for p in built_site.rglob("*") if p.is_file()
              and not p.name.startswith(".")} - {"sw.js", ZIP, "offline/runtime.js"}
    assert set(listed) == served
    for name, integrity in listed.items():
        digest = base64.b64encode(hashlib.sha256((built_site / name).read_bytes()).digest()).decode()
        assert integrity == f"sha256-{digest}"
    assert re.fullmatch(r"[0-9a-f]{16}", precache["build"])


def test_download_holds_pages_and_bundle_sorted_with_fixed_dates(built_site):
    with zipfile.ZipFile(built_site / ZIP) as archive:
        entries = archive.infolist()
    names = [e.filename for e in entries]
    assert names == sorted(names)
    assert {"nextword-offline/index.html", f"nextword-offline/{ARTICLE}",
            "nextword-offline/offline/runtime.js", "nextword-offline/assets/widgets.js",
            "nextword-offline/assets/protocol.js", "nextword-offline/assets/figures.js"} <= set(names)
    assert not any("/pyodide/" in n or n.endswith(("sw.js", ".zip")) for n in names)
    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}


def test_served_pages_never_name_the_file_bundle(built_site):
    for page in built_site.glob("*.html"):
        assert "offline/runtime.js" not in page.read_text(encoding="utf-8")


# ---- 1. any static server, every other host blocked ------------------------------------

@pytest.mark.browser
def test_served_page_runs_every_widget_without_loading_the_file_bundle(watched, site_url):
    requested = []
    watched.on("request", lambda r: requested.append(r.url))
    watched.goto(site_url + ARTICLE)
    for widget in watched.locator("[data-widget]").all():
        wait_ready(widget)
    assert_widget_responds(watched)
    assert not [u for u in requested if "/offline/" in u or u.endswith(ZIP)]


@pytest.mark.browser
def test_site_works_as_before_without_service_workers(browser, site_url):
    context = browser.new_context(service_workers="block")
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    page.goto(site_url + ARTICLE)
    assert_widget_responds(page)
    assert page.evaluate("() => navigator.serviceWorker === undefined || navigator.serviceWorker.controller === null")
    context.close()
    watch.assert_clean()


# ---- 2. after a first visit: the service worker ----------------------------------------

@pytest.mark.browser
def test_after_one_visit_article_and_widgets_work_with_the_network_cut(context, watched, built_site):
    with serving(built_site) as url:      # a server of its own, to stop
        watched.goto(url + ARTICLE)
        wait_ready(temperature_widget(watched))
        assert len(watched.evaluate(CONTROLLED)) == 1
        title = watched.locator("h1").text_content()
    context.set_offline(True)             # the server is gone too: nothing can come from a network
    watched.reload()
    expect(watched.locator("h1")).to_have_text(title)
    assert_widget_responds(watched)
    watched.goto(url)                     # the site's folder itself stands for its index.html
    expect(watched.locator(f'a[href="{ARTICLE}"]')).to_be_visible()


@pytest.mark.browser
def test_a_new_deploy_replaces_the_old_build_and_its_cache(context, watched, tmp_path):
    site = tmp_path / "_site"
    build_site(ROOT, site, content_with_summary(tmp_path / "first", "The first build's summary."))
    with serving(site) as url:
        watched.goto(url + ARTICLE)
        wait_ready(temperature_widget(watched))
        first_cache = watched.evaluate(CONTROLLED)
        build_site(ROOT, site, content_with_summary(tmp_path / "second", "The second build's summary, changed."))
        watched.reload()                  # an open page keeps its build: no mix of two deploys
        expect(watched.locator(".dek")).to_have_text("The first build's summary.")
        assert watched.evaluate(UPDATE_INSTALLED) == "installed"
        watched.close()                   # the old build's last page is gone: the new one takes over
        watch_from_outside_the_site(context, url)
        page, watch = context.new_page(), Watch()
        watch_page(page, watch)
        page.goto(url + ARTICLE)
        expect(page.locator(".dek")).to_have_text("The second build's summary, changed.")
        caches = page.evaluate(CONTROLLED)
    assert len(caches) == 1 and caches != first_cache     # the old cache was deleted
    context.set_offline(True)
    page.reload()
    expect(page.locator(".dek")).to_have_text("The second build's summary, changed.")
    assert_widget_responds(page)
    watch.assert_clean()


# ---- 3. opened straight from disk (file://) --------------------------------------------

@pytest.mark.browser
def test_the_test_browser_refuses_fetch_on_file_pages_as_readers_browsers_do(page, built_site):
    page.goto((built_site / "index.html").as_uri())
    assert page.evaluate(FETCH_FROM_DISK) == "refused"


@pytest.mark.browser
def test_built_article_opened_from_disk_runs_its_widgets(from_disk, built_site):
    from_disk.goto((built_site / ARTICLE).as_uri())
    assert_widget_responds(from_disk)


@pytest.mark.browser
def test_unzipped_download_opened_from_disk_runs_its_widgets(from_disk, built_site, tmp_path):
    with zipfile.ZipFile(built_site / ZIP) as archive:
        archive.extractall(tmp_path)
    from_disk.goto((tmp_path / "nextword-offline" / "index.html").as_uri())
    expect(from_disk.locator("[data-offline-download]")).to_be_hidden()   # it is what they hold
    from_disk.locator(f'a[href="{ARTICLE}"]').first.click()
    assert_widget_responds(from_disk)
