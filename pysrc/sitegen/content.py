"""Read one Markdown article: front matter, directives, math, code, Markdown -> HTML.

Directives are lines of their own in the article:

    ::: widget temperature example=flat temperature=0.7 id=temperature caption="..."
    ::: image images/coin.svg alt="A coin" id=coin caption="..."
    ::: code sampling.apply_top_p

An aside (a margin note on a wide screen, a box in the text on a phone) is a block:

    ::: aside
    Markdown, as anywhere in the article.
    :::

They are found in the raw text first (so errors can name their line), replaced
by placeholders that pass through Jinja and Markdown untouched, and filled with
HTML at the end. The body is a Jinja template before it is Markdown, so numbers
the build computes are written `{{ facts.name }}` and never typed by hand.
"""
from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jinja2
import latex2mathml.converter
import markdown
import yaml
from markdown.inlinepatterns import InlineProcessor

from . import references
from .errors import BuildError
from .references import Figure

DIRECTIVE = re.compile(r"^:::\s*(\w+)\s*(.*)$")
ASIDE_OPEN, ASIDE_CLOSE = re.compile(r"^:::\s*aside\b(.*)$"), re.compile(r"^:::\s*$")
# md_in_html renders the Markdown inside; role="note": a remark aside from the text, not a landmark.
ASIDE_TAG = '<aside class="aside" role="note" markdown="1">'
PLACEHOLDER = "XDIRECTIVEX{}X"
REQUIRED_META = ("title", "date", "summary")
OPTIONAL_META = ("tags", "updated", "draft", "bibliography")


@dataclass(frozen=True)
class Directive:
    kind: str          # "widget", "image", "code", "math"
    where: str         # "content/article.md:12"
    name: str          # the widget's or object's name or image's path, or the LaTeX of a display formula
    params: dict = field(default_factory=dict)
    figure: Figure | None = None   # numbered when given an id= or a caption=


@dataclass
class Article:
    source: str                 # path as shown in messages, e.g. "content/sampling.md"
    slug: str
    meta: dict
    body_html: str
    headings: list[tuple[int, str, str]]   # (level, id, text) for the table of contents

    @property
    def url(self) -> str:
        return f"{self.slug}.html"


def split_front_matter(text: str, source: str) -> tuple[dict, str, int]:
    """Return (metadata, body, number of lines before the body)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise BuildError("an article starts with front matter between two '---' lines "
                         "(title, date, summary).", f"{source}:1")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise BuildError("the front matter has no closing '---' line.", f"{source}:1") from None
    meta = parse_meta("\n".join(lines[1:end]), source)
    return meta, "\n".join(lines[end + 1:]), end + 1


def parse_meta(text: str, source: str) -> dict:
    try:
        meta = yaml.safe_load(text) or {}
    except yaml.YAMLError as problem:
        # the context mark (where an unclosed bracket opened) is nearer the mistake when there is one
        mark = getattr(problem, "context_mark", None) or getattr(problem, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        raise BuildError(f"the front matter is not valid YAML: {getattr(problem, 'problem', problem)}.",
                         f"{source}:{line}") from None
    if not isinstance(meta, dict):
        raise BuildError("the front matter must be 'key: value' lines.", f"{source}:2")
    missing = [key for key in REQUIRED_META if not meta.get(key)]
    if missing:
        raise BuildError(f"the front matter lacks {', '.join(missing)} "
                         f"(every article needs {', '.join(REQUIRED_META)}).", f"{source}:1")
    if not isinstance(meta["date"], dt.date):
        raise BuildError(f"date must be a date written YYYY-MM-DD; got {meta['date']!r}.", f"{source}:1")
    check_meta_keys(meta, text, source)
    meta.setdefault("tags", [])
    meta.setdefault("updated", None)
    meta.setdefault("draft", False)
    if not isinstance(meta["draft"], bool):
        raise BuildError(f"draft is true or false; got {meta['draft']!r}.",
                         f"{source}:{meta_line(text, 'draft')}")
    return meta


def check_meta_keys(meta: dict, text: str, source: str) -> None:
    """A misspelt key (`sumary:`, `drafts:`) would be ignored in silence: stop at its line."""
    known = REQUIRED_META + OPTIONAL_META
    for key in meta:
        if key not in known:
            raise BuildError(f"unknown front matter key {key!r}; the keys are {', '.join(known)}.",
                             f"{source}:{meta_line(text, key)}")


def meta_line(text: str, key) -> int:
    """The file line of `key:` in the front matter (which starts on line 2)."""
    for i, line in enumerate(text.split("\n")):
        if re.match(rf"\s*['\"]?{re.escape(str(key))}['\"]?\s*:", line):
            return i + 2
    return 1


def parse_directive_args(args: str, where: str) -> tuple[str, dict]:
    try:
        words = shlex.split(args)
    except ValueError as problem:
        raise BuildError(f"cannot read the directive's arguments ({problem}).", where) from None
    if not words:
        raise BuildError("the directive needs a name, as in '::: widget temperature'.", where)
    params = {}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if not eq or not key.isidentifier():
            raise BuildError(f"{word!r} is not a parameter; write name=value.", where)
        params[key] = value
    return words[0], params


def extract_directives(body: str, source: str, offset: int) -> tuple[str, list[Directive]]:
    """Replace directive lines and $$ blocks by placeholders; return the body and the directives."""
    lines, out, directives = body.split("\n"), [], []
    i, figures, in_fence = 0, 0, references.fenced(lines)
    aside = None   # where the open aside started
    while i < len(lines):
        where = f"{source}:{offset + i + 1}"
        line = lines[i]
        if in_fence[i]:  # a fenced code block shows its lines as they are, directives included
            out.append(line)
            i += 1
            continue
        if ASIDE_OPEN.match(line) or ASIDE_CLOSE.match(line):
            aside = aside_line(line, aside, where)
            out.append(ASIDE_TAG if aside else "</aside>")
            i += 1
            continue
        if line.strip() == "$$":
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "$$"), None)
            if end is None:
                raise BuildError("this display formula has no closing '$$' line.", where)
            directives.append(Directive("math", where, "\n".join(lines[i + 1:end])))
            out += ["", PLACEHOLDER.format(len(directives) - 1), ""] + [""] * (end - i - 2)
            i = end + 1
            continue
        match = DIRECTIVE.match(line)
        if match:
            if aside and match.group(1) in references.FIGURE_KINDS:
                raise BuildError(f"a {match.group(1)} cannot sit in an aside (opened at {aside}): "
                                 "close the aside with ':::' first.", where)
            name, params = parse_directive_args(match.group(2), where)
            params, figure = references.take_figure(match.group(1), params, where, figures + 1)
            figures += bool(figure)
            directives.append(Directive(match.group(1), where, name, params, figure))
            out += [PLACEHOLDER.format(len(directives) - 1)]
        else:
            out.append(line)
        i += 1
    if aside:
        raise BuildError("this aside has no closing ':::' line.", aside)
    return "\n".join(out), directives


def aside_line(line: str, aside: str | None, where: str) -> str | None:
    """Where the aside open after this '::: aside' or ':::' line started (None: closed)."""
    opening = ASIDE_OPEN.match(line)
    if opening and opening.group(1).strip():
        raise BuildError(f"'::: aside' takes nothing after it; got {opening.group(1).strip()!r}.", where)
    if opening and aside:
        raise BuildError(f"an aside cannot open inside another (opened at {aside}); close that "
                         "one with ':::' first.", where)
    if not opening and not aside:
        raise BuildError("a ':::' line closes an aside, but no '::: aside' is open here.", where)
    return where if opening else None


class InlineMath(InlineProcessor):
    """$x$ -> MathML, made at build time so no script is needed to read it."""

    def handleMatch(self, m, data):
        html = to_mathml(m.group(1), display="inline")
        return self.md.htmlStash.store(html), m.start(0), m.end(0)


class MathExtension(markdown.Extension):
    def extendMarkdown(self, md):
        md.inlinePatterns.register(InlineMath(r"(?<![\\$\w])\$([^$\n]+?)\$(?![\w$])", md), "math", 185)


def to_mathml(latex: str, display: str) -> str:
    return latex2mathml.converter.convert(latex, display=display)


def render_markdown(body: str, extensions: tuple = ()) -> tuple[str, list[tuple[int, str, str]]]:
    """Markdown with footnotes, tables, fenced code (coloured by Pygments at build time), math."""
    md = markdown.Markdown(extensions=["extra", "toc", "sane_lists", "smarty", "codehilite",
                                       MathExtension(), *extensions],
                           extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"},
                                              "codehilite": {"css_class": "highlight", "guess_lang": False,
                                                             "wrapcode": True}},
                           output_format="html")
    html = md.convert(body)
    headings = [(t["level"], t["id"], t["name"]) for t in flatten_toc(md.toc_tokens)]
    return html, headings


def flatten_toc(tokens: list[dict]) -> list[dict]:
    flat = []
    for t in tokens:
        flat.append(t)
        flat += flatten_toc(t.get("children", []))
    return flat


def render_template_body(body: str, context: dict, source: str, offset: int) -> str:
    """Evaluate {{ ... }} in the body; errors name the article's line."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True)
    try:
        return env.from_string(body).render(**context)
    except jinja2.TemplateSyntaxError as problem:
        raise BuildError(f"template syntax: {problem.message}.", f"{source}:{offset + problem.lineno}") from None
    except jinja2.UndefinedError as problem:
        line = template_error_line(problem)
        raise BuildError(f"{problem.message}; the names available are {', '.join(sorted(context))}"
                         " (and their attributes).", f"{source}:{offset + line}" if line else source) from None


def template_error_line(problem: BaseException) -> int | None:
    tb, line = problem.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def fill_placeholders(html: str, fragments: list[str]) -> str:
    def fill(m: re.Match) -> str:
        return fragments[int(m.group(1))]
    return re.sub(r"(?:<p>)?XDIRECTIVEX(\d+)X(?:</p>)?", fill, html)


def read_article(path: Path, source: str, context: dict,
                 render_directive: Callable[[Directive], str]) -> Article:
    """Everything about one article, with its directives rendered by `render_directive`."""
    meta, body, offset = split_front_matter(path.read_text(encoding="utf-8"), source)
    body, directives = extract_directives(body, source, offset)
    figures, citations = check_references(meta, body, directives, path.parent, source, offset)
    body = render_template_body(body, context, source, offset)
    html, headings = render_markdown(body, (references.ReferencesExtension(citations, figures),))
    html = fill_placeholders(html, [render_image(d) if d.kind == "image" else render_directive(d)
                                    for d in directives])
    html += references.reference_list(citations, meta.get("bibliography", ""))
    if citations.order:
        headings.append((2, "references", "References"))
    return Article(source, path.stem, meta, html, headings)


def check_references(meta: dict, body: str, directives: list[Directive], content: Path, source: str,
                     offset: int) -> tuple[dict[str, Figure], references.Citations]:
    """Code fences' languages, `@fig:` references and `[@key]` citations, each checked at its line."""
    references.check_fence_languages(body, source, offset)
    figures = references.named_figures(directives)
    references.check_figure_refs(body, source, offset, figures)
    return figures, references.gather_citations(meta, body, content, source, offset)


def render_image(d: Directive) -> str:
    return references.image_html(d.name, d.params, d.figure, d.where)

