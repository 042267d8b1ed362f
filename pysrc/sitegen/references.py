"""Citations, figure numbers and cross-references, and the code fences' languages.

In the text of an article:

    Nucleus sampling [@holtzman2020] keeps ... [@holtzman2020; @fan2018]
    ::: widget temperature example=flat id=temperature caption="Dividing the scores by T."
    ::: image images/coin.svg alt="A coin" id=coin caption="A coin, heads up."
    As @fig:temperature shows ...

Every key and every `@fig:` name is checked against the raw Markdown first, line by line
(outside code), so a mistake stops the build with `content/FILE.md:LINE`. Rendering then
happens inside Markdown, whose inline processors never look into code spans or fenced
blocks. Bibliography entries are read and formatted by pybtex (its `unsrt` style: DOIs and
arXiv ids become links), never by hand.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import markdown
from markdown.inlinepatterns import InlineProcessor

from .errors import BuildError

KEY = r"[A-Za-z0-9_][\w:.#$%&+?<>~/-]*"
CITATION = re.compile(rf"\[(@{KEY}(?:\s*;\s*@{KEY})*)\]")
FIGURE_REF = re.compile(r"(?<![\w@])@(fig|eq):([A-Za-z][\w-]*)")   # a figure's or an equation's
FIGURE_ID = re.compile(r"[A-Za-z][\w-]*$")
FENCE = re.compile(r"^(`{3,}|~{3,})[ ]*(?:\{[ ]*\.?([\w#.+-]+)[^}\n]*\}|\.?([\w#.+-]*))[ ]*$")
CODE_SPAN = re.compile(r"(`+).+?\1")
FIGURE_KINDS = ("widget", "image")
# How the text refers to a numbered thing (@fig:, @eq:): its label, and how an author numbers one.
NUMBERED = {"fig": ("Figure", "a widget or image id=NAME"), "eq": ("Equation", "a '$$ id=NAME' line")}


@dataclass(frozen=True)
class Figure:
    """A numbered figure, what `@fig:name` points at, or a numbered equation (`@eq:name`)."""
    number: int
    name: str       # as the author wrote it after id=, "" when the figure has only a caption
    caption: str    # Markdown, as written
    prefix: str = "fig"   # "fig" or "eq": how the text refers to it, and its anchor's start

    @property
    def anchor(self) -> str:
        return f"{self.prefix}-{self.name}" if self.name else f"figure-{self.number}"

    @property
    def key(self) -> str:
        return f"{self.prefix}:{self.name}"

    @property
    def label(self) -> str:
        return NUMBERED[self.prefix][0]

    @property
    def caption_html(self) -> str:
        return caption_html(self.caption) if self.caption else ""


@dataclass
class Citations:
    """The bibliography of one article and the order in which the text cites its entries."""
    entries: dict = field(default_factory=dict)     # key -> pybtex Entry
    order: list[str] = field(default_factory=list)  # keys, in order of first citation

    def number(self, key: str) -> int:
        return self.order.index(key) + 1


# ---- what the raw text says (with line numbers) ----

def fenced(lines: list[str]) -> list[re.Match | bool]:
    """For each line: the opening fence's match, True inside a fenced block (closing line
    included), False outside. As in Python-Markdown, a block closes on its own fence string
    and a fence that never closes is no block."""
    marks: list[re.Match | bool] = []
    fence, start = None, 0
    for i, line in enumerate(lines):
        if fence is None:
            opening = FENCE.match(line)
            marks.append(opening or False)
            fence, start = (opening.group(1), i) if opening else (None, i)
        else:
            marks.append(True)
            if line.rstrip(" ") == fence:
                fence = None
    if fence is not None:
        marks[start:] = [False] * (len(lines) - start)
    return marks


def prose_lines(body: str, offset: int):
    """(line number in the file, text) of each line outside fenced code, code spans blanked."""
    lines = body.split("\n")
    for i, (line, mark) in enumerate(zip(lines, fenced(lines))):
        if mark is False:
            yield offset + i + 1, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def fence_languages(body: str, offset: int):
    """(line number, language) of every opening code fence that names a language."""
    lines = body.split("\n")
    for i, mark in enumerate(fenced(lines)):
        if isinstance(mark, re.Match) and (mark.group(2) or mark.group(3)):
            yield offset + i + 1, mark.group(2) or mark.group(3)


def check_fence_languages(body: str, source: str, offset: int) -> None:
    """An unknown language on a fence is most likely a typo: say so rather than show it plain."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    for line, language in fence_languages(body, offset):
        try:
            get_lexer_by_name(language)
        except ClassNotFound:
            raise BuildError(f"the code fence names the language {language!r}, which Pygments does not "
                             "know; name one it knows (python, javascript, bash, json, ...) or write "
                             "'text' for a block without colours.", f"{source}:{line}") from None


def cited_keys(body: str, offset: int) -> list[tuple[int, str]]:
    """(line, key) of every citation, in the order of the text."""
    found = []
    for line, text in prose_lines(body, offset):
        for match in CITATION.finditer(text):
            found += [(line, key.strip().lstrip("@")) for key in match.group(1).split(";")]
    return found


def figure_refs(body: str, offset: int) -> list[tuple[int, str]]:
    """(line, "fig:name" or "eq:name") of every reference, in the order of the text."""
    return [(line, f"{m.group(1)}:{m.group(2)}") for line, text in prose_lines(body, offset)
            for m in FIGURE_REF.finditer(text)]


# ---- figures ----

def take_figure(kind: str, params: dict, where: str, number: int) -> tuple[dict, Figure | None]:
    """Split `id=` and `caption=` from a widget's or image's parameters.

    Returns the remaining parameters and, if either was given, the figure numbered `number`."""
    if kind not in FIGURE_KINDS:
        return params, None
    params = dict(params)
    name, caption = params.pop("id", ""), params.pop("caption", "")
    if name and not FIGURE_ID.match(name):
        raise BuildError(f"the figure id {name!r} must start with a letter and hold only letters, "
                         "digits, '-' and '_', as in id=temperature.", where)
    if CITATION.search(caption) or FIGURE_REF.search(caption):
        raise BuildError("a caption cannot cite or refer to a figure (yet): put the citation or "
                         "@fig: reference in the text next to the figure.", where)
    return params, (Figure(number, name, caption) if name or caption else None)


def take_equation(rest: str, where: str, number: int) -> Figure | None:
    """What may follow a display formula's opening '$$': nothing, or id=NAME to number it."""
    if not rest:
        return None
    name = rest[3:] if rest.startswith("id=") else ""
    if not FIGURE_ID.match(name):
        raise BuildError(f"after a display formula's opening '$$' comes nothing or id=NAME (a letter, "
                         f"then letters, digits, '-' and '_'), to number it; got {rest!r}.", where)
    return Figure(number, name, "", "eq")


def named_figures(directives: list) -> dict[str, Figure]:
    """The figures and equations that have an id, by "fig:id" and "eq:id"; two of a kind with the
    same id stop the build."""
    named: dict[str, Figure] = {}
    for d in directives:
        if d.figure and d.figure.name:
            if d.figure.key in named:
                raise BuildError(f"two {d.figure.label.lower()}s have the id {d.figure.name!r}; give each "
                                 "its own.", d.where)
            named[d.figure.key] = d.figure
    return named


def check_figure_refs(body: str, source: str, offset: int, figures: dict[str, Figure]) -> None:
    for line, key in figure_refs(body, offset):
        if key not in figures:
            prefix = key.split(":")[0]
            label, how = NUMBERED[prefix]
            kind = label.lower()
            known = ", ".join(sorted(f.name for f in figures.values() if f.prefix == prefix))
            raise BuildError(f"@{key} refers to no {kind} on this page (its {kind} ids: "
                             f"{known or 'none: give ' + how}).", f"{source}:{line}")


def caption_html(caption: str) -> str:
    """A caption's inline Markdown and math, as HTML without the paragraph around it.

    A caption is an attribute-like value on a directive line: raw HTML in it is shown as text."""
    from .content import MathExtension  # content imports this module; import late
    md = markdown.Markdown(extensions=["smarty", MathExtension()], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return re.sub(r"^<p>(.*)</p>$", r"\1", md.convert(caption).strip(), flags=re.S)


def image_html(src: str, params: dict, figure: Figure | None, where: str) -> str:
    """`::: image PATH alt="..." [id=NAME] [caption="..."]` as a figure."""
    unknown = sorted(set(params) - {"alt"})
    if unknown:
        raise BuildError(f"::: image takes alt=, id= and caption=; {unknown[0]!r} is not one of them.", where)
    if re.match(r"[a-zA-Z][\w+.-]*:|/", src) or ".." in src.split("/"):
        raise BuildError(f"::: image shows a file of content/, named from there (images/coin.svg); "
                         f"{src!r} is not one.", where)
    if not params.get("alt"):
        raise BuildError('an image needs a text for readers who cannot see it: alt="...".', where)
    img = f'<img src="{html.escape(src)}" alt="{html.escape(params["alt"])}">'
    if figure is None:
        return f'<figure class="image">{img}</figure>'
    return (f'<figure class="image" id="{figure.anchor}" aria-labelledby="{figure.anchor}-caption">{img}'
            f'<figcaption id="{figure.anchor}-caption">{figure_label(figure)}</figcaption></figure>')


def figure_label(figure: Figure) -> str:
    return f'<span class="figure-number">Figure {figure.number}.</span> {figure.caption_html}'.rstrip()


# ---- citations ----

def load_bibliography(meta: dict, content: Path, source: str) -> dict:
    """The entries of the file that `bibliography:` names (a BibTeX file in content/)."""
    from pybtex.database import parse_file
    from pybtex.scanner import PybtexSyntaxError
    from pybtex.database import BibliographyDataError
    name = meta.get("bibliography")
    if not isinstance(name, str) or not name.endswith(".bib"):
        raise BuildError("bibliography must name a BibTeX file in content/, as in "
                         "'bibliography: references.bib'.", f"{source}:1")
    path = (content / name).resolve()
    if content.resolve() not in path.parents or not path.is_file():
        raise BuildError(f"bibliography names {name!r}, which is not a file in content/.", f"{source}:1")
    shown = f"content/{path.relative_to(content.resolve()).as_posix()}"
    try:
        entries = dict(parse_file(str(path), bib_format="bibtex").entries)
    except PybtexSyntaxError as problem:
        said = re.sub(r"^syntax error in line \d+: ", "", str(problem))  # the line goes in front
        raise BuildError(f"not valid BibTeX: {said}.", f"{shown}:{problem.lineno}") from None
    except (BibliographyDataError, UnicodeDecodeError) as problem:
        raise BuildError(f"the bibliography cannot be read: {problem}.", shown) from None
    for key, entry in entries.items():
        check_links_of(key, entry, shown)
    return entries


def check_links_of(key: str, entry, shown: str) -> None:
    """The entry's url, doi and eprint become links: web addresses and plain identifiers only."""
    url = entry.fields.get("url", "")
    if url and not re.match(r"https?://[^\s\"'<>]+$", url):
        raise BuildError(f"the entry {key!r} has the url {url!r}; a url starts with https:// or http://.",
                         shown)
    for name in ("doi", "eprint"):
        value = entry.fields.get(name, "")
        if value and not re.match(r"[\w./:;()\-]+$", value):
            raise BuildError(f"the entry {key!r} has the {name} {value!r}, which is not an identifier "
                             "(write it as 10.1000/xyz or 1904.09751, without https://).", shown)


def gather_citations(meta: dict, body: str, content: Path, source: str, offset: int) -> Citations:
    cited = cited_keys(body, offset)
    if not cited and not meta.get("bibliography"):
        return Citations()
    if not meta.get("bibliography"):
        raise BuildError(f"[@{cited[0][1]}] cites an entry, but the front matter names no bibliography "
                         "(add 'bibliography: references.bib', a BibTeX file in content/).",
                         f"{source}:{cited[0][0]}")
    entries = load_bibliography(meta, content, source)
    by_lower = {key.lower(): key for key in entries}  # BibTeX keys are case-insensitive
    order: list[str] = []
    for line, key in cited:
        if key.lower() not in by_lower:
            near = ", ".join(sorted(entries)[:12]) or "none"
            raise BuildError(f"[@{key}]: the bibliography {meta['bibliography']} has no entry {key!r} "
                             f"(its keys: {near}).", f"{source}:{line}")
        key = by_lower[key.lower()]
        if key not in order:
            order.append(key)
    return Citations(entries, order)


def reference_list(citations: Citations, bibliography: str) -> str:
    """The numbered list of cited entries, formatted by pybtex's unsrt style."""
    if not citations.order:
        return ""
    from pybtex.backends.html import Backend
    from pybtex.style.formatting.unsrt import Style
    from pybtex.style.template import FieldIsMissing
    items = []
    for key in citations.order:
        try:
            formatted = Style().format_entry(str(citations.number(key)), citations.entries[key])
        except FieldIsMissing as problem:
            raise BuildError(f"the entry {key!r} lacks a field its type needs: {problem}.",
                             f"content/{bibliography}") from None
        items.append(f'<li id="ref-{citations.number(key)}">{formatted.text.render(Backend())}</li>')
    return ('<section class="references" aria-labelledby="references">\n'
            '<h2 id="references">References</h2>\n<ol>\n' + "\n".join(items) + "\n</ol>\n</section>\n")


# ---- inside Markdown ----

class CitationProcessor(InlineProcessor):
    def __init__(self, citations: Citations, md):
        super().__init__(CITATION.pattern, md)
        self.citations = citations

    def handleMatch(self, m, data):
        by_lower = {key.lower(): key for key in self.citations.entries}
        numbers = [self.citations.number(by_lower[k.strip().lstrip("@").lower()]) for k in m.group(1).split(";")]
        links = ", ".join(f'<a href="#ref-{n}">{n}</a>' for n in numbers)
        return self.md.htmlStash.store(f'<span class="citation">[{links}]</span>'), m.start(0), m.end(0)


class FigureRefProcessor(InlineProcessor):
    def __init__(self, figures: dict[str, Figure], md):
        super().__init__(FIGURE_REF.pattern, md)
        self.figures = figures

    def handleMatch(self, m, data):
        figure = self.figures[f"{m.group(1)}:{m.group(2)}"]
        link = f'<a class="figure-ref" href="#{figure.anchor}">{figure.label}&nbsp;{figure.number}</a>'
        return self.md.htmlStash.store(link), m.start(0), m.end(0)


class ReferencesExtension(markdown.Extension):
    """Below code spans (190) and above links (160): `[@key]` must not be read as a link."""

    def __init__(self, citations: Citations, figures: dict[str, Figure]):
        super().__init__()
        self.citations, self.figures = citations, figures

    def extendMarkdown(self, md):
        md.inlinePatterns.register(CitationProcessor(self.citations, md), "citation", 176)
        md.inlinePatterns.register(FigureRefProcessor(self.figures, md), "figure_ref", 175)
