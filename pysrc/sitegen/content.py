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
from jinja2 import nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markdown.inlinepatterns import InlineProcessor

from . import guard, references
from .errors import BuildError
from .references import Figure

DIRECTIVE = re.compile(r"^:::\s*(\w+)\s*(.*)$")
ASIDE_OPEN, ASIDE_CLOSE = re.compile(r"^:::\s*aside\b(.*)$"), re.compile(r"^:::\s*$")
MATH_OPEN = re.compile(r"^\s*\$\$(?:\s+(.*?))?\s*$")   # a display formula's first line: '$$' or '$$ id=NAME'
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

    @property
    def has_figures(self) -> bool:
        """Whether the page has a live figure (a widget): its head then starts Python at once."""
        return 'data-widget="' in self.body_html


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
        meta, lines = guard.load_yaml(text)
        meta = meta or {}
    except yaml.YAMLError as problem:
        # the context mark (where an unclosed bracket opened) is nearer the mistake when there is one
        mark = getattr(problem, "context_mark", None) or getattr(problem, "problem_mark", None)
        line = mark.line + 2 if mark else 2
        raise BuildError(f"the front matter is not valid YAML: {getattr(problem, 'problem', problem)}.",
                         f"{source}:{line}") from None
    if not isinstance(meta, dict):
        raise BuildError("the front matter must be 'key: value' lines.", f"{source}:2")
    def where(key: str) -> str:       # the key's line in the article (the front matter starts at 2)
        return f"{source}:{lines[key] + 1}" if key in lines else f"{source}:1"

    check_meta_keys(meta, where)
    missing = [key for key in REQUIRED_META if not meta.get(key)]
    if missing:
        raise BuildError(f"the front matter lacks {', '.join(missing)} "
                         f"(every article needs {', '.join(REQUIRED_META)}).", f"{source}:1")
    for key in ("date", "updated"):
        if key in meta and not (key == "updated" and meta[key] is None) and not isinstance(meta[key], dt.date):
            raise BuildError(f"{key} must be a date written YYYY-MM-DD; got {meta[key]!r}.", where(key))
    for key in ("title", "summary"):
        if not isinstance(meta[key], str):
            raise BuildError(f"{key} must be text; got {meta[key]!r} (put quotes around it).", where(key))
    tags = meta.get("tags") or []
    meta["tags"] = [tags] if isinstance(tags, str) else tags
    if not isinstance(meta["tags"], list) or not all(isinstance(t, str) for t in meta["tags"]):
        raise BuildError(f"tags must be a list of words, as in 'tags: [sampling, decoding]'; "
                         f"got {tags!r}.", where("tags"))
    meta.setdefault("updated", None)
    meta.setdefault("draft", False)
    if not isinstance(meta["draft"], bool):
        raise BuildError(f"draft is true or false; got {meta['draft']!r}.", where("draft"))
    return meta


def check_meta_keys(meta: dict, where: Callable[[str], str]) -> None:
    """A misspelt key (`sumary:`, `drafts:`) would be ignored in silence: stop at its line."""
    known = REQUIRED_META + OPTIONAL_META
    for key in meta:
        if key not in known:
            raise BuildError(f"unknown front matter key {key!r}; the keys are {', '.join(known)}.",
                             where(str(key)))


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
    i, figures, equations, in_fence = 0, 0, 0, references.fenced(lines)
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
        opening = MATH_OPEN.match(line)
        if opening:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "$$"), None)
            if end is None:
                raise BuildError("this display formula has no closing '$$' line.", where)
            equation = references.take_equation(opening.group(1) or "", where, equations + 1)
            equations += bool(equation)
            directives.append(Directive("math", where, "\n".join(lines[i + 1:end]), figure=equation))
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


class FormulaError(BuildError):
    """A formula latex2mathml cannot read; `latex` lets the caller find its line."""

    def __init__(self, message: str, where: str, latex: str):
        super().__init__(message, where)
        self.latex = latex


class InlineMath(InlineProcessor):
    """$x$ -> MathML, made at build time so no script is needed to read it."""

    def handleMatch(self, m, data):
        html = to_mathml(m.group(1), display="inline")
        return self.md.htmlStash.store(html), m.start(0), m.end(0)


class MathExtension(markdown.Extension):
    def extendMarkdown(self, md):
        md.inlinePatterns.register(InlineMath(r"(?<![\\$\w])\$([^$\n]+?)\$(?![\w$])", md), "math", 185)


def to_mathml(latex: str, display: str, where: str = "") -> str:
    """MathML for a formula; a formula that cannot be read raises FormulaError (a BuildError)."""
    if guard.formula_depth(latex) > guard.MAX_FORMULA_DEPTH:
        raise FormulaError(f"this formula nests braces more than {guard.MAX_FORMULA_DEPTH} deep.", where, latex)
    try:
        return latex2mathml.converter.convert(latex, display=display)
    except Exception as problem:  # the converter's own errors name no place: any failure is the formula's
        detail = str(problem) or type(problem).__name__
        shown = latex if len(latex) <= 80 else latex[:77] + "..."
        raise FormulaError(f"cannot read the formula `{shown}` ({detail}); check its braces, "
                           "\\frac{}{} and ^/_ arguments.", where, latex) from None


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


# What an article's template may use: print facts and settings, test them, loop over them.
# Everything else (calls, {% set %}, macros, includes, arithmetic that makes long strings, names
# that start with '_') stops the build with its line: an article is data, not code.
ARTICLE_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr,
                 nodes.Getitem, nodes.Slice, nodes.Const, nodes.If, nodes.For, nodes.Compare,
                 nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr, nodes.Filter,
                 nodes.Test, nodes.Tuple, nodes.Neg)   # Neg: a list index from the end, facts.x[-1]
ARTICLE_FILTERS = {"upper", "lower", "title", "capitalize", "trim", "round", "int", "float", "abs",
                   "length", "count", "first", "last", "default", "d", "e", "escape", "string"}
LOOP_ATTRIBUTES = {"index", "index0", "revindex", "revindex0", "first", "last", "length"}
MAX_LOOP_NESTING = 2
NODE_NAMES = {"Call": "calling a function or method", "Assign": "{% set %}", "AssignBlock": "{% set %}",
              "Concat": "joining with ~", "Add": "arithmetic", "Sub": "arithmetic", "Mul": "arithmetic",
              "Div": "arithmetic", "FloorDiv": "arithmetic", "Mod": "arithmetic", "Pow": "arithmetic",
              "Include": "{% include %}", "Import": "{% import %}", "FromImport": "{% from %}",
              "Extends": "{% extends %}", "FilterBlock": "{% filter %}", "List": "a list", "Dict": "a dict"}


class ArticleSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox, narrowed to data: dict keys, list items and the loop's counters; no
    attribute or method of any Python object, no call, no global (cycler, lipsum, range ...)."""

    def __init__(self):
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in ARTICLE_FILTERS}

    def getattr(self, obj, attribute):
        if isinstance(obj, dict):
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        if isinstance(obj, LoopContext) and attribute in LOOP_ATTRIBUTES:
            return getattr(obj, attribute)
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, dict) and isinstance(argument, str):
            return self.getattr(obj, argument)
        if isinstance(obj, (list, tuple, str)) and isinstance(argument, (int, slice)):
            try:
                return obj[argument]
            except IndexError:
                return self.undefined(obj=obj, name=argument)
        return self.unsafe_undefined(obj, str(argument))

    def is_safe_callable(self, obj) -> bool:
        return False


def refuse_code(tree: nodes.Template, source: str, offset: int) -> None:
    """Stop at the first part of the template that is more than printing, testing or looping."""
    def refuse(node: nodes.Node, what: str) -> None:
        raise BuildError(f"{what} is not allowed in an article: it may print facts and settings "
                         "({{ facts.NAME }}, {{ site.title }}), test them ({% if %}) and loop over them "
                         "({% for %}), nothing else.", f"{source}:{offset + (node.lineno or 1)}")

    def visit(node: nodes.Node, loops: int) -> None:
        if not isinstance(node, ARTICLE_NODES):
            kind = type(node).__name__
            refuse(node, NODE_NAMES.get(kind, f"{{% {kind.lower()} %}}" if isinstance(node, nodes.Stmt)
                                        else f"the expression '{kind}'"))
        if isinstance(node, nodes.Filter) and node.name not in ARTICLE_FILTERS:
            refuse(node, f"the filter '{node.name}' (the filters are {', '.join(sorted(ARTICLE_FILTERS))})")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            refuse(node, f"the name '{node.attr}'")
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value.startswith("_"):
            refuse(node, f"the name {node.value!r}")
        if isinstance(node, nodes.For):
            loops += 1
            if loops > MAX_LOOP_NESTING:
                refuse(node, f"a loop inside {MAX_LOOP_NESTING} others")
        for child in node.iter_child_nodes():
            visit(child, loops)

    visit(tree, 0)


def render_template_body(body: str, context: dict, source: str, offset: int) -> str:
    """Evaluate {{ ... }} in the body, in a sandbox; errors name the article's line."""
    env = ArticleSandbox()
    try:
        tree = env.parse(body)
        refuse_code(tree, source, offset)
        return env.from_string(tree).render(**context)
    except jinja2.TemplateSyntaxError as problem:
        raise BuildError(f"template syntax: {problem.message}.", f"{source}:{offset + problem.lineno}") from None
    except jinja2.UndefinedError as problem:
        line = template_error_line(problem)
        raise BuildError(f"{problem.message}; the names available are {', '.join(sorted(context))}"
                         " (and their keys).", f"{source}:{offset + line}" if line else source) from None
    except RecursionError:
        raise BuildError("the template is nested too deeply.", source) from None
    except SecurityError as problem:
        line = template_error_line(problem)
        raise BuildError(f"not allowed in an article: {problem}", f"{source}:{offset + line}" if line else source) from None
    except BuildError:
        raise
    except Exception as problem:  # a filter given the wrong kind of value, say: the article's mistake
        line = template_error_line(problem)
        raise BuildError(f"the template failed: {type(problem).__name__}: {problem}",
                         f"{source}:{offset + line}" if line else source) from None


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
    meta, body, offset = split_front_matter(read_text(path, source), source)
    guard.check_markdown_limits(body, source, offset)
    raw = body
    body, directives = extract_directives(body, source, offset)
    figures, citations = check_references(meta, body, directives, path.parent, source, offset)
    body = render_template_body(body, context, source, offset)
    try:
        html, headings = render_markdown(body, (references.ReferencesExtension(citations, figures),))
    except FormulaError as problem:   # inline math: the converter knows the formula, not its line
        raise BuildError(problem.message, locate(raw, f"${problem.latex}$", source, offset)) from None
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


def read_text(path: Path, source: str) -> str:
    if path.stat().st_size > guard.MAX_ARTICLE_BYTES:
        raise BuildError(f"the article is larger than {guard.MAX_ARTICLE_BYTES >> 20} MB; split it.", source)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as problem:
        line = path.read_bytes()[:problem.start].count(b"\n") + 1
        raise BuildError("this line is not UTF-8 text; save the file as UTF-8.", f"{source}:{line}") from None


def locate(body: str, needle: str, source: str, offset: int) -> str:
    """`source:LINE` of the first body line holding needle, or the file alone."""
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        if needle in line:
            return f"{source}:{number}"
    return source
