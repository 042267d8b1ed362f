"""The generator's reading of an article: front matter, directives, math, templates."""
from __future__ import annotations

import pytest

from sitegen.content import (extract_directives, fill_placeholders, parse_directive_args,
                             render_markdown, render_template_body, split_front_matter)
from sitegen.errors import BuildError

GOOD = "---\ntitle: T\ndate: 2026-01-02\nsummary: S\n---\nBody line\n"


def test_split_front_matter_returns_meta_body_and_offset():
    meta, body, offset = split_front_matter(GOOD, "content/a.md")
    assert meta["title"] == "T" and meta["date"].isoformat() == "2026-01-02"
    assert body == "Body line\n" and offset == 5


@pytest.mark.parametrize("text, where, words", [
    ("no front matter\n", "content/a.md:1", "starts with front matter"),
    ("---\ntitle: T\n", "content/a.md:1", "no closing"),
    ("---\ntitle: [unclosed\ndate: 2026-01-02\n---\n", "content/a.md:", "not valid YAML"),
    ("---\ntitle: T\ndate: 2026-01-02\n---\n", "content/a.md:1", "lacks summary"),
    ("---\ntitle: T\ndate: soon\nsummary: S\n---\n", "content/a.md:3", "YYYY-MM-DD"),  # the date's line
])
def test_split_front_matter_errors_name_file_and_line(text, where, words):
    with pytest.raises(BuildError) as caught:
        split_front_matter(text, "content/a.md")
    assert str(caught.value).startswith(where) and words in str(caught.value)


def test_extract_directives_keeps_line_numbers_and_params():
    body = "intro\n\n::: widget temperature temperature=0.7 example=flat\n\nmore\n"
    out, found = extract_directives(body, "content/a.md", offset=5)
    assert [(d.kind, d.name, d.params, d.where) for d in found] == [
        ("widget", "temperature", {"temperature": "0.7", "example": "flat"}, "content/a.md:8")]
    assert out.split("\n")[2] == "XDIRECTIVEX0X"


def test_extract_directives_display_math_block():
    out, found = extract_directives("a\n$$\nx^2\n$$\nb", "content/a.md", 0)
    assert found[0].kind == "math" and found[0].name == "x^2"
    assert len(out.split("\n")) == 5  # the body keeps its number of lines


def test_extract_directives_unclosed_math_names_its_line():
    with pytest.raises(BuildError, match=r"content/a.md:3: .*closing '\$\$'"):
        extract_directives("a\n\n$$\nx", "content/a.md", 0)


@pytest.mark.parametrize("args, words", [
    ("", "needs a name"),
    ("temperature 0.7", "not a parameter"),
    ('temperature example="flat', "cannot read"),
])
def test_parse_directive_args_rejects_malformed(args, words):
    with pytest.raises(BuildError, match=words):
        parse_directive_args(args, "content/a.md:9")


def test_render_markdown_inline_math_is_mathml_and_code_is_untouched():
    html, _ = render_markdown("Cost $x^2$ and `$HOME` stays.")
    assert "<math" in html and "<msup>" in html and "<code>$HOME</code>" in html


def test_render_markdown_collects_headings():
    _, headings = render_markdown("## First part\n\ntext\n\n### Detail\n")
    assert headings == [(2, "first-part", "First part"), (3, "detail", "Detail")]


def test_render_template_body_undefined_name_points_at_line():
    with pytest.raises(BuildError) as caught:
        render_template_body("a\nb {{ facts.missing }}\n", {"facts": {}}, "content/a.md", 5)
    assert str(caught.value).startswith("content/a.md:7: ")


def test_fill_placeholders_replaces_paragraph_wrapped_tokens():
    assert fill_placeholders("<p>XDIRECTIVEX0X</p>\n<p>x</p>", ["<figure/>"]) == "<figure/>\n<p>x</p>"


def test_an_aside_block_becomes_an_aside_note_with_markdown_inside_and_keeps_line_numbers():
    body = "Text.\n\n::: aside\n**Why** the $x$ name?\n\n::: code sampling.core.nucleus\n:::\n\nMore.\n"
    out, found = extract_directives(body, "content/a.md", 0)
    assert len(out.split("\n")) == len(body.split("\n"))   # later messages still name the right line
    assert [d.kind for d in found] == ["code"]
    html, _ = render_markdown(out)
    aside = html[html.index("<aside"):html.index("</aside>")]
    assert aside.startswith('<aside class="aside" role="note">')
    assert "<strong>Why</strong>" in aside and "<math" in aside and "XDIRECTIVEX0X" in aside
    assert html.index("Text.") < html.index("<aside") < html.index("</aside>") < html.index("More.")


def test_colons_inside_a_code_fence_are_no_aside():
    out, _ = extract_directives("```text\n::: aside\n:::\n```\n", "content/a.md", 0)
    assert "<aside" not in out and out.split("\n")[1:3] == ["::: aside", ":::"]


@pytest.mark.parametrize("body, where, words", [
    ("a\n\n::: aside\nnote\n", "content/a.md:3", "no closing ':::'"),
    ("a\n:::\n", "content/a.md:2", "no '::: aside' is open"),
    ("::: aside\n::: aside\n:::\n:::\n", "content/a.md:2", "inside another (opened at content/a.md:1)"),
    ("::: aside wide\n:::\n", "content/a.md:1", "takes nothing after it; got 'wide'"),
    ("::: aside\n::: widget temperature\n:::\n", "content/a.md:2", "widget cannot sit in an aside"),
])
def test_aside_mistakes_name_their_line(body, where, words):
    with pytest.raises(BuildError) as caught:
        extract_directives(body, "content/a.md", 0)
    assert str(caught.value).startswith(where + ": ") and words in str(caught.value)
