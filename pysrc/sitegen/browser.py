"""Find a Chromium for the browser tests and benchmarks: the system's, else Playwright's own."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic", "--disable-features=MediaRouter"]


def system_chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next((path for name in SYSTEM_NAMES if (path := shutil.which(name))), None)


def playwright_has_chromium() -> bool:
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    return any(cache.glob("chromium*"))


def launch_options() -> dict:
    """Keyword arguments for playwright's chromium.launch()."""
    path = system_chromium()
    return {"executable_path": path, "args": QUIET_FLAGS} if path else {"args": QUIET_FLAGS}


def missing_browser_sentence() -> str | None:
    if system_chromium() or playwright_has_chromium():
        return None
    return ("The browser tests need Chromium: install it (on Debian or Ubuntu `apt-get install chromium`, "
            "elsewhere `.venv/bin/playwright install chromium`) and run the command again.")


def system_firefox() -> str | None:
    if os.environ.get("FIREFOX"):
        return os.environ["FIREFOX"]
    return shutil.which("firefox-esr") or shutil.which("firefox")


def missing_firefox_sentence() -> str | None:
    if system_firefox():
        return None
    return ("The file:// tests also run in Firefox: install it (on Debian or Ubuntu "
            "`apt-get install firefox-esr`) and run the command again.")
