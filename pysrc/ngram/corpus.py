"""The training corpus: Python's own documentation, cleaned to prose.

Two texts ship inside every CPython installation under the Python Software
Foundation License, so every build machine has them offline and a model
derived from them may be redistributed:

* ``pydoc_data.topics``: the plain-text rendering of the language reference
  and the built-in types documentation (the text behind ``help("if")``);
* the docstrings of the standard library's own modules (its ``.py`` files,
  read as text; third-party ``site-packages`` and the test suites are left
  out).

Both are reduced to English sentences: headings, grammar rules, tables,
interactive sessions and indented code blocks are dropped, inline code
literals and reST roles that are plain names (``"None"``, ``:func:`len```,
``'str.format()'``) keep their name, and sentences that still contain code
(operators, brackets, quoted expressions) are dropped whole, because a
half-sentence teaches the model broken grammar.

The cleaned text has one sentence per line with tokens separated by single
spaces: the format ``train`` reads.  Every tenth paragraph is held out of
training, so prompts for the decoding comparison come from text the model
has not seen.
"""

from __future__ import annotations

import functools
import inspect
import os
import pathlib
import re
import sysconfig
from collections import Counter

from .tokens import is_word, split_sentences, split_tokens

HELD_OUT_EVERY = 10
LICENCE = "Python Software Foundation License Version 2"
_MIN_SENTENCE_WORDS = 3

# Directories of the standard library that are not its own documented code:
# third-party packages (other licences), tests, bundled tools and demos.
_SKIPPED_STDLIB = frozenset(
    {
        "site-packages",
        "dist-packages",
        "test",
        "idlelib",
        "lib2to3",
        "turtledemo",
        "ensurepip",
        "pydoc_data",  # already used, as the topics
        "__phello__",
    }
)
_TEST_DIRS = frozenset({"test", "tests"})
_MODULE_DOCSTRING_RE = re.compile(
    r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rR]?(\"\"\"|''')(.*?)\1", re.S
)
_BLOCK_DOCSTRING_RE = re.compile(
    r":[ \t]*(?:#[^\n]*)?\n[ \t]*[rR]?(\"\"\"|''')(.*?)\1", re.S
)
_TYPOGRAPHIC = str.maketrans(
    {
        "\u201c": None,  # “ and ” quote prose, not code: the quotes go
        "\u201d": None,
        "\u2018": None,  # ‘ opens a quotation; ’ is handled separately
        "\u2014": " - ",
        "\u2013": "-",
        "\u00a0": " ",
    }
)
_UNDERLINE_RE = re.compile(r"^\s*([*=\-^~#])\1{2,}\s*$")
_TABLE_LINE_RE = re.compile(r"^\s*(\+[-=+]|\||={3,}\s)")
_BULLET_RE = re.compile(r"^(\s*)(?:[*\-] |\d+\. |\(\d+\) |[a-z]\. )")
# "Note:" or "See also:" introduces an indented prose paragraph, not code.
_LABEL_RE = re.compile(r"^\s*[A-Z][a-z]+(?: [a-z]+)?:$")
_FOOTNOTE_REF_RE = re.compile(r"\s*\[\d+\]")
_FOOTNOTE_HEAD_RE = re.compile(r"^\s*-\[\s*\w+\s*\]-\s*$")
_VERSION_NOTE_RE = re.compile(
    r"^(?:(?:Changed|New|Added) in version|Deprecated since version)"
    r"[\d.,\s]*(?::\s*|\.\s*$)"
)
_EMPHASIS_RE = re.compile(r"\*([^*\s](?:[^*]*?[^*\s])?)\*")
_CODE_LITERAL_RE = re.compile(
    r'"([^"\n]*)"'  # pydoc renders ``code`` as "code"
    r"|:[\w:]+:`~?([^`\n]*)`"  # reST roles such as :func:`len`
    r"|``([^`\n]*)``|`([^`\n]*)`"  # reST literals in docstrings
    r"|(?<![\w'])'([^'\s]+)'(?![\w'])"  # 'name', common in docstrings
)
_PLAIN_NAME_RE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(\))?|\d+")
_CLOSING_QUOTE_RE = re.compile(r"(?<=[A-Za-z0-9])\u2019(?=[A-Za-z])")
# A character that never occurs in the docs marks a code literal that makes
# its sentence unusable; the sentence filter then drops that sentence.
_CODE_MARK = "\u2063"


def _topic_documents() -> list[str]:
    """Return the documentation topics, in a fixed order."""
    from pydoc_data.topics import topics  # imported late: not in every Pyodide

    return [topics[name] for name in sorted(topics)]


def _stdlib_modules() -> list[pathlib.Path]:
    """Return the standard library's own source files, in a fixed order."""
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    files = []
    # os.walk lets the skipped folders be pruned before they are read:
    # site-packages alone can hold more files than the whole library.
    for folder, subfolders, names in os.walk(root):
        top = pathlib.Path(folder) == root
        subfolders[:] = [
            name
            for name in subfolders
            if not (top and name in _SKIPPED_STDLIB) and name not in _TEST_DIRS
        ]
        files.extend(pathlib.Path(folder, name) for name in names if name.endswith(".py"))
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def _docstrings(source: str) -> list[str]:
    """Return the docstrings of one module's source, dedented.

    A regular expression rather than ``ast``: parsing the whole library
    takes several seconds, while a docstring is always a triple-quoted
    string opening the file or the line after a ``:``.
    """
    found = []
    head = _MODULE_DOCSTRING_RE.match(source)
    if head:
        found.append(head.group(2))
    found.extend(match.group(2) for match in _BLOCK_DOCSTRING_RE.finditer(source))
    return [inspect.cleandoc(text) for text in found]


@functools.lru_cache(maxsize=1)
def raw_documents() -> tuple[str, ...]:
    """Return every source document, uncleaned: the topics, then the docstrings.

    Everything the corpus is made from; a build hashes it to tell whether a
    cached model still matches this Python's documentation.
    """
    documents = _topic_documents()
    for path in _stdlib_modules():
        documents.extend(_docstrings(path.read_text(encoding="utf-8", errors="replace")))
    return tuple(documents)


def _drop_headings(lines: list[str]) -> list[str]:
    """Return ``lines`` without section titles and their underlines."""
    kept: list[str] = []
    for line in lines:
        if _UNDERLINE_RE.match(line) and kept and kept[-1].strip():
            kept.pop()  # the title above the underline
            continue
        if _FOOTNOTE_HEAD_RE.match(line):
            continue
        kept.append(line)
    return kept


def _blocks(lines: list[str]) -> list[list[str]]:
    """Return runs of non-blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _indent(line: str) -> int:
    """Return the column where a line's text starts, past any bullet mark."""
    bullet = _BULLET_RE.match(line)
    return bullet.end() if bullet else len(line) - len(line.lstrip())


def _is_code_block(block: list[str], previous: list[str] | None) -> bool:
    """Return whether a block is code, grammar, a table or a session."""
    text = "\n".join(block)
    if "::=" in text or ">>>" in text or _TABLE_LINE_RE.match(block[0]):
        return True
    if any(line.lstrip().startswith("... ") for line in block):
        return True
    # reST renders "text::" as "text:" followed by an indented literal block,
    # which is how the docs introduce code examples.
    introduced = previous is not None and previous[-1].rstrip().endswith(":")
    if introduced and not _LABEL_RE.match(previous[0]):
        return _indent(block[0]) > _indent(previous[0]) and not _BULLET_RE.match(
            block[0]
        )
    return False


def _paragraphs(block: list[str]) -> list[list[str]]:
    """Split a block where a bullet starts or a definition's body begins."""
    paragraphs: list[list[str]] = []
    for line in block:
        starts_new = (
            not paragraphs
            or _BULLET_RE.match(line) is not None
            or _indent(line) > _indent(paragraphs[-1][-1]) + 1
        )
        if starts_new:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    return paragraphs


def _join_lines(lines: list[str]) -> str:
    """Return a paragraph's lines as one line, undoing end-of-line hyphens."""
    text = _BULLET_RE.sub("", lines[0]).strip()
    for line in lines[1:]:
        line = line.strip()
        if re.search(r"[A-Za-z]-$", text):
            text += line  # "built-" + "in" was one word split by wrapping
        else:
            text += " " + line
    return text


def _replace_code_literal(match: re.Match[str]) -> str:
    """Keep a quoted literal that is a plain name; mark any other."""
    inner = next(group for group in match.groups() if group is not None)
    return inner if _PLAIN_NAME_RE.fullmatch(inner) else _CODE_MARK


def _clean_inline(text: str) -> str:
    """Return paragraph text with inline markup reduced to plain words."""
    text = _VERSION_NOTE_RE.sub("", text)
    text = _FOOTNOTE_REF_RE.sub("", text)
    text = _CLOSING_QUOTE_RE.sub("'", text)  # don’t -> don't
    text = text.replace("\u2019", "").replace("\u2026", _CODE_MARK)
    text = text.translate(_TYPOGRAPHIC)
    text = _CODE_LITERAL_RE.sub(_replace_code_literal, text)
    return _EMPHASIS_RE.sub(r"\1", text)


def _balanced(tokens: list[str]) -> bool:
    """Return whether every parenthesis in ``tokens`` is closed after it opens."""
    depth = 0
    for token in tokens:
        depth += (token == "(") - (token == ")")
        if depth < 0:
            return False
    return depth == 0


def _prose_sentences(paragraph: str) -> list[list[str]]:
    """Return the usable sentences of one paragraph as token lists."""
    pairs = split_tokens(paragraph)
    tokens = [token for token, _ in pairs]
    stray = {i for i, (_, is_stray) in enumerate(pairs) if is_stray}
    sentences: list[list[str]] = []
    position = 0
    for sentence in split_sentences(tokens):
        span = range(position, position + len(sentence))
        position += len(sentence)
        if any(i in stray for i in span):
            continue
        if sum(map(is_word, sentence)) < _MIN_SENTENCE_WORDS:
            continue
        if not sentence[0][:1].isupper() or sentence[-1] not in ".?!:":
            continue  # fragments: definition terms, signatures, headings
        if not _balanced(sentence):
            continue  # cut from a parenthesis that spans sentences
        sentences.append(sentence)
    return sentences


def _document_paragraphs(document: str) -> list[list[list[str]]]:
    """Return a document's prose paragraphs, each a list of sentences."""
    lines = _drop_headings(document.splitlines())
    result: list[list[list[str]]] = []
    previous: list[str] | None = None
    for block in _blocks(lines):
        if _is_code_block(block, previous):
            continue  # not "previous": a code block does not introduce another
        previous = block
        for lines_of_paragraph in _paragraphs(block):
            text = _clean_inline(_join_lines(lines_of_paragraph))
            sentences = _prose_sentences(text)
            if sentences:
                result.append(sentences)
    return result


def _truecase(paragraphs: list[list[list[str]]]) -> list[list[list[str]]]:
    """Lower-case sentence-initial words unless they are usually capitalised.

    Without this "The" and "the" would be two words with split statistics.
    A word keeps its capital only when, inside sentences, the capitalised
    form is more common than the lower-case one (so "Python" stays).
    """
    inside: Counter[str] = Counter()
    for paragraph in paragraphs:
        for sentence in paragraph:
            inside.update(sentence[1:])
    result = []
    for paragraph in paragraphs:
        cased = []
        for sentence in paragraph:
            first = sentence[0]
            lower = first.lower()
            if inside[first] <= inside[lower]:
                first = lower
            cased.append([first, *sentence[1:]])
        result.append(cased)
    return result


def clean_text(document: str) -> str:
    """Return one raw document (docs or docstring text) in the corpus format.

    One sentence per line, tokens separated by spaces, sentence-initial
    words lower-cased as in the corpus (judged within this document).
    """
    paragraphs = _truecase(_document_paragraphs(document))
    return "".join(" ".join(s) + "\n" for paragraph in paragraphs for s in paragraph)


@functools.lru_cache(maxsize=1)
def _cleaned_paragraphs() -> tuple[tuple[str, ...], ...]:
    """Return every cleaned paragraph as lines of space-separated tokens."""
    paragraphs: list[list[list[str]]] = []
    for document in raw_documents():
        paragraphs.extend(_document_paragraphs(document))
    return tuple(
        tuple(" ".join(sentence) for sentence in paragraph)
        for paragraph in _truecase(paragraphs)
    )


def _join_paragraphs(held_out: bool) -> str:
    """Return the training or the held-out share as one-sentence lines."""
    lines = [
        sentence
        for index, paragraph in enumerate(_cleaned_paragraphs())
        if (index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == held_out
        for sentence in paragraph
    ]
    return "\n".join(lines) + "\n"


def corpus_text() -> str:
    """Return the cleaned training text: one sentence per line, tokens spaced."""
    return _join_paragraphs(held_out=False)


def held_out_text() -> str:
    """Return the cleaned held-out text (every tenth paragraph), same format."""
    return _join_paragraphs(held_out=True)


def count_words(text: str) -> int:
    """Return the number of word tokens (not punctuation) in cleaned text."""
    return sum(is_word(token) for token in text.split())


@functools.lru_cache(maxsize=1)
def corpus_info() -> dict[str, object]:
    """Return facts about the corpus for the article to quote."""
    import platform

    training = corpus_text()
    held_out = held_out_text()
    return {
        "name": "Python's own documentation: the language reference topics"
        " and the standard library's docstrings",
        "source": f"pydoc_data.topics and Lib/**/*.py docstrings, CPython "
        f"{platform.python_version()}",
        "licence": LICENCE,
        "words": count_words(training) + count_words(held_out),
        "training_words": count_words(training),
        "held_out_words": count_words(held_out),
        "training_sentences": training.count("\n"),
        "held_out_sentences": held_out.count("\n"),
    }
