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
  the first sweep only (settings not seen before: no view is remembered), the time until the
  view changes, and how many frames the browser began from the input to the paint;
- main-thread long tasks (> 50 ms) between navigation and ready, and until every widget is ready,
  cold: how many, the longest;
- bytes transferred before ready, per file and in total, raw and gzip-compressed (what a static
  host that compresses sends; hosts compress text and wasm, rarely .whl or .gz, which are
  compressed already);
- the returning reader, for both pages: a first visit on a new browser profile that stays open like
  a reader's (--dwell seconds after ready), then (a) a reload of that tab, (b) a new tab, (c) a new
  browser process on the same profile (the next day); each later visit's first widget and every
  widget ready, and its long tasks;
- whether V8's WebAssembly code cache was used on each later visit, read from a Chrome trace of
  the page (its workers included): a module compiled by compileStreaming/instantiateStreaming
  names its URL (`wasm.SetUrl`) and, when its compiled code comes from the cache,
  `v8.wasm.moduleCacheHit` (then `wasm.Deserialize`); a visit that writes an entry logs
  `v8.wasm.compiledModule` and `v8.wasm.cachedModule`. A module compiled from bytes
  (WebAssembly.compile, new WebAssembly.Module: never cached) shows only by its size
  (`wasm.GetNativeModuleFromCache`'s wire_bytes), which names numpy's extension modules: their
  sizes are read from the served wheels. Functions compiled on first call (`wasm.CompileLazy`,
  which blocks the thread that calls them) tell how much compiling a visit still did;
- every goal of issue 15 against its figure, met or not. The cold ratio's goal asks for three
  consecutive runs: each run of --runs 5 or more is appended to bench/results/history.jsonl and
  the last three are shown.
"""
from __future__ import annotations

import argparse
import datetime
import gzip
import json
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pysrc"))

from sitegen import runtime  # noqa: E402
from sitegen.browser import launch_options  # noqa: E402
from sitegen.serve import SiteHandler, serving  # noqa: E402

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
  const toPaint = [], toView = [], frames = [], seen = new Set();
  const firstSweep = [];
  let frame = 0, counting = true;      // frames the browser has begun since the first step
  (function tick() { if (counting) requestAnimationFrame(() => { frame++; tick(); }); })();
  let value = Number(input.value);
  for (let i = 0; i < steps; i++) {
    value = value + step > hi + 1e-9 ? lo : value + step;
    const text = String(Math.round(value / step) * step);
    const replaced = new Promise((resolve) => {
      const watch = new MutationObserver(() => { watch.disconnect(); resolve(performance.now()); });
      watch.observe(view, { childList: true, subtree: true, characterData: true, attributes: true });
    });
    const start = performance.now(), startFrame = frame;
    input.value = text;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    const shown = await replaced;
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    toPaint.push(performance.now() - start);
    toView.push(shown - start);
    frames.push(frame - startFrame);   // the frame that painted the new view is the last begun
    if (!seen.has(input.value)) firstSweep.push(performance.now() - start);
    seen.add(input.value);
  }
  counting = false;
  return { toPaint, toView, frames, firstSweep };
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


def visit(page, url: str | None) -> dict:
    """Load a page (url None: reload it), wait until every widget is ready; return its figures
    (ms since navigation, page clock)."""
    requests: list[tuple[str, float]] = []
    page.on("requestfinished", lambda r: requests.append((r.url, time.time() * 1000)))
    if url is None:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_selector('[data-stage="ready"]', timeout=READY_TIMEOUT_MS, state="attached")
    page.wait_for_function("() => window.__bench.allReady !== null", timeout=READY_TIMEOUT_MS)
    probe = page.evaluate("() => window.__bench")
    origin = page.evaluate("() => performance.timeOrigin")
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    long_tasks = [d for start, d in probe["longTasks"] if start <= probe["ready"] and d > 50]
    long_tasks_all = [d for start, d in probe["longTasks"] if start <= probe["allReady"] and d > 50]
    marks = {}
    for worker in page.workers:
        try:
            marks.update(worker.evaluate(WORKER_MARKS, origin))
        except Exception:  # the download worker closes itself once done
            pass
    fetched = [path for path, at in requests if at <= origin + probe["ready"]]
    return {"fcp_ms": fcp, "ready_ms": probe["ready"], "all_ready_ms": probe["allReady"], "long_tasks": len(long_tasks),
            "longest_task_ms": max(long_tasks, default=0.0), "long_tasks_all": len(long_tasks_all),
            "longest_task_all_ms": max(long_tasks_all, default=0.0), "marks": marks, "fetched": fetched}


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


# The returning reader's later visits, in order.
LATER_VISITS = ("reload", "new_tab", "next_day")
LATER_LABELS = {"reload": "reload", "new_tab": "new tab", "next_day": "next day (new browser process)"}
# What the code-cache report reads: V8's wasm events, and Blink's, which name the cache's use.
TRACE_CATEGORIES = ["v8.wasm", "disabled-by-default-devtools.timeline"]


class Trace:
    """A Chrome trace of one page's renderer, its workers included (CDP Tracing on the page)."""

    def __init__(self, context, page, categories: list[str] = TRACE_CATEGORIES):
        self.page = page
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Tracing.start", {"transferMode": "ReturnAsStream", "traceConfig": {
            "includedCategories": categories, "recordMode": "recordAsMuchAsPossible"}})

    def events(self) -> list[dict]:
        """Stop tracing; the trace's events."""
        done: dict = {}
        self.cdp.on("Tracing.tracingComplete", lambda params: done.update(params))
        self.cdp.send("Tracing.end")
        while not done:
            self.page.wait_for_timeout(50)
        chunks = []
        while True:
            read = self.cdp.send("IO.read", {"handle": done["stream"], "size": 1 << 20})
            chunks.append(read["data"])
            if read.get("eof"):
                break
        self.cdp.send("IO.close", {"handle": done["stream"]})
        self.cdp.detach()
        data = json.loads("".join(chunks))
        return data["traceEvents"] if isinstance(data, dict) else data


def extension_modules(folders: dict[str, Path]) -> dict[int, str]:
    """The served wheels' extension modules by size in bytes: how a trace names a module it
    compiled from bytes (its wire_bytes)."""
    modules = {}
    for folder in folders.values():
        for wheel in folder.rglob("*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                for entry in archive.infolist():
                    if entry.filename.endswith(".so"):
                        modules[entry.file_size] = entry.filename.rsplit("/", 1)[-1]
    return modules


def file_of(url: str) -> str:
    return re.sub(r"^pyodide\.asm\.[0-9a-f]+\.wasm$", MAIN_WASM, url.split("?")[0].rsplit("/", 1)[-1])


def wasm_code_cache(events: list[dict], modules: dict[int, str]) -> dict:
    """What one visit's trace says about each WebAssembly module it loaded:
    streamed: {file: "hit" | "compiled" | "invalid"} for modules compiled from a Response (the only
      ones the code cache can serve), with the cache bytes each hit consumed;
    from_bytes: the extension modules compiled from bytes (no cache can serve those);
    written: {file: bytes} of code cache this visit wrote (the last entry of each file);
    lazy: functions compiled on first call, and ms."""
    streamed, consumed, from_bytes, written, compiled_on = {}, {}, set(), {}, {}
    for event in sorted(events, key=lambda e: e.get("ts", 0)):
        name, args = event.get("name"), event.get("args") or {}
        if name == "wasm.SetUrl":
            streamed.setdefault(file_of(args["url"]), "compiled")
        elif name == "v8.wasm.moduleCacheHit":
            last = file_of(args["url"])
            streamed[last], consumed[last] = "hit", args.get("consumedCacheSize", 0)
        elif name == "v8.wasm.moduleCacheInvalid" and consumed:
            streamed[list(consumed)[-1]] = "invalid"
        elif name == "v8.wasm.compiledModule":      # then, on the same thread, cachedModule
            compiled_on[event.get("tid")] = file_of(args["url"])
        elif name == "v8.wasm.cachedModule" and event.get("tid") in compiled_on:
            written[compiled_on[event.get("tid")]] = args.get("producedCacheSize", 0)
        elif name == "wasm.GetNativeModuleFromCache" and args.get("wire_bytes") in modules:
            from_bytes.add(modules[args["wire_bytes"]])
    lazy = [e for e in events if e.get("name") == "wasm.CompileLazy"]
    return {"streamed": streamed, "consumed": consumed, "from_bytes": sorted(from_bytes - set(streamed)),
            "written": written, "lazy_functions": len(lazy), "lazy_ms": sum(e.get("dur", 0) for e in lazy) / 1000}


def open_profile(playwright, profile: str):
    context = playwright.chromium.launch_persistent_context(profile, **launch_options())
    context.add_init_script(PROBE)
    return context, (context.pages[0] if context.pages else context.new_page())


def traced_visit(context, page, url: str | None, modules: dict[int, str]) -> dict:
    trace = Trace(context, page)
    figures = visit(page, url)
    figures["wasm"] = wasm_code_cache(trace.events(), modules)
    return figures


def returning_reader(playwright, url: str, service_worker_wait_ms: int, dwell_ms: int,
                     modules: dict[int, str]) -> dict:
    """A reader on a new browser profile: a first visit that stays open (dwell_ms after its first
    widget is ready: V8 writes its code cache only once tier-up has settled), then a reload, a new
    tab (the old one closed), and a new browser process on the same profile (the next day)."""
    figures = {}
    with tempfile.TemporaryDirectory() as profile:
        context, page = open_profile(playwright, profile)
        trace = Trace(context, page)
        figures["first"] = visit(page, url)
        figures["first"]["service_worker"] = page.evaluate(SERVICE_WORKER_ACTIVE, service_worker_wait_ms)
        page.wait_for_timeout(max(0.0, dwell_ms - (page.evaluate("() => performance.now()") - figures["first"]["ready_ms"])))
        figures["first"]["wasm"] = wasm_code_cache(trace.events(), modules)
        figures["reload"] = traced_visit(context, page, None, modules)
        tab = context.new_page()
        page.close()
        figures["new_tab"] = traced_visit(context, tab, url, modules)
        context.close()
        context, page = open_profile(playwright, profile)
        figures["next_day"] = traced_visit(context, page, url, modules)
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


MAIN_WASM = "pyodide.asm.wasm"   # the site's is pyodide.asm.HASH.wasm: file_of names both so


def code_cache_counts(visits: list[dict]) -> dict:
    """Over the runs, one later visit: per streamed module, in how many runs the code cache served
    it; the extension modules compiled from bytes; the lazy compiling, median."""
    streamed = sorted({name for v in visits for name in v["wasm"]["streamed"]})
    return {"runs": len(visits),
            "streamed": {name: {"hit": sum(v["wasm"]["streamed"].get(name) == "hit" for v in visits),
                                "seen": sum(name in v["wasm"]["streamed"] for v in visits),
                                "consumed": spread([v["wasm"]["consumed"].get(name) for v in visits])["median"]}
                         for name in streamed},
            "from_bytes": spread([len(v["wasm"]["from_bytes"]) for v in visits]),
            "from_bytes_names": sorted({n for v in visits for n in v["wasm"]["from_bytes"]}),
            "lazy_functions": spread([v["wasm"]["lazy_functions"] for v in visits]),
            "lazy_ms": spread([v["wasm"]["lazy_ms"] for v in visits]),
            "written": {name: {"runs": sum(name in v["wasm"]["written"] for v in visits),
                               "bytes": spread([v["wasm"]["written"].get(name) for v in visits])["median"]}
                        for name in sorted({n for v in visits for n in v["wasm"]["written"]})}}


def summarize_returning(runs: list[dict]) -> dict:
    keys = ("ready_ms", "all_ready_ms", "long_tasks_all", "longest_task_all_ms")
    return {visit: {**{key: spread([r[visit][key] for r in runs]) for key in keys},
                    "wasm": code_cache_counts([r[visit] for r in runs]),
                    "marks": {name: spread([r[visit]["marks"].get(name) for r in runs])
                              for name in sorted({m for r in runs for m in r[visit]["marks"]})}}
            for visit in ("first",) + LATER_VISITS}


def summarize(site_runs: list[dict], base_runs: list[dict], sliders: dict, folders: dict,
              site_returning: list[dict], base_returning: list[dict]) -> dict:
    keys = ("fcp_ms", "ready_ms", "all_ready_ms", "long_tasks", "longest_task_ms", "long_tasks_all",
            "longest_task_all_ms")
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
                           "to_view_p95_ms": percentile(lat["toView"], 0.95),
                           "frames_p50": percentile(lat["frames"], 0.5),
                           "frames_p95": percentile(lat["frames"], 0.95)}
                    for name, lat in sliders.items()},
        "returning": {"site": summarize_returning(site_returning), "baseline": summarize_returning(base_returning)},
        "bytes_before_ready": bytes_by_file(site_runs[0]["cold"]["fetched"], folders),
        "baseline_bytes": bytes_by_file(base_runs[0]["cold"]["fetched"], folders),
    }
    for v in ("cold", "warm"):
        figures[f"ratio_ready_{v}"] = (figures["site"][f"{v}_ready_ms"]["median"]
                                       / figures["baseline"][f"{v}_ready_ms"]["median"])
    figures["runs"] = len(site_runs)
    visits = {"cold": [r["cold"] for r in site_runs], "warm": [r["warm"] for r in site_runs],
              **{v: [r[v] for r in site_returning] for v in ("first",) + LATER_VISITS}}
    figures["long_task_visits"] = {name: {"with": sum(v["long_tasks_all"] > 0 for v in group), "of": len(group),
                                          "longest_ms": max(v["longest_task_all_ms"] for v in group)}
                                   for name, group in visits.items()}
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
    lines.append(f"  long tasks > 50 ms until every widget ready, cold: median {site['cold_long_tasks_all']['median']:.0f} "
                 f"(max {site['cold_long_tasks_all']['max']:.0f}), longest {site['cold_longest_task_all_ms']['median']:.0f} ms "
                 f"median (max {site['cold_longest_task_all_ms']['max']:.0f})")
    for name, s in figures["sliders"].items():
        lines.append(f"  slider {name:<24} p50 {s['p50_ms']:5.1f} ms  p95 {s['p95_ms']:5.1f} ms  max {s['max_ms']:6.1f} ms "
                     f"over {s['steps']} steps; first sweep ({s['first_sweep_steps']} new settings) p50 "
                     f"{s['first_sweep_p50_ms']:.1f} p95 {s['first_sweep_p95_ms']:.1f}; view changed p50 "
                     f"{s['to_view_p50_ms']:.1f} p95 {s['to_view_p95_ms']:.1f}; frames to paint p50 "
                     f"{s['frames_p50']:.0f} p95 {s['frames_p95']:.0f}")
    for label, key in (("ours", "bytes_before_ready"), ("baseline", "baseline_bytes")):
        total = figures[key]
        lines.append(f"  bytes before ready, {label}: {total['total_raw'] / 1e6:.2f} MB raw, "
                     f"{total['total_gzip'] / 1e6:.2f} MB gzip")
        for name, f in sorted(total["files"].items(), key=lambda kv: -kv[1]["gzip"]):
            lines.append(f"      {name:<52} {f['raw'] / 1e3:9.0f} kB raw {f['gzip'] / 1e3:9.0f} kB gzip")
    lines += report_returning(figures["returning"])
    lines += report_goals(figures)
    return "\n".join(lines)


def cache_sentence(wasm: dict) -> str:
    """One later visit's WebAssembly, over the runs, in words."""
    runs, parts = wasm["runs"], []
    for name, s in wasm["streamed"].items():
        if s["hit"]:
            parts.append(f"{name} from the code cache in {s['hit']}/{runs} runs ({s['consumed'] / 1e6:.1f} MB)")
        else:
            parts.append(f"{name} streamed, compiled: not from the code cache (0/{runs} runs)")
    if not wasm["streamed"]:
        parts.append("no module compiled from a Response (nothing the code cache can serve)")
    if wasm["from_bytes_names"]:
        parts.append(f"numpy: {wasm['from_bytes']['median']:.0f} extension modules compiled from bytes "
                     f"(never cached)")
    parts.append(f"{wasm['lazy_functions']['median']:.0f} functions compiled on first call "
                 f"({wasm['lazy_ms']['median']:.0f} ms)")
    for name, w in wasm["written"].items():
        parts.append(f"wrote a code cache entry for {name} in {w['runs']}/{runs} runs ({w['bytes'] / 1e6:.1f} MB)")
    return "; ".join(parts)


def report_returning(returning: dict) -> list[str]:
    site, base = returning["site"], returning["baseline"]
    runs = site["first"]["wasm"]["runs"]
    lines = [f"Returning reader (new profile; first visit open {returning['dwell_s']:.0f} s after ready; medians of {runs})",
             f"  {'':<34} {'ours: first / every widget':>28} {'bare page':>11} {'ratio':>6}"]
    for visit in ("first",) + LATER_VISITS:
        label = "first visit (cold, traced)" if visit == "first" else LATER_LABELS[visit]
        ours, bare = site[visit], base[visit]
        lines.append(f"  {label:<34} {ours['ready_ms']['median']:10.0f} / {ours['all_ready_ms']['median']:6.0f} ms "
                     f"(min {ours['ready_ms']['min']:.0f}, max {ours['ready_ms']['max']:.0f}) "
                     f"{bare['ready_ms']['median']:7.0f} ms {ours['ready_ms']['median'] / bare['ready_ms']['median']:6.2f}")
    lines.append("  where ours spends it, worker marks (ms since navigation, medians):")
    for visit in ("first",) + LATER_VISITS:
        marks = sorted(site[visit]["marks"].items(), key=lambda kv: kv[1]["median"])
        lines.append(f"    {LATER_LABELS.get(visit, 'first visit')}: "
                     + ", ".join(f"{name} {s['median']:.0f}" for name, s in marks))
    lines.append("  WebAssembly code cache (Chrome trace of each visit):")
    lines.append(f"    first visit, ours: {cache_sentence(site['first']['wasm'])}")
    lines.append(f"    first visit, bare: {cache_sentence(base['first']['wasm'])}")
    for visit in LATER_VISITS:
        lines.append(f"    {LATER_LABELS[visit]}, ours: {cache_sentence(site[visit]['wasm'])}")
        lines.append(f"    {LATER_LABELS[visit]}, bare: {cache_sentence(base[visit]['wasm'])}")
    return lines


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def report_goals(figures: dict) -> list[str]:
    """Issue 15's goals, each against its figure."""
    site = figures["returning"]["site"]
    lines = ["Goals (issue 15)"]
    for visit in LATER_VISITS:
        ready = site[visit]["ready_ms"]["median"]
        lines.append(f"  returning reader, {LATER_LABELS[visit]}: first widget ready {ready:.0f} ms, goal < 1000 ms: "
                     f"{verdict(ready < 1000)}")
    history = figures.get("cold_ratio_history", [])
    shown = ", ".join(f"{r:.2f}" for r in history) or "none yet"
    lines.append(f"  cold ready / bare page: {figures['ratio_ready_cold']:.2f} this run; last three runs of 5 or more: "
                 f"{shown}; goal <= 0.45 in three consecutive runs: "
                 f"{verdict(len(history) == 3 and all(r <= 0.45 for r in history))}")
    for name, s in figures["sliders"].items():
        lines.append(f"  slider {name}: view changed p95 {s['to_view_p95_ms']:.1f} ms, goal <= 16 ms: "
                     f"{verdict(s['to_view_p95_ms'] <= 16)}; painted p95 in the {s['frames_p95']:.0f}. frame after the "
                     f"input ({s['p95_ms']:.1f} ms), goal within two frames: {verdict(s['frames_p95'] <= 2)}")
    counts = figures["long_task_visits"]
    spots = ", ".join(f"{name.replace('_', ' ')} {c['with']}/{c['of']} (longest {c['longest_ms']:.0f} ms)"
                      for name, c in counts.items())
    lines.append(f"  main-thread tasks > 50 ms from navigation to every figure live, visits with one: {spots}; "
                 f"goal none: {verdict(all(c['with'] == 0 for c in counts.values()))}")
    return lines


def cold_ratio_history(figures: dict, path: Path) -> list[float]:
    """Append this run (if of 5 runs or more) to the history; the cold ratios of the last three."""
    if figures["runs"] >= 5:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as history:
            history.write(json.dumps({"when": datetime.datetime.now().isoformat(timespec="seconds"), "commit": commit,
                                      "runs": figures["runs"], "ratio_ready_cold": figures["ratio_ready_cold"]}) + "\n")
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e["ratio_ready_cold"] for e in entries if e["runs"] >= 5][-3:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--site", type=Path, default=ROOT / "_site", help="the built site (default: _site/)")
    parser.add_argument("--dwell", type=float, default=15.0,
                        help="seconds the returning reader's first visit stays open after ready (default 15)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "site.json")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / ARTICLE).exists():
        print(f"Build the site first: python3 build.py build (no {ARTICLE} in {site})", file=sys.stderr)
        return 2
    with (tempfile.TemporaryDirectory() as tmp, sync_playwright() as p,
          serving(Path(tmp), handler=CachingHandler) as url):
        top = Path(tmp)
        (top / "site").symlink_to(site, target_is_directory=True)
        folders = {"site": site, "baseline": baseline_folder(top)}
        browser = p.chromium.launch(**launch_options())
        modules = extension_modules(folders)
        site_runs, base_runs, site_returning, base_returning = [], [], [], []
        for i in range(args.runs):  # alternate, so a busy moment hits both
            site_runs.append(two_visits(browser, url + "site/" + ARTICLE, 60_000))
            base_runs.append(two_visits(browser, url + "baseline/baseline.html", 0))
            print(f"run {i + 1}/{args.runs}: ours {site_runs[-1]['cold']['ready_ms']:.0f} / "
                  f"{site_runs[-1]['warm']['ready_ms']:.0f} ms, baseline {base_runs[-1]['cold']['ready_ms']:.0f} / "
                  f"{base_runs[-1]['warm']['ready_ms']:.0f} ms (cold / warm); service worker before the "
                  f"second visit: {site_runs[-1]['cold']['service_worker']}", flush=True)
            site_returning.append(returning_reader(p, url + "site/" + ARTICLE, 60_000, args.dwell * 1000, modules))
            base_returning.append(returning_reader(p, url + "baseline/baseline.html", 0, args.dwell * 1000, modules))
            later = lambda r: " / ".join(f"{r[v]['ready_ms']:.0f}" for v in LATER_VISITS)
            print(f"       returning reader (reload / new tab / next day): ours {later(site_returning[-1])} ms, "
                  f"baseline {later(base_returning[-1])} ms", flush=True)
        big = ':has(input[name="example"][value="big"]:checked)'
        sliders = {
            "explorer": slider_latencies(browser, url + "site/" + ARTICLE, f'[data-widget="explorer"]{big}', args.steps),
            "top-p, real vocabulary": slider_latencies(
                browser, url + "site/" + ARTICLE, f'[data-widget="top_p"]{big}', args.steps),
        }
        browser.close()
        figures = summarize(site_runs, base_runs, sliders, folders,   # reads the served files
                            site_returning, base_returning)
    figures["returning"]["dwell_s"] = args.dwell
    figures["cold_ratio_history"] = cold_ratio_history(figures, args.json.parent / "history.jsonl")
    print(report(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Figures written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
