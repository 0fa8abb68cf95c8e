"""The shipped default model: real expectations of a real model.

These load ``assets/models/default`` exactly as the app does and check a
handful of predictions any competent English model makes.  They fail if the
bundle is missing, corrupt, or a poor model.
"""

import pytest

from keyboard_app.engine.predictor import Predictor
from keyboard_app.paths import default_model_path


@pytest.fixture(scope="module")
def predictor():
    p = Predictor.load(default_model_path())
    yield p
    p.close()


def _words(predictor, text, k=3):
    return [s.text for s in predictor.suggest(text, k)]


def test_manifest_records_held_out_metrics(predictor):
    metrics = predictor.bundle.manifest["metrics"]
    assert metrics["perplexity"] < 200
    assert metrics["ksr"]["3"] > 40  # percent of keystrokes saved, k = 3


@pytest.mark.parametrize("text", ["I want to thank ", "Thank "])
def test_you_follows_thank(predictor, text):
    assert "you" in _words(predictor, text)


def test_of_the_is_followed_by_a_word(predictor):
    shown = predictor.suggest("He spoke of the ", 3)
    assert len(shown) == 3
    assert all(s.text.isalpha() for s in shown)
    assert all(not s.is_completion for s in shown)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("We went to Lon", "London"),  # a name keeps its capital
        ("She was very hap", "happy"),
        ("It was a long ti", "time"),
    ],
)
def test_completions(predictor, text, expected):
    assert expected in _words(predictor, text)


def test_sentence_start_is_capitalised(predictor):
    shown = _words(predictor, "It rained all day. ")
    assert shown and all(word[0].isupper() for word in shown)


def test_the_united_states(predictor):
    assert "States" in _words(predictor, "The president of the United ")


def test_a_word_beyond_the_vocabulary_is_completed_from_the_lexicon(predictor):
    lexicon = predictor.bundle.lexicon
    assert lexicon is not None and len(lexicon) > 10_000
    assert "gyroscope" not in predictor.bundle.vocab and "gyroscope" in lexicon.words
    assert "gyroscope" in _words(predictor, "A spinning gyros")


def test_a_name_used_in_the_document_comes_back(predictor):
    assert "quarnbury" not in predictor.bundle.vocab and "quarnbury" not in predictor.bundle.lexicon.words
    text = "Anna Quarnbury wrote the first draft. Later, the draft was revised by Quar"
    assert _words(predictor, text)[:1] == ["Quarnbury"]


def test_a_stock_phrase_of_the_corpus_names_who_comes_next(predictor):
    assert _words(predictor, "The parser was rewritten. (Contributed by Serhiy ")[:1] == ["Storchaka"]
    # neither "Ivan" nor "Levkivskyi" is a vocabulary word: only the phrase tables, which
    # know the lexicon's words as contexts and followers, offer it before its first letter
    assert "ivan" not in predictor.bundle.vocab and "levkivskyi" not in predictor.bundle.vocab
    assert _words(predictor, "The typing module is new. (Contributed by Ivan ")[:1] == ["Levkivskyi"]


def test_the_first_words_of_a_document_do_not_crowd_out_the_model(predictor):
    # four words in, the document cache has little to go on: the network's words show, and
    # none of the document's own ("God", "so", "loved")
    shown = _words(predictor, "For God so loved the ", 5)
    assert "world" in shown
    assert not {"for", "god", "so", "loved", "the"} & {word.lower() for word in shown}


SENTENCE = ("It was on this point that I thought the Onan river, ISIS and the washing "
            "were all one; if only she knew.")


def test_a_strip_of_three_is_the_first_three_of_a_longer_list(predictor):
    """The strip's k suggestions are the best k: a word skipped in the pool (the one
    typed, a repeat) must not let a rare lexicon word in ahead of the next vocabulary
    word (it did: "I" offered "ISIS" before "If", "It was on" offered "Onan")."""
    for end in range(1, len(SENTENCE) + 1):
        text = SENTENCE[:end]
        assert _words(predictor, text, 3) == _words(predictor, text, 5)[:3], text
    assert _words(predictor, "I", 3)[2] != "ISIS"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hi, how are ", "you"),
        ("I don't ", "know"),
        ("Thank you very ", "much"),
        ("What do you ", "think"),
        ("Where are you ", "from"),
        ("What are you ", "doing"),
        ("I'll see you ", "later"),
        ("Let me ", "know"),
        ("Sounds ", "like"),
        ("That's so ", "cool"),
        ("Have a nice ", "day"),
        ("Nice to meet ", "you"),
        ("How was your ", "day"),
    ],
)
def test_everyday_conversation(predictor, text, expected):
    # Issue 19's conversational contexts: since everyday chat joined the corpus (stop 31),
    # "Nice to meet " and "Have a nice " too, which the model before it did not know.
    assert expected in _words(predictor, text)



def test_a_name_its_endings_call_a_habit_keeps_its_capital_where_the_sentence_has_capitals(predictor):
    """The chat's "smiths" (written small) made the capital of "Smith" a habit by its endings
    (``completions.small_forms``), so "Dear Mrs " offered "smith", though the corpus writes it
    small 3% of the time inside a sentence (``NAME_SHARE``); "Government" (small 30%) is
    still written small there, and a sentence typed small gets the small forms."""
    from keyboard_app.engine.completions import NAME_SHARE, _capital_by_habit

    vocab, counted = predictor.bundle.vocab, predictor.bundle.lexicon.small_letters
    assert _capital_by_habit("smith", "Smith", vocab) and _capital_by_habit("government", "Government", vocab)
    small, inside = counted["smith"]
    assert inside >= 100 and small < NAME_SHARE * inside
    for text in ("Dear Mrs ", "We spoke to Mrs "):
        assert "Smith" in _words(predictor, text) and "smith" not in _words(predictor, text, 5)
    assert "smith" in _words(predictor, "we spoke to mrs ")  # typed small: the person's own way
    shown = _words(predictor, "The Government of the United States and the ", 5)
    assert "government" in shown and "Government" not in shown


@pytest.mark.parametrize("text, slips", [
    ("My room", {"roomate", "roomates"}),  # the strip was roommate, roommates, roomates
    ("I like it bec", {"becuase", "becasue"}),
    ("She was sup", {"suprised"}),
    ("I like it a", {"alot", "alittle", "atleast"}),
])
def test_the_chats_slips_are_never_offered(predictor, text, slips):
    """The chat's misspellings in the vocabulary (scripts/mark_slips.py) leave the strip, for
    a next word or the letters typed; typed in full, the word meant comes first."""
    assert not slips & {w.lower() for w in _words(predictor, text, 20)}


@pytest.mark.parametrize("text, meant", [
    ("I like it becuase", "because"), ("We like it alot", "a lot"), ("He was suprised", "surprised"),
    ("my roomate", "roommate"), ("Teh", "The"),
])
def test_a_slip_of_the_chat_typed_in_full_is_corrected(predictor, text, meant):
    predictor.typo_tolerance = True
    predictor.auto_correct = True
    try:
        assert _words(predictor, text)[0] == meant
        edit = predictor.autocorrect(text)
        assert text[: edit.start] + edit.replacement + text[edit.end :] == text[: -len(text.split()[-1])] + meant
    finally:
        predictor.typo_tolerance = predictor.auto_correct = False


@pytest.mark.parametrize("text, not_offered", [
    ("Dear Mr ", "dear"), ("Hello Mrs ", "hello"), ("Dear Mrs ", "dear"),
])
def test_the_word_before_a_name_slot_is_not_offered_again(predictor, text, not_offered):
    """At a document's start the single-word cache counts a word or two, and where the network
    is unsure (a name comes next) such a word took the first slot ("Dear Mr " -> dear, Elliot,
    shepherd): the cache leaves out the word just typed and the one before it (``skip``)."""
    assert not_offered not in [w.lower() for w in _words(predictor, text, 5)]
    assert _words(predictor, text)[0][:1].isupper()  # a name


@pytest.mark.parametrize("text, name", [("I met Mrs ", "Clay"), ("We saw Mr ", "Shepherd"), ("Mrs Cl", "Clay")])
def test_a_name_after_a_title_is_offered_with_its_capital(predictor, text, name):
    """"clay" is written small in most of the corpus (the material), but after "Mrs " it is a
    name: a title written with its capital asks for one (``token_cache.NAME_TITLES``); typed
    small ("mrs "), the person writes small and gets small letters."""
    assert name in _words(predictor, text, 5)
    assert name.lower() not in _words(predictor, text, 5)
    assert name.lower() in _words(predictor, text.lower(), 5)


@pytest.mark.parametrize("text, word", [("I watched Pinoc", "Pinocchio"), ("I saw a platyp", "platypus"),
                                        ("I was so homes", "homesick")])
def test_the_real_words_only_the_chat_writes_are_completed(predictor, text, word):
    """Words only the chat writes were all left out of the lexicon with its slips; those Debian's
    word list knows are kept (``add_lexicon --known-words``), written as it writes them."""
    assert word in _words(predictor, text, 5)
    assert predictor.bundle.manifest["lexicon"]["casual_known_words"] == "words"


@pytest.mark.parametrize("text, stretched, stretching", [
    ("I said hell", "helloooo", "I said hellooo"), ("well so", "soooo", "well sooo"),
    ("oh hm", "hmmm", "oh hmmm"), ("I said ye", "yesss", "I said yesss"),
])
def test_the_chats_stretched_words_wait_until_the_person_stretches_one(predictor, text, stretched, stretching):
    """The chat's "helloooo", "yesss" took slots from words ("hell" offered hello, helloooo): they
    are offered once the letters typed stretch a word themselves ("sooo")."""
    assert stretched not in [w.lower() for w in _words(predictor, text, 5)]
    assert stretched in [w.lower() for w in _words(predictor, stretching, 5)]


@pytest.mark.parametrize("text, word", [
    ("I saw a squa", "squaw"),  # the word list's, kept with the chat's words
    ("she is a slu", "slut"), ("what a fuc", "fucking"), ("he is reta", "retarded"), ("a whor", "whore"),
    ("It was a shitty day. It was shi", "shitty"),  # the document's own word: not offered again
])
def test_slurs_and_profanity_are_never_offered(predictor, text, word):
    """``offensive.OFFENSIVE``: hidden as the slips are, from the vocabulary, the lexicon and
    the document alike; typed in full they are left as typed."""
    predictor.typo_tolerance = predictor.auto_correct = True
    try:
        assert word not in [w.lower() for w in _words(predictor, text, 10)]
        assert predictor.autocorrect(text[: text.rindex(" ") + 1] + word) is None
    finally:
        predictor.typo_tolerance = predictor.auto_correct = False
    # the corpus has it, or the document does
    assert word in predictor.bundle.vocab or word in predictor.bundle.lexicon.words or word in text


def test_a_word_taken_once_after_the_does_not_lead_after_every_the(predictor):
    """H69: "four", taken once after "the", was offered first after every later "the": the
    document's pair part had its whole weight on one copy of its context (``evidence``)."""
    text = "Once she walked near the four trees. Every day she walked to the "
    assert _words(predictor, text)[0] != "four"
