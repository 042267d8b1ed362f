"""Content is data: the checks that keep an article, a setting or a file in content/ from running
code, naming a file outside the site, or tying up the build (issue 16).

- YAML (front matter, site.yml) is read without anchors and aliases, within a size cap.
- Files of content/ are plain files inside it (no symbolic links), with names that collide with
  nothing the build writes, and articles have safe names (they become URLs).
- `::: code MODULE.NAME` shows only the site's own packages (`allowed_code_module`).
- Markdown is checked for what makes Python-Markdown slow or crash before it sees the text.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from .errors import BuildError

MAX_YAML_BYTES = 64 * 1024          # front matter or site.yml: a few lines are usual
MAX_ARTICLE_BYTES = 2 * 1024 * 1024  # content/sampling.md is 27 kB
# Python-Markdown parses nested blocks recursively (1,500 levels: a RecursionError after two
# minutes and 2 GB) and links and raw HTML in time that grows with the square of their number
# in a paragraph (bench: 2,000 '[' take 1.1 s, 4,000 6.7 s; 500 take 0.08 s).
MAX_NESTING = 32
MAX_OPENERS = 500                   # '[' or '<' in one paragraph
MAX_FORMULA_DEPTH = 40              # nested braces in one formula (latex2mathml recurses)
# A slug is what an article's file name becomes in URLs: index.html lists `SLUG.html`.
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
# What the build writes at the top of the site, beside the articles and content's files.
RESERVED_FILES = {"index.html", "feed.xml", "sitemap.xml", "sw.js", "third-party.json", ".nojekyll"}
RESERVED_FOLDERS = {"assets", "pyodide", "offline", "__preview"}
# The generator is not the site: its code is not shown as the article's.
NOT_SITE_PACKAGES = {"sitegen"}


# ---- YAML ---------------------------------------------------------------------------------

class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors (&a) and aliases (*a): 300 bytes of nested aliases
    expand to gigabytes, and settings and front matter never need them."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed here; "
                "write each value out", event.start_mark)
        return super().compose_node(parent, index)


def load_yaml(text: str) -> tuple[object, dict[str, int]]:
    """The data of a YAML text and the line (from 1) of each top-level key, for messages.
    Raises yaml.YAMLError (with a mark) for a mistake, an alias, or nesting too deep."""
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise yaml.YAMLError(f"it is longer than {MAX_YAML_BYTES // 1024} kB")
    loader = NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise yaml.YAMLError("it is nested too deeply") from None
    finally:
        loader.dispose()
    lines = {}
    if isinstance(node, yaml.MappingNode):
        lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return data, lines


# ---- the files of content/ ----------------------------------------------------------------

def check_content_folder(content: Path, offline_zip: str, shown: str = "content") -> None:
    """Refuse links, names that collide with the build's own files, and unsafe article names,
    before anything is read: the build publishes what content/ holds, so it must hold only that."""
    root = content.resolve()
    reserved = RESERVED_FILES | {offline_zip}
    slugs = set()
    for folder, dirs, files in os.walk(root):   # never follows a link
        here = Path(folder)
        for name in sorted(dirs + files):
            path = here / name
            where = f"{shown}/{path.relative_to(root).as_posix()}"
            if path.is_symlink():
                raise BuildError("is a symbolic link; the site publishes only files that are inside "
                                 "content/, so copy the file here instead.", where)
            if here == root and (name in reserved or name in RESERVED_FOLDERS):
                raise BuildError(f"the name {name!r} is reserved for what the build writes itself "
                                 f"({', '.join(sorted(reserved | {f + '/' for f in RESERVED_FOLDERS}))}); "
                                 "rename it.", where)
            if here == root and name.endswith(".md"):
                stem = name[:-3]
                if not SLUG.match(stem):
                    raise BuildError("an article's file name becomes its address: use lower-case "
                                     "letters, digits, '-' and '_', starting with a letter or digit "
                                     "(for example top-p.md).", where)
                if stem == "index":
                    raise BuildError("the name 'index.md' is reserved: the build writes index.html, "
                                     "the list of articles; rename it.", where)
                slugs.add(stem)
        dirs[:] = [d for d in dirs if d != "__pycache__"]
    for slug in sorted(slugs):
        if (root / f"{slug}.html").exists():
            raise BuildError(f"the name '{slug}.html' is reserved: it is the page of {slug}.md; "
                             "rename one of them.", f"{shown}/{slug}.html")


# ---- ::: code -----------------------------------------------------------------------------

def allowed_code_module(name: str, allowed_packages) -> bool:
    """Whether `::: code` may import and show module `name`: it belongs to one of the site's own
    packages (the one rule; the site's declared packages can feed it)."""
    return bool(name) and name.split(".", 1)[0] in set(allowed_packages)


# ---- Markdown -----------------------------------------------------------------------------

CONTAINER = re.compile(r"(?:>|[-+*](?=\s)|\d{1,9}[.)](?=\s))\s*")


def nesting_depth(line: str) -> int:
    """How many blocks a line opens or sits in: each 4 columns of indentation is one level of a
    list, and each '>', list marker or number at its start opens one more."""
    expanded = line.expandtabs(4)
    stripped = expanded.lstrip(" ")
    depth = (len(expanded) - len(stripped)) // 4
    position = 0
    while match := CONTAINER.match(stripped, position):
        if match.end() == position:
            break
        depth, position = depth + 1, match.end()
    return depth


def check_markdown_limits(body: str, source: str, offset: int) -> None:
    """Stop, with the line, what Python-Markdown cannot read in reasonable time or at all."""
    counts, start = {"[": 0, "<": 0}, None
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        if nesting_depth(line) > MAX_NESTING:
            raise BuildError(f"this line is nested more than {MAX_NESTING} lists or quotes deep; "
                             "flatten it.", f"{source}:{number}")
        if not line.strip():
            counts, start = {"[": 0, "<": 0}, None
            continue
        start = start or number
        for char in counts:
            counts[char] += line.count(char)
            if counts[char] > MAX_OPENERS:
                raise BuildError(f"this paragraph has more than {MAX_OPENERS} '{char}' characters, "
                                 "which Markdown reads too slowly; split it or escape them in a "
                                 "code span.", f"{source}:{start}")


def formula_depth(latex: str) -> int:
    depth = deepest = 0
    for char in latex:
        depth += (char == "{") - (char == "}")
        deepest = max(deepest, depth)
    return deepest
