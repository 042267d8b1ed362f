"""An interpolated Kneser-Ney word n-gram model, trained and queried with numpy.

Counting follows Chen & Goodman (1998) and KenLM:

* Each sentence is ``<s> w1 ... wm </s>``.  An n-gram of order k is any k
  consecutive tokens of one sentence whose last token is not ``<s>``.
* Adjusted counts ``a``: at the highest order the raw count; at a lower order
  the number of distinct tokens seen just before the n-gram (its
  continuation count), except for n-grams that begin with ``<s>``, which
  nothing can precede and which therefore keep their raw count.
* One discount per order, ``D = n1 / (n1 + 2 n2)`` from the numbers of
  n-grams whose adjusted count is 1 and 2.
* For a context ``h`` with followers, where ``A(h)`` sums the adjusted counts
  after ``h`` and ``T(h)`` counts the distinct followers::

      P(w | h) = max(a(h w) - D, 0) / A(h)  +  D T(h) / A(h) * P(w | h')

  with ``h'`` the context without its first token.  An unseen context
  backs off: ``P(w | h) = P(w | h')``.  The recursion ends in the uniform
  distribution over every token except ``<s>``, so every word gets a
  positive probability and each level sums to one.

Everything a query needs is precomputed per context, so ``logits`` is a few
vectorised updates of one vocabulary-sized array per order.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .tokens import BOS, EOS, SENTENCE_END, SPECIAL_TOKENS, join_tokens, split_tokens

FORMAT_VERSION = 1
DEFAULT_ORDER = 3
DEFAULT_MAX_VOCABULARY = 4000
DEFAULT_MIN_COUNT = 2
# Only degenerate toy corpora get near these; they keep every level mixing.
_DISCOUNT_RANGE = (0.05, 0.95)
# Recent logits kept per model: 32 KB each for 4,000 words, so 256 is 8 MB.
LOGITS_CACHE_SIZE = 256
# A fixed zip timestamp makes to_bytes() reproducible byte for byte.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class Table(NamedTuple):
    """One order's adjusted counts in compressed sparse row form.

    Row ``i`` is the context ``contexts[i]`` (``order - 1`` token ids, rows
    sorted); its followers are ``followers[offsets[i]:offsets[i + 1]]``
    (sorted ids) with adjusted counts ``counts[...]`` at the same places.
    """

    contexts: np.ndarray
    offsets: np.ndarray
    followers: np.ndarray
    counts: np.ndarray


class Model:
    """A trained model: vocabulary, count tables and discounts.

    Build one with ``train`` or ``Model.from_bytes``.  ``logits`` gives the
    next-token distribution; ``<s>`` never gets probability, and ``<unk>``
    gets none unless asked for (a generated ``<unk>`` would show the reader a
    placeholder instead of a word).
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        tables: Sequence[Table],
        discounts: Sequence[float],
    ):
        self.vocabulary = tuple(vocabulary)
        self.tables = tuple(tables)
        self.discounts = np.asarray(discounts, dtype=np.float64)
        self.order = len(self.tables)
        self._ids = {token: i for i, token in enumerate(self.vocabulary)}
        self.bos_id, self.eos_id, self.unk_id = (
            self._ids[token] for token in SPECIAL_TOKENS
        )
        self._levels = [
            _QueryLevel(table, float(d), len(self.vocabulary))
            for table, d in zip(self.tables, self.discounts)
        ]
        # The unigram level has one (empty) context, so it is the same for
        # every query: computing it once saves most of a query's work.
        self._unigram = self._uniform_base()
        self._levels[0].interpolate(self._unigram, 0)
        self._cached_logits = functools.lru_cache(maxsize=LOGITS_CACHE_SIZE)(
            self._logits_for_history
        )

    # -- queries ---------------------------------------------------------

    @property
    def vocabulary_size(self) -> int:
        """Return the number of tokens, special ones included."""
        return len(self.vocabulary)

    def token_id(self, token: str) -> int | None:
        """Return the id of ``token``, or None when it is not in the vocabulary."""
        return self._ids.get(token)

    def probabilities(
        self, context_ids: Sequence[int], allow_unk: bool = False
    ) -> np.ndarray:
        """Return the next-token distribution after ``context_ids``.

        The context is read as text that began at a sentence start: a
        ``</s>`` (or ``<s>``) in it starts a new sentence, and a context
        shorter than ``order - 1`` tokens is preceded by ``<s>``.  With
        ``allow_unk`` false, ``<unk>`` gets probability 0 and the rest is
        renormalised.
        """
        return self._distribution(self._history(context_ids), allow_unk)

    def logits(self, context_ids: Sequence[int], allow_unk: bool = False) -> np.ndarray:
        """Return log next-token probabilities (float64, one per vocabulary entry).

        The log of ``probabilities``: ``<s>`` is always ``-inf``, ``<unk>``
        is ``-inf`` unless ``allow_unk``; every other token is finite, and no
        entry is NaN.  The array is read-only: recent results are cached
        (greedy and beam search revisit the same contexts), so copy it
        before changing it.
        """
        return self._cached_logits(self._history(context_ids), allow_unk)

    def _logits_for_history(self, history: tuple[int, ...], allow_unk: bool) -> np.ndarray:
        """Return read-only logits for an already shortened context."""
        with np.errstate(divide="ignore"):
            logits = np.log(self._distribution(history, allow_unk))
        logits.flags.writeable = False
        return logits

    def _distribution(self, history: tuple[int, ...], allow_unk: bool) -> np.ndarray:
        """Return the interpolated distribution after an already shortened context."""
        p = self._unigram.copy()
        for k, level in enumerate(self._levels[1:], start=1):
            if k > len(history):
                break
            row = level.row(history[len(history) - k :])
            if row is not None:  # an unseen context keeps the lower order: backoff
                level.interpolate(p, row)
        if not allow_unk:
            p[self.unk_id] = 0.0
            p /= p.sum()
        return p

    def _history(self, context_ids: Sequence[int]) -> tuple[int, ...]:
        """Return the context the counts can use: at most ``order - 1`` ids."""
        width = self.order - 1
        if width == 0:
            return ()
        tail = [int(i) for i in context_ids[-width:]]
        for position in range(len(tail) - 1, -1, -1):
            if tail[position] in (self.eos_id, self.bos_id):
                return ((self.bos_id, *tail[position + 1 :]))[-width:]
        if len(context_ids) < width:
            return (self.bos_id, *tail)  # the whole text so far is one sentence
        return tuple(tail)

    def _uniform_base(self) -> np.ndarray:
        """Return the distribution the lowest order backs off to."""
        base = np.full(self.vocabulary_size, 1.0 / (self.vocabulary_size - 1))
        base[self.bos_id] = 0.0
        return base

    # -- text ------------------------------------------------------------

    def encode(self, text: str) -> tuple[list[int], list[str]]:
        """Return token ids for ``text`` and the words the vocabulary lacks.

        Unknown words (and stray symbols) become ``<unk>``; each is listed
        once, in order of appearance.  A sentence-ending mark is followed by
        ``</s>``, as in training.  Case is matched loosely: a sentence's first
        word is tried lower-case first, any word may match in lower case or
        capitalised.
        """
        pairs = self.tokenize(text)
        ids = [token_id for _, token_id in pairs]
        unknown = [token for token, token_id in pairs if token_id == self.unk_id]
        return ids, list(dict.fromkeys(unknown))

    def tokenize(self, text: str) -> list[tuple[str, int]]:
        """Return ``(token as written, id)`` for each token of ``text``.

        The ids are ``encode``'s; an unknown token keeps its spelling next to
        the ``<unk>`` id, and each ``</s>`` after a sentence end is the pair
        ``("</s>", eos_id)``.  A widget shows the reader's own words this way.
        """
        pairs: list[tuple[str, int]] = []
        at_start = True
        for token, is_stray in split_tokens(text):
            token_id = None if is_stray else self._cased_id(token, at_start)
            pairs.append((token, self.unk_id if token_id is None else token_id))
            at_start = token in SENTENCE_END
            if at_start:
                pairs.append((EOS, self.eos_id))
        return pairs

    def _cased_id(self, token: str, at_start: bool) -> int | None:
        """Return the id of the best-matching case variant of ``token``."""
        lower = token.lower()
        capital = token[:1].upper() + token[1:]
        variants = (lower, token, capital) if at_start else (token, lower, capital)
        for variant in variants:
            if variant in self._ids and variant not in SPECIAL_TOKENS:
                return self._ids[variant]
        return None

    def decode(self, ids: Sequence[int], sentence_start: bool = True) -> str:
        """Return readable text for ``ids`` (see ``tokens.join_tokens``)."""
        return join_tokens([self.vocabulary[int(i)] for i in ids], sentence_start)

    # -- storage ---------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        """Return every stored array by name (what ``to_bytes`` writes)."""
        arrays = {
            "format": np.array([FORMAT_VERSION, self.order], dtype=np.uint8),
            "vocabulary": np.frombuffer(
                "\n".join(self.vocabulary).encode("utf-8"), dtype=np.uint8
            ),
            "discounts": self.discounts,
        }
        for k, table in enumerate(self.tables, start=1):
            arrays[f"contexts{k}"] = table.contexts
            arrays[f"offsets{k}"] = table.offsets
            arrays[f"followers{k}"] = table.followers
            arrays[f"counts{k}"] = table.counts
        return arrays

    def to_bytes(self) -> bytes:
        """Return the model as a compressed ``.npz`` archive.

        ``numpy.load`` reads it like any ``savez_compressed`` file; unlike
        ``savez_compressed`` its bytes depend only on the model.
        """
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name, array in self.arrays().items():
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(array))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        """Return the model stored by ``to_bytes``."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        version, order = (int(x) for x in arrays["format"])
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported model format {version}")
        vocabulary = arrays["vocabulary"].tobytes().decode("utf-8").split("\n")
        tables = [
            Table(
                arrays[f"contexts{k}"],
                arrays[f"offsets{k}"],
                arrays[f"followers{k}"],
                arrays[f"counts{k}"],
            )
            for k in range(1, order + 1)
        ]
        return cls(vocabulary, tables, arrays["discounts"])


class _QueryLevel:
    """One order's tables rearranged for fast queries.

    ``discounted`` holds ``max(a - D, 0) / A(h)`` per stored n-gram and
    ``backoff_weight`` holds ``D T(h) / A(h)`` per context.
    """

    def __init__(self, table: Table, discount: float, radix: int):
        offsets = table.offsets.astype(np.intp)
        counts = table.counts.astype(np.float64)
        followers_per_context = np.diff(offsets)
        totals = np.add.reduceat(counts, offsets[:-1])  # every row is non-empty
        self.offsets = offsets.tolist()  # Python ints index slices fastest
        self.followers = table.followers.astype(np.intp)
        self.discounted = np.maximum(counts - discount, 0.0) / np.repeat(
            totals, followers_per_context
        )
        self.backoff_weight = (discount * followers_per_context / totals).tolist()
        # A context as one integer, its ids read as digits in base `radix`:
        # the rows are sorted, so the keys are too and a binary search finds
        # a row (building a dict of tuples took most of a browser's load time).
        self.radix = radix
        self.keys = np.zeros(len(table.contexts), dtype=np.int64)
        for column in table.contexts.T.astype(np.int64):
            self.keys = self.keys * radix + column

    def row(self, context: tuple[int, ...]) -> int | None:
        """Return the table row of ``context``, or None when it was never seen."""
        key = 0
        for token in context:
            key = key * self.radix + token
        row = int(np.searchsorted(self.keys, key))
        if row < len(self.keys) and self.keys[row] == key:
            return row
        return None

    def interpolate(self, lower: np.ndarray, row: int) -> None:
        """Turn a lower-order distribution into this order's for context ``row``.

        Works in place: callers pass a copy they own.
        """
        start, end = self.offsets[row], self.offsets[row + 1]
        lower *= self.backoff_weight[row]
        lower[self.followers[start:end]] += self.discounted[start:end]


# -- training ---------------------------------------------------------------


def train(
    text: str,
    order: int = DEFAULT_ORDER,
    max_vocabulary: int = DEFAULT_MAX_VOCABULARY,
    min_count: int = DEFAULT_MIN_COUNT,
    discount: float | Sequence[float] | None = None,
) -> Model:
    """Return a model trained on ``text``.

    ``text`` holds one sentence per line, tokens separated by whitespace (the
    format ``corpus_text`` returns).  The vocabulary is ``<s>``, ``</s>``,
    ``<unk>`` and then the most frequent words seen at least ``min_count``
    times, up to ``max_vocabulary`` entries in all (ties by spelling); other
    words count as ``<unk>``.  ``discount`` fixes the discount of every order
    (or of each order, lowest first) instead of estimating it.  Training is
    deterministic.
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    if max_vocabulary ** (order - 1) >= 2**63:
        raise ValueError("order and max_vocabulary too large for 64-bit context keys")
    sentences = [line.split() for line in text.splitlines() if line.split()]
    vocabulary = _vocabulary(sentences, max_vocabulary, min_count)
    stream, position = _token_stream(sentences, vocabulary)
    grams = _adjusted_counts(stream, position, order)
    discounts = _discounts(grams, discount)
    tables = [_table(ngrams, counts) for ngrams, counts in grams]
    return Model(vocabulary, tables, discounts)


def _vocabulary(
    sentences: list[list[str]], max_vocabulary: int, min_count: int
) -> tuple[str, ...]:
    """Return the special tokens followed by the kept words, most frequent first."""
    counts = Counter(token for sentence in sentences for token in sentence)
    words = sorted(
        (w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
        key=lambda w: (-counts[w], w),
    )
    return SPECIAL_TOKENS + tuple(words[: max(max_vocabulary - len(SPECIAL_TOKENS), 0)])


def _token_stream(
    sentences: list[list[str]], vocabulary: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Return all sentences as one id array and each token's index in its sentence."""
    ids = {token: i for i, token in enumerate(vocabulary)}
    bos, eos, unk = (ids[token] for token in SPECIAL_TOKENS)
    stream: list[int] = []
    position: list[int] = []
    for sentence in sentences:
        stream.append(bos)
        stream.extend(ids.get(token, unk) for token in sentence)
        stream.append(eos)
        position.extend(range(len(sentence) + 2))
    return np.array(stream, dtype=np.int64), np.array(position, dtype=np.int64)


def _windows(stream: np.ndarray, position: np.ndarray, k: int) -> np.ndarray:
    """Return every k-gram inside one sentence that predicts a token (not <s>)."""
    ends = np.flatnonzero(position >= max(k - 1, 1))
    return np.stack([stream[ends - (k - 1) + t] for t in range(k)], axis=1)


def _adjusted_counts(
    stream: np.ndarray, position: np.ndarray, order: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return, for orders 1..order, the sorted distinct n-grams and adjusted counts."""
    bos = SPECIAL_TOKENS.index(BOS)  # the vocabulary starts with the specials
    top, top_counts = np.unique(_windows(stream, position, order), axis=0, return_counts=True)
    result = [(top, top_counts)]
    for k in range(order - 1, 0, -1):
        above = result[0][0]
        # Rows of `above` are distinct, so counting each suffix counts the
        # distinct tokens that precede it.
        grams, counts = np.unique(above[:, 1:], axis=0, return_counts=True)
        if k > 1:  # a unigram never starts with <s>: <s> is never predicted
            raw, raw_counts = np.unique(
                _windows(stream, position, k), axis=0, return_counts=True
            )
            at_start = raw[:, 0] == bos
            grams = np.concatenate([grams, raw[at_start]])
            counts = np.concatenate([counts, raw_counts[at_start]])
            sort = np.lexsort(grams.T[::-1])
            grams, counts = grams[sort], counts[sort]
        result.insert(0, (grams, counts))
    return result


def _discounts(
    grams: list[tuple[np.ndarray, np.ndarray]],
    fixed: float | Sequence[float] | None,
) -> np.ndarray:
    """Return one discount per order, estimated unless ``fixed`` is given."""
    if fixed is not None:
        return np.broadcast_to(np.asarray(fixed, dtype=np.float64), (len(grams),)).copy()
    discounts = []
    for _, counts in grams:
        n1 = int(np.count_nonzero(counts == 1))
        n2 = int(np.count_nonzero(counts == 2))
        estimate = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
        discounts.append(min(max(estimate, _DISCOUNT_RANGE[0]), _DISCOUNT_RANGE[1]))
    return np.array(discounts, dtype=np.float64)


def _table(grams: np.ndarray, counts: np.ndarray) -> Table:
    """Return n-grams sorted by context as a compressed sparse row table."""
    k = grams.shape[1]
    contexts = grams[:, : k - 1]
    if len(grams) and k > 1:
        new_context = np.any(contexts[1:] != contexts[:-1], axis=1)
        starts = np.flatnonzero(np.concatenate([[True], new_context]))
    else:
        starts = np.zeros(1 if len(grams) else 0, dtype=np.intp)
    token_dtype = _smallest_unsigned(int(grams.max(initial=0)))
    return Table(
        contexts=contexts[starts].astype(token_dtype),
        offsets=np.append(starts, len(grams)).astype(_smallest_unsigned(len(grams))),
        followers=grams[:, -1].astype(token_dtype),
        counts=counts.astype(_smallest_unsigned(int(counts.max(initial=0)))),
    )


def _smallest_unsigned(largest: int) -> np.dtype:
    """Return the narrowest unsigned integer dtype that holds ``largest``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)
