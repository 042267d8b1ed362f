"""The site's own Python, as content/site.yml declares it: imported for a build, run, put away.

The generator imports no package of any site by name. For one build (or one preview
session) it makes the packages the site lists importable from where they live (the
content folder or pysrc/), and only those under their names; it imports the modules
that register widgets, runs the build steps and the facts function, and afterwards
takes every module of the site out of `sys.modules` again and puts the widget registry
back as it was, so that the next build (of this site, edited, or of another) starts clean.

Source files are compiled without their cached bytecode: an editor may save a module
twice in one second with the same size, which the bytecode cache cannot tell apart.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import sys
import traceback
from pathlib import Path

import widgetkit

from .config import SiteConfig
from .errors import BuildError


class FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles the source as it is now (by its text, not its date) and writes no __pycache__
    into the author's folders."""

    compiled: dict[tuple[str, bytes], object] = {}   # code objects by path and source's hash

    def get_code(self, fullname):
        source = self.get_data(self.path)
        key = (self.path, hashlib.sha256(source).digest())
        if key not in self.compiled:
            self.compiled[key] = self.source_to_code(source, self.path)
        return self.compiled[key]

    def set_data(self, path, data, *, _mode=0o666):   # never write bytecode
        return None


class SiteFinder:
    """Finds the site's packages where the site keeps them, and nothing else."""

    def __init__(self, homes: dict[str, Path]):
        self.homes = homes

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in self.homes:
            return None
        search = [str(self.homes[top].parent)] if name == top else path
        spec = importlib.machinery.PathFinder.find_spec(name, search)
        if spec is not None and isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec.loader = FreshSourceLoader(name, spec.origin)
        return spec


class SiteCode:
    """The site's Python for one build or preview session: `open()`, then `close()`."""

    def __init__(self, config: SiteConfig, root: Path, content: Path, cache: Path):
        self.config, self.root, self.content, self.cache = config, root, content, cache
        self.homes = dict(config.homes)
        for entry in (*config.build, *([config.facts] if config.facts else [])):
            top = entry.partition(".")[0].partition(":")[0]
            self.homes.setdefault(top, home_of_module(top, content, root / "pysrc"))
        self.finder = SiteFinder(self.homes)
        self.saved: dict = {}
        self.registry: dict = {}
        self.package_data: dict[str, bytes] = {}
        self.facts: dict = {}
        self.widget_modules: list[str] = []
        self.key = code_key(config, self.homes)

    # -- set up and put away --

    def open(self, run: bool = True) -> SiteCode:
        """Import the site's packages and widget modules; with `run`, run its build steps and
        compute its facts too (`new` only needs to know the widgets)."""
        self.registry = dict(widgetkit.REGISTRY)
        widgetkit.REGISTRY.clear()
        self.saved = {name: sys.modules.pop(name) for name in list(sys.modules) if self.owns(name)}
        sys.meta_path.insert(0, self.finder)
        importlib.invalidate_caches()
        try:
            self.import_packages()
            self.import_widgets()
            if run:
                self.run_steps()
                self.compute_facts()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        for name in [n for n in sys.modules if self.owns(n)]:
            del sys.modules[name]
        sys.modules.update(self.saved)
        widgetkit.REGISTRY.clear()
        widgetkit.REGISTRY.update(self.registry)

    def owns(self, module_name: str) -> bool:
        return module_name.partition(".")[0] in self.homes

    # -- the steps of open() --

    def import_packages(self) -> None:
        for i, name in enumerate(self.config.python):
            self.guarded(lambda: importlib.import_module(name), self.config.at("python", i),
                         f"the package {name!r} does not import")

    def import_widgets(self) -> None:
        skip = frozenset(self.config.build_only())
        for i, name in enumerate(self.config.widgets):
            self.widget_modules += self.guarded(lambda: widgetkit.import_widgets([name], skip),
                                                self.config.at("widgets", i),
                                                f"the widget module {name!r} does not import")

    def run_steps(self) -> None:
        for i, entry in enumerate(self.config.build):
            where = self.config.at("build", i)
            step = self.guarded(lambda: function_of(entry), where, f"the build step {entry!r} does not import")
            files = self.guarded(lambda: step(self.cache), where, f"the build step {entry!r} failed")
            self.package_data.update(self.checked_files(files or {}, entry, where))

    def compute_facts(self) -> None:
        if not self.config.facts:
            return
        where = self.config.at("facts")
        compute = self.guarded(lambda: function_of(self.config.facts), where,
                               f"the facts function {self.config.facts!r} does not import")
        facts = self.guarded(compute, where, f"the facts function {self.config.facts!r} failed")
        if not isinstance(facts, dict):
            raise BuildError(f"{self.config.facts} returned {type(facts).__name__}, not a dict of "
                             "names to values.", where)
        self.facts = facts

    def checked_files(self, files, entry: str, where: str) -> dict[str, bytes]:
        """A step's files for the wheel: {path in the wheel: bytes}, inside a shipped package."""
        if not isinstance(files, dict):
            raise BuildError(f"the build step {entry} returned {type(files).__name__}; a step returns "
                             "None or {path in the wheel: bytes}.", where)
        for name, data in files.items():
            parts = str(name).split("/")
            if (not isinstance(data, bytes) or parts[0] not in self.config.python
                    or any(p in ("", ".", "..") for p in parts)):
                raise BuildError(f"the build step {entry} returned the file {name!r}: a step's files "
                                 "are bytes, at a path inside one of the packages listed under python.",
                                 where)
        return dict(files)

    def guarded(self, action, where: str, what: str):
        """Run the site's code; a failure becomes one sentence naming its file and line."""
        try:
            return action()
        except BuildError:
            raise
        except Exception as problem:  # an author's code: say where it failed, in one line
            raise BuildError(f"{what}: {type(problem).__name__}: {problem}",
                             self.place_of(problem) or where) from None

    def place_of(self, problem: BaseException) -> str | None:
        """The deepest line of the site's own files in the traceback, as messages show it."""
        frames = traceback.extract_tb(problem.__traceback__)
        if isinstance(problem, SyntaxError) and problem.filename:
            frames.append(traceback.FrameSummary(problem.filename, problem.lineno or 1, ""))
        for frame in reversed(frames):
            shown = self.shown(Path(frame.filename))
            if shown:
                return f"{shown}:{frame.lineno}"
        return None

    def shown(self, path: Path) -> str | None:
        for home in self.homes.values():
            folder = home if home.is_dir() else home.parent
            if path == home or (home.is_dir() and folder in path.parents):
                base, label = ((self.content, "content") if self.content in path.parents
                               else (self.root, None))
                rel = path.relative_to(base).as_posix()
                return f"{label}/{rel}" if label else rel
        return None

    # -- what the build takes --

    def widget_index(self) -> dict[str, str]:
        """Which module registers each of the site's widgets."""
        return {name: w.view.__module__ for name, w in sorted(widgetkit.REGISTRY.items())}

    def wheel_files(self) -> dict[str, bytes]:
        """Every file of the site's wheel by its path in it: the framework, the packages the
        site lists (without build-only modules and bytecode), the steps' files and the index."""
        build_only = {module.replace(".", "/") + ".py" for module in self.config.build_only()}
        files = {}
        for name, home in [("widgetkit", Path(widgetkit.__file__).parent),
                           *((n, self.config.homes[n]) for n in self.config.python)]:
            for path in ([home] if home.is_file() else sorted(home.rglob("*"))):
                rel = (path.name if home.is_file() else f"{name}/{path.relative_to(home).as_posix()}")
                if (path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
                        and rel not in build_only and rel != f"widgetkit/{widgetkit.INDEX_FILE}"):
                    files[rel] = path.read_bytes()
        files.update(self.package_data)
        index = json.dumps(self.widget_index(), indent=1) + "\n"
        files[f"widgetkit/{widgetkit.INDEX_FILE}"] = index.encode()
        return dict(sorted(files.items()))


def function_of(entry: str):
    module, _, name = entry.partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise TypeError(f"{entry} is not a function")
    return function


def home_of_module(top: str, content: Path, pysrc: Path) -> Path:
    for folder in (content, pysrc):
        for place in (folder / top, folder / f"{top}.py"):
            if place.exists():
                return place
    raise BuildError(f"no module {top!r} in the content folder or pysrc/.")


def code_key(config: SiteConfig, homes: dict[str, Path]) -> str:
    """A hash of the site's Python: every file of its packages and what site.yml declares."""
    digest = hashlib.sha256(json.dumps([config.python, config.widgets, config.build, config.facts])
                            .encode())
    for name, home in sorted(homes.items()):
        for path in ([home] if home.is_file() else sorted(home.rglob("*"))):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{name}/{path.relative_to(home.parent).as_posix()}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]
