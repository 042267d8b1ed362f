"""Tests for the n-gram model, its decoders and the repetition metrics."""

from __future__ import annotations

import gzip
import io
import itertools
import math
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sampling
import ngram
from ngram import (
    METHODS,
    Model,
    clean_text,
    corpus_text,
    decoding_table,
    distinct_n,
    ends_in_repetition,
    generate,
    generate_steps,
    held_out_text,
    passages_from_text,
    prompts_from_text,
    reference_row,
    repeating_tail,
    repetition_start,
    train,
)
from ngram import corpus, shipped
from ngram.tokens import join_tokens, token_pieces

# A corpus small enough to work Kneser-Ney out by hand (see test_kn_by_hand).
HAND_CORPUS = "a b c\na b d\nb c\n"

# A little English with punctuation, for everything that needs real words.
SMALL_CORPUS = clean_text(
    """
The value of an object is stored in the object.  The type of an object
is also an object.  A name refers to an object, and the object has a type.
When a name is bound to an object, the old value is lost.  The value of a
name can change, but the type of an object cannot change.  Every object has
an identity, a type and a value.  A list is an object that holds other
objects.  The list can change, and its length can change too.  A tuple is
like a list, but it cannot change.  When the list is empty, its length is
zero.  The length of a tuple is fixed when the tuple is created.  A name
(or a list) can change.
"""
)


@pytest.fixture(scope="module")
def hand_model() -> Model:
    return train(HAND_CORPUS, order=3, min_count=1, discount=0.5)


@pytest.fixture(scope="module")
def small_model() -> Model:
    return train(SMALL_CORPUS, order=3, min_count=1)


def ids_of(model: Model, words: str) -> list[int]:
    return [model.token_id(w) for w in words.split()]


# -- Kneser-Ney --------------------------------------------------------------


def test_kn_by_hand(hand_model):
    """Interpolated KN with D = 0.5 on three sentences, worked out by hand.

    Sentences: <s> a b c </s>, <s> a b d </s>, <s> b c </s>.
    Unigram continuation counts (distinct left neighbours): a 1 (<s>),
    b 2 (<s>, a), c 1, d 1, </s> 2 (c, d); total 7 over 5 types, so the
    uniform share is 0.5 * 5/7 spread over the 6 tokens other than <s>:
    P1(a) = P1(c) = P1(d) = 0.5/7 + 5/84 = 11/84, P1(b) = P1(</s>) = 23/84,
    P1(<unk>) = 5/84.
    Bigram context b: continuation counts c 2 (a, <s>), d 1 (a); total 3,
    2 types, backoff weight 0.5 * 2/3 = 1/3:
    P2(c|b) = 1.5/3 + P1(c)/3, P2(d|b) = 0.5/3 + P1(d)/3, others P1/3.
    Trigram context (a, b): raw counts c 1, d 1; weight 0.5 * 2/2 = 1/2:
    P3(c|a b) = 0.5/2 + P2(c|b)/2.
    Sentence start, context (<s>): raw counts a 2, b 1 (nothing precedes <s>):
    P(a|<s>) = 1.5/3 + P1(a)/3.
    """
    m = hand_model
    p1 = {"a": 11 / 84, "b": 23 / 84, "c": 11 / 84, "d": 11 / 84, "</s>": 23 / 84, "<unk>": 5 / 84}
    p2_b = {w: p / 3 for w, p in p1.items()}
    p2_b["c"] += 1.5 / 3
    p2_b["d"] += 0.5 / 3

    def distribution(context: str) -> dict[str, float]:
        p = m.probabilities(ids_of(m, context), allow_unk=True)
        return {w: p[m.token_id(w)] for w in p1}

    # an unseen trigram context (c, b) backs off to the bigram context b
    assert distribution("a c b") == pytest.approx(p2_b, abs=1e-12)
    # a seen one interpolates with it
    assert distribution("a b")["c"] == pytest.approx(0.5 / 2 + p2_b["c"] / 2, abs=1e-12)
    # context shorter than two tokens: the sentence start
    assert distribution("")["a"] == pytest.approx(1.5 / 3 + p1["a"] / 3, abs=1e-12)
    # unseen at every order: the unigram distribution itself
    assert distribution("a <unk>") == pytest.approx(p1, abs=1e-12)
    assert m.probabilities([], allow_unk=True)[m.bos_id] == 0.0


def test_discounts_are_estimated_from_count_of_counts(hand_model):
    estimated = train(HAND_CORPUS, order=3, min_count=1)
    # trigram raw counts: 2, 1, 1, 2, 1, 1 -> n1 = 4, n2 = 2 -> 4 / (4 + 4)
    assert estimated.discounts[2] == pytest.approx(0.5)
    assert np.all((estimated.discounts > 0) & (estimated.discounts < 1))


def test_end_of_sentence_starts_a_new_sentence(hand_model):
    m = hand_model
    after_end = m.logits(ids_of(m, "a b c </s>"))
    at_start = m.logits([])
    assert np.array_equal(after_end, at_start)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=8), st.booleans())
def test_probabilities_sum_to_one_for_any_context(small_model, raw_context, allow_unk):
    m = small_model
    context = [i % m.vocabulary_size for i in raw_context]
    p = m.probabilities(context, allow_unk=allow_unk)
    assert abs(p.sum() - 1.0) < 1e-9
    logits = m.logits(context, allow_unk=allow_unk)
    assert not np.any(np.isnan(logits))
    never = {m.bos_id} if allow_unk else {m.bos_id, m.unk_id}
    assert {int(i) for i in np.flatnonzero(np.isinf(logits))} == never


def test_logits_are_read_only_and_float64(small_model):
    logits = small_model.logits([])
    assert logits.dtype == np.float64 and logits.shape == (small_model.vocabulary_size,)
    with pytest.raises(ValueError):
        logits[0] = 0.0


# -- training and storage --------------------------------------------------------


def test_training_is_deterministic():
    first, second = train(SMALL_CORPUS, min_count=1), train(SMALL_CORPUS, min_count=1)
    a, b = first.arrays(), second.arrays()
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name]), name
    assert first.to_bytes() == second.to_bytes()


def test_bytes_round_trip(small_model):
    data = small_model.to_bytes()
    loaded = Model.from_bytes(data)
    assert loaded.vocabulary == small_model.vocabulary
    for name, array in small_model.arrays().items():
        assert np.array_equal(loaded.arrays()[name], array), name
    for context in ([], ids_of(small_model, "the value of"), [small_model.unk_id]):
        assert np.array_equal(loaded.logits(context), small_model.logits(context))
    with np.load(io.BytesIO(data)) as archive:  # a plain .npz
        assert archive["followers3"].dtype == np.uint8  # smallest sufficient type


def test_rare_words_become_unk():
    m = train("x y\nx z\n", min_count=2)
    assert m.vocabulary == ("<s>", "</s>", "<unk>", "x")
    assert m.probabilities([m.token_id("x")], allow_unk=True)[m.unk_id] > 0.5


# -- text ----------------------------------------------------------------------------


def test_encode_reports_unknown_words(small_model):
    ids, unknown = small_model.encode("The zebra has a value. Quokka!")
    assert unknown == ["zebra", "Quokka", "!"]
    m = small_model
    assert ids == [
        m.token_id("the"), m.unk_id, m.token_id("has"), m.token_id("a"),
        m.token_id("value"), m.token_id("."), m.eos_id, m.unk_id, m.unk_id, m.eos_id,
    ]


def test_decode_joins_words_and_punctuation(small_model):
    ids, _ = small_model.encode("the list, a tuple (and a name). the value")
    assert small_model.decode(ids) == "The list, a tuple (and a name). The value"
    assert small_model.decode(ids[:2], sentence_start=False) == "the list"


def test_token_pieces_join_to_the_decoded_text():
    tokens = ["the", "list", ",", "</s>", "a", "(", "name", ")", ".", "</s>", "<s>", "b"]
    pieces = token_pieces(tokens)
    assert len(pieces) == len(tokens) and "".join(pieces) == join_tokens(tokens)
    assert pieces[:5] == ["The", " list", ",", "", " A"] and pieces[5:8] == [" (", "name", ")"]
    assert token_pieces(["the"], sentence_start=False) == ["the"]


def test_tokenize_keeps_unknown_words_as_written(small_model):
    m = small_model
    pairs = m.tokenize("The zebra has a value. A")
    assert pairs == [("The", m.token_id("the")), ("zebra", m.unk_id), ("has", m.token_id("has")),
                     ("a", m.token_id("a")), ("value", m.token_id("value")), (".", m.token_id(".")),
                     ("</s>", m.eos_id), ("A", m.token_id("a"))]
    assert [i for _, i in pairs] == m.encode("The zebra has a value. A")[0]
    assert m.tokenize("") == []


def test_clean_text_drops_code_and_markup():
    doc = (
        'The "if" statement\n******************\n\n'
        'The "if" statement uses :func:`len` and ``None`` here:\n\n'
        '   if_stmt ::= "if" expression ":" suite\n\n'
        "   >>> print(1)\n   1\n\n"
        'Use "x = 1" to assign.  The *name* is bound to the object.\n'
    )
    assert clean_text(doc) == (
        "the if statement uses len and None here :\nthe name is bound to the object .\n"
    )


# -- decoding --------------------------------------------------------------------------


def test_greedy_equals_beam_width_one(small_model):
    prompt = ids_of(small_model, "the value")
    greedy = generate(small_model, prompt, "greedy", 30)
    beam = generate(small_model, prompt, "beam", 30, beam_width=1)
    assert greedy.tokens == beam.tokens
    assert all(step.candidates == 1 for step in greedy.steps)


def test_beam_search_finds_the_best_sequence_when_wide_enough(hand_model):
    m = hand_model
    length = 3
    best = max(
        sum(m.logits(list(seq[:i]))[t] for i, t in enumerate(seq))
        for seq in itertools.product(range(m.vocabulary_size), repeat=length)
        if m.bos_id not in seq and m.unk_id not in seq
    )
    found = generate(m, [], "beam", length, beam_width=(m.vocabulary_size - 2) ** length)
    score = sum(m.logits(list(found.tokens[:i]))[t] for i, t in enumerate(found.tokens))
    assert score == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("method", [m for m in METHODS if m not in ("greedy", "beam")])
def test_same_seed_same_text(small_model, method):
    prompt = ids_of(small_model, "the list")
    first = generate(small_model, prompt, method, 40, rng=123)
    again = generate(small_model, prompt, method, 40, rng=np.random.default_rng(123))
    assert first.tokens == again.tokens and len(first.tokens) == 40
    stepped = [p.tokens for p in generate_steps(small_model, prompt, method, 40, rng=123)]
    assert stepped[-1] == first.tokens and [len(t) for t in stepped] == list(range(1, 41))


def test_sampling_matches_sample_token(small_model):
    """Each step draws exactly what sampling.sample_token would."""
    m = small_model
    prompt = ids_of(m, "a name")
    generation = generate(m, prompt, "top_p", 25, rng=5, top_p=0.8, temperature=0.9)
    rng = np.random.default_rng(5)
    context = list(prompt)
    for _ in range(25):
        context.append(sampling.sample_token(m.logits(context), rng, temperature=0.9, top_p=0.8))
    assert generation.tokens == tuple(context[len(prompt):])


@pytest.mark.parametrize("method, penalties", [
    ("greedy", {"repetition_penalty": 1.2}),
    ("top_p", {"repetition_penalty": 1.5, "frequency_penalty": 0.4, "presence_penalty": 0.2}),
    ("temperature", {"frequency_penalty": -0.5}),
])
def test_penalties_are_applied_to_the_prompt_and_the_text_before_the_filters(small_model, method, penalties):
    """Each step draws what sample_token draws from the penalised logits of everything so far."""
    m = small_model
    prompt = ids_of(m, "the value")
    generation = generate(m, prompt, method, 25, rng=9, **penalties)
    settings = ngram.decoding.method_params(method, **penalties)
    rng = np.random.default_rng(9)
    context = list(prompt)
    for _ in range(25):
        logits = sampling.apply_repetition_penalty(m.logits(context), context, settings["repetition_penalty"])
        logits = sampling.apply_frequency_presence_penalty(logits, context, settings["frequency_penalty"],
                                                           settings["presence_penalty"])
        context.append(sampling.sample_token(logits, rng, **ngram.decoding.sampling_settings(method, settings)))
    assert generation.tokens == tuple(context[len(prompt):])
    # The records keep the model's own view: its probability, its nucleus.
    for i, step in enumerate(generation.steps):
        logits = m.logits(list(prompt) + list(generation.tokens[:i]))
        assert step.probability == math.exp(logits[step.token])
        assert step.nucleus_size == sampling.nucleus_size(logits, 0.95)


def test_a_repetition_penalty_breaks_greedy_decodings_loop(small_model):
    prompt = ids_of(small_model, "the value")
    plain = generate(small_model, prompt, "greedy", 40)
    penalised = generate(small_model, prompt, "greedy", 40, repetition_penalty=3.0)
    assert ends_in_repetition(plain.tokens) and plain.tokens != penalised.tokens


def test_beam_search_takes_no_penalty(small_model):
    with pytest.raises(TypeError, match="repetition_penalty"):
        generate(small_model, [], "beam", 5, repetition_penalty=1.2)


@pytest.mark.parametrize("top_p, temperature", [(0.8, 1.0), (0.95, 1.0), (0.8, 0.7)])
def test_the_recorded_nucleus_is_the_models_at_the_asked_p(small_model, top_p, temperature):
    m = small_model
    prompt = ids_of(m, "a name")
    generation = generate(m, prompt, "top_p", 20, rng=3, nucleus_p=0.8, top_p=top_p, temperature=temperature)
    for i, step in enumerate(generation.steps):
        logits = m.logits(list(prompt) + list(generation.tokens[:i]))
        assert step.nucleus_size == sampling.nucleus_size(logits, 0.8)
    assert {s.nucleus_size for s in generate(m, prompt, "top_p", 5, rng=3, nucleus_p=None).steps} == {None}


def test_step_records(small_model):
    m = small_model
    generation = generate(m, ids_of(m, "the"), "top_k", 20, rng=1, top_k=3)
    for i, step in enumerate(generation.steps):
        logits = m.logits(list(generation.prompt) + list(generation.tokens[:i]))
        assert step.probability == pytest.approx(math.exp(logits[step.token]))
        assert step.nucleus_size == sampling.nucleus_size(logits, 0.95)
        assert step.fixed_k == 3 and 1 <= step.candidates <= 3 + 2  # ties are kept
    beam = generate(m, ids_of(m, "the"), "beam", 10, beam_width=4)
    assert {s.candidates for s in beam.steps} == {4} and {s.fixed_k for s in beam.steps} == {40}


def test_bad_method_or_parameter(small_model):
    with pytest.raises(ValueError):
        generate(small_model, [], "nucleus", 5)
    with pytest.raises(TypeError):
        generate(small_model, [], "top_k", 5, top_p=0.9)


# -- metrics -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("a b c a b c", 0),  # a phrase of three tokens, twice
        ("x a b c a b c a b c", 1),
        ("a b c a b c d", None),  # a loop that ended is not a repeating tail
        ("x the cat sat the cat sat the cat sat", 1),
        ("a b a b a b", None),  # two tokens: too short, unless it repeats more than 50 times
        ("a a a", None),
        (" ".join(["a b"] * 51), 0),
        (" ".join(["a b"] * 50), None),
        (" ".join(["a"] * 51), 0),
        ("x y y x y y", None),  # "y" twice and "x y y" twice: the shorter wins the tie, and fails
        ("", None),
    ],
)
def test_repetition_metric(text, start):
    """The rule of the paper's released code (degen, metrics/repetition.py)."""
    tokens = text.split()
    assert repetition_start(tokens) == start
    assert ends_in_repetition(tokens) == (start is not None)


def test_repeating_tail_reports_the_most_repeated_phrase():
    tail = repeating_tail("q a b c a b c a b c a b c".split())
    assert (tail.start, tail.phrase_length, tail.repeats) == (1, 3, 4)   # not "a b c a b c" twice


def test_repeating_tail_looks_at_phrases_of_up_to_90_tokens():
    assert repeating_tail(list(range(90)) * 2) == (0, 90, 2)
    assert repeating_tail(list(range(91)) * 2) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a b a b", 2 / 3), ("a b c d", 1.0), ("a a a a", 1 / 3), ("a", 0.0)],
)
def test_distinct_2(text, expected):
    assert distinct_n(text.split(), 2) == pytest.approx(expected)


def test_decoding_table_on_a_small_model(small_model):
    prompts = prompts_from_text(small_model, SMALL_CORPUS, 3, words=2)
    assert len(prompts) == 3
    table = decoding_table(small_model, prompts, n_per_prompt=2, length=30, seed=1)
    assert [row["method"] for row in table] == ["greedy", "beam", "sample", "temperature", "top_k", "top_p",
                                                "greedy", "greedy"]
    assert [row["generations"] for row in table] == [3, 3, 6, 6, 6, 6, 3, 3]
    assert table[-2]["key"] == "greedy_penalty" and table[-2]["params"]["repetition_penalty"] == 1.2
    assert table[-1]["key"] == "greedy_frequency" and table[-1]["params"]["frequency_penalty"] == 0.5
    for row in table:
        assert 0 <= row["repetition_percent"] <= 100 and 0 < row["distinct_2"] <= 1
        assert row["mean_length"] == 30
    assert table == decoding_table(small_model, prompts, n_per_prompt=2, length=30, seed=1)


def _stream(model: Model, text: str) -> list[int]:
    return [i for line in text.splitlines() for i in [model.token_id(t) for t in line.split()] + [model.eos_id]]


def test_passages_are_what_the_text_says_after_each_prompt(small_model):
    m = small_model
    passages = passages_from_text(m, SMALL_CORPUS, 3, words=2, length=6)
    stream = _stream(m, SMALL_CORPUS)
    assert len(passages) == 3 and len({tuple(p) for p, _ in passages}) == 3
    for prompt, continuation in passages:
        whole = prompt + continuation
        assert len(prompt) == 2 and len(continuation) == 6
        assert any(stream[i:i + 8] == whole for i in range(len(stream)))
    assert prompts_from_text(m, SMALL_CORPUS, 3, words=2) == [p for p, _ in passages_from_text(
        m, SMALL_CORPUS, 3, words=2, length=0)]


def test_reference_row_scores_what_people_wrote(small_model):
    m = small_model
    passages = passages_from_text(m, SMALL_CORPUS, 2, words=2, length=6)
    row = reference_row(m, passages, "People")
    surprise = [-math.log(m.probabilities(p + c[:i], allow_unk=True)[t])
                for p, c in passages for i, t in enumerate(c)]
    assert row["method"] == "human" and row["label"] == "People" and row["generations"] == 2
    assert row["perplexity"] == pytest.approx(math.exp(np.mean(surprise)))
    assert row["distinct_2"] == pytest.approx(np.mean([distinct_n(c, 2) for _, c in passages]))
    assert row["mean_candidates"] is None and row["key"] == "human"


def test_decoding_table_perplexity_is_of_the_chosen_tokens(small_model):
    m = small_model
    prompts = prompts_from_text(m, SMALL_CORPUS, 2, words=2)
    greedy = decoding_table(m, prompts, 1, 12, seed=3, rows=ngram.TABLE_ROWS[:1])[0]
    surprise = [-m.logits(list(g.prompt) + list(g.tokens[:i]))[t]
                for g in (generate(m, p, "greedy", 12) for p in prompts) for i, t in enumerate(g.tokens)]
    assert greedy["perplexity"] == pytest.approx(math.exp(np.mean(surprise)))


def test_default_model_is_the_bytes_handed_over(small_model, monkeypatch, request):
    monkeypatch.setattr(shipped, "_handed_over", {})
    request.addfinalizer(shipped.default_model.cache_clear)
    shipped.default_model.cache_clear()
    with pytest.raises(RuntimeError, match="model.bin"):   # the sources never hold one
        ngram.default_model()
    ngram.use_model_bytes(small_model.to_bytes())
    assert ngram.default_model().vocabulary == small_model.vocabulary
    assert ngram.default_model() is ngram.default_model()   # read once
    with pytest.raises(RuntimeError, match="computed by the build"):
        ngram.default_comparison()


def test_stdlib_modules_are_the_librarys_own_in_a_fixed_order():
    root = Path(sysconfig.get_paths()["stdlib"])
    names = [f.relative_to(root).as_posix() for f in corpus._stdlib_modules()]
    assert "textwrap.py" in names and "json/decoder.py" in names
    assert not [n for n in names if {"site-packages", "test", "tests", "idlelib"} & set(n.split("/"))]
    assert names == sorted(names)


# -- the real corpus (the one test that trains on it) --------------------------------------


def test_real_corpus_model():
    text = corpus_text()  # about 3 s to clean, 1 s to train
    model = train(text)

    assert ">>>" not in text and "::=" not in text
    assert ngram.CORPUS["licence"] == "Python Software Foundation License Version 2"
    assert ngram.CORPUS["training_words"] > 100_000
    assert 3000 <= model.vocabulary_size <= 4000

    data = model.to_bytes()
    assert len(gzip.compress(data)) <= 2_000_000

    prompts = prompts_from_text(model, held_out_text(), 5)
    assert len(prompts) == 5
    for prompt in prompts:
        assert abs(model.probabilities(prompt).sum() - 1) < 1e-9
    greedy = generate(model, prompts[0], "greedy", 60)
    assert greedy.tokens == generate(model, prompts[0], "beam", 60, beam_width=1).tokens
    ids, unknown = model.encode("The interpreter raises an exception. Frobnicate!")
    assert unknown == ["Frobnicate"] and model.decode(ids[:3]) == "The interpreter raises"


def test_decoding_table_also_counts_loops_the_last_token_breaks(small_model):
    prompts = prompts_from_text(small_model, SMALL_CORPUS, 3, words=2)
    for row in decoding_table(small_model, prompts, 1, 30, seed=2):
        generations = [generate(small_model, p, row["method"], 30, rng=np.random.default_rng(
            [2, [r.key for _, r in ngram.TABLE_ROWS].index(row["key"]), i, 0]), **row["params"])
            for i, p in enumerate(prompts)]
        expected = 100 * np.mean([ends_in_repetition(g.tokens[:-1]) for g in generations])
        assert row["repetition_percent_but_last"] == pytest.approx(expected)
