"""Word-level tokenisation shared by corpus cleaning, training and prompts.

A token is a word (letters, digits and underscores, with inner apostrophes,
hyphens and dots, optionally ending in ``()`` so that ``str.format()`` stays
one token), a number, a known abbreviation such as ``e.g.``, or one of the
punctuation marks in ``PUNCTUATION``.  Anything else is a "stray" character:
corpus cleaning drops sentences that contain one, and prompt encoding reports
it as unknown.
"""

from __future__ import annotations

import re

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"
SPECIAL_TOKENS = (BOS, EOS, UNK)

PUNCTUATION = frozenset(",.;:?!()")
SENTENCE_END = frozenset(".?!")
# Marks that attach to the word before them when text is joined back up.
_NO_SPACE_BEFORE = frozenset(",.;:?!)")
_NO_SPACE_AFTER = frozenset("(")

# Written as one token so that their dots do not end a sentence.
ABBREVIATIONS = ("e.g.", "E.g.", "i.e.", "I.e.", "etc.", "vs.", "cf.")

_WORD = r"[A-Za-z0-9_]+(?:['\-.][A-Za-z0-9_]+)*(?:\(\))?"
_TOKEN_RE = re.compile(
    "|".join(
        [
            "(?P<abbr>" + "|".join(re.escape(a) for a in ABBREVIATIONS) + ")",
            "(?P<word>" + _WORD + ")",
            "(?P<punct>[" + re.escape("".join(sorted(PUNCTUATION))) + "])",
            r"(?P<stray>\S)",
        ]
    )
)


def split_tokens(text: str) -> list[tuple[str, bool]]:
    """Return ``(token, is_stray)`` pairs for ``text`` in reading order."""
    return [
        (m.group(), m.lastgroup == "stray") for m in _TOKEN_RE.finditer(text)
    ]


def split_sentences(tokens: list[str]) -> list[list[str]]:
    """Return ``tokens`` cut after each sentence-ending mark.

    A trailing piece without a final mark is kept as a sentence of its own,
    because a paragraph boundary ends a sentence too.
    """
    sentences: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        current.append(token)
        if token in SENTENCE_END:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def is_word(token: str) -> bool:
    """Return whether ``token`` is a word rather than punctuation or a marker."""
    return token not in PUNCTUATION and token not in SPECIAL_TOKENS


def join_tokens(tokens: list[str], sentence_start: bool = True) -> str:
    """Return readable text for a token sequence.

    ``<s>`` and ``</s>`` are not printed; ``</s>`` makes the next word start a
    new, capitalised sentence.  ``sentence_start`` says whether the first
    token begins a sentence (true for a prompt, false for a continuation
    decoded on its own).
    """
    return "".join(token_pieces(tokens, sentence_start))


def token_pieces(tokens: list[str], sentence_start: bool = True) -> list[str]:
    """Return each token's share of ``join_tokens``'s text, in order.

    A piece is the token as printed with the space before it, if any; ``<s>``
    and ``</s>`` give empty pieces.  The pieces join to ``join_tokens``'s
    text, so a widget can wrap single tokens (a looping tail) in markup.

    Example: token_pieces(["the", "list", ",", "</s>", "a"]) -> ["The", " list", ",", "", " A"]
    """
    pieces: list[str] = []
    capitalise = sentence_start
    glue_next = True  # no space before the very first piece
    for token in tokens:
        if token in (BOS, EOS):
            capitalise = True
            pieces.append("")
            continue
        text = token
        if capitalise and is_word(token):
            text = token[:1].upper() + token[1:]
            capitalise = False
        space = "" if glue_next or token in _NO_SPACE_BEFORE else " "
        pieces.append(space + text)
        glue_next = token in _NO_SPACE_AFTER
    return pieces
