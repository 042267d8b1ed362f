"""The site's settings, from content/site.yml (every key optional).

Besides its name and address, a site declares here the Python it brings; the generator
knows no other (see the README, "The site's Python"):

    python: [sampling, ngram, widgets]   # packages shipped to the browser in the site's wheel
    widgets: [widgets]                   # modules (or packages) whose import registers widgets
    build: [ngram.prepare:prepare]       # build-time steps, run in order before the pages
    facts: widgets.facts:compute         # the values {{ facts.NAME }} reads

Each package named is a folder or a module of the site: in the content folder or in
pysrc/. Settings are checked here as far as they can be without running anything; the
build (sitecode.py) then imports them and names the line of this file when one fails.
"""
from __future__ import annotations

import importlib.machinery
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import guard
from .errors import BuildError

KEYS = {"title": "the site's name", "description": "one sentence for the index page",
        "base_url": "the published address, for the feed and sitemap",
        "author": "who writes the articles", "offline_zip": "name of the offline download",
        "python": "the site's packages, shipped to the browser",
        "widgets": "the modules that register the site's widgets",
        "build": "build-time steps, as module:function",
        "facts": "the function that gives {{ facts.NAME }}, as module:function"}
LISTS = ("python", "widgets", "build")
PYSRC = Path(__file__).resolve().parent.parent
# Packages of pysrc/ that are the generator itself, never a site's: widgetkit ships with every site.
ENGINE = {"sitegen", "widgetkit"}
MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
FUNCTION = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$")


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Next Word"
    description: str = "Interactive explanations of how language models work."
    base_url: str = ""          # e.g. https://owner.github.io/repo/ (SITE_BASE_URL overrides)
    author: str = "The Next Word authors"
    offline_zip: str = "nextword-offline.zip"
    python: tuple[str, ...] = ()    # top-level packages shipped in the site's wheel
    widgets: tuple[str, ...] = ()   # modules whose import registers widgets
    build: tuple[str, ...] = ()     # "module:function" steps
    facts: str | None = None        # "module:function"
    homes: dict = field(default_factory=dict)   # package name -> its folder or .py file
    lines: dict = field(default_factory=dict)   # "python" or "python.0" -> line in site.yml

    def absolute(self, url: str) -> str:
        """An absolute URL when the site's address is known, else the relative one."""
        return self.base_url + url if self.base_url else url

    def at(self, key: str, index: int | None = None) -> str:
        """Where a setting is written: content/site.yml:LINE."""
        line = self.lines.get(f"{key}.{index}", self.lines.get(key, 1))
        return f"content/site.yml:{line}"

    def build_only(self) -> set[str]:
        """The modules that run at build time only (steps and facts): never in the wheel."""
        return {entry.partition(":")[0] for entry in (*self.build, *([self.facts] if self.facts else []))}


def load_config(content: Path, pysrc: Path = PYSRC) -> SiteConfig:
    path = content / "site.yml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    raw = read_yaml(path)[0] if path.exists() else {}
    lines = setting_lines(text)
    where = lambda key, index=None: f"content/site.yml:{lines.get(f'{key}.{index}', lines.get(key, 1))}"
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise BuildError(f"unknown setting {unknown[0]!r}; the settings are "
                         + ", ".join(f"{k} ({v})" for k, v in KEYS.items()) + ".", where(unknown[0]))
    values = {k: str(v) for k, v in raw.items() if k not in (*LISTS, "facts")}
    check_zip_name(values.get("offline_zip", SiteConfig.offline_zip), where("offline_zip"))
    base_url = os.environ.get("SITE_BASE_URL", values.pop("base_url", ""))
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    lists = {key: names_list(raw, key, where) for key in LISTS}
    facts = raw.get("facts")
    if facts is not None and not isinstance(facts, str):
        raise BuildError("facts names one function, as module:function.", where("facts"))
    homes = package_homes(lists["python"], content, pysrc, where)
    for i, name in enumerate(lists["widgets"]):
        check_module(name, where("widgets", i), "widgets", set(homes))
    for i, entry in enumerate(lists["build"]):
        check_function(entry, where("build", i), "build", content, pysrc)
    if facts is not None:
        check_function(facts, where("facts"), "facts", content, pysrc)
    return SiteConfig(**values, base_url=base_url, facts=facts, homes=homes, lines=lines,
                      **{key: tuple(value) for key, value in lists.items()})


def names_list(raw: dict, key: str, where) -> list[str]:
    """A setting that lists names: a YAML list of strings (or one string)."""
    value = raw.get(key) or []
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BuildError(f"{key} is a list of names, as in '{key}: [name, other]'.", where(key))
    for i, name in enumerate(value):
        if value.index(name) != i:
            raise BuildError(f"{key} names {name!r} twice.", where(key, i))
    return value


def home_of(name: str, content: Path, pysrc: Path) -> Path | None:
    """Where a top-level package or module of the site lives: the content folder, else pysrc/."""
    found = [place for folder in (content, pysrc) for place in (folder / name, folder / f"{name}.py")
             if place.is_dir() or place.is_file()]
    return found[0] if found else None


def package_homes(names: list[str], content: Path, pysrc: Path, where) -> dict[str, Path]:
    homes = {}
    for i, name in enumerate(names):
        if not MODULE.match(name) or "." in name:
            raise BuildError(f"python lists top-level packages; {name!r} is not one "
                             "(write 'notes', not 'notes.coin').", where("python", i))
        if name in ENGINE:
            raise BuildError(f"{name!r} is the generator's own package (widgetkit ships with "
                             "every site): leave it out.", where("python", i))
        in_content, in_pysrc = home_of(name, content, content), home_of(name, pysrc, pysrc)
        if in_content and in_pysrc:
            raise BuildError(f"{name!r} is both a folder of the content and a package of pysrc/: "
                             "rename the content's.", where("python", i))
        if not (in_content or in_pysrc):
            raise BuildError(f"python names {name!r}, which is neither a package in the content "
                             "folder nor one in pysrc/ (a folder or a .py file of that name).",
                             where("python", i))
        if in_content and taken_elsewhere(name, content, pysrc):
            raise BuildError(f"{name!r} is already the name of a module of Python or of an installed "
                             "package: rename the content's folder.", where("python", i))
        homes[name] = in_content or in_pysrc
    return homes


def taken_elsewhere(name: str, content: Path, pysrc: Path) -> bool:
    """Whether a name is importable from somewhere else than the site (the build's own Python
    must keep its modules: the site's would stand in for them while the build runs)."""
    if name in sys.stdlib_module_names:
        return True
    spec = importlib.machinery.PathFinder.find_spec(name)
    origin = Path(spec.origin if spec and spec.origin else
                  next(iter(spec.submodule_search_locations), "") if spec else "")
    return spec is not None and not any(folder in origin.parents for folder in (content, pysrc))


def check_module(name: str, where: str, key: str, packages: set[str]) -> None:
    if not MODULE.match(name):
        raise BuildError(f"{key}: {name!r} is not a module name (as in 'notes' or 'notes.coin').",
                         where)
    if name.partition(".")[0] not in packages:
        raise BuildError(f"{key} names {name!r}, which is in none of the packages listed under "
                         f"python ({', '.join(sorted(packages)) or 'none'}): the browser would not "
                         "have it.", where)


def check_function(entry: str, where: str, key: str, content: Path, pysrc: Path) -> None:
    """A build step or the facts: module:function, the module being one of the site's own."""
    match = FUNCTION.match(entry)
    if not match:
        raise BuildError(f"{key}: write module:function, as in 'mypackage.steps:prepare'; got {entry!r}.",
                         where)
    top = match.group(1).partition(".")[0]
    home = home_of(top, content, pysrc)
    if top in ENGINE or home is None or (content in home.parents and taken_elsewhere(top, content, pysrc)):
        raise BuildError(f"{key} names {match.group(1)!r}, which is not a module of the site (in the "
                         "content folder or pysrc/, and not named like a module of Python).", where)


def setting_lines(text: str) -> dict[str, int]:
    """The line of each setting ("python") and of each item of a list ("python.0"), from
    PyYAML's node marks, so messages point at what to fix."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}   # read_yaml reports it
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
            if isinstance(value, yaml.SequenceNode):
                for i, item in enumerate(value.value):
                    lines[f"{key.value}.{i}"] = item.start_mark.line + 1
    return lines


# The download's name is written into the site's folder: a plain file name, never a path.
ZIP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.zip\Z")


def check_zip_name(name: str, where: str) -> None:
    if not ZIP_NAME.match(name):
        raise BuildError(f"offline_zip must be a plain file name ending in .zip (letters, digits, '.', "
                         f"'-', '_'), such as nextword-offline.zip; got {name!r}.", where)


def read_yaml(path: Path) -> tuple[dict, dict[str, int]]:
    """The settings and the line of each."""
    try:
        raw, lines = guard.load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        raise BuildError(f"not valid YAML: {getattr(problem, 'problem', problem)}.",
                         f"content/{path.name}:{mark.line + 1 if mark else 1}") from None
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        raise BuildError("write the settings as 'key: value' lines.", f"content/{path.name}:1")
    return raw, lines
