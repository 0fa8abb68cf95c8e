"""``Predictor.accept`` with the cursor inside a word: the chosen word replaces the whole word,
the letters after the cursor too, and the character after the word decides the space
("We like it alo|t" + "along" -> "We like it along |", not "along t")."""

from __future__ import annotations

import pytest

from keyboard_app.engine.predictor import Edit
from keyboard_app.engine.ranking import Suggestion


def chosen(text: str) -> Suggestion:
    return Suggestion(text, text.lower(), -1.0, True)


def put_in(before: str, after: str, edit: Edit) -> str:
    """The text with ``edit`` applied, the cursor shown as "|" (offsets run on into ``after``)."""
    whole = before + after
    done = whole[: edit.start] + edit.replacement
    return done + whole[edit.end : edit.end + edit.skip] + "|" + whole[edit.end + edit.skip :]


@pytest.mark.parametrize(
    "text, word, result",
    [
        # the letters after the cursor go too, then the space
        ("We like it alo|t", "along", "We like it along |"),
        ("We like it a|lot", "and", "We like it and |"),
        ("We like it a|lot and more", "and", "We like it and |and more"),
        ("We like it alo|t, and", "along", "We like it along|, and"),
        ("We like it alo|t.", "along", "We like it along|."),
        ("(We like it alo|t)", "along", "(We like it along|)"),
        ("see you tom|orow\nthen", "tomorrow", "see you tomorrow |\nthen"),
        # a contraction typed without its apostrophe, or with it
        ("I do|nt know", "don't", "I don't |know"),
        ("I don'|t know", "don't", "I don't |know"),
        ("I do|n't know", "don't", "I don't |know"),
        # a possessive or a clitic stays glued, unless the word chosen has an apostrophe
        ("met Joh|n's dog", "Johnson", "met Johnson|'s dog"),
        ("met John|'s dog", "Johnson", "met Johnson|'s dog"),
        ("met Joh|n's dog", "John's", "met John's |dog"),
        ("the stud|ents' books", "students", "the students|' books"),
        ("we'|ll go", "we'll", "we'll |go"),
        # curly apostrophes are apostrophes too
        ("met Joh|n\u2019s dog", "Johnson", "met Johnson|\u2019s dog"),
        # a word glued to a number is left as it was
        ("code ab|c12 here", "about", "code about |c12 here"),
        # a closing quote is not the word's
        ("he said 'hel|lo' twice", "hello", "he said 'hello|' twice"),
    ],
)
def test_the_whole_word_is_replaced(make_predictor, text, word, result):
    predictor = make_predictor()
    before, after = text.split("|")
    edit = predictor.accept(before, chosen(word), after)
    assert put_in(before, after, edit) == result


@pytest.mark.parametrize(
    "text, word, edit",
    [
        # at a word's end nothing changes: only the character after it is looked at
        ("see you tom| tomorrow", "tomorrow", Edit(8, 11, "tomorrow", skip=1)),
        ("see you tom|.", "tomorrow", Edit(8, 11, "tomorrow")),
        ("see you tom|", "tomorrow", Edit(8, 11, "tomorrow ")),
        ("he said 'hello|' twice", "hello", Edit(9, 14, "hello ")),
        # at a word's start the word chosen is a next word: put in before it
        ("We like it |alot", "very", Edit(11, 11, "very ")),
        ("Hello.|World", "The", Edit(6, 6, " The ")),
        # the edit ends past the cursor: end counts the letters after it
        ("We like it alo|t", "along", Edit(11, 15, "along ")),
        ("met Joh|n's dog", "Johnson", Edit(4, 8, "Johnson")),
    ],
)
def test_the_edits_offsets(make_predictor, text, word, edit):
    before, after = text.split("|")
    assert make_predictor().accept(before, chosen(word), after) == edit
