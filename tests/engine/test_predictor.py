"""What the predictor suggests and how it is written, with a stand-in graph whose
ranking is known (FakeGraph: specials and punctuation first, then WORDS' order),
and with real graphs (random weights, and the trained ``tiny_bundle``)."""

from __future__ import annotations

import numpy as np
import pytest

from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.predictor import Edit, Predictor, Suggestion
from keyboard_app.engine.ranking import is_suggestable
from keyboard_app.engine.tokenizer import Tokenizer


def _texts(shown):
    return [s.text for s in shown]


@pytest.mark.parametrize(
    "typed, expected",
    [
        # completions of the word before the cursor, in the table's order
        ("see you tom|", ["tomorrow", "Tom"]),
        # the word as typed first where no longer word alone is likelier (``completions``):
        # "Tom", as the capital typed inside a sentence lowers "tomorrow"; capitals throughout
        # say nothing, and the word exactly as typed is not offered (a space does the same),
        # but kept third where the longer word is at most twice as likely (``typed_word_within``)
        ("see you Tom|", ["Tom", "Tomorrow"]),
        ("see you TOM|", ["TOMORROW", "TOM"]),
        # a capital typed inside a sentence: words written with one first (``completions``)
        ("see you T|", ["Tom", "The", "Tomorrow"]),
        # small letters typed inside a sentence lower the words written with a capital
        ("we met in lon|", ["lonely", "London"]),
        ("we met in Lon|", ["London", "Lonely"]),
        ("we met in LON|", ["LONDON", "LONELY"]),
        ("we met in LoN|", ["London", "Lonely"]),
        ("i think i|", ["I", "in"]),
        ("they work at nas|", ["NASA"]),
        ("I don'|", ["don't"]),
        ("I don\u2019|", ["don't"]),
        # the word as typed, first where it is more likely finished than not (``completions``)
        ("we met \u00e9|", ["\u00e9", "\u00c9mile"]),
        ("\u00e9|", ["\u00c9", "\u00c9mile"]),
        # next words: capitals at a sentence start
        ("|", ["The", "I", "Tomorrow"]),
        ("hello |", ["the", "I", "tomorrow"]),
        ("Hello. |", ["The", "I", "Tomorrow"]),
        ("Hello.|", ["The", "I", "Tomorrow"]),
        ("Really?! |", ["The", "I", "Tomorrow"]),
        ("hello, |", ["the", "I", "tomorrow"]),
        ("hello\n\n|", ["The", "I", "Tomorrow"]),
        ("Hello! th|", ["The"]),
        ("hello, th|", ["the"]),
        ("we met at 12|", ["the", "I", "tomorrow"]),
        # a prefix no word has: nothing rather than nonsense
        ("see you xyz|", []),
    ],
)
def test_suggestions_and_their_capitals(make_predictor, typed, expected):
    text = typed[: typed.index("|")]
    shown = make_predictor().suggest(text, 3)
    assert _texts(shown) == expected
    completing = bool(Tokenizer().split_context(text).partial)
    assert all(s.is_completion == completing for s in shown)


def test_next_words_never_include_specials_or_punctuation(make_predictor):
    predictor = make_predictor()
    # FakeGraph ranks <unk>, <s>, <num>, <url>, <email> and . , ! ? ; : above every word
    shown = predictor.suggest("hello ", 30)
    assert shown and all(is_suggestable(s.token) for s in shown)
    assert [s.token for s in shown[:2]] == ["the", "i"]


def test_a_word_favoured_by_the_context_comes_first(make_predictor):
    predictor = make_predictor(after={"met": {"london": 20.0}})
    assert _texts(predictor.suggest("we met ", 2)) == ["London", "the"]
    assert _texts(predictor.suggest("we see ", 2)) == ["the", "I"]


def test_the_typed_word_itself_is_not_offered(make_predictor):
    # "cat" ranks first, but the ranker leaves it out (choosing it would do what a space
    # does); where it goes is ``completions``' rule (tests/engine/test_completions.py)
    predictor = make_predictor()
    predictor.completions = CompletionSettings.off()
    shown = predictor.suggest("the cat", 3)
    assert _texts(shown) == ["cats"]
    assert shown[0] == Suggestion("cats", "cats", shown[0].log_prob, True)
    log_probs, _ = predictor.next_word_log_probs("the cat")
    vocab = predictor.bundle.vocab
    assert log_probs[vocab.id("cat")] > log_probs[vocab.id("cats")]


def test_log_probs_are_the_models(make_predictor):
    predictor = make_predictor()
    predictor.completions = CompletionSettings.off()  # (the rules' penalties lower some)
    log_probs, view = predictor.next_word_log_probs("see you tom")
    shown = predictor.suggest("see you tom", 3)
    vocab = predictor.bundle.vocab
    assert [s.log_prob for s in shown] == [float(log_probs[vocab.id(s.token)]) for s in shown]
    assert view.partial == "tom" and view.length == 3  # <s> see you


@pytest.mark.parametrize("k", [0, 1, 2, 5, 50])
def test_k_suggestions_at_most(make_predictor, k):
    predictor = make_predictor()
    assert len(predictor.suggest("hello ", k)) == min(k, len(predictor.words))
    assert len(predictor.suggest("hello t", k)) == min(k, 5)  # the tomorrow tom to tea


def test_negative_k_is_an_error(make_predictor):
    with pytest.raises(ValueError):
        make_predictor().suggest("x", -1)


@pytest.mark.parametrize(
    "typed, choose, edit",
    [
        ("see you tom|", 0, Edit(8, 11, "tomorrow ")),
        ("see you Tom|", 1, Edit(8, 11, "Tomorrow ")),
        ("|", 0, Edit(0, 0, "The ")),
        ("Hello. |", 0, Edit(7, 7, "The ")),
        ("Hello.|", 0, Edit(6, 6, " The ")),
        ("hello,|", 1, Edit(6, 6, " I ")),
        ('he said "|', 0, Edit(9, 9, "the ")),
        ("(|", 0, Edit(1, 1, "The ")),
        ("see (|", 0, Edit(5, 5, "the ")),
        ("I don'|", 0, Edit(2, 6, "don't ")),
        ("we met at 12|", 0, Edit(12, 12, " the ")),
    ],
)
def test_accept_replaces_the_partial_word_and_adds_the_space(make_predictor, typed, choose, edit):
    predictor = make_predictor()
    text = typed[: typed.index("|")]
    suggestion = predictor.suggest(text, 3)[choose]
    assert predictor.accept(text, suggestion) == edit


@pytest.mark.parametrize(
    "text, choose, edit",
    [
        # a space already after the cursor: none is added, the cursor moves over it
        ("see the cat| sat", 0, Edit(8, 11, "cat", skip=1)),  # the word as typed: likely finished
        ("see you | tomorrow", 0, Edit(8, 8, "the", skip=1)),
        ("Hello.| you", 0, Edit(6, 6, " The", skip=1)),
        ("see you tom|\tand", 0, Edit(8, 11, "tomorrow", skip=1)),
        # punctuation after the cursor: no space before it
        ("see you tom|.", 0, Edit(8, 11, "tomorrow")),
        ("see you tom|, then", 0, Edit(8, 11, "tomorrow")),
        ("(see you tom|)", 0, Edit(9, 12, "tomorrow")),
        ("see you tom|?!", 0, Edit(8, 11, "tomorrow")),
        ("see you tom|;", 0, Edit(8, 11, "tomorrow")),
        ("see you tom|\u2026", 0, Edit(8, 11, "tomorrow")),
        # anything else after it, or nothing: the word and a space
        ("see you tom|", 0, Edit(8, 11, "tomorrow ")),
        ("see you tom|\nand", 0, Edit(8, 11, "tomorrow ")),
        ('he said | "hello"', 0, Edit(8, 8, "the", skip=1)),
    ],
)
def test_accept_looks_at_the_text_after_the_cursor(make_predictor, text, choose, edit):
    predictor = make_predictor()
    before, after = text.split("|")
    suggestion = predictor.suggest(before, 3)[choose]
    assert predictor.accept(before, suggestion, text_after_cursor=after) == edit


def test_accepting_leads_to_next_word_suggestions(make_predictor):
    predictor = make_predictor(after={"you": {"tomorrow": 5.0}})
    text = "see you tom"
    edit = predictor.accept(text, predictor.suggest(text)[0])
    text = text[: edit.start] + edit.replacement + text[edit.end :]
    assert text == "see you tomorrow "
    assert not predictor.suggest(text)[0].is_completion


# -- odd input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "odd, same_as",
    [
        ("", ""),
        ("   \n\t  ", ""),
        ("\x00\x07\x1b", ""),
        ("\U0001F600 ", ""),
        ("\U0001F600\U0001F600", ""),
        ("hello \x00", "hello "),
        ("hello \U0001F600 ", "hello "),
        ("hello \U0001F600t", "hello t"),
        ("\u200bhello \u200b", "hello "),
        ("...!!! ", ". "),
        ("\ud800 ", ""),  # a lone surrogate, as a broken paste can give
    ],
)
def test_odd_text_gives_what_its_words_give(make_predictor, odd, same_as):
    predictor = make_predictor()
    assert predictor.suggest(odd) == make_predictor().suggest(same_as)


def test_a_one_megabyte_word_gives_no_suggestions(make_predictor):
    predictor = make_predictor()
    assert predictor.suggest("a" * 1_000_000) == []
    assert predictor.suggest("hello " + "t" * 1_000_000) == []
    assert _texts(predictor.suggest("a" * 1_000_000 + " ")) == ["the", "I", "tomorrow"]


def test_a_one_megabyte_text_of_symbols(make_predictor):
    predictor = make_predictor()
    assert _texts(predictor.suggest("=" * 1_000_000)) == ["The", "I", "Tomorrow"]
    assert _texts(predictor.suggest("\U0001F600" * 250_000 + "hello t")) == ["the", "tomorrow", "Tom"]


def test_text_must_be_a_string(make_predictor):
    with pytest.raises(TypeError):
        make_predictor().suggest(b"bytes")


# -- real graphs -----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["t", "th", "a", "lo", "don", "q", "zzz"])
def test_completions_are_the_best_words_with_the_prefix(random_bundle, prefix):
    predictor = Predictor.load(random_bundle)
    predictor.completions = CompletionSettings.off()  # the distribution's order alone
    text = "the quick brown fox said " + prefix
    shown = predictor.suggest(text, 50)
    log_probs, _ = predictor.next_word_log_probs(text)
    vocab = predictor.bundle.vocab
    expected = sorted(
        (i for i, t in enumerate(vocab.tokens)
         if t.startswith(prefix) and is_suggestable(t) and vocab.display[i] != prefix),  # not the typed word
        key=lambda i: (-log_probs[i], i),
    )[:50]
    assert [s.token for s in shown] == [vocab.tokens[i] for i in expected]
    assert all(s.text.lower().startswith(prefix) for s in shown)
    scores = [s.log_prob for s in shown]
    assert scores == sorted(scores, reverse=True)


def test_next_words_are_the_best_words(random_bundle):
    predictor = Predictor.load(random_bundle)
    text = "Alice met Bob in London. "
    log_probs, _ = predictor.next_word_log_probs(text)
    vocab = predictor.bundle.vocab
    ranked = np.argsort(-log_probs, kind="stable")
    expected = [vocab.tokens[i] for i in ranked if is_suggestable(vocab.tokens[i])][:5]
    assert [s.token for s in predictor.suggest(text, 5)] == expected


def test_gru_bundle_suggests(random_gru_bundle):
    predictor = Predictor.load(random_gru_bundle)
    assert len(predictor.suggest("the cat sat on the ", 3)) == 3
    assert all(s.text.lower().startswith("t") for s in predictor.suggest("the cat sat on t", 3))


def test_trained_model_predicts_the_pattern(tiny_bundle):
    predictor = Predictor.load(tiny_bundle)
    assert predictor.suggest("The cat sat on the ", 3)[0].text == "mat"
    assert predictor.suggest("Alice met Bob in ", 3)[0].text == "London"
    assert predictor.suggest("Alice met Bob in lo", 3)[0].text == "London"
    assert predictor.suggest("The dog ran to the p", 1)[0].text == "park"
    first = predictor.suggest("She drinks hot tea every morning. ", 3)
    assert "The" in _texts(first) and all(s.text[0].isupper() for s in first)
