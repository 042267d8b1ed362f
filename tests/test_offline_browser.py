"""Reading offline, in its three ways: a static server with every other host blocked, a
service worker after one visit (network cut, then a new deploy), and the files opened
straight from disk (file://), as built and as unzipped from the download."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import zipfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from conftest import ROOT, SUB_PATH, Watch, wait_ready, watch_context, watch_page
from sitegen.serve import SiteHandler, serving
from sitegen.site import build_site

ARTICLE = "sampling.html"
ZIP = "nextword-offline.zip"
# Resolves once the page's registration has an activated worker. The page that registered it
# stays uncontrolled (no clients.claim(): it may be of another build) until it is reloaded.
ACTIVATED = """async () => {
  const worker = (await navigator.serviceWorker.ready).active;
  while (worker.state !== "activated") {
    await new Promise((r) => worker.addEventListener("statechange", r, { once: true }));
  }
  return navigator.serviceWorker.controller === null ? "uncontrolled" : "controlled";
}"""
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
# Resolves to true once the site's registration at `scope` has no build waiting and its active one
# is activated (or, after 60 s, to why not).
NEW_BUILD_ACTIVE = """async (scope) => {
  const registration = await navigator.serviceWorker.getRegistration(scope);
  if (!registration) return "no service worker for " + scope;
  const settled = () => !registration.waiting && registration.active.state === "activated";
  const deadline = Date.now() + 60000;
  while (!settled()) {
    if (Date.now() > deadline) return "the new build's worker did not take over within 60 s";
    const changing = registration.waiting || registration.active;
    await Promise.race([new Promise((r) => changing.addEventListener("statechange", r, { once: true })),
                        new Promise((r) => setTimeout(r, 1000))]);
  }
  return true;
}"""


def visit_then_reload(page, url: str) -> list[str]:
    """A first visit, then a reload once its service worker is active: the reloaded page is
    controlled. Returns this site's cache names."""
    page.goto(url)
    wait_ready(temperature_widget(page))
    assert page.evaluate(ACTIVATED) == "uncontrolled"
    page.reload()
    return page.evaluate(CONTROLLED)


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
    assert page.evaluate(NEW_BUILD_ACTIVE, f"/{SUB_PATH}/") is True
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
    with serving(built_site, SUB_PATH) as url:      # a server of its own, to stop
        assert len(visit_then_reload(watched, url + ARTICLE)) == 1
        title = watched.locator("h1").text_content()
    context.set_offline(True)             # the server is gone too: nothing can come from a network
    watched.reload()
    expect(watched.locator("h1")).to_have_text(title)
    assert_widget_responds(watched)
    watched.goto(url)                     # the site's folder itself stands for its index.html
    expect(watched.locator(f'a[href="{ARTICLE}"]')).to_be_visible()


def wasm_responses(page) -> list:
    """Responses to requests of Pyodide's wasm, as the page's workers get them."""
    seen = []
    page.on("response", lambda response: seen.append(response) if "pyodide.asm." in response.url
            and ".wasm" in response.url else None)
    return seen


@pytest.mark.browser
def test_a_controlled_page_gets_pyodides_wasm_from_the_http_cache_under_its_hash(watched, built_site):
    """The wasm is served under a name made from its sha256, and the worker asks for it "from the
    network" (startup.js), which the service worker leaves to the HTTP cache, where the browser
    keeps the code it compiled; every other file comes from the service worker's cache."""
    wasm = json.loads((built_site / "pyodide" / "pyodide-lock.json").read_text())["wasm"]
    assert wasm["file_name"] == f"pyodide.asm.{wasm['sha256'][:16]}.wasm"
    assert hashlib.sha256((built_site / "pyodide" / wasm["file_name"]).read_bytes()).hexdigest() == wasm["sha256"]
    assert not (built_site / "pyodide" / "pyodide.asm.wasm").exists()
    with serving(built_site, SUB_PATH) as url:
        visit_then_reload(watched, url + ARTICLE)
        seen = wasm_responses(watched)
        stdlib = []
        watched.on("response", lambda r: stdlib.append(r) if r.url.endswith("python_stdlib.zip") else None)
        watched.reload()
        assert_widget_responds(watched)
    assert [r.url.split("/")[-1] for r in seen] == [wasm["file_name"] + "?from=network"]
    assert not seen[0].from_service_worker and stdlib and stdlib[0].from_service_worker


@pytest.mark.browser
def test_a_wasm_the_host_no_longer_has_comes_from_the_cached_copy(watched, built_site):
    """The host has a newer deploy, without this build's wasm (404 under its name): the worker
    compiles the service worker's copy instead, and the figures go live."""
    name = json.loads((built_site / "pyodide" / "pyodide-lock.json").read_text())["wasm"]["file_name"]
    with serving(built_site, SUB_PATH) as url:
        visit_then_reload(watched, url + ARTICLE)
        watched.route(re.compile(r"pyodide\.asm\.\w+\.wasm\?from=network"), lambda route: route.fulfill(status=404))
        seen = wasm_responses(watched)
        watched.reload()
        assert_widget_responds(watched)
    assert [r.url.split("/")[-1] for r in seen] == [name + "?from=network", name]
    assert seen[0].status == 404 and seen[1].from_service_worker


@pytest.mark.browser
def test_a_new_deploy_replaces_the_old_build_and_its_cache(context, watched, tmp_path, build_cache):
    site = tmp_path / "_site"
    build_site(ROOT, site, content_with_summary(tmp_path / "first", "The first build's summary."), build_cache)
    with serving(site, SUB_PATH) as url:
        first_cache = visit_then_reload(watched, url + ARTICLE)
        build_site(ROOT, site, content_with_summary(tmp_path / "second", "The second build's summary, changed."),
                   build_cache)
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


# ---- two builds on one origin: a page and its files always come from one build --------------

EXTRA = "only-in-the-newer-build.html"


NEWER_RULE = "\n/* the newer build */\n:root { --build: newer; }\n"


@pytest.fixture(scope="module")
def newer_build(tmp_path_factory, build_cache) -> Path:
    """The site with one more article, which the older build (built_site) does not have, and
    a stylesheet of its own, so that a page can tell whose files it got."""
    folder = tmp_path_factory.mktemp("newer")
    root = folder / "root"                       # this checkout, but for the stylesheet
    root.mkdir()
    (root / "pysrc").symlink_to(ROOT / "pysrc", target_is_directory=True)
    templates = Path(shutil.copytree(ROOT / "site_templates", root / "site_templates"))
    with open(templates / "static" / "style.css", "a", encoding="utf-8") as css:
        css.write(NEWER_RULE)
    content = content_with_summary(folder / "content", "The newer build's summary.")
    (content / EXTRA.replace(".html", ".md")).write_text(
        "---\ntitle: Only in the newer build\ndate: 2026-01-01\nsummary: A page the older build "
        "does not list.\n---\n\nA page of the newer build.\n\n::: widget temperature example=flat\n",
        encoding="utf-8")
    out = folder / "_site"
    build_site(root, out, content, build_cache)
    return out


@contextmanager
def serving_either(first: Path):
    """Serve one build under /nextword/; `deploy(site)` swaps in another at the same address.
    Yields the URL, deploy, and the server's log of requested paths; a path put in the log's
    `hidden` set answers 404."""
    top = first.parent.parent / f"www-{first.parent.name}-two"
    top.mkdir(exist_ok=True)
    link = top / SUB_PATH

    def deploy(site: Path) -> None:
        swap = top / "swap"
        swap.unlink(missing_ok=True)
        swap.symlink_to(site, target_is_directory=True)
        swap.replace(link)             # one rename: the server sees one build or the other

    class Log(list):
        hidden: set = set()

    log = Log()

    class Recording(SiteHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            log.append(path)
            if path in log.hidden:
                return self.send_error(404)
            return super().do_GET()

    deploy(first)
    with serving(top, handler=Recording) as url:
        yield url + f"{SUB_PATH}/", deploy, log


@pytest.mark.browser
def test_a_page_only_a_newer_build_has_gets_none_of_the_older_builds_files(context, watched,
                                                                         built_site, newer_build):
    with serving_either(built_site) as (url, deploy, log):
        visit_then_reload(watched, url + ARTICLE)     # the older build's worker controls the site
        deploy(newer_build)
        # The newer sw.js stays unseen, so the server's log holds only what the page asked for.
        log.hidden.add(f"/{SUB_PATH}/sw.js")
        log.clear()
        page, watch = context.new_page(), Watch()
        watch_page(page, watch)
        received = []
        page.on("response", lambda r: r.url.startswith(url) and received.append(r.url))
        page.goto(url + EXTRA)
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")  # the old one
        expect(page.locator("h1")).to_have_text("Only in the newer build")
        assert_widget_responds(page)                  # Python and its files too: the newer build's
        assert page.evaluate("() => getComputedStyle(document.documentElement)"
                             ".getPropertyValue('--build').trim()") == "newer"
        paths = {urlparse(u).path for u in received}
        wasm = json.loads((newer_build / "pyodide" / "pyodide-lock.json").read_text())["wasm"]["file_name"]
        assert {f"/{SUB_PATH}/assets/style.css", f"/{SUB_PATH}/assets/worker.js",
                f"/{SUB_PATH}/pyodide/{wasm}"} <= paths
        # Every file the page and its workers got came from the server, now the newer build's,
        # and none from the older build's cache.
        assert sorted(paths - set(log)) == []
    watch.assert_clean()


@pytest.mark.browser
def test_the_worker_does_not_take_over_a_page_loaded_without_it(browser, built_site, newer_build):
    """The page that registers the worker was loaded from the network, perhaps from another
    build than the worker's (here: a deploy in between); the worker leaves it alone."""
    context = browser.new_context()
    watch = watch_context(context)
    page = context.new_page()
    watch_page(page, watch)
    with serving_either(built_site) as (url, deploy, _):
        page.goto(url + ARTICLE)
        expect(page.locator(".dek")).not_to_have_text("The newer build's summary.")
        deploy(newer_build)                           # before the page registers sw.js
        wait_ready(temperature_widget(page))
        assert page.evaluate(ACTIVATED) == "uncontrolled"
        page.reload()                                 # now the worker's build, whole
        expect(page.locator(".dek")).to_have_text("The newer build's summary.")
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    context.close()
    watch.assert_clean()


# ---- 3. opened straight from disk (file://) --------------------------------------------

@pytest.mark.browser
def test_built_article_opened_from_disk_runs_its_widgets_from_the_file_bundle(from_disk, built_site):
    """From disk a browser refuses fetch() and workers from file URLs, so the page reads the whole
    runtime from one classic script, offline/runtime.js, and asks for none of its files."""
    requested = []
    from_disk.context.on("request", lambda r: requested.append(r.url))
    from_disk.goto((built_site / ARTICLE).as_uri())
    assert_widget_responds(from_disk)
    loaded = ["/".join(urlparse(url).path.split("/")[-2:]) for url in requested]
    assert ARTICLE in str(loaded) and "offline/runtime.js" in loaded
    assert [name for name in loaded if name.startswith(("pyodide/", "wheels/", "snapshot"))
            or name.endswith(("worker.js", "download.js", ".wasm", ".whl", ".zip"))] == []


@pytest.mark.browser
def test_unzipped_download_opened_from_disk_runs_its_widgets(from_disk, built_site, tmp_path):
    with zipfile.ZipFile(built_site / ZIP) as archive:
        archive.extractall(tmp_path)
    from_disk.goto((tmp_path / "nextword-offline" / "index.html").as_uri())
    expect(from_disk.locator("[data-offline-download]")).to_be_hidden()   # it is what they hold
    from_disk.locator(f'a[href="{ARTICLE}"]').first.click()
    assert_widget_responds(from_disk)
