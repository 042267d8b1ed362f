"""Check every link and image of the articles before anything is written."""
from __future__ import annotations

import functools
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BuildError


class LinkCollector(HTMLParser):
    """The ids of a page, and its (tag, attribute, url) references."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.heading_ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
                if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                    self.heading_ids.add(value)
            if value and (tag, name) in {("a", "href"), ("img", "src"), ("source", "src"),
                                         ("video", "src"), ("audio", "src")}:
                self.refs.append((tag, value))


@functools.lru_cache(maxsize=64)   # the preview checks unchanged pages again: read each once
def collect(html: str) -> LinkCollector:
    """The page's ids and references (the result is only read, never changed)."""
    collector = LinkCollector()
    collector.feed(html)
    return collector


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def line_of(source_text: str, needle: str) -> int | None:
    return next((i for i, line in enumerate(source_text.split("\n"), 1) if needle in line), None)


def check_links(pages: dict[str, tuple[str, str, str]], files: set[str]) -> None:
    """pages: url -> (source path, source text, body html); files: other paths in the site.

    Raises BuildError at the first link to a missing page, anchor or file.
    """
    collected = {url: collect(html) for url, (_, _, html) in pages.items()}
    ids = {url: c.ids for url, c in collected.items()}
    headings = {url: c.heading_ids for url, c in collected.items()}
    for url, (source, text, html) in pages.items():
        for tag, ref in collected[url].refs:
            problem = missing_target(url, ref, ids, headings, files)
            if problem:
                line = line_of(text, ref.split("#")[0] or ref)
                raise BuildError(problem, f"{source}:{line}" if line else source)


def missing_target(page: str, ref: str, ids: dict[str, set[str]], headings: dict[str, set[str]],
                   files: set[str]) -> str:
    if is_external(ref) or ref.startswith("mailto:"):
        return ""
    parts = urlsplit(ref)
    target = unquote(parts.path) or page
    target = str(Path(page).parent / target) if parts.path else page
    target = target.removeprefix("./")
    if target in ids:
        if parts.fragment and parts.fragment not in ids[target]:
            return (f"the link {ref!r} points at #{parts.fragment}, which is not an id in {target} "
                    f"(its headings' ids: {', '.join(sorted(headings[target])[:12]) or 'none'}).")
        return ""
    if target in files:
        return ""
    return (f"the link or image {ref!r} points at {target!r}, which the site does not have; "
            f"link to an article's .html page or put the file in content/.")
