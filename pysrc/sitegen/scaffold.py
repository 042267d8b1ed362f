"""`build.py new "A title"`: a new article that builds at once, ready to be written."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import yaml

from .errors import BuildError

MAX_SLUG = 60
BODY = """
Write the article here, in Markdown. Run `python3 build.py serve` and this page reloads on
every save.

## A first section

@fig:first below is drawn by Python at build time, and again in the reader's browser whenever
a control moves. Its parameters are checked against the widget's declaration.

::: widget {widget} id=first caption="A widget with its default settings; change them on this line."

Cite a paper as `[@key]` once the front matter names a BibTeX file (`bibliography: references.bib`),
and add `draft: true` to the front matter to keep the article out of `build` while it is unfinished.
"""


EXAMPLE_PACKAGE = "mywidgets"
EXAMPLE_MODULE = '''"""This site's own widgets: each module registers its widgets with widgetkit (see the README,
"Writing a widget"). The build draws them; the reader's browser draws them again, live."""
from html import escape

from widgetkit import Number, View, widget


@widget("share", "A share of a whole", params=[
    Number("share", "Share", default=0.3, min=0.0, max=1.0, step=0.05, control="range"),
])
def share_view(share: float) -> View:
    width = 100 * share
    svg = (f'<svg viewBox="0 0 100 10" role="img" aria-label="{escape(f"{share:.0%}")} of the bar filled">'
           f'<rect width="100" height="10" fill="none" stroke="currentColor" stroke-width="0.5"/>'
           f'<rect width="{width:.2f}" height="10" fill="currentColor"/></svg>')
    return View(svg, f"The share is {share:.0%}.")
'''


def add_example_package(content: Path) -> None:
    """Give a site that declares no Python a widget package of its own (content/mywidgets/), and
    declare it in site.yml, so that its first article can place a widget that builds."""
    package = content / EXAMPLE_PACKAGE
    if package.exists():
        raise BuildError(f"content/{EXAMPLE_PACKAGE} exists but site.yml declares no widgets: add "
                         f"'python: [{EXAMPLE_PACKAGE}]' and 'widgets: [{EXAMPLE_PACKAGE}]' to it.")
    package.mkdir()
    (package / "__init__.py").write_text(EXAMPLE_MODULE, encoding="utf-8")
    settings = content / "site.yml"
    text = settings.read_text(encoding="utf-8") if settings.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    settings.write_text(text + f"# The site's own Python, written by `build.py new` (see the README).\n"
                        f"python: [{EXAMPLE_PACKAGE}]\nwidgets: [{EXAMPLE_PACKAGE}]\n", encoding="utf-8")


def slug_of(title: str) -> str:
    """The file name an article gets from its title: 'Top-p, explained!' -> 'top-p-explained'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def example_widget(widgets: dict) -> str:
    """A widget of the site that draws with its defaults: `temperature` where the site has it."""
    names = sorted(widgets, key=lambda name: (name != "temperature", name))
    for name in names:
        try:
            widgets[name].render({})
        except Exception:  # noqa: BLE001  a widget that needs parameters is no example
            continue
        return name
    raise BuildError("this site has no widget that draws without parameters, so `new` cannot "
                     "place an example: add a widget module first (see the README).")


def checked_slug(title: str) -> str:
    """The article's file name for a title, or a BuildError when the title gives none."""
    slug = slug_of(" ".join(title.split()))
    if not slug:
        raise BuildError(f"the title {title!r} gives no file name: use at least one Latin letter or "
                         "digit in it (the title itself may hold any characters).")
    return slug


def article_text(title: str, widget: str, today: dt.date) -> str:
    front = yaml.safe_dump({"title": title, "date": today,
                            "summary": "One sentence for the index page, the feed and link previews."},
                           sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{BODY.format(widget=widget)}"


def write_new_article(content: Path, title: str, widgets: dict, today: dt.date | None = None) -> Path:
    """Write content/SLUG.md; refuse an empty slug and an existing file."""
    title = " ".join(title.split())
    slug = checked_slug(title)
    if not content.is_dir():
        raise BuildError(f"there is no folder {content.name}/ to write the article into.")
    path = content / f"{slug}.md"
    text = article_text(title, example_widget(widgets), today or dt.date.today())
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": never overwrite an author's article
            f.write(text)
    except FileExistsError:
        raise BuildError(f"content/{path.name} exists already; choose another title or edit that "
                         "article.") from None
    return path
