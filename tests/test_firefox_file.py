"""Opened straight from disk in Firefox too: the built article and the unzipped download
reach ready and answer a control, with no console error and no network request.

Firefox (Debian's firefox-esr) is driven over WebDriver BiDi by puppeteer-core, pinned
in tests/firefox/package-lock.json and installed by `build.py test` (npm ci)."""
from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCRIPT = Path(__file__).resolve().parent / "firefox" / "file_mode.mjs"


def open_in_firefox(page: Path) -> dict:
    done = subprocess.run(["node", str(SCRIPT), page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    outcome = json.loads(lines[-1]) if lines else {"failure": done.stderr.strip()}
    assert done.returncode == 0, outcome
    return outcome


def test_firefox_runs_the_built_article_from_disk(built_site):
    outcome = open_in_firefox(built_site / "sampling.html")
    assert outcome["summary"].startswith("At temperature 0.5,")


def test_firefox_runs_the_unzipped_download_from_disk(built_site, tmp_path):
    with zipfile.ZipFile(built_site / "nextword-offline.zip") as archive:
        archive.extractall(tmp_path)
    (article,) = tmp_path.rglob("sampling.html")
    outcome = open_in_firefox(article)
    assert outcome["summary"].startswith("At temperature 0.5,")
