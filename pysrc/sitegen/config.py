"""The site's settings, from content/site.yml (every key optional)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import guard
from .errors import BuildError

KEYS = {"title": "the site's name", "description": "one sentence for the index page",
        "base_url": "the published address, for the feed and sitemap",
        "author": "who writes the articles", "widgets": "a folder of extra widget modules",
        "offline_zip": "name of the offline download"}


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Next Word"
    description: str = "Interactive explanations of how language models work."
    base_url: str = ""          # e.g. https://owner.github.io/repo/ (SITE_BASE_URL overrides)
    author: str = "The Next Word authors"
    widgets: Path | None = None  # extra widget modules, copied into the browser package
    offline_zip: str = "nextword-offline.zip"

    def absolute(self, url: str) -> str:
        """An absolute URL when the site's address is known, else the relative one."""
        return self.base_url + url if self.base_url else url


def load_config(content: Path) -> SiteConfig:
    path = content / "site.yml"
    raw, lines = read_yaml(path) if path.exists() else ({}, {})
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise BuildError(f"unknown setting {unknown[0]!r}; the settings are "
                         + ", ".join(f"{k} ({v})" for k, v in KEYS.items()) + ".",
                         f"content/{path.name}:{lines.get(str(unknown[0]), 1)}")
    values = {k: str(v) for k, v in raw.items() if k != "widgets"}
    check_zip_name(values.get("offline_zip", SiteConfig.offline_zip), f"content/{path.name}:{lines.get('offline_zip', 1)}")
    base_url = os.environ.get("SITE_BASE_URL", values.pop("base_url", ""))
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    widgets = content / raw["widgets"] if raw.get("widgets") else None
    if widgets is not None and not widgets.is_dir():
        raise BuildError(f"widgets names {raw['widgets']!r}, which is not a folder in content/.",
                         f"content/{path.name}")
    if widgets is not None and not widgets.resolve().is_relative_to(content.resolve()):
        raise BuildError(f"widgets names {raw['widgets']!r}, a folder outside content/; the site's "
                         "widget modules live inside it.", f"content/{path.name}:{lines.get('widgets', 1)}")
    return SiteConfig(**values, base_url=base_url, widgets=widgets)


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
