"""Which work makes the article page's main-thread long tasks: a Chrome trace of each visit.

Run from the repository root, after `python3 build.py build`:

    .venv/bin/python bench/trace_long_tasks.py [--runs 5] [--dwell 10] [--site _site] [--json FILE] [--keep-traces DIR]

bench/bench_site.py counts main-thread tasks over 50 ms (PerformanceObserver "longtask") from
navigation until every figure is live; this script says what they are. It serves the built site
as bench_site.py does (a static host's caching headers) and, per run, on a new browser profile
(a persistent context in a temporary folder):

- first: a first visit, which stays open until every figure is live and the service worker is
  active, then --dwell seconds more;
- reload: a reload of that tab;
- warm: a second visit in a new tab of the same browser (HTTP cache, service worker active);
- next_day: the browser closed, a new browser process on the same profile, a visit.

Each visit is traced through a CDP session on its page (Tracing.start ... Tracing.end, the trace
read back as a stream). From the trace it takes the page's main thread (CrRendererMain of the
renderer that parsed the article), the window from the navigation (the `navigationStart` mark)
to the moment every `[data-widget]` has data-stage="ready" (a mark the probe sets), and every
top-level task of that thread over 50 ms in the window. Each is broken down by what ran inside it:
its tree of trace events (ParseHTML, EvaluateScript + URL, FunctionCall + function, V8.GC*,
UpdateLayoutTree, Layout, Paint, v8.compile, ...), and its time by event name, exclusive of
children. `dur` is wall time, `tdur` the thread's CPU time: a task whose CPU time is well below its
wall time waited for a core (the machine's other threads), not for its own work.
The long tasks the page itself saw (PerformanceObserver) are listed beside them, on the trace's clock.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pysrc"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_site import ARTICLE, READY_TIMEOUT_MS, SERVICE_WORKER_ACTIVE, CachingHandler, Trace  # noqa: E402
from sitegen.browser import launch_options  # noqa: E402
from sitegen.serve import serving  # noqa: E402

LONG_MS = 50.0
CATEGORIES = [
    "devtools.timeline", "disabled-by-default-devtools.timeline", "disabled-by-default-devtools.timeline.frame",
    "v8", "v8.execute", "blink", "blink.user_timing", "loading", "toplevel", "disabled-by-default-v8.gc",
    "disabled-by-default-v8.cpu_profiler", "v8.wasm", "navigation", "ServiceWorker", "blink.resource",
]
# Installed before any page script: the page's own long tasks, and a mark (in the trace, too)
# when every figure is live.
PROBE = """
window.__trace = { longTasks: [], allReady: null };
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__trace.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
} catch (e) {}
new MutationObserver(() => {
  if (window.__trace.allReady === null && document.querySelector('[data-widget]')
      && !document.querySelector('[data-widget]:not([data-stage="ready"])')) {
    window.__trace.allReady = performance.now();
    performance.mark("trace:all-ready");
    console.debug("trace:all-ready");
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"] });
"""
TASK_NAMES = {"ThreadControllerImpl::RunTask", "RunTask"}


def spans(events: list[dict]) -> dict[tuple, list[dict]]:
    """Per (pid, tid): every event with a duration, as {name, ts, dur, tdur, args, cat}, sorted by
    start (B/E pairs joined; instant events kept with dur 0)."""
    threads: dict[tuple, list[dict]] = collections.defaultdict(list)
    open_: dict[tuple, list[dict]] = collections.defaultdict(list)
    for e in sorted((e for e in events if "ts" in e), key=lambda e: e["ts"]):
        key, ph = (e.get("pid"), e.get("tid")), e.get("ph")
        if ph == "X":
            threads[key].append({"name": e["name"], "ts": e["ts"], "dur": e.get("dur", 0), "tdur": e.get("tdur"),
                                 "args": e.get("args") or {}, "cat": e.get("cat", "")})
        elif ph == "B":
            open_[key].append({"name": e["name"], "ts": e["ts"], "tts": e.get("tts"), "args": e.get("args") or {},
                               "cat": e.get("cat", "")})
        elif ph == "E" and open_[key]:
            begun = open_[key].pop()
            begun["args"] = {**begun["args"], **(e.get("args") or {})}
            tdur = e["tts"] - begun["tts"] if e.get("tts") is not None and begun.get("tts") is not None else None
            threads[key].append({"name": begun["name"], "ts": begun["ts"], "dur": e["ts"] - begun["ts"],
                                 "tdur": tdur, "args": begun["args"], "cat": begun["cat"]})
        elif ph in ("I", "i", "R", "n"):
            threads[key].append({"name": e["name"], "ts": e["ts"], "dur": 0, "tdur": None,
                                 "args": e.get("args") or {}, "cat": e.get("cat", ""), "instant": True})
    for items in threads.values():
        items.sort(key=lambda s: (s["ts"], -s["dur"]))
    return threads


def thread_names(events: list[dict]) -> dict[tuple, str]:
    return {(e.get("pid"), e.get("tid")): e["args"]["name"] for e in events
            if e.get("ph") == "M" and e.get("name") == "thread_name"}


def main_thread(events: list[dict], threads: dict[tuple, list[dict]], names: dict[tuple, str], url: str):
    """The renderer main thread that parsed the article, and its navigationStart (microseconds)."""
    best = None
    for key, items in threads.items():
        if names.get(key) != "CrRendererMain":
            continue
        for s in items:
            if s["name"] == "ParseHTML" and url in json.dumps(s["args"]):
                best = key
                break
        if best:
            break
    if best is None:
        return None, None
    starts = [e["ts"] for e in events if e.get("name") == "navigationStart" and (e.get("pid"), e.get("tid")) == best
              and url in json.dumps(e.get("args") or {})]
    return best, (max(starts) if starts else None)


def detail(span: dict) -> str:
    """A short description of an event's arguments: its URL, function, type."""
    args = span["args"]
    data = args.get("data") or args.get("beginData") or {}
    if not isinstance(data, dict):
        data = {}
    parts = []
    for key in ("url", "functionName", "type", "name", "stackTrace"):
        value = data.get(key) if key in data else (args.get(key) if key in ("url", "type") else None)
        if not value:
            continue
        if key == "stackTrace" and isinstance(value, list) and value:
            frame = value[0]
            value = f"from {frame.get('functionName') or '(anonymous)'} {short_url(frame.get('url', ''))}:{frame.get('lineNumber')}"
        elif key == "url":
            value = short_url(str(value))
        parts.append(f"{key}={value}" if key not in ("url", "stackTrace") else str(value))
    if span["name"].startswith(("V8.GC", "MajorGC", "MinorGC", "BlinkGC")) or span["name"] in ("MajorGC", "MinorGC"):
        used = args.get("usedHeapSizeBefore"), args.get("usedHeapSizeAfter")
        if used[0] is not None:
            parts.append(f"heap {used[0] / 1e6:.1f} -> {used[1] / 1e6:.1f} MB")
    if data.get("lineNumber") is not None and span["name"] in ("FunctionCall", "EvaluateScript", "v8.compile"):
        parts.append(f"line {data.get('lineNumber')}")
    if span["name"] == "Layout" and isinstance(args.get("beginData"), dict):
        b = args["beginData"]
        parts.append(f"dirty {b.get('dirtyObjects')}/{b.get('totalObjects')} objects")
    if span["name"] in ("UpdateLayoutTree", "RecalcStyle") and isinstance(args.get("elementCount"), int):
        parts.append(f"{args['elementCount']} elements")
    if span["name"] == "ParseHTML" and isinstance(args.get("beginData"), dict):
        b = args["beginData"]
        end = args.get("endData") or {}
        parts.append(f"lines {b.get('startLine')}-{end.get('endLine')}")
    return ", ".join(str(p) for p in parts)


def short_url(url: str) -> str:
    return url.rsplit("/", 1)[-1][:60] if url.startswith("http") else url[:60]


def tree(task: dict, inside: list[dict]) -> list[tuple[int, dict]]:
    """The events inside a task as (depth, event), in order."""
    out, stack = [], [task]
    for s in inside:
        while stack and s["ts"] >= stack[-1]["ts"] + stack[-1]["dur"] and len(stack) > 1:
            stack.pop()
        out.append((len(stack), s))
        if s["dur"] > 0:
            stack.append(s)
    return out


def exclusive(task: dict, nested: list[tuple[int, dict]]) -> dict[str, float]:
    """Time per event name (ms) not covered by a child event: where the task's time went."""
    totals: dict[str, float] = collections.defaultdict(float)
    children: dict[int, float] = collections.defaultdict(float)
    stack = [task]
    for depth, s in nested:
        del stack[depth:]
        children[id(stack[-1])] += s["dur"]
        stack.append(s)
    for s in [task] + [s for _, s in nested]:
        own = s["dur"] - children[id(s)]
        if own > 0:
            totals[label(s)] += own / 1000
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def label(span: dict) -> str:
    """An event's name, with the script or function it ran where it has one."""
    name = span["name"]
    if name in ("EvaluateScript", "FunctionCall", "v8.compile", "v8.run", "ParseHTML", "TimerFire", "EventDispatch",
                "FireAnimationFrame", "v8.callFunction", "XHRReadyStateChange", "ResourceReceivedData"):
        d = detail(span)
        return f"{name} ({d})" if d else name
    return name


def cpu_samples(events: list[dict], key: tuple, start: float, end: float) -> dict[str, float]:
    """JS functions sampled by V8's CPU profiler on the main thread between start and end (trace
    microseconds): ms per leaf frame, the largest twelve."""
    profiles = sorted((e for e in events if e.get("name") in ("Profile", "ProfileChunk") and e.get("pid") == key[0]),
                      key=lambda e: e["ts"])
    clock = {e.get("id"): ((e.get("args") or {}).get("data") or {}).get("startTime", e["ts"])
             for e in profiles if e.get("name") == "Profile" and e.get("tid") == key[1]}
    nodes, totals = {}, collections.defaultdict(float)
    for e in profiles:
        if e.get("name") != "ProfileChunk" or e.get("id") not in clock:
            continue
        data = (e.get("args") or {}).get("data") or {}
        profile = data.get("cpuProfile") or {}
        for node in profile.get("nodes", []):
            frame = node.get("callFrame", {})
            nodes[node["id"]] = f"{frame.get('functionName') or '(anonymous)'} {short_url(frame.get('url', ''))}".strip()
        ts = clock[e.get("id")]
        for sample, delta in zip(profile.get("samples", []), data.get("timeDeltas", [])):
            ts += delta
            if start <= ts <= end:
                totals[nodes.get(sample, str(sample))] += delta / 1000
        clock[e.get("id")] = ts
    return dict(sorted(totals.items(), key=lambda kv: -kv[1])[:12])


LAYOUT = ("LocalFrameView::performLayout", "InlineNode::", "Document::recalcStyle", "Document::rebuildLayoutTree",
          "Document::updateStyle", "Layout", "UpdateLayoutTree", "Blink.Style", "Blink.Layout")
PAINT = ("Blink.PrePaint", "PrePaint", "Blink.CompositingInputs", "LocalFrameView::RunCompositingInputs",
         "LocalFrameView::RunPrePaint", "Paint", "Blink.Paint", "PaintArtifactCompositor", "CullRectUpdate", "Layerize",
         "Commit")


def kind(task: dict) -> str:
    """What a long task is, in a few words: which work its time went to."""
    names = [n["name"] for n in task["tree"]]
    own = task["exclusive_ms"]
    layout = sum(ms for name, ms in own.items() if name.startswith(LAYOUT))
    paint = sum(ms for name, ms in own.items() if name.startswith(PAINT))
    scripts = [n for n in task["tree"] if n["name"] in ("HTMLParserScriptRunner ExecuteScript", "EvaluateScript",
                                                         "FunctionCall", "v8.callFunction", "TimerFire",
                                                         "FireAnimationFrame")]
    if any("CommitNavigation" in name for name in names):
        return "navigation commit (the browser's, before the page's scripts)"
    for hook in ("RenderFrameImpl::DidDispatchDOMContentLoadedEvent", "RenderFrameImpl::didFinishLoad"):
        inside = [n for n in task["tree"] if n["name"] == hook]
        if inside and layout > task["dur_ms"] / 3 and max(n["ms"] for n in inside) > task["dur_ms"] / 2:
            return f"the browser's own style+layout in {hook.split('::')[1]} (JS: {next(iter(task['js_samples_ms']), '')})"
    if scripts:
        where = next((n["detail"] for n in scripts if n["detail"]), "")
        js = next(iter(task["js_samples_ms"]), "")
        if not where or "http" not in where and not where.endswith(".js") and ".js" not in where:
            if any(k.split()[0] in ("UtilityScript", "InjectedScript", "requestAnimationFrame") for k in task["js_samples_ms"]):
                return "Playwright's injected script (the harness)"
        if layout > task["dur_ms"] / 3:
            return f"forced style+layout in a script ({where}; JS: {js})"
        return f"script ({where}; JS: {js})"
    if "WebFrameWidgetImpl::UpdateLifecycle" in names:
        return "frame: style+layout" if layout >= paint else "frame: prepaint/paint"
    return "other: " + ", ".join(list(own)[:3])


def long_tasks(events: list[dict], url: str, probe: dict) -> dict:
    """The main thread's tasks over 50 ms from navigation to every figure live, broken down."""
    threads, names = spans(events), thread_names(events)
    key, nav = main_thread(events, threads, names, url)
    if key is None:
        return {"error": "no main thread parsed the article in the trace"}
    items = threads[key]
    ready = [s["ts"] for s in items if s["name"] == "trace:all-ready"]
    if nav is None:
        nav = min(s["ts"] for s in items if s["name"] == "ParseHTML")
    end = min((t for t in ready if t >= nav), default=None)
    if end is None and probe.get("allReady") is not None:
        end = nav + probe["allReady"] * 1000
    tasks = [s for s in items if s["name"] in TASK_NAMES and s["dur"] > LONG_MS * 1000
             and s["ts"] + s["dur"] >= nav and s["ts"] <= end]
    # Top-level only: a RunTask nested in another (a nested run loop) is a part of the outer one.
    tasks = [t for t in tasks if not any(o is not t and o["ts"] <= t["ts"] and t["ts"] + t["dur"] <= o["ts"] + o["dur"]
                                         for o in tasks)]
    found = []
    for task in tasks:
        inside = [s for s in items if s is not task and task["ts"] <= s["ts"] < task["ts"] + task["dur"]]
        nested = tree(task, inside)
        found.append({
            "start_ms": (task["ts"] - nav) / 1000, "dur_ms": task["dur"] / 1000,
            "cpu_ms": task["tdur"] / 1000 if task["tdur"] is not None else None,
            "task_args": task["args"],
            "exclusive_ms": exclusive(task, nested),
            "tree": [{"depth": d, "name": s["name"], "detail": detail(s), "ms": s["dur"] / 1000,
                      "cpu_ms": s["tdur"] / 1000 if s["tdur"] is not None else None}
                     for d, s in nested if s["dur"] >= 1000 or (d <= 2 and s["dur"] >= 200)],
            "js_samples_ms": cpu_samples(events, key, task["ts"], task["ts"] + task["dur"]),
        })
        found[-1]["kind"] = kind(found[-1])
        found[-1]["seen_by_page"] = any(abs(t - found[-1]["start_ms"]) < 5 for t, _ in probe.get("longTasks", []))
    page_long = [{"start_ms": start, "dur_ms": dur} for start, dur in probe.get("longTasks", [])
                 if dur > LONG_MS and probe.get("allReady") is not None and start <= probe["allReady"]]
    total = [s for s in items if s["name"] in TASK_NAMES and nav <= s["ts"] <= end]
    return {"all_ready_ms": (end - nav) / 1000, "tasks": found, "page_long_tasks": page_long,
            "task_count": len(total), "busy_ms": sum(s["dur"] for s in total) / 1000,
            "main_thread": names.get(key)}


def open_profile(playwright, profile: str):
    context = playwright.chromium.launch_persistent_context(profile, **launch_options())
    context.add_init_script(PROBE)
    return context, (context.pages[0] if context.pages else context.new_page())


def traced_visit(context, page, url: str | None, keep: Path | None, label: str) -> dict:
    """Trace one visit (url None: reload the page) until every figure is live."""
    trace = Trace(context, page, CATEGORIES)
    started = time.time()
    # Told by a console message, not by polling the page: Playwright's wait_for_function and
    # wait_for_selector evaluate its injected script in the page (50-65 ms tasks of their own, seen
    # in these traces) and poll on every frame.
    with page.expect_console_message(lambda m: m.text == "trace:all-ready", timeout=READY_TIMEOUT_MS):
        if url is None:
            page.reload(wait_until="commit")
        else:
            page.goto(url, wait_until="commit")
    page.wait_for_timeout(300)   # the task that made the last figure live ends; then stop tracing
    probe = page.evaluate("() => window.__trace")
    events = trace.events()
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        with gzip.open(keep / f"{label}.json.gz", "wt") as f:
            json.dump(events, f)
    found = long_tasks(events, ARTICLE, probe)
    found["wall_s"] = time.time() - started
    return found


def returning_reader(playwright, url: str, dwell_ms: float, keep: Path | None, run: int) -> dict:
    visits = {}
    name = lambda v: keep / f"run{run}" if keep else None   # noqa: E731
    with tempfile.TemporaryDirectory() as profile:
        context, page = open_profile(playwright, profile)
        visits["first"] = traced_visit(context, page, url, name("first"), "first")
        visits["first"]["service_worker"] = page.evaluate(SERVICE_WORKER_ACTIVE, 60_000)
        page.wait_for_timeout(dwell_ms)
        visits["reload"] = traced_visit(context, page, None, name("reload"), "reload")
        page.wait_for_timeout(1000)
        tab = context.new_page()
        visits["warm"] = traced_visit(context, tab, url, name("warm"), "warm")
        tab.close()
        page.wait_for_timeout(dwell_ms)
        context.close()
        context, page = open_profile(playwright, profile)
        visits["next_day"] = traced_visit(context, page, url, name("next_day"), "next_day")
        context.close()
    return visits


def describe(visit: str, found: dict) -> list[str]:
    if "error" in found:
        return [f"  {visit}: {found['error']}"]
    lines = [f"  {visit}: every figure live at {found['all_ready_ms']:.0f} ms; {found['task_count']} main-thread tasks, "
             f"{found['busy_ms']:.0f} ms busy; tasks > 50 ms in the trace: {len(found['tasks'])}; the page's "
             f"longtask entries > 50 ms: "
             + (", ".join(f"{t['dur_ms']:.0f} ms at {t['start_ms']:.0f}" for t in found["page_long_tasks"]) or "none")]
    for task in found["tasks"]:
        cpu = f", CPU {task['cpu_ms']:.0f} ms" if task["cpu_ms"] is not None else ""
        lines.append(f"    task at {task['start_ms']:.0f} ms: {task['dur_ms']:.0f} ms wall{cpu}: {task['kind']}"
                     + ("" if task["seen_by_page"] else " (not among the page's longtask entries)"))
        lines.append("      time by event (exclusive of children, >= 1 ms): " + "; ".join(
            f"{name} {ms:.1f}" for name, ms in task["exclusive_ms"].items() if ms >= 1))
        for node in task["tree"]:
            if node["depth"] <= 5:
                cpu = f" (CPU {node['cpu_ms']:.1f})" if node["cpu_ms"] is not None else ""
                lines.append(f"      {'  ' * node['depth']}{node['name']} {node['ms']:.1f} ms{cpu}"
                             + (f"  [{node['detail']}]" if node["detail"] else ""))
        if task["js_samples_ms"]:
            lines.append("      JS sampled: " + "; ".join(f"{n} {ms:.1f}" for n, ms in task["js_samples_ms"].items()))
    return lines


def summary(runs: list[dict]) -> list[str]:
    lines = ["Summary: visits with a main-thread task > 50 ms (trace), and what made them"]
    for visit in ("first", "reload", "warm", "next_day"):
        found = [r[visit] for r in runs if visit in r and "tasks" in r[visit]]
        tasks = [t for f in found for t in f["tasks"]]
        with_ = sum(bool(f["tasks"]) for f in found)
        page = sum(bool(f["page_long_tasks"]) for f in found)
        longest = max((t["dur_ms"] for t in tasks), default=0)
        by_name: dict[str, list[float]] = collections.defaultdict(list)
        for t in tasks:
            for name, ms in t["exclusive_ms"].items():
                by_name[name].append(ms)
        top = sorted(by_name.items(), key=lambda kv: -sum(kv[1]))[:6]
        ready = statistics.median(f["all_ready_ms"] for f in found) if found else float("nan")
        busy = sum(any((t["cpu_ms"] or 0) > LONG_MS for t in f["tasks"]) for f in found)
        lines.append(f"  {visit:<9} {with_}/{len(found)} visits (page's longtask entries: {page}/{len(found)}; a task "
                     f"with over 50 ms of CPU: {busy}/{len(found)}), {len(tasks)} tasks, longest {longest:.0f} ms; all "
                     f"live median {ready:.0f} ms")
        kinds: dict[str, list[dict]] = collections.defaultdict(list)
        for f in found:
            for t in f["tasks"]:
                kinds[t["kind"].split(" (")[0].split(";")[0]].append(t)
        for name, group in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            visits = sum(any(t in group for t in f["tasks"]) for f in found)
            cpu = [t["cpu_ms"] for t in group if t["cpu_ms"] is not None]
            lines.append(f"      {name}: {len(group)} tasks in {visits}/{len(found)} visits, wall "
                         f"{min(t['dur_ms'] for t in group):.0f}-{max(t['dur_ms'] for t in group):.0f} ms, CPU "
                         f"{min(cpu, default=0):.0f}-{max(cpu, default=0):.0f} ms; seen by the page's observer: "
                         f"{sum(t['seen_by_page'] for t in group)}")
        for name, values in top:
            lines.append(f"        {name}: in {len(values)} tasks, {sum(values):.0f} ms in all, max {max(values):.0f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dwell", type=float, default=10.0, help="seconds the first visit stays open (default 10)")
    parser.add_argument("--site", type=Path, default=ROOT / "_site")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "long_tasks.json")
    parser.add_argument("--keep-traces", type=Path, default=None, help="write each visit's trace (gzip JSON) here")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / ARTICLE).exists():
        print(f"Build the site first: python3 build.py build (no {ARTICLE} in {site})", file=sys.stderr)
        return 2
    runs = []
    with (tempfile.TemporaryDirectory() as tmp, sync_playwright() as p,
          serving(Path(tmp), handler=CachingHandler) as url):
        (Path(tmp) / "site").symlink_to(site, target_is_directory=True)
        for i in range(args.runs):   # one after another: the machine has few cores
            run = returning_reader(p, url + "site/" + ARTICLE, args.dwell * 1000, args.keep_traces, i + 1)
            runs.append(run)
            print(f"run {i + 1}/{args.runs}", flush=True)
            for visit, found in run.items():
                print("\n".join(describe(visit, found)), flush=True)
    print("\n".join(summary(runs)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(runs, indent=1) + "\n")
    print(f"Figures written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
