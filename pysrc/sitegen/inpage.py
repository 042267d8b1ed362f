"""Run Python inside the published browser runtime, from Playwright (tests and benchmarks).

It loads the site's own pyodide/ files on the page's main thread, exactly as
served (numpy and the site's wheel from the site's lock), and evaluates a
Python source whose last expression is a string (JSON, for anything structured).
Only tests and benchmarks do this; the site's pages never run Python sent to them.
"""
from __future__ import annotations

from .runtime import APP_DISTRIBUTION

RUN_IN_PAGE = """
async (source) => {
  if (!window.__inPagePython) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL("pyodide/pyodide.js", document.baseURI).href;
      script.onload = resolve;
      script.onerror = () => reject(new Error("pyodide.js did not load"));
      document.head.appendChild(script);
    });
    const indexURL = new URL("pyodide/", document.baseURI).href;
    const lock = await (await fetch(indexURL + "pyodide-lock.json")).json();
    // Pyodide asks for pyodide.asm.wasm; the site serves it under its hash (the lock's "wasm").
    const served = window.fetch;
    window.fetch = (resource, init) => served(String(resource.url || resource) === indexURL + "pyodide.asm.wasm"
      ? indexURL + lock.wasm.file_name : resource, init);
    let pyodide;
    try {
      pyodide = await loadPyodide({ indexURL });
    } finally {
      window.fetch = served;
    }
    await pyodide.loadPackage(["APP_DISTRIBUTION"], { messageCallback: () => {} });
    window.__inPagePython = pyodide;
  }
  return window.__inPagePython.runPython(source);
}
""".replace("APP_DISTRIBUTION", APP_DISTRIBUTION)


def run_python(page, source: str, timeout_ms: float = 180_000) -> str:
    """Evaluate `source` in the page's Pyodide; return its last expression (a str)."""
    page.set_default_timeout(timeout_ms)
    return page.evaluate(RUN_IN_PAGE, source)
