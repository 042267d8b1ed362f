"""Find a Chromium for the browser tests and benchmarks: the system's, else Playwright's own."""
from __future__ import annotations

import os
import shutil
import subprocess
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


def missing_system_packages() -> list[str]:
    """The Debian packages the tests need that this machine lacks."""
    missing = []
    if not (system_chromium() or playwright_has_chromium()):
        missing.append("chromium")
    if not system_firefox():
        missing.append("firefox-esr")
    if not shutil.which("npm"):
        missing.append("npm")
    return missing


def install_system_packages(packages: list[str]) -> None:
    """Install them with apt-get where this machine lets us (as root, or with password-less sudo),
    as `playwright install --with-deps` does; elsewhere leave it to the sentences above."""
    apt = shutil.which("apt-get")
    if not packages or not apt:
        return
    if os.geteuid() == 0:
        prefix = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        return
    print(f"Installing {' '.join(packages)} from the system's packages (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", *packages]):
        if subprocess.run([*prefix, *command], env=env, capture_output=True).returncode != 0:
            return   # what is still missing is then named in one sentence
