"""Benchmark: how fast the built site becomes readable and live, against a bare Pyodide page.

Run from the repository root, after `python3 build.py build`:

    .venv/bin/python bench/bench_site.py [--runs 5] [--steps 200] [--site _site] [--json FILE]

It serves the built site and a bare baseline page from one local server (with a static host's
caching headers) and drives both in headless Chromium (Playwright). The baseline does only
`loadPyodide()` then `loadPackage("numpy")` on the main thread, from the unmodified Pyodide 0.27.7
files and the original numpy wheel (not py-compiled), as a page without our work would. Absolute
times drift on a shared machine, so the headline is the ratio of ours to the baseline, measured
in the same run, visits alternating. Figures are medians over the runs, with min and max:

- first contentful paint of the article;
- time until the first widget is ready, cold (new browser context) and warm (second visit, same
  context: HTTP cache and service worker, once the first visit's service worker is active), and where a cold start spends it (the worker's
  "python:..." performance marks: Python started, wheels installed, widgets imported, first
  figure and every figure drawn); and until every widget of the article is ready (they go live one
  by one, in the page's order);
- the same for the baseline, cold and warm, and the ratio;
- slider input-to-paint latency, p50 and p95 over --steps steps, of the explorer widget and of
  the top-p widget at real vocabulary scale, scrolled into view: each step sets the slider,
  dispatches `input`, waits for the view to change, then for the next frame to be painted. Also given: the same over
  the first sweep only (settings not seen before: no view is remembered), and the time until the
  view changes;
- main-thread long tasks (> 50 ms) between navigation and ready, cold: how many, the longest;
- bytes transferred before ready, per file and in total, raw and gzip-compressed (what a static
  host that compresses sends; hosts compress text and wasm, rarely .whl or .gz, which are
  compressed already).
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import shutil
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pysrc"))

from sitegen import runtime  # noqa: E402
from sitegen.browser import launch_options  # noqa: E402
from sitegen.serve import SiteHandler  # noqa: E402

ARTICLE = "sampling.html"
READY_TIMEOUT_MS = 120_000
# Installed before any page script: records when a widget (or the baseline) becomes ready,
# and every long task, on the page's own clock.
PROBE = """
window.__bench = { ready: null, allReady: null, longTasks: [] };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
} catch (e) {}
new MutationObserver(() => {
  if (window.__bench.ready === null && document.querySelector('[data-stage="ready"]')) {
    window.__bench.ready = performance.now();
  }
  if (window.__bench.allReady === null && window.__bench.ready !== null
      && !document.querySelector('[data-widget]:not([data-stage="ready"])')) {
    window.__bench.allReady = performance.now();
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"] });
"""
BASELINE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bare Pyodide baseline</title><link rel="icon" href="data:,">
<script src="pyodide.js"></script><script src="baseline.js" defer></script></head>
<body data-stage="loading"><p>Bare Pyodide 0.27.7 + numpy.</p></body></html>
"""
BASELINE_JS = """
(async () => {
  const pyodide = await loadPyodide();
  await pyodide.loadPackage("numpy");
  document.body.dataset.stage = "ready";
})();
"""
# The worker's marks, on the page's clock (ms since navigation).
WORKER_MARKS = """(origin) => performance.getEntriesByType("mark")
  .filter((m) => m.name.startsWith("python:"))
  .map((m) => [m.name.slice(7), m.startTime + performance.timeOrigin - origin])"""
SLIDER_STEPS = """
async ([selector, steps]) => {
  const root = document.querySelector(selector);
  root.scrollIntoView({ block: "center" });   // a reader looks at the widget they move
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const input = root.querySelector('input[type="range"]');
  const view = root.querySelector(".view");
  const lo = Number(input.min), hi = Number(input.max), step = Number(input.step) || (hi - lo) / 100;
  const toPaint = [], toView = [], seen = new Set();
  const firstSweep = [];
  let value = Number(input.value);
  for (let i = 0; i < steps; i++) {
    value = value + step > hi + 1e-9 ? lo : value + step;
    const text = String(Math.round(value / step) * step);
    const replaced = new Promise((resolve) => {
      const watch = new MutationObserver(() => { watch.disconnect(); resolve(performance.now()); });
      watch.observe(view, { childList: true, subtree: true, characterData: true, attributes: true });
    });
    const start = performance.now();
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    const shown = await replaced;
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    toPaint.push(performance.now() - start);
    toView.push(shown - start);
    if (!seen.has(input.value)) firstSweep.push(performance.now() - start);
    seen.add(input.value);
  }
  return { toPaint, toView, firstSweep };
}
"""


def baseline_folder(top: Path) -> Path:
    """The unmodified runtime files and the original numpy wheel, with the bare page."""
    folder = top / "baseline"
    folder.mkdir()
    downloads = ROOT / ".cache" / "downloads"
    with tarfile.open(runtime.fetch_pyodide_tarball(downloads)) as archive:
        for name in runtime.PYODIDE_FILES:
            (folder / name).write_bytes(archive.extractfile(f"package/{name}").read())
    shutil.copy(runtime.fetch_numpy_wheel(downloads), folder / runtime.NUMPY_WHEEL)
    (folder / "baseline.html").write_text(BASELINE_HTML)
    (folder / "baseline.js").write_text(BASELINE_JS)
    return folder


class CachingHandler(SiteHandler):
    """A static host's caching: files may be reused for a while, then revalidated."""

    def end_headers(self):
        self.send_header("Cache-Control", "public, max-age=600")
        super().end_headers()


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):   # a page closed mid-download
            super().handle_error(request, client_address)


def serve(top: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = QuietServer(("127.0.0.1", 0), functools.partial(CachingHandler, directory=str(top)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def visit(page, url: str) -> dict:
    """Load a page, wait for ready; return its figures (ms since navigation, page clock)."""
    requests: list[tuple[str, float]] = []
    page.on("requestfinished", lambda r: requests.append((r.url, time.time() * 1000)))
    page.goto(url)
    page.wait_for_selector('[data-stage="ready"]', timeout=READY_TIMEOUT_MS, state="attached")
    page.wait_for_function("() => window.__bench.allReady !== null", timeout=READY_TIMEOUT_MS)
    probe = page.evaluate("() => window.__bench")
    origin = page.evaluate("() => performance.timeOrigin")
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    long_tasks = [d for start, d in probe["longTasks"] if start <= probe["ready"] and d > 50]
    marks = {}
    for worker in page.workers:
        try:
            marks.update(worker.evaluate(WORKER_MARKS, origin))
        except Exception:  # the download worker closes itself once done
            pass
    fetched = [path for path, at in requests if at <= origin + probe["ready"]]
    return {"fcp_ms": fcp, "ready_ms": probe["ready"], "all_ready_ms": probe["allReady"], "long_tasks": len(long_tasks),
            "longest_task_ms": max(long_tasks, default=0.0), "marks": marks, "fetched": fetched}


# Until the page's service worker, if it registers one, is active: it has then stored the site
# for the next visit. Resolves "active", or "none" after the timeout (the bare page has none).
SERVICE_WORKER_ACTIVE = """(timeout) => new Promise((resolve) => {
  const until = Date.now() + timeout;
  (function poll() {
    navigator.serviceWorker.getRegistration().then((found) => {
      if (found && found.active) resolve("active");
      else if (Date.now() > until) resolve("none");
      else setTimeout(poll, 100);
    });
  })();
})"""


def two_visits(browser, url: str, service_worker_wait_ms: int) -> dict:
    """A first visit in a fresh context (cold), then a second one in it (warm). The first page
    stays open until its service worker (if any) is active, as a reader's would between two
    visits: a second visit while it is still storing the site would compete with its downloads."""
    context = browser.new_context()
    context.add_init_script(PROBE)
    figures = {}
    for name in ("cold", "warm"):
        page = context.new_page()
        figures[name] = visit(page, url)
        if name == "cold":
            figures[name]["service_worker"] = page.evaluate(SERVICE_WORKER_ACTIVE, service_worker_wait_ms)
        page.close()
    context.close()
    return figures


def slider_latencies(browser, url: str, selector: str, steps: int) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(f'{selector}[data-stage="ready"]', timeout=READY_TIMEOUT_MS, state="attached")
    latencies = page.evaluate(SLIDER_STEPS, [selector, steps])
    context.close()
    return latencies


def spread(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def file_sizes(url: str, folders: dict[str, Path]) -> tuple[str, int, int] | None:
    """(name, raw bytes, gzip bytes) of a fetched URL, read from the served folder."""
    path = unquote(urlparse(url).path).lstrip("/")
    top, _, rest = path.partition("/")
    if top not in folders:
        return None
    file = folders[top] / (rest or "index.html")
    if not file.is_file():
        return None
    data = file.read_bytes()
    return rest, len(data), len(gzip.compress(data, 6))


def bytes_by_file(urls: list[str], folders: dict[str, Path]) -> dict:
    files = {}
    for url in dict.fromkeys(urls):   # once per file: a repeat is not transferred again
        sizes = file_sizes(url, folders)
        if sizes:
            files[sizes[0]] = {"raw": sizes[1], "gzip": sizes[2]}
    return {"files": files, "total_raw": sum(f["raw"] for f in files.values()),
            "total_gzip": sum(f["gzip"] for f in files.values())}


def summarize(site_runs: list[dict], base_runs: list[dict], sliders: dict, folders: dict) -> dict:
    keys = ("fcp_ms", "ready_ms", "all_ready_ms", "long_tasks", "longest_task_ms")
    figures = {
        "site": {f"{v}_{key}": spread([r[v][key] for r in site_runs]) for v in ("cold", "warm") for key in keys},
        "baseline": {f"{v}_{key}": spread([r[v][key] for r in base_runs]) for v in ("cold", "warm") for key in keys},
        "cold_start_marks": {name: spread([r["cold"]["marks"].get(name) for r in site_runs])
                             for name in sorted({m for r in site_runs for m in r["cold"]["marks"]})},
        "sliders": {name: {"p50_ms": percentile(lat["toPaint"], 0.5), "p95_ms": percentile(lat["toPaint"], 0.95),
                           "max_ms": max(lat["toPaint"]), "steps": len(lat["toPaint"]),
                           "first_sweep_p50_ms": percentile(lat["firstSweep"], 0.5),
                           "first_sweep_p95_ms": percentile(lat["firstSweep"], 0.95),
                           "first_sweep_steps": len(lat["firstSweep"]),
                           "to_view_p50_ms": percentile(lat["toView"], 0.5),
                           "to_view_p95_ms": percentile(lat["toView"], 0.95)}
                    for name, lat in sliders.items()},
        "bytes_before_ready": bytes_by_file(site_runs[0]["cold"]["fetched"], folders),
        "baseline_bytes": bytes_by_file(base_runs[0]["cold"]["fetched"], folders),
    }
    for v in ("cold", "warm"):
        figures[f"ratio_ready_{v}"] = (figures["site"][f"{v}_ready_ms"]["median"]
                                       / figures["baseline"][f"{v}_ready_ms"]["median"])
    return figures


def report(figures: dict) -> str:
    site, base = figures["site"], figures["baseline"]
    row = lambda label, s: f"  {label:<40} {s['median']:7.0f} ms  (min {s['min']:.0f}, max {s['max']:.0f})"
    lines = ["Site (headless Chromium, local server; medians over the runs)",
             row("first contentful paint, cold", site["cold_fcp_ms"]),
             row("first widget ready, cold", site["cold_ready_ms"]),
             row("first widget ready, warm", site["warm_ready_ms"]),
             row("every widget ready, cold", site["cold_all_ready_ms"]),
             row("every widget ready, warm", site["warm_all_ready_ms"]),
             row("bare baseline ready, cold", base["cold_ready_ms"]),
             row("bare baseline ready, warm", base["warm_ready_ms"]),
             f"  ratio ours / baseline: cold {figures['ratio_ready_cold']:.2f}, warm {figures['ratio_ready_warm']:.2f}",
             "  cold start, worker marks (ms since navigation):"]
    for name, s in figures["cold_start_marks"].items():
        lines.append(row(f"  python:{name}", s))
    lines.append(f"  long tasks > 50 ms before ready, cold: median {site['cold_long_tasks']['median']:.0f} "
                 f"(max {site['cold_long_tasks']['max']:.0f}), longest {site['cold_longest_task_ms']['median']:.0f} ms "
                 f"median (min {site['cold_longest_task_ms']['min']:.0f}, max {site['cold_longest_task_ms']['max']:.0f})")
    for name, s in figures["sliders"].items():
        lines.append(f"  slider {name:<24} p50 {s['p50_ms']:5.1f} ms  p95 {s['p95_ms']:5.1f} ms  max {s['max_ms']:6.1f} ms "
                     f"over {s['steps']} steps; first sweep ({s['first_sweep_steps']} new settings) p50 "
                     f"{s['first_sweep_p50_ms']:.1f} p95 {s['first_sweep_p95_ms']:.1f}; view changed p50 "
                     f"{s['to_view_p50_ms']:.1f} p95 {s['to_view_p95_ms']:.1f}")
    for label, key in (("ours", "bytes_before_ready"), ("baseline", "baseline_bytes")):
        total = figures[key]
        lines.append(f"  bytes before ready, {label}: {total['total_raw'] / 1e6:.2f} MB raw, "
                     f"{total['total_gzip'] / 1e6:.2f} MB gzip")
        for name, f in sorted(total["files"].items(), key=lambda kv: -kv[1]["gzip"]):
            lines.append(f"      {name:<52} {f['raw'] / 1e3:9.0f} kB raw {f['gzip'] / 1e3:9.0f} kB gzip")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--site", type=Path, default=ROOT / "_site", help="the built site (default: _site/)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "site.json")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / ARTICLE).exists():
        print(f"Build the site first: python3 build.py build (no {ARTICLE} in {site})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        top = Path(tmp)
        (top / "site").symlink_to(site, target_is_directory=True)
        folders = {"site": site, "baseline": baseline_folder(top)}
        server, url = serve(top)
        browser = p.chromium.launch(**launch_options())
        site_runs, base_runs = [], []
        for i in range(args.runs):  # alternate, so a busy moment hits both
            site_runs.append(two_visits(browser, url + "site/" + ARTICLE, 60_000))
            base_runs.append(two_visits(browser, url + "baseline/baseline.html", 0))
            print(f"run {i + 1}/{args.runs}: ours {site_runs[-1]['cold']['ready_ms']:.0f} / "
                  f"{site_runs[-1]['warm']['ready_ms']:.0f} ms, baseline {base_runs[-1]['cold']['ready_ms']:.0f} / "
                  f"{base_runs[-1]['warm']['ready_ms']:.0f} ms (cold / warm); service worker before the "
                  f"second visit: {site_runs[-1]['cold']['service_worker']}", flush=True)
        big = ':has(input[name="example"][value="big"]:checked)'
        sliders = {
            "explorer": slider_latencies(browser, url + "site/" + ARTICLE, f'[data-widget="explorer"]{big}', args.steps),
            "top-p, real vocabulary": slider_latencies(
                browser, url + "site/" + ARTICLE, f'[data-widget="top_p"]{big}', args.steps),
        }
        browser.close()
        server.shutdown()
        figures = summarize(site_runs, base_runs, sliders, folders)   # reads the served files
    print(report(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Figures written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
