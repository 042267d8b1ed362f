"""Reading offline: the files that let the site work with no connection, added to a built site.

- sw.js, the service worker: this build's file list with each file's sha256, for the
  precache; the cache is named after a hash of that list, so a new build gets a new cache.
- offline/runtime.js, for pages opened from disk (file://), where the browser lets a page
  fetch nothing but still runs classic scripts: the runtime's JavaScript as one worker
  script, and its binary files gzip-compressed and base64-encoded.
- the download (a zip): the pages, assets and offline/runtime.js, everything a reader needs
  to open index.html from disk, and nothing that only a server's readers need.

Every output depends on the files' bytes only, so two builds of the same sources are identical.
"""
from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from urllib.parse import quote

from .errors import BuildError

SERVICE_WORKER = "sw.js"
SERVICE_WORKER_SOURCE = "assets/sw.js"   # the template, copied with the other assets
PRECACHE_SLOT = "const PRECACHE = null;"
BUNDLE = "offline/runtime.js"
RUNTIME = "pyodide"
# The worker that runs from disk is one script: Pyodide's core, its loader, then ours (the
# message protocol, the download worker's functions, which start-up calls itself there, start-up,
# and the worker's message loop last).
WORKER_PARTS = ("pyodide/pyodide.asm.js", "pyodide/pyodide.js", "assets/protocol.js", "assets/download.js",
                "assets/startup.js", "assets/worker.js")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)         # the earliest date a zip can hold: no build time in it
KEEP_ENCODED_FROM = 1 << 20              # bytes: Pyodide's big files, the same in every build


def add_offline_files(site: Path, cache: Path, zip_name: str | None) -> None:
    """Write the file:// bundle, the service worker and the download into a built site, in
    that order: the service worker lists what is there before the download exists. Without
    zip_name the download and the bundle (which only the download and pages opened from disk
    use, and which the service worker does not list) are left out: the preview makes them when
    they are asked for."""
    if zip_name:
        bundle = site / BUNDLE
        bundle.parent.mkdir(exist_ok=True)
        write_runtime_bundle(site, cache, bundle)
    template = site / SERVICE_WORKER_SOURCE     # moved to the top: its scope is its folder
    source = template.read_text(encoding="utf-8")
    template.unlink()
    (site / SERVICE_WORKER).write_text(service_worker(site, source), encoding="utf-8")
    if zip_name:
        write_offline_zip(site, zip_name)


def write_offline_zip(site: Path, zip_name: str) -> None:
    (site / zip_name).write_bytes(offline_zip(site, Path(zip_name).stem))


def site_files(site: Path) -> list[str]:
    """Every file of the site as a sorted path relative to it, hidden files left out."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(site).parts))


def precached_files(site: Path) -> list[str]:
    """What a reader over HTTP may request: everything but the service worker and the
    file:// bundle (the download, written last, is not there yet)."""
    skip_folder = BUNDLE.split("/")[0] + "/"
    return [f for f in site_files(site) if not f.startswith(skip_folder) and f != SERVICE_WORKER]


def zipped_files(site: Path) -> list[str]:
    """What a reader opening the pages from disk needs: everything but the served runtime."""
    return [f for f in site_files(site) if not f.startswith(RUNTIME + "/") and f != SERVICE_WORKER]


def sri_of(data: bytes) -> str:
    """The Subresource Integrity form of a sha256: the service worker's fetch checks it."""
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


@functools.lru_cache(maxsize=256)
def _sha256_of_file(path: str, inode: int, size: int, mtime_ns: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").digest()


def sha256_of(path: Path) -> bytes:
    """A file's sha256, computed once per file as it is on disk: the runtime's files are hard
    links to the same cached files in every build, so a preview does not hash 25 MB each time."""
    info = path.stat()
    return _sha256_of_file(str(path), info.st_ino, info.st_size, info.st_mtime_ns)


def sri_of_file(path: Path) -> str:
    return "sha256-" + base64.b64encode(sha256_of(path)).decode()


def precache_manifest(site: Path, worker_source: str) -> dict:
    """The build's id and its files, each as a URL path relative to the site with its SRI hash."""
    files = [[quote(f), sri_of_file(site / f)] for f in precached_files(site)]
    listing = json.dumps(files, separators=(",", ":"))
    # The id covers the service worker's own code too: new code, new cache.
    build = hashlib.sha256(f"{listing}\n{worker_source}".encode()).hexdigest()[:16]
    return {"build": build, "files": files}


def service_worker(site: Path, source: str) -> str:
    """sw.js: the service worker's code with this build's manifest written into it."""
    if source.count(PRECACHE_SLOT) != 1:
        raise BuildError(f"site_templates/static/sw.js must hold the line {PRECACHE_SLOT!r} once: "
                         "the build writes the list of files to keep there.")
    manifest = json.dumps(precache_manifest(site, source), separators=(",", ":"))
    return source.replace(PRECACHE_SLOT, f"const PRECACHE = {manifest};")


def gzip_base64(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data, compresslevel=6, mtime=0)).decode()


def encoded_file(path: Path, cache: Path) -> str:
    """A file gzip-compressed then base64-encoded; big files are kept in the cache by hash, since
    compressing Pyodide's wasm again on every build would double the build's time."""
    data = path.read_bytes()
    if len(data) < KEEP_ENCODED_FROM:
        return gzip_base64(data)
    kept = cache / "offline-encoded" / hashlib.sha256(data).hexdigest()
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")  # builds running side by side
        partial.write_text(gzip_base64(data), encoding="ascii")
        partial.replace(kept)
    return kept.read_text(encoding="ascii")


def write_runtime_bundle(site: Path, cache: Path, bundle: Path) -> None:
    """offline/runtime.js, made once per set of inputs (the worker's parts and the runtime's
    files) and kept in the cache: 20 MB of text that an article edit does not change."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for part in WORKER_PARTS:
        digest.update((site / part).read_bytes())
    for path in sorted((site / RUNTIME).iterdir()):
        digest.update(path.name.encode() + b"\0" + sha256_of(path))
    kept = cache / "offline-bundle" / f"{digest.hexdigest()[:20]}.js"
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")  # builds running side by side
        partial.write_text(runtime_bundle(site, cache), encoding="utf-8")
        partial.replace(kept)
        for old in sorted(kept.parent.glob("*.js"), key=lambda p: p.stat().st_mtime)[:-4]:
            old.unlink(missing_ok=True)   # the newest few are enough
    os.utime(kept)
    try:
        os.link(kept, bundle)   # the build never writes into it
    except OSError:
        shutil.copyfile(kept, bundle)


def runtime_bundle(site: Path, cache: Path) -> str:
    """offline/runtime.js: a classic script that only hands over data; it runs nothing itself."""
    worker = "\n;\n".join((site / part).read_text(encoding="utf-8") for part in WORKER_PARTS)
    folder = site / RUNTIME
    # pyodide.mjs is the ES-module loader, which nothing on a file:// page can use.
    files = {p.name: encoded_file(p, cache) for p in sorted(folder.iterdir())
             if f"{RUNTIME}/{p.name}" not in WORKER_PARTS and p.suffix != ".mjs"}
    data = json.dumps({"worker": worker, "files": files}, indent=0)  # a line per file
    return ("// For pages opened from disk (file://), where a page may fetch nothing: the Python\n"
            "// runtime as data. `worker` is the worker's script (Pyodide, then ours: assets/*.js);\n"
            "// `files` are the files it asks for, gzip-compressed, base64-encoded.\n"
            f"self.bundledRuntime = {data};\n")


def offline_zip(site: Path, folder: str) -> bytes:
    """The download: sorted entries in one folder (unzipping gives that folder, not loose
    files), with fixed dates and modes, so it is reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in zipped_files(site):
            entry = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_DATE)
            entry.compress_type, entry.create_system = zipfile.ZIP_DEFLATED, 3
            entry.external_attr = 0o100644 << 16   # a regular file, readable by all
            archive.writestr(entry, (site / name).read_bytes())
    return buffer.getvalue()
