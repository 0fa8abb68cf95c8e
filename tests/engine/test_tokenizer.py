"""Contract 1: the tokenizer's rules, table-driven."""

import pytest

from keyboard_app.engine.tokenizer import (
    BOS,
    EMAIL,
    NUM,
    PUNCTUATION,
    URL,
    Tokenizer,
    TokenizerSettings,
)

tok = Tokenizer()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, world!", ["hello", ",", "world", "!"]),
        ("I don't know o'clock", ["i", "don't", "know", "o'clock"]),
        ("curly don\u2019t", ["curly", "don't"]),
        ("It costs 1,000.50 dollars on the 3rd", ["it", "costs", NUM, "dollars", "on", "the", NUM]),
        ("at 12:30 or mp3", ["at", NUM, "or", NUM]),
        ("see https://example.org/a?b=c. Then", ["see", URL, ".", "then"]),
        ("see www.python.org", ["see", URL]),
        ("mail jane.doe+x@mail.example.com now", ["mail", EMAIL, "now"]),
        ("Wait... what?!", ["wait", ".", "what", "?", "!"]),
        ("one\n\ntwo", ["one", BOS, "two"]),
        ("one\ntwo", ["one", "two"]),
        ("\"quoted\" (brackets) \u2014 dash \U0001F600 emoji", ["quoted", "brackets", "dash", "emoji"]),
        ("\x00\x07ctrl", ["ctrl"]),
        ("Ünïcödé café", ["ünïcödé", "café"]),
        ("", []),
        ("   \t ", []),
    ],
)
def test_tokenize(text, expected):
    assert tok.tokenize(text) == expected


def test_display_surface_and_sentence_initial_flags():
    tokens = list(tok.iter_tokens("The cat met London. Then I left"))
    assert [(t.surface, t.initial) for t in tokens if t.token.isalpha()] == [
        ("The", True), ("cat", False), ("met", False), ("London", False),
        ("Then", True), ("I", False), ("left", False),
    ]
    assert tokens[3].token == "london"


@pytest.mark.parametrize(
    "text, tokens, partial, sentence_start",
    [
        ("see you tom", [BOS, "see", "you"], "tom", False),
        ("see you ", [BOS, "see", "you"], "", False),
        ("", [BOS], "", True),
        ("End. ", [BOS, "end", "."], "", True),
        ("End. Th", [BOS, "end", "."], "Th", True),
        ("it's don'", [BOS, "it's"], "don'", False),
        ("call me at 12", [BOS, "call", "me", "at", NUM], "", False),
        ("para one\n\n", [BOS, "para", "one", BOS], "", True),
    ],
)
def test_split_context(text, tokens, partial, sentence_start):
    context = tok.split_context(text)
    assert context.tokens == tokens
    assert context.partial == partial
    assert text[context.partial_start:].replace("\u2019", "'") == partial
    assert context.sentence_start is sentence_start


def test_scanner_restarts_at_any_token_start():
    text = "Dear Ann, the 2nd meeting is at www.example.org.\n\nSee you there! Bye"
    full = list(tok.iter_tokens(text))
    for i, token in enumerate(full):
        tail = list(tok.iter_tokens(text, token.start, initial=token.initial))
        assert [t.token for t in tail] == [t.token for t in full[i:]]


def test_stream_marks_documents_and_paragraphs():
    lines = ["Hello there.\n", "The end\n", "\n", "\n", "Next one\n"]
    tokens = list(tok.iter_stream(lines))
    assert [t.token for t in tokens] == [BOS, "hello", "there", ".", "the", "end", BOS, "next", "one"]
    assert [t.initial for t in tokens if t.token in ("hello", "the", "next")] == [True, True, True]


def test_settings_round_trip_and_version_check():
    settings = TokenizerSettings()
    assert TokenizerSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="version"):
        Tokenizer(TokenizerSettings(version=99))


def test_a_manifest_written_before_punctuation_became_a_rule_still_loads():
    """Manifests up to now record ``punctuation`` (which never changed what a token is):
    they load to the same settings, and the marks are the tokenizer's own."""
    old = {"version": 1, "lowercase": True, "punctuation": ".,!?;:", "sentence_end": ".!?",
           "special_tokens": ["<unk>", "<s>", "<num>", "<url>", "<email>"]}
    assert TokenizerSettings.from_dict(old) == TokenizerSettings()
    assert "punctuation" not in TokenizerSettings().to_dict()
    text = "".join(f"a{mark}{mark} " for mark in PUNCTUATION)
    assert Tokenizer(TokenizerSettings.from_dict(old)).tokenize(text) == [
        t for mark in PUNCTUATION for t in ("a", mark)]
