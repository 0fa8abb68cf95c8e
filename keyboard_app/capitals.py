"""Capitals at sentence starts turned off (the preference ``Settings.auto_capitalise``).

The engine writes a sentence's first word with a capital ("The"), as the
text needs it in most places.  A user who turned that off gets the word as
it is written inside a sentence instead ("the", but still "I" and
"London"), unless they typed a capital themselves.  The editor's strip and
the on-screen keyboard's row both show the engine's words, and one setting
must mean the same in both, so both rewrite them here.  No Qt: the rule is
a function of the text before the cursor and the words' written forms.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from .engine.tokenizer import Tokenizer
from .learning import local_context


def model_form(predictor: Any, token: str) -> str | None:
    """How ``predictor``'s model writes ``token``: its vocabulary's display form, else its
    lexicon's; None where it has neither (or no vocabulary at all)."""
    vocab = getattr(getattr(predictor, "bundle", None), "vocab", None)
    if vocab is None:
        return None
    if token in vocab:
        return vocab.display[vocab.id(token)]
    lexicon = getattr(predictor, "lexicon", None)
    return lexicon.display_of(token) if lexicon is not None else None


def written_form(suggestion: Any, predictor: Any, personal: Any = None) -> str:
    """``suggestion``'s text as the word is written inside a sentence: the user's own form
    where they taught it (``personal``), else the vocabulary's or the lexicon's.  Only a
    capital the sentence start added is taken off: "LONDON" typed stays as it is."""
    token, shown = suggestion.token, suggestion.text
    if personal is not None and personal.knows(token):
        written = personal.display(token)
    else:
        written = model_form(predictor, token)
        if written is None:
            return shown
    if written.lower() == shown.lower() and shown[:1].isupper() and shown[1:] == written[1:]:
        return written
    return shown


def without_sentence_capitals(suggestions: list, text: str, tokenizer: Tokenizer,
                              written: Callable[[Any], str]) -> list:
    """``suggestions`` for the cursor at the end of ``text``, a sentence's first word as
    ``written`` writes it, unless the user typed a capital; elsewhere unchanged."""
    context = local_context(tokenizer, text)
    if not context.sentence_start or context.partial[:1].isupper():
        return suggestions
    return [replace(s, text=written(s)) for s in suggestions]


def phrase_without_sentence_capital(phrase: Any, text: str, tokenizer: Tokenizer,
                                    written: Callable[[Any], str]) -> Any:
    """A phrase's first word as ``without_sentence_capitals`` writes a word ("the cat sat",
    but "Alice met Bob"): the rest of the phrase keeps its written forms."""
    first, space, rest = phrase.text.partition(" ")
    head = replace(phrase, text=first, token=phrase.token.partition(" ")[0])
    word = without_sentence_capitals([head], text, tokenizer, written)[0].text
    return phrase if word == first else replace(phrase, text=word + space + rest)
