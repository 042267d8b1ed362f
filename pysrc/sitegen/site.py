"""Build the whole site: gather and render everything in memory, then write it in one swap.

A failed build raises BuildError before anything is written, so the previous
_site/ stays as it was; a finished one replaces it with a single rename.

The preview keeps a `Reuse` between builds: the site's Python stays imported (with its
build steps' files and facts) while its sources are unchanged, and each article stays
rendered while its text and everything it depends on are; the runtime is cached on disk
by a hash of its inputs (runtime.py), as are the big files of the offline bundle.
"""
from __future__ import annotations

import hashlib
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

import widgetkit
from widgetkit import InputError, Widget

from . import guard, offline, runtime
from .config import SiteConfig, load_config
from .sitecode import SiteCode
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
    cache: Path

    @property
    def templates(self) -> Path:
        return self.root / "site_templates"

    @property
    def pysrc(self) -> Path:
        return self.root / "pysrc"

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

    def __init__(self, env: jinja2.Environment, slug: str, config: SiteConfig, memo: dict | None = None):
        self.env, self.slug, self.config, self.count = env, slug, config, 0
        self.memo = {} if memo is None else memo

    def __call__(self, d: Directive) -> str:
        """A directive's HTML. Views are pure functions of their parameters, so a preview keeps
        what it drew (`memo`, emptied when the site's Python or the templates change)."""
        uid = f"{self.slug}-w{self.count + 1}" if d.kind == "widget" else ""
        key = (d.kind, d.name, tuple(sorted(d.params.items())), d.figure, uid)
        if key not in self.memo:
            self.memo[key] = self.render(d)
        elif d.kind == "widget":
            self.count += 1
        return self.memo[key]

    def render(self, d: Directive) -> str:
        if d.kind == "widget":
            return self.widget(d)
        if d.kind == "code":
            return code_block(d, frozenset(self.config.python))
        if d.kind == "math":
            formula = to_mathml(d.name, display="block", where=d.where)
            if d.figure is None:
                return formula
            return (f'<div class="equation" id="{d.figure.anchor}">{formula}'
                    f'<span class="equation-number">({d.figure.number})</span></div>')
        raise BuildError(f"unknown directive '::: {d.kind}'; the directives are "
                         "'::: widget NAME name=value ...', '::: image PATH alt=\"...\"', "
                         "'::: code MODULE.FUNCTION' and a display formula between two '$$' lines.", d.where)

    def widget(self, d: Directive) -> str:
        w = widgetkit.REGISTRY.get(d.name)
        if w is None:
            known = ", ".join(sorted(widgetkit.REGISTRY)) or "none (content/site.yml declares none)"
            raise BuildError(f"unknown widget {d.name!r}; the widgets are {known}.", d.where)
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


class Reuse:
    """What a preview keeps from one build to the next (a build from scratch keeps nothing)."""

    def __init__(self):
        self.code: SiteCode | None = None
        self.articles: dict[Path, tuple[str, Article]] = {}
        self.env: jinja2.Environment | None = None   # compiled templates (reloaded when edited)
        self.fragments: dict = {}   # each directive's HTML, by what it depends on
        self.templates = ""         # the templates' digest the fragments were made with

    def site_code(self, config: SiteConfig, paths: Paths) -> SiteCode:
        """The site's Python, imported again only when its sources or declarations changed."""
        fresh = SiteCode(config, paths.root, paths.content, paths.cache)
        if self.code is not None and self.code.key == fresh.key:
            return self.code
        self.close()
        self.code = fresh.open()
        return self.code

    def close(self) -> None:
        if self.code is not None:
            self.code.close()
            self.code = None
        self.articles.clear()
        self.fragments.clear()


def article_context(config: SiteConfig, facts: dict) -> dict:
    """What an article's {{ ... }} may read: the facts and the settings, as text (never objects
    with methods)."""
    settings = {"title": config.title, "description": config.description, "author": config.author,
                "base_url": config.base_url, "offline_zip": config.offline_zip}
    return {"facts": facts, "site": settings}


def gather_articles(paths: Paths, env: jinja2.Environment, context: dict, config: SiteConfig,
                    reuse: Reuse | None, depends: str, drafts: bool = False) -> list[Article]:
    """Every article, newest first; with `reuse`, an article whose text and `depends` (a hash
    of the site's Python, templates, settings and other content files) are unchanged is not
    rendered again."""
    sources = sorted(paths.content.glob("*.md"))
    if not sources:
        raise BuildError("there is no article: add a Markdown file to content/.", "content/")
    articles = []
    for path in sources:
        key = hashlib.sha256(path.read_bytes() + depends.encode()).hexdigest()
        kept = reuse.articles.get(path) if reuse else None
        if kept is None or kept[0] != key:
            kept = key, read_article(path, paths.shown(path), context,
                                     DirectiveRenderer(env, path.stem, config,
                                                       reuse.fragments if reuse else None))
            if reuse:
                reuse.articles[path] = kept
        articles.append(kept[1])
    if reuse:
        for gone in set(reuse.articles) - set(sources):
            del reuse.articles[gone]
    articles = [a for a in articles if drafts or not a.meta["draft"]]  # drafts only in the preview
    return sorted(articles, key=lambda a: (a.meta["date"], a.slug), reverse=True)


def tree_digest(folders: list[Path], skip: tuple[str, ...] = ()) -> str:
    """A hash of the names, sizes and modification times of the files under the folders."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix not in skip and "__pycache__" not in path.parts:
                info = path.stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def content_files(paths: Paths, config: SiteConfig) -> dict[str, Path]:
    """Images and other files of content/ that the site serves as they are (not the site's
    Python kept there)."""
    code = [home for home in config.homes.values() if paths.content in home.parents]
    return {p.relative_to(paths.content).as_posix(): p for p in sorted(paths.content.rglob("*"))
            if p.is_file() and p.suffix not in SOURCE_SUFFIXES and "__pycache__" not in p.parts
            and not any(p == home or home in p.parents for home in code)}


def render_pages(env: jinja2.Environment, articles: list[Article], config: SiteConfig) -> dict[str, str]:
    common = {"site": config, "csp": CSP, "articles": articles}
    pages = {a.url: env.get_template("article.html").render(page=a, **common) for a in articles}
    pages["index.html"] = env.get_template("index.html").render(page=None, **common)
    pages["feed.xml"] = env.get_template("feed.xml").render(**common)
    pages["sitemap.xml"] = env.get_template("sitemap.xml").render(**common)
    return pages


def build_site(root: Path, out: Path, content: Path | None = None, cache: Path | None = None,
               reuse: Reuse | None = None, offline_zip: bool = True, drafts: bool = False) -> None:
    """Build the site from root's sources (and content/, or another content folder) into out,
    replacing out only when everything went well. cache: where work is kept between builds
    (default: root/.cache). reuse: what a preview keeps between its builds. offline_zip=False
    leaves the download out (the preview makes it when asked)."""
    paths = Paths(root, content or root / "content", cache or root / ".cache")
    config = load_config(paths.content, paths.root / "pysrc")
    guard.check_content_folder(paths.content, config.offline_zip)
    code = (reuse.site_code(config, paths) if reuse
            else SiteCode(config, paths.root, paths.content, paths.cache).open())
    site_runtime = None
    try:
        # made (when not cached) partly while the pages render
        site_runtime = runtime.SiteRuntime(paths.cache, code.wheel_files())
        pages, files = render_site(paths, config, code, reuse, drafts)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
        try:
            write_site(paths, staging, pages, files, site_runtime)
            offline.add_offline_files(staging, paths.cache, config.offline_zip if offline_zip else None)
            make_readable(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        if site_runtime is not None:
            site_runtime.close()
        if reuse is None:   # another site's widgets must not leak into the next build
            code.close()
    swap_into_place(staging, out)


def render_site(paths: Paths, config: SiteConfig, code: SiteCode,
                reuse: Reuse | None, drafts: bool = False) -> tuple[dict[str, str], dict[str, Path]]:
    """Every page as text and every content file, checked, before anything is written."""
    env = template_env(paths)
    if reuse:
        reuse.env = env = reuse.env or env
    site_yml = paths.content / "site.yml"
    templates = tree_digest([paths.templates])
    if reuse and reuse.templates != templates:
        reuse.fragments.clear()
        reuse.templates = templates
    depends = "|".join([code.key, templates,
                        site_yml.read_text(encoding="utf-8") if site_yml.exists() else "",
                        tree_digest([paths.content], skip=(".md",))])
    articles = gather_articles(paths, env, article_context(config, code.facts), config, reuse, depends,
                               drafts)
    files = content_files(paths, config)
    sources = {a.url: (a.source, (paths.content / f"{a.slug}.md").read_text(encoding="utf-8"),
                       a.body_html) for a in articles}
    check_links(sources, set(files) | {"index.html", "feed.xml"})
    return render_pages(env, articles, config), files


def write_site(paths: Paths, staging: Path, pages: dict[str, str], files: dict[str, Path],
               site_runtime: runtime.SiteRuntime) -> None:
    for name, text in pages.items():
        (staging / name).write_text(text, encoding="utf-8")
    for name, source in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staging / name)
    shutil.copytree(paths.templates / "static", staging / "assets")
    (staging / "assets" / "code.css").write_text(pygments_css(), encoding="utf-8")
    manifest = site_runtime.write_into(staging / "pyodide")
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
