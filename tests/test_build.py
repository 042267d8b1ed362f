"""The generator as an author meets it: a fixture site with two articles and its own
widgets, the Python a site declares (and only that in its wheel), errors that point at the
line, atomic, reproducible and incremental builds, the manifest.

Every build here uses the tests' own cache folder (conftest.build_cache), never the
repository's .cache/."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import zipfile

import pytest

import widgetkit
from sitegen.content import render_markdown
from sitegen.errors import BuildError
from sitegen.site import Reuse, build_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "content"


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory, build_cache) -> Path:
    out = tmp_path_factory.mktemp("fixture") / "_site"
    build_site(ROOT, out, FIXTURE, build_cache)
    return out


def wheel_names(site: Path) -> list[str]:
    lock = json.loads((site / "pyodide" / "pyodide-lock.json").read_text())
    wheel = site / "pyodide" / lock["packages"]["site-code"]["file_name"]
    return zipfile.ZipFile(wheel).namelist()


@pytest.fixture
def content(tmp_path) -> Path:
    """A copy of the fixture's content that a test may break."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "content"))


def test_fixture_site_has_a_page_per_article_an_index_a_feed_and_a_sitemap(fixture_site):
    assert {"coins.html", "dice.html", "index.html", "feed.xml", "sitemap.xml"} <= {
        p.name for p in fixture_site.iterdir()}
    index = (fixture_site / "index.html").read_text()
    assert index.index("Weighted coins") < index.index("Dice")  # newest first
    feed = (fixture_site / "feed.xml").read_text()
    assert "<id>https://example.org/notes/coins.html</id>" in feed and '<category term="fixture"/>' in feed
    assert "<loc>https://example.org/notes/dice.html</loc>" in (fixture_site / "sitemap.xml").read_text()


def test_fixture_pages_carry_title_description_and_open_graph(fixture_site):
    page = (fixture_site / "coins.html").read_text()
    assert "<title>Weighted coins · Fixture Notes</title>" in page
    assert '<meta name="description" content="A coin whose bias' in page
    assert '<meta property="og:url" content="https://example.org/notes/coins.html">' in page


def test_fixture_custom_widget_is_prerendered_and_shipped(fixture_site):
    page = (fixture_site / "coins.html").read_text()
    assert 'data-widget="coin"' in page and 'data-token="heads" data-p="0.3' in page
    assert (fixture_site / "images" / "coin.svg").exists()
    assert not (fixture_site / "notes").exists()  # the site's Python is not served as files
    assert "notes/coin.pyc" in wheel_names(fixture_site)


def test_the_wheel_carries_what_the_site_declares_and_nothing_of_the_article(fixture_site):
    names = wheel_names(fixture_site)
    packages = {name.split("/")[0] for name in names if not name.startswith("site_code-")}
    assert packages == {"widgetkit", "sampling", "notes"}   # site.yml: python: [sampling, notes]
    assert "ngram/model.bin" not in names
    index = json.loads(zipfile.ZipFile(next((fixture_site / "pyodide").glob("site_code-*.whl")))
                       .read("widgetkit/index.json"))
    assert index == {"coin": "notes.coin", "die": "notes.die", "faulty": "notes.faulty"}


def test_a_site_that_declares_no_python_ships_only_the_framework(tmp_path, build_cache):
    content = tmp_path / "content"
    content.mkdir()
    (content / "note.md").write_text("---\ntitle: A note\ndate: 2026-02-01\nsummary: Words only.\n---\n\n"
                                     "Nothing moves here.\n")
    build_site(ROOT, tmp_path / "_site", content, build_cache)
    assert sorted(wheel_names(tmp_path / "_site")) == [
        "site_code-1.0.0.dist-info/METADATA", "site_code-1.0.0.dist-info/RECORD",
        "site_code-1.0.0.dist-info/WHEEL", "widgetkit/__init__.pyc", "widgetkit/base.pyc",
        "widgetkit/index.json"]
    assert "Nothing moves here." in (tmp_path / "_site" / "note.html").read_text()


def test_the_article_ships_its_model_and_widgets_but_not_its_build_only_modules(built_site):
    names = wheel_names(built_site)
    assert {"ngram/model.bin", "widgets/top_p.pyc", "sampling/core.pyc", "widgetkit/base.pyc"} <= set(names)
    assert "widgets/facts.pyc" not in names and "ngram/prepare.pyc" not in names


# A predict-then-reveal question: the article writes <details class="reveal" markdown="1"> with a
# <summary>, and md_in_html renders the Markdown of the answer inside it.
REVEAL = re.compile(r'<details class="reveal">\s*<summary>Show the answer</summary>(.*?)</details>', re.S)


def reveal_answers(page: str) -> list[str]:
    """The markup of each reveal's answer: what follows its summary, up to </details>."""
    return [m.group(1).strip() for m in REVEAL.finditer(page)]


def test_every_reveal_answer_renders_as_paragraphs_never_a_numbered_list(built_site):
    """An answer that starts with a number and a full stop ("2769. Of them") would become
    <ol start="2769">: the reader would see a list item, the number gone."""
    page = (built_site / "sampling.html").read_text()
    answers = reveal_answers(page)
    assert len(answers) == page.count('<details class="reveal"') >= 3   # none missed by the pattern
    for answer in answers:
        assert answer.startswith("<p>") and "<ol" not in answer and "<li" not in answer, answer


def test_reveal_answers_sees_an_answer_that_became_a_numbered_list():
    html, _ = render_markdown('<details class="reveal" markdown="1">\n<summary>Show the answer</summary>\n\n'
                              "2769. Of them, each unlikely.\n</details>\n")
    [answer] = reveal_answers(html)
    assert answer.startswith('<ol start="2769">')


def test_fixture_widgets_do_not_leak_into_the_next_build(fixture_site):
    assert "coin" not in widgetkit.REGISTRY and "top_p" in widgetkit.REGISTRY


def break_file(content: Path, name: str, old: str, new: str) -> None:
    path = content / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


ERRORS = [
    ("coins.md", "::: widget coin heads=0.3", "::: widget coni heads=0.3",
     "content/coins.md:13: unknown widget 'coni'; the widgets are coin, die, faulty."),
    ("coins.md", "heads=0.3", "tails=0.3", "content/coins.md:13: widget coin: coin has no parameter 'tails'"),
    ("coins.md", "heads=0.3", "heads=abc", "content/coins.md:13: widget coin: Chance of heads takes a number from 0 to 1; got 'abc'."),
    ("coins.md", "heads=0.3", "heads=1.5", "content/coins.md:13: widget coin: Chance of heads takes a number from 0 to 1; got '1.5'."),
    ("coins.md", "date: 2026-01-05", "date: [2026", "content/coins.md:3: the front matter is not valid YAML"),
    ("coins.md", "summary: A coin", "sumary: A coin", "content/coins.md:4: unknown front matter key 'sumary'"),
    ("coins.md", "dice.html#rolling-dice", "dice.html#rolling", "content/coins.md:8: the link 'dice.html#rolling' points at #rolling"),
    ("coins.md", "(dice.html#", "(die.html#", "content/coins.md:8: the link or image 'die.html#rolling-dice' points at 'die.html'"),
    ("coins.md", "images/coin.svg", "images/coin.png", "content/coins.md:15: the link or image 'images/coin.png'"),
    ("coins.md", "::: widget coin", "::: widgit coin", "content/coins.md:13: unknown directive '::: widgit'"),
]


@pytest.mark.parametrize("name, old, new, message", ERRORS, ids=[e[3].split(": ")[1][:30] for e in ERRORS])
def test_build_error_names_file_and_line_and_keeps_previous_site(fixture_site, content, tmp_path,
                                                                 build_cache, name, old, new, message):
    out = Path(shutil.copytree(fixture_site, tmp_path / "_site"))  # the previous, good build
    before = tree_digest(out)
    break_file(content, name, old, new)
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, out, content, build_cache)
    assert str(caught.value).startswith(message)
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_cli_build_failure_exits_nonzero_with_one_message(content, tmp_path, build_cache):
    break_file(content, "coins.md", "heads=0.3", "heads=-3")
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(content),
                           "--out", str(tmp_path / "_site"), "--cache", str(build_cache)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == ("Build failed, _site/ left as it was.\ncontent/coins.md:13: widget coin: "
                           "Chance of heads takes a number from 0 to 1; got '-3'.\n")


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path, build_cache):
    build_site(ROOT, tmp_path / "a" / "_site", FIXTURE, build_cache)
    build_site(ROOT, tmp_path / "b" / "_site", FIXTURE, build_cache)
    assert tree_digest(tmp_path / "a" / "_site") == tree_digest(tmp_path / "b" / "_site")


def test_manifest_lists_every_third_party_file_with_its_sha256(fixture_site):
    manifest = json.loads((fixture_site / "third-party.json").read_text())
    served = {p.name for p in (fixture_site / "pyodide").iterdir()} - {
        json.loads((fixture_site / "pyodide" / "pyodide-lock.json").read_text())["packages"]["site-code"]["file_name"]}
    assert {row["file"] for row in manifest} == served
    for row in manifest:
        assert row["version"] and row["sha256"] == hashlib.sha256(
            (fixture_site / "pyodide" / row["file"]).read_bytes()).hexdigest()


SETTINGS_ERRORS = [
    ("python: [sampling, notes]", "python: [sampling, notes, nosuch]",
     "content/site.yml:5: python names 'nosuch', which is neither a package in the content folder "
     "nor one in pysrc/"),
    ("python: [sampling, notes]", "python: [sampling, notes, sitegen]",
     "content/site.yml:5: 'sitegen' is the generator's own package"),
    ("python: [sampling, notes]", "python: [sampling, notes, json]",
     "content/site.yml:5: python names 'json', which is neither"),
    ("widgets: [notes]", "widgets: [notes, ngram]",
     "content/site.yml:6: widgets names 'ngram', which is in none of the packages listed under python"),
    ("widgets: [notes]", "widgets: [notes]\nbuild:\n  - notes.coin:coin_view\n  - os.path:join",
     "content/site.yml:9: build names 'os.path', which is not a module of the site"),
    ("widgets: [notes]", "widgets: [notes]\nfacts: notes.coin",
     "content/site.yml:7: facts: write module:function"),
    ("widgets: [notes]", "widgets: [notes]\nbuild: [notes.steps:missing]",
     "content/site.yml:7: the build step 'notes.steps:missing' does not import: ModuleNotFoundError"),
    ("widgets: [notes]", "widgets: [notes]\nwidget: [notes]", "content/site.yml:7: unknown setting 'widget'"),
]


@pytest.mark.parametrize("old, new, message", SETTINGS_ERRORS, ids=[e[2][18:60] for e in SETTINGS_ERRORS])
def test_a_wrong_setting_names_its_line_in_site_yml(fixture_site, content, tmp_path, build_cache,
                                                    old, new, message):
    out = Path(shutil.copytree(fixture_site, tmp_path / "_site"))
    before = tree_digest(out)
    break_file(content, "site.yml", old, new)
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, out, content, build_cache)
    assert str(caught.value).startswith(message)
    assert tree_digest(out) == before
    assert "coin" not in widgetkit.REGISTRY   # a failed build leaves no widget behind either


def test_a_site_package_may_not_take_the_name_of_a_python_module(content, tmp_path, build_cache):
    (content / "json").mkdir()
    (content / "json" / "__init__.py").write_text("raise SystemExit('the build must not import this')\n")
    break_file(content, "site.yml", "python: [sampling, notes]", "python: [sampling, notes, json]")
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, tmp_path / "_site", content, build_cache)
    assert str(caught.value).startswith("content/site.yml:5: 'json' is already the name of a module "
                                        "of Python or of an installed package")


CODE_ERRORS = [
    # a widget name registered twice: both modules named, at the second one's line
    ("twin.py", "from widgetkit import View, widget\n\n\n@widget('coin', 'Another coin', params=[])\n"
                "def twin_view() -> View:\n    return View('', '')\n",
     "content/notes/twin.py:4: the widget module 'notes' does not import: WidgetError: the widget name "
     "'coin' is registered twice: by notes.coin.coin_view and by notes.twin.twin_view; rename one."),
    # a module of the declared package that raises when imported
    ("broken.py", "import numpy\n\nVALUE = numpy.nope\n",
     "content/notes/broken.py:3: the widget module 'notes' does not import: AttributeError"),
    # a build step that raises
    ("steps.py", "def prepare(cache):\n    raise RuntimeError('no data today')\n",
     "content/notes/steps.py:2: the build step 'notes.steps:prepare' failed: RuntimeError: no data today"),
    # a build step that returns a file outside the site's packages
    ("steps.py", "def prepare(cache):\n    return {'../evil.txt': b'x'}\n",
     "content/site.yml:7: the build step notes.steps:prepare returned the file '../evil.txt'"),
    # a syntax error in a widget module
    ("typo.py", "def view(:\n    pass\n", "content/notes/typo.py:1: the widget module 'notes' does not import: "
                                           "SyntaxError"),
]


@pytest.mark.parametrize("name, source, message", CODE_ERRORS, ids=[e[0] + e[2][-12:] for e in CODE_ERRORS])
def test_the_sites_python_failing_names_its_file_and_line(fixture_site, content, tmp_path, build_cache,
                                                          name, source, message):
    out = Path(shutil.copytree(fixture_site, tmp_path / "_site"))
    before = tree_digest(out)
    (content / "notes" / name).write_text(source)
    if name == "steps.py":
        break_file(content, "site.yml", "widgets: [notes]", "widgets: [notes]\nbuild: [notes.steps:prepare]")
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, out, content, build_cache)
    assert str(caught.value).startswith(message)
    assert tree_digest(out) == before
    assert "coin" not in widgetkit.REGISTRY


def test_a_declared_package_that_does_not_import_names_its_line(content, tmp_path, build_cache):
    (content / "extra").mkdir()
    (content / "extra" / "__init__.py").write_text('"""Helpers."""\nimport no_such_module\n')
    break_file(content, "site.yml", "python: [sampling, notes]", "python: [sampling, notes, extra]")
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, tmp_path / "_site", content, build_cache)
    assert str(caught.value) == ("content/extra/__init__.py:2: the package 'extra' does not import: "
                                 "ModuleNotFoundError: No module named 'no_such_module'")
    assert not (tmp_path / "_site").exists()


def test_a_build_step_adds_its_files_to_the_wheel_and_facts_reach_the_text(content, tmp_path, build_cache):
    (content / "notes" / "steps.py").write_text(
        "def prepare(cache):\n    return {'notes/table.json': b'[1, 2]'}\n\n\n"
        "def facts():\n    return {'sides': 'six'}\n")
    break_file(content, "site.yml", "widgets: [notes]",
               "widgets: [notes]\nbuild: [notes.steps:prepare]\nfacts: notes.steps:facts")
    break_file(content, "dice.md", "Rolling dice\n", "Rolling dice\n\nA die has {{ facts.sides }} faces.\n")
    build_site(ROOT, tmp_path / "_site", content, build_cache)
    names = wheel_names(tmp_path / "_site")
    assert "notes/table.json" in names and "notes/steps.pyc" not in names   # build-only: not shipped
    assert "A die has six faces." in (tmp_path / "_site" / "dice.html").read_text()


def test_an_incremental_build_equals_a_clean_one(content, tmp_path, build_cache):
    """A preview's builds (reusing the site's Python and unchanged pages) give the same bytes as a
    build from scratch, after an article edit and after an edit to a widget module."""
    reuse = Reuse()
    try:
        build_site(ROOT, tmp_path / "inc" / "_site", content, build_cache, reuse=reuse)
        break_file(content, "dice.md", "Six faces", "Six loaded faces")
        build_site(ROOT, tmp_path / "inc" / "_site", content, build_cache, reuse=reuse)
        build_site(ROOT, tmp_path / "clean" / "_site", content, build_cache)
        assert tree_digest(tmp_path / "inc" / "_site") == tree_digest(tmp_path / "clean" / "_site")
        break_file(content, "notes/coin.py", "One flip", "One toss")
        build_site(ROOT, tmp_path / "inc" / "_site", content, build_cache, reuse=reuse)
        build_site(ROOT, tmp_path / "clean2" / "_site", content, build_cache)
        assert tree_digest(tmp_path / "inc" / "_site") == tree_digest(tmp_path / "clean2" / "_site")
        assert "One toss" in (tmp_path / "inc" / "_site" / "coins.html").read_text()
    finally:
        reuse.close()
    assert "coin" not in widgetkit.REGISTRY
