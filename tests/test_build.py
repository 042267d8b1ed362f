"""The generator as an author meets it: a fixture site with two articles and its own
widget, errors that point at the line, atomic and reproducible builds, the manifest."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.errors import BuildError
from sitegen.site import build_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "content"


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fixture") / "_site"
    build_site(ROOT, out, FIXTURE)
    return out


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
    assert not (fixture_site / "widgets").exists()  # widget sources are not served as files
    lock = json.loads((fixture_site / "pyodide" / "pyodide-lock.json").read_text())
    import zipfile
    wheel = fixture_site / "pyodide" / lock["packages"]["sampling"]["file_name"]
    assert "widgets/coin.pyc" in zipfile.ZipFile(wheel).namelist()


def test_fixture_widgets_do_not_leak_into_the_next_build(fixture_site):
    import widgets
    assert "coin" not in widgets.REGISTRY


def break_file(content: Path, name: str, old: str, new: str) -> None:
    path = content / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


ERRORS = [
    ("coins.md", "::: widget coin heads=0.3", "::: widget coni heads=0.3",
     "content/coins.md:13: unknown widget 'coni'; the widgets are "),
    ("coins.md", "heads=0.3", "tails=0.3", "content/coins.md:13: widget coin: coin has no parameter 'tails'"),
    ("coins.md", "heads=0.3", "heads=abc", "content/coins.md:13: widget coin: Chance of heads takes a number from 0 to 1; got 'abc'."),
    ("coins.md", "heads=0.3", "heads=1.5", "content/coins.md:13: widget coin: Chance of heads takes a number from 0 to 1; got '1.5'."),
    ("coins.md", "::: widget coin heads=0.3", "::: widget distribution scores=9,x,5",
     "content/coins.md:13: widget distribution: Scores: entry 2 takes a number from -10 to 10; got 'x'."),
    ("coins.md", "::: widget coin heads=0.3", "::: widget distribution example=big scores=9,8,5",
     "content/coins.md:13: widget distribution: Scores takes 10 numbers after "),
    ("coins.md", "date: 2026-01-05", "date: [2026", "content/coins.md:3: the front matter is not valid YAML"),
    ("coins.md", "summary: A coin", "sumary: A coin", "content/coins.md:1: the front matter lacks summary"),
    ("coins.md", "dice.html#rolling-dice", "dice.html#rolling", "content/coins.md:8: the link 'dice.html#rolling' points at #rolling"),
    ("coins.md", "(dice.html#", "(die.html#", "content/coins.md:8: the link or image 'die.html#rolling-dice' points at 'die.html'"),
    ("coins.md", "images/coin.svg", "images/coin.png", "content/coins.md:15: the link or image 'images/coin.png'"),
    ("coins.md", "::: widget coin", "::: widgit coin", "content/coins.md:13: unknown directive '::: widgit'"),
]


@pytest.mark.parametrize("name, old, new, message", ERRORS, ids=[e[3].split(": ")[1][:30] for e in ERRORS])
def test_build_error_names_file_and_line_and_keeps_previous_site(fixture_site, content, tmp_path,
                                                                 name, old, new, message):
    out = Path(shutil.copytree(fixture_site, tmp_path / "_site"))  # the previous, good build
    before = tree_digest(out)
    break_file(content, name, old, new)
    with pytest.raises(BuildError) as caught:
        build_site(ROOT, out, content)
    assert str(caught.value).startswith(message)
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_cli_build_failure_exits_nonzero_with_one_message(content, tmp_path):
    break_file(content, "coins.md", "heads=0.3", "heads=-3")
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(content),
                           "--out", str(tmp_path / "_site")], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == ("Build failed, _site/ left as it was.\ncontent/coins.md:13: widget coin: "
                           "Chance of heads takes a number from 0 to 1; got '-3'.\n")


def test_two_builds_of_the_same_sources_are_byte_identical(tmp_path):
    build_site(ROOT, tmp_path / "a" / "_site", FIXTURE)
    build_site(ROOT, tmp_path / "b" / "_site", FIXTURE)
    assert tree_digest(tmp_path / "a" / "_site") == tree_digest(tmp_path / "b" / "_site")


def test_manifest_lists_every_third_party_file_with_its_sha256(fixture_site):
    manifest = json.loads((fixture_site / "third-party.json").read_text())
    served = {p.name for p in (fixture_site / "pyodide").iterdir()} - {
        json.loads((fixture_site / "pyodide" / "pyodide-lock.json").read_text())["packages"]["sampling"]["file_name"]}
    assert {row["file"] for row in manifest} == served
    for row in manifest:
        assert row["version"] and row["sha256"] == hashlib.sha256(
            (fixture_site / "pyodide" / row["file"]).read_bytes()).hexdigest()
