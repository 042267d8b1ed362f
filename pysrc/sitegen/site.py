"""Build the whole site: gather and render everything in memory, then write it in one swap.

A failed build raises BuildError before anything is written, so the previous
_site/ stays as it was; a finished one replaces it with a single rename.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

import widgets
from widgets.base import InputError, Widget

from . import guard, models, offline, runtime
from .config import SiteConfig, load_config
from .content import Article, Directive, read_article, to_mathml
from .errors import BuildError
from .links import check_links

# worker-src blob: is for pages opened from disk, whose worker is made from a blob (offline.py).
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'none'; form-action 'none'")
SOURCE_SUFFIXES = {".md", ".yml", ".yaml"}


@dataclass(frozen=True)
class Paths:
    root: Path
    content: Path

    @property
    def templates(self) -> Path:
        return self.root / "site_templates"

    @property
    def pysrc(self) -> Path:
        return self.root / "pysrc"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"

    def shown(self, path: Path) -> str:
        """A path as messages show it: content/sampling.md."""
        return f"content/{path.relative_to(self.content).as_posix()}"


def template_env(paths: Paths) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(paths.templates),
                              autoescape=jinja2.select_autoescape(["html", "xml"]),
                              undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


class DirectiveRenderer:
    """Turns each directive of an article into HTML; numbers widgets on the page."""

    def __init__(self, env: jinja2.Environment, slug: str, code_packages: frozenset[str] | None = None):
        self.env, self.slug, self.count = env, slug, 0
        # ::: code shows the site's own packages only (those of the pysrc/ beside this generator)
        self.code_packages = code_packages or guard.site_packages(Path(__file__).resolve().parent.parent)

    def __call__(self, d: Directive) -> str:
        if d.kind == "widget":
            return self.widget(d)
        if d.kind == "code":
            return code_block(d, self.code_packages)
        if d.kind == "math":
            return to_mathml(d.name, display="block", where=d.where)
        raise BuildError(f"unknown directive '::: {d.kind}'; the directives are "
                         "'::: widget NAME name=value ...', '::: image PATH alt=\"...\"', "
                         "'::: code MODULE.FUNCTION' and a display formula between two '$$' lines.", d.where)

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
            params=controls_of(w), figure=d.figure)


def controls_of(w: Widget) -> list:
    return [p for p in w.params if p.control != "none"]


def code_block(d: Directive, packages: frozenset[str]) -> str:
    module_name, _, attr = d.name.rpartition(".")
    # Checked before the import: importing a module runs it (unittest.__main__ ran unittest).
    own = f"the site's own modules ({', '.join(sorted(packages))})"
    if not allowed_code(module_name, attr, packages):
        raise BuildError(f"'::: code' shows {own} only; {d.name!r} is not one of them.", d.where)
    try:
        obj = getattr(importlib.import_module(module_name), attr)
        origin = inspect.getmodule(obj)
        if origin is None or not guard.allowed_code_module(origin.__name__, packages):
            raise BuildError(f"'::: code' shows {own} only; {d.name!r} comes from elsewhere.", d.where)
        source = inspect.getsource(obj)
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        raise BuildError(f"cannot show the code of {d.name!r}: name a function or class as "
                         "MODULE.NAME, for example 'sampling.apply_top_p'.", d.where) from None
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))


def allowed_code(module_name: str, attr: str, packages: frozenset[str]) -> bool:
    return (guard.allowed_code_module(module_name, packages) and attr.isidentifier()
            and all(part.isidentifier() for part in module_name.split(".")))


def pygments_css() -> str:
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def load_extra_widgets(folder: Path | None, paths: Paths) -> list[Path]:
    """Import the site's own widget modules (they register themselves); return their files."""
    if folder is None:
        return []
    modules = sorted(folder.glob("*.py"))
    for path in modules:
        name = f"widgets.{path.stem}"
        if (paths.pysrc / "widgets" / path.name).exists():
            raise BuildError(f"the project's widgets have a module named {path.stem!r} already; "
                             "rename this file.", paths.shown(path))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as problem:  # an author's module: say where it failed, in one line
            del sys.modules[name]
            raise BuildError(f"this widget module failed to load: {type(problem).__name__}: {problem}",
                             paths.shown(path)) from None
    return modules


def widget_index() -> bytes:
    """Which module registers each widget, for the browser to import only what it draws."""
    index = {name: w.view.__module__ for name, w in sorted(widgets.REGISTRY.items())}
    return (json.dumps(index, indent=1) + "\n").encode()


def article_facts() -> dict:
    from widgets import facts
    return facts.compute()


def article_context(config: SiteConfig, facts: dict) -> dict:
    """What an article's {{ ... }} may read: the facts and the settings, as text (never objects
    with methods, such as the widget folder's Path)."""
    settings = {"title": config.title, "description": config.description, "author": config.author,
                "base_url": config.base_url, "offline_zip": config.offline_zip}
    return {"facts": facts, "site": settings}


def gather_articles(paths: Paths, env: jinja2.Environment, context: dict,
                    drafts: bool = False) -> list[Article]:
    sources = sorted(paths.content.glob("*.md"))
    if not sources:
        raise BuildError("there is no article: add a Markdown file to content/.", "content/")
    packages = guard.site_packages(paths.pysrc)
    articles = [read_article(p, paths.shown(p), context, DirectiveRenderer(env, p.stem, packages))
                for p in sources]
    articles = [a for a in articles if drafts or not a.meta["draft"]]  # drafts only in the preview
    return sorted(articles, key=lambda a: (a.meta["date"], a.slug), reverse=True)


def content_files(paths: Paths, config: SiteConfig) -> dict[str, Path]:
    """Images and other files of content/ that the site serves as they are."""
    skip = config.widgets
    return {p.relative_to(paths.content).as_posix(): p for p in sorted(paths.content.rglob("*"))
            if p.is_file() and p.suffix not in SOURCE_SUFFIXES and "__pycache__" not in p.parts
            and not (skip and skip in p.parents)}


def render_pages(env: jinja2.Environment, articles: list[Article], config: SiteConfig) -> dict[str, str]:
    common = {"site": config, "csp": CSP, "articles": articles}
    pages = {a.url: env.get_template("article.html").render(page=a, **common) for a in articles}
    pages["index.html"] = env.get_template("index.html").render(page=None, **common)
    pages["feed.xml"] = env.get_template("feed.xml").render(**common)
    pages["sitemap.xml"] = env.get_template("sitemap.xml").render(**common)
    return pages


def build_site(root: Path, out: Path, content: Path | None = None, drafts: bool = False) -> None:
    """Build the site from root's sources (and content/, or another content folder) into out,
    replacing out only when everything went well."""
    paths = Paths(root, content or root / "content")
    config = load_config(paths.content)
    guard.check_content_folder(paths.content, config.offline_zip)
    known, modules = dict(widgets.REGISTRY), set(sys.modules)
    try:
        extra = load_extra_widgets(config.widgets, paths)
        package_data = models.prepare(paths.cache)  # the n-gram model, for the widgets and facts
        package_data[f"widgets/{widgets.INDEX_FILE}"] = widget_index()
        pages, files = render_site(paths, config, drafts)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
        try:
            write_site(paths, staging, pages, files, extra, package_data)
            offline.add_offline_files(staging, paths.cache, config.offline_zip)
            make_readable(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:  # another site's widgets must not leak into the next build
        widgets.REGISTRY.clear()
        widgets.REGISTRY.update(known)
        for name in set(sys.modules) - modules:
            if name.startswith("widgets."):
                del sys.modules[name]
    swap_into_place(staging, out)


def render_site(paths: Paths, config: SiteConfig,
                drafts: bool = False) -> tuple[dict[str, str], dict[str, Path]]:
    """Every page as text and every content file, checked, before anything is written."""
    env = template_env(paths)
    articles = gather_articles(paths, env, article_context(config, article_facts()), drafts)
    files = content_files(paths, config)
    sources = {a.url: (a.source, (paths.content / f"{a.slug}.md").read_text(encoding="utf-8"),
                       a.body_html) for a in articles}
    check_links(sources, set(files) | {"index.html", "feed.xml"})
    return render_pages(env, articles, config), files


def write_site(paths: Paths, staging: Path, pages: dict[str, str], files: dict[str, Path],
               extra_widgets: list[Path], package_data: dict[str, bytes]) -> None:
    for name, text in pages.items():
        (staging / name).write_text(text, encoding="utf-8")
    for name, source in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staging / name)
    shutil.copytree(paths.templates / "static", staging / "assets")
    (staging / "assets" / "code.css").write_text(pygments_css(), encoding="utf-8")
    manifest = runtime.assemble_runtime(paths.cache, paths.pysrc, staging / "pyodide", extra_widgets,
                                        package_data)
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
