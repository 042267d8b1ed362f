"""Benchmark: how fast the built site becomes readable and live, against a bare Pyodide page.

Run from the repository root, after `python3 build.py build`:

    .venv/bin/python bench/bench_site.py [--runs 5] [--steps 200] [--json bench/results/site.json]

It serves _site/ and a bare baseline page from one local server and drives both in
headless Chromium (Playwright). The baseline does only `loadPyodide()` then
`loadPackage("numpy")` on the main thread, from the unmodified Pyodide 0.27.7 files and
the original numpy wheel (not py-compiled), as a page without our work would. Absolute
times drift on a shared machine, so the headline is the ratio of ours to the baseline,
measured in the same run. Figures are medians over the runs, with min and max:

- first contentful paint of the article;
- time until the first widget is ready, cold (new browser context) and warm (second visit);
- the same for the baseline, cold and warm;
- slider input-to-paint latency, p50 and p95 over --steps steps, of the explorer widget
  and of the top-p widget at real vocabulary scale (each step waits for its view to be
  replaced and the next frame);
- main-thread long tasks (> 50 ms) between navigation and ready;
- bytes transferred before ready, raw and gzip-compressed (as a static host would serve
  them), by file.
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
from pathlib import Path

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
window.__bench = { ready: null, longTasks: [] };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__bench.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
} catch (e) {}
new MutationObserver(() => {
  if (window.__bench.ready === null && document.querySelector('[data-stage="ready"]')) {
    window.__bench.ready = performance.now();
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"] });
"""
BASELINE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bare Pyodide baseline</title>
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
SLIDER_STEPS = """
async ([selector, steps]) => {
  const root = document.querySelector(selector);
  const input = root.querySelector('input[type="range"]');
  const view = root.querySelector(".view");
  const lo = Number(input.min), hi = Number(input.max), step = Number(input.step) || (hi - lo) / 100;
  const latencies = [];
  let value = Number(input.value);
  for (let i = 0; i < steps; i++) {
    value = value + step > hi ? lo : value + step;
    const replaced = new Promise((resolve) => {
      const watch = new MutationObserver(() => { watch.disconnect(); resolve(); });
      watch.observe(view, { childList: true, subtree: true, characterData: true });
    });
    const start = performance.now();
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await replaced;
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    latencies.push(performance.now() - start);
  }
  return latencies;
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


class QuietCachingHandler(SiteHandler):
    """A static host's caching: files may be reused for a while, then revalidated."""

    def end_headers(self):
        self.send_header("Cache-Control", "public, max-age=600")
        super().end_headers()


def serve(top: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietCachingHandler, directory=str(top)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def visit(page, url: str, transfers: list | None = None) -> dict:
    """Load a page, wait for ready; return its figures (ms, page clock)."""
    page.goto(url)
    page.wait_for_selector('[data-stage="ready"]', timeout=READY_TIMEOUT_MS, state="attached")
    probe = page.evaluate("() => window.__bench")
    fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    long_tasks = [d for start, d in probe["longTasks"] if start <= probe["ready"] and d > 50]
    return {"fcp_ms": fcp, "ready_ms": probe["ready"], "long_tasks": len(long_tasks),
            "longest_task_ms": max(long_tasks, default=0.0)}


def record_transfers(page, transfers: list) -> None:
    def on_response(response):
        try:
            body = response.body()
        except Exception:  # a redirect or a response without a body
            return
        transfers.append((response.url.rsplit("/", 1)[-1] or "/", len(body), len(gzip.compress(body, 6))))
    page.on("response", on_response)


def one_site_run(browser, url: str) -> dict:
    context = browser.new_context()
    context.add_init_script(PROBE)
    page = context.new_page()
    transfers: list = []
    record_transfers(page, transfers)
    cold = visit(page, url)
    cold_transfers = list(transfers)
    page.close()
    page = context.new_page()
    warm = visit(page, url)
    context.close()
    return {"cold": cold, "warm": warm, "transfers": cold_transfers}


def slider_latencies(browser, url: str, selector: str, steps: int) -> list[float]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(f'{selector}[data-stage="ready"]', timeout=READY_TIMEOUT_MS, state="attached")
    latencies = page.evaluate(SLIDER_STEPS, [selector, steps])
    context.close()
    return latencies


def spread(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarize(site_runs: list[dict], base_runs: list[dict], sliders: dict) -> dict:
    figures = {
        "site": {f"{visit}_{key}": spread([r[visit][key] for r in site_runs])
                 for visit in ("cold", "warm") for key in ("fcp_ms", "ready_ms", "long_tasks", "longest_task_ms")},
        "baseline": {f"{visit}_ready_ms": spread([r[visit]["ready_ms"] for r in base_runs])
                     for visit in ("cold", "warm")},
        "sliders": {name: {"p50_ms": percentile(lat, 0.5), "p95_ms": percentile(lat, 0.95),
                           "max_ms": max(lat), "steps": len(lat)} for name, lat in sliders.items()},
    }
    for visit in ("cold", "warm"):
        figures[f"ratio_ready_{visit}"] = (figures["site"][f"{visit}_ready_ms"]["median"]
                                           / figures["baseline"][f"{visit}_ready_ms"]["median"])
    figures["bytes_before_ready"] = bytes_by_file(site_runs[0]["transfers"])
    figures["baseline_bytes"] = bytes_by_file(base_runs[0]["transfers"])
    return figures


def bytes_by_file(transfers: list) -> dict:
    files = {name: {"raw": raw, "gzip": packed} for name, raw, packed in transfers}
    return {"files": files, "total_raw": sum(f["raw"] for f in files.values()),
            "total_gzip": sum(f["gzip"] for f in files.values())}


def report(figures: dict) -> str:
    site, base = figures["site"], figures["baseline"]
    row = lambda label, s: f"  {label:<38} {s['median']:8.0f} ms  (min {s['min']:.0f}, max {s['max']:.0f})"
    lines = ["Site (headless Chromium, local server)",
             row("first contentful paint, cold", site["cold_fcp_ms"]),
             row("first widget ready, cold", site["cold_ready_ms"]),
             row("first widget ready, warm", site["warm_ready_ms"]),
             row("bare baseline ready, cold", base["cold_ready_ms"]),
             row("bare baseline ready, warm", base["warm_ready_ms"]),
             f"  ratio ours / baseline: cold {figures['ratio_ready_cold']:.2f}, warm {figures['ratio_ready_warm']:.2f}",
             f"  long tasks > 50 ms before ready, cold: median {site['cold_long_tasks']['median']:.0f}, "
             f"longest {site['cold_longest_task_ms']['max']:.0f} ms"]
    for name, s in figures["sliders"].items():
        lines.append(f"  slider {name:<28} p50 {s['p50_ms']:6.1f} ms  p95 {s['p95_ms']:6.1f} ms  "
                     f"max {s['max_ms']:6.1f} ms over {s['steps']} steps")
    for label, key in (("ours", "bytes_before_ready"), ("baseline", "baseline_bytes")):
        total = figures[key]
        lines.append(f"  bytes before ready, {label}: {total['total_raw'] / 1e6:.2f} MB raw, "
                     f"{total['total_gzip'] / 1e6:.2f} MB gzip")
        for name, f in sorted(total["files"].items(), key=lambda kv: -kv[1]["gzip"])[:8]:
            lines.append(f"      {name:<52} {f['raw'] / 1e3:9.0f} kB raw {f['gzip'] / 1e3:9.0f} kB gzip")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "site.json")
    parser.add_argument("--site", type=Path, default=ROOT / "_site", help="the built site (default: _site/)")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / ARTICLE).exists():
        print("Build the site first: python3 build.py build", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        top = Path(tmp)
        (top / "site").symlink_to(site, target_is_directory=True)
        baseline_folder(top)
        server, url = serve(top)
        browser = p.chromium.launch(**launch_options())
        site_runs, base_runs = [], []
        for _ in range(args.runs):  # alternate, so a busy moment hits both
            site_runs.append(one_site_run(browser, url + "site/" + ARTICLE))
            base_runs.append(one_site_run(browser, url + "baseline/baseline.html"))
        sliders = {
            "explorer": slider_latencies(browser, url + "site/" + ARTICLE, '[data-widget="explorer"]', args.steps),
            "top-p, real vocabulary": slider_latencies(
                browser, url + "site/" + ARTICLE, '[data-widget="top_p"]:has(input[name="example"][value="big"]:checked)', args.steps),
        }
        browser.close()
        server.shutdown()
    figures = summarize(site_runs, base_runs, sliders)
    print(report(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Figures written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
