"""Build the whole site: gather and render everything in memory, then write it in one swap.

A failed build raises BuildError before anything is written, so the previous
_site/ stays as it was; a finished one replaces it with a single rename.
"""
from __future__ import annotations

import importlib
import inspect
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

import widgets
from widgets.base import InputError, Widget

from . import runtime
from .content import Article, Directive, read_article, to_mathml
from .errors import BuildError

SITE_TITLE = "Next Word"
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'")


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def templates(self) -> Path:
        return self.root / "site_templates"

    @property
    def pysrc(self) -> Path:
        return self.root / "pysrc"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"


def template_env(paths: Paths) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(paths.templates),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


class DirectiveRenderer:
    """Turns each directive of an article into HTML; numbers widgets on the page."""

    def __init__(self, env: jinja2.Environment, slug: str):
        self.env, self.slug, self.count = env, slug, 0

    def __call__(self, d: Directive) -> str:
        if d.kind == "widget":
            return self.widget(d)
        if d.kind == "code":
            return code_block(d)
        if d.kind == "math":
            return to_mathml(d.name, display="block")
        raise BuildError(f"unknown directive '::: {d.kind}'; the directives are "
                         "'::: widget NAME name=value ...' and '::: code MODULE.FUNCTION'.", d.where)

    def widget(self, d: Directive) -> str:
        w = widgets.REGISTRY.get(d.name)
        if w is None:
            raise BuildError(f"unknown widget {d.name!r}; the widgets are "
                             f"{', '.join(sorted(widgets.REGISTRY))}.", d.where)
        try:
            state = w.parse_state(d.params)
            view = w.view(**state)
        except (InputError, ValueError) as problem:
            raise BuildError(f"widget {d.name}: {getattr(problem, 'message', problem)}", d.where) from None
        self.count += 1
        return self.env.get_template("widget.html").render(
            widget=w, state=state, view=view, uid=f"{self.slug}-w{self.count}",
            params=controls_of(w))


def controls_of(w: Widget) -> list:
    return [p for p in w.params if p.control != "none"]


def code_block(d: Directive) -> str:
    module_name, _, attr = d.name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
        source = inspect.getsource(obj)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        raise BuildError(f"cannot show the code of {d.name!r}: name a function or class as "
                         "MODULE.NAME, for example 'sampling.apply_top_p'.", d.where) from None
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))


def pygments_css() -> str:
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def article_facts() -> dict:
    from widgets import facts
    return facts.compute()


def gather_articles(paths: Paths, env: jinja2.Environment, context: dict) -> list[Article]:
    sources = sorted(paths.content.glob("*.md"))
    if not sources:
        raise BuildError("there is no article: add a Markdown file to content/.", "content/")
    articles = [read_article(p, f"content/{p.name}", context, DirectiveRenderer(env, p.stem))
                for p in sources]
    return sorted(articles, key=lambda a: (a.meta["date"], a.slug), reverse=True)


def render_pages(env: jinja2.Environment, articles: list[Article]) -> dict[str, str]:
    common = {"site_title": SITE_TITLE, "csp": CSP, "articles": articles}
    pages = {a.url: env.get_template("article.html").render(page=a, **common) for a in articles}
    pages["index.html"] = env.get_template("index.html").render(page=None, **common)
    return pages


def build_site(root: Path, out: Path) -> None:
    """Build the site from root's sources into out, replacing it only when all went well."""
    paths = Paths(root)
    env = template_env(paths)
    articles = gather_articles(paths, env, {"facts": article_facts()})
    pages = render_pages(env, articles)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
    try:
        write_site(paths, staging, pages)
        make_readable(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_into_place(staging, out)


def write_site(paths: Paths, staging: Path, pages: dict[str, str]) -> None:
    for name, html in pages.items():
        (staging / name).write_text(html, encoding="utf-8")
    shutil.copytree(paths.templates / "static", staging / "assets")
    (staging / "assets" / "code.css").write_text(pygments_css(), encoding="utf-8")
    manifest = runtime.assemble_runtime(paths.cache, paths.pysrc, staging / "pyodide")
    (staging / "third-party.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (staging / ".nojekyll").write_text("", encoding="utf-8")


def make_readable(folder: Path) -> None:
    """Static servers often run as another user: folders 755, files 644 (mkdtemp makes 700)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def swap_into_place(staging: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
