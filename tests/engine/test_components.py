"""The mixture's component interface (engine/components.py, engine/mixture.py, issue 15):
a component plugged into the predictor changes the distribution and the strip as its
weight says, is called where its hook belongs, and every weight is one dataclass."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keyboard_app.engine.bundle import load_bundle
from keyboard_app.engine.completions import CompletionSettings
from keyboard_app.engine.components import Candidate, Candidates, Component, Cursor, Part, Stage
from keyboard_app.engine.document_cache import RecencySettings
from keyboard_app.engine.mixture import MixtureWeights
from keyboard_app.engine.phrases import PhraseSettings
from keyboard_app.engine.predictor import Predictor


class Favour(Component):
    """A stage that puts all of its probability on one vocabulary word (and, optionally,
    on one word beyond the vocabulary); counts its calls."""

    def __init__(self, token_id: int, weight: float, other: str | None = None) -> None:
        self.token_id, self.weight, self.other = token_id, weight, other
        self.calls = 0

    def stage(self, at: Cursor) -> Stage | None:
        self.calls += 1
        words = {self.other: math.log(0.5)} if self.other else {}
        value = math.log(0.5) if self.other else 0.0
        return Stage([Part(self.weight, np.array([self.token_id]), np.array([value]), words)])


class Offer(Component):
    """A keystroke component offering fixed words (token -> probability) that start with the typed letters."""

    def __init__(self, weight: float, words: dict[str, float], excluded=()) -> None:
        self.weight, self.words, self._excluded = weight, words, set(excluded)
        self.seen: list[tuple[str, str]] = []  # (the token before the cursor, the typed letters)

    def candidates(self, at: Cursor, typed: str) -> Candidates | None:
        self.seen.append((at.previous, typed))
        found = [Candidate(t, t.capitalize(), p) for t, p in self.words.items() if t.startswith(typed.lower())]
        return Candidates(self.weight, found)

    def excluded(self):
        return self._excluded


def texts(strip) -> list[str]:
    return [s.text for s in strip]


def test_a_stage_is_mixed_in_by_its_weight(make_predictor):
    plain = make_predictor()
    vocab = plain.bundle.vocab
    cat = vocab.id("cat")
    before, _ = plain.next_word_log_probs("we met ")
    assert texts(plain.suggest("we met ")) == ["the", "I", "tomorrow"]
    for weight in (1e-5, 0.5):  # (the stand-in network gives "the" about 0.002)
        predictor = make_predictor()
        predictor.add_component(Favour(cat, weight))
        after, _ = predictor.next_word_log_probs("we met ")
        keep = math.log1p(-weight)
        # the favoured word: (1 - w) P(cat) + w; every other word: (1 - w) P(word)
        assert float(after[cat]) == pytest.approx(math.log((1 - weight) * math.exp(float(before[cat])) + weight),
                                                  abs=1e-6)
        others = np.arange(len(vocab)) != cat
        assert np.allclose(after[others], before[others] + keep, atol=1e-6)
        strip = texts(predictor.suggest("we met "))
        assert strip == (["cat", "the", "I"] if weight == 0.5 else ["the", "I", "tomorrow"])


def test_a_stage_names_words_beyond_the_vocabulary_too(make_predictor):
    predictor = make_predictor()
    predictor.add_component(Favour(predictor.bundle.vocab.id("cat"), 0.6, other="zorblax"))
    [first, *_] = predictor.suggest("we met zor")
    assert (first.text, first.token, first.is_completion) == ("zorblax", "zorblax", True)
    assert first.log_prob == pytest.approx(math.log(0.6 * 0.5))


def test_stages_are_asked_at_word_boundaries_only(make_predictor):
    predictor = make_predictor()
    favour = Favour(predictor.bundle.vocab.id("cat"), 0.1)
    predictor.add_component(favour)
    text = "we met lon"
    for end in range(len(text) + 1):
        predictor.suggest(text[:end])
    assert favour.calls == 3  # "", "we ", "we met ": the letters of a word reuse the boundary's mixture
    predictor.remove_component(favour)
    assert favour not in predictor.components
    predictor.suggest(text)
    assert favour.calls == 3


def test_candidates_are_mixed_over_the_strip_by_their_weight(make_predictor):
    plain = make_predictor()
    network, _ = plain.next_word_log_probs("we met to")
    tom = float(network[plain.bundle.vocab.id("tom")])
    predictor = make_predictor()
    predictor.completions = CompletionSettings(small_letter_evidence=1.0)  # "to" would lower "Tom"
    offer = Offer(0.25, {"tom": 0.5, "tobermory": 0.5})
    predictor.add_component(offer)
    strip = {s.token: s for s in predictor.suggest("we met to", 3)}
    # a word the engine knows: (1 - w) P_engine + w P_offer; one it does not: w P_offer
    assert strip["tom"].log_prob == pytest.approx(math.log(0.75 * math.exp(tom) + 0.25 * 0.5))
    assert strip["tobermory"].log_prob == pytest.approx(math.log(0.25 * 0.5))
    assert strip["tobermory"].text == "Tobermory" and strip["tobermory"].is_completion
    assert offer.seen[-1] == ("met", "to")
    log_probs = [s.log_prob for s in predictor.suggest("we met to", 3)]
    assert log_probs == sorted(log_probs, reverse=True)
    # with no share, the engine's words and scores stand
    quiet = make_predictor()
    quiet.add_component(Offer(0.0, {"tom": 1.0}))
    expected = plain.suggest("we met to")
    found = quiet.suggest("we met to")
    assert texts(found) == texts(expected)
    assert [s.log_prob for s in found] == pytest.approx([s.log_prob for s in expected])


def test_excluded_words_are_never_shown(make_predictor):
    predictor = make_predictor()
    predictor.add_component(Offer(0.0, {}, excluded={"the", "i"}))
    assert texts(predictor.suggest("we met ")) == ["tomorrow", "Tom", "London"]


class Duck:
    """The interface without the base class: only the hooks it has are called."""

    def __init__(self, token_id: int) -> None:
        self.token_id = token_id

    def stage(self, at):
        return Stage([Part(0.5, np.array([self.token_id]), np.array([0.0]))])


def test_a_component_need_not_subclass_the_base(make_predictor):
    predictor = make_predictor()
    predictor.add_component(Duck(predictor.bundle.vocab.id("cat")))
    assert texts(predictor.suggest("we met "))[0] == "cat"


@pytest.mark.parametrize("text, previous", [
    ("|", "<s>"),
    ("we met |", "met"),
    ("we met lon|", "met"),
    ("Hello. |", "."),
    ("we met Zorblax |", "zorblax"),  # beyond the vocabulary: the word itself
    ("we met.\n\n|", "<s>"),
    ("call 555 |", "<num>"),
])
def test_the_cursor_knows_the_token_before_it(make_predictor, text, previous):
    predictor = make_predictor()
    offer = Offer(0.1, {})
    predictor.add_component(offer)
    text = text.replace("|", "")
    predictor.suggest(text)
    assert offer.seen[-1][0] == previous == predictor.tokenizer.split_context(text).tokens[-1]


# -- the weights: one dataclass ------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(random_int8_bundle):
    bundle = load_bundle(random_int8_bundle)  # with phrase tables
    yield bundle
    bundle.close()


TEXT = "the cat sat on the mat . the cat sat on the "


def test_the_weights_are_one_dataclass(bundle):
    recency = RecencySettings(weight=0.2, pair_weight=0.1, triple_weight=0.0)
    phrases = PhraseSettings(0.1, 0.2)
    by_settings = Predictor(bundle, recency=recency, phrases=phrases)
    by_weights = Predictor(bundle, by_settings.session, weights=MixtureWeights(recency=recency, phrases=phrases))
    assert by_weights.weights == by_settings.weights
    assert np.array_equal(by_weights.next_word_log_probs(TEXT)[0], by_settings.next_word_log_probs(TEXT)[0])
    default = Predictor(bundle, by_settings.session)
    assert not np.array_equal(default.next_word_log_probs(TEXT)[0], by_weights.next_word_log_probs(TEXT)[0])
    # changed in place: the same distribution as an engine made with them
    default.set_weights(MixtureWeights(recency=recency, phrases=phrases))
    assert np.array_equal(default.next_word_log_probs(TEXT)[0], by_weights.next_word_log_probs(TEXT)[0])


def test_weights_off_leave_the_network_alone(bundle):
    predictor = Predictor(bundle, weights=MixtureWeights.off())
    log_probs, view = predictor.next_word_log_probs(TEXT)
    assert np.array_equal(log_probs, predictor.states.log_probs(predictor._tokens.ids, view.length))
    assert predictor.weights.user_phrases == PhraseSettings.off()


def test_the_weights_travel_as_plain_values():
    weights = MixtureWeights(recency=RecencySettings(weight=0.05, window=500), phrases=PhraseSettings(0.1, 0.1),
                             user_phrases=PhraseSettings(0.2, 0.3), personal=0.2, personal_ramp=10.0, pool=8)
    assert MixtureWeights.from_dict(weights.to_dict()) == weights
    assert MixtureWeights.from_dict({}) == MixtureWeights()
    assert MixtureWeights.from_dict({"personal": 0.1}).personal == 0.1


@pytest.mark.parametrize("data, words", [
    ([], "not a table"),
    ({"persona": 0.1}, "unknown entries: persona"),
    ({"personal": "high"}, "is not a number"),
    ({"personal": 1.5}, "in [0, 1)"),
    ({"pool": 2.5}, "is not a number"),
    ({"recency": {"window": 10.5}}, "window 10.5 is not a whole number"),
    ({"recency": {"weight": 0.6, "pair_weight": 0.5}}, "sum below 1"),
    ({"phrases": {"pair": 0.9, "triple": 0.9}}, "sum below 1"),
])
def test_bad_weights_are_one_sentence(data, words):
    with pytest.raises(ValueError, match=None) as caught:
        MixtureWeights.from_dict(data)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_phrase_parts_are_kept_per_context_and_weight(random_int8_bundle, monkeypatch):
    """A context met again is mixed in from the parts kept for it (no table lookup),
    which are the parts a fresh lookup gives; a new weight is a new part; the kept
    parts are bounded (``PARTS_KEPT``)."""
    import keyboard_app.engine.components as components
    from keyboard_app.engine.components import PhraseTables

    bundle = load_bundle(random_int8_bundle)
    try:
        predictor = Predictor(bundle)
        [tables] = [c for c in predictor.components if isinstance(c, PhraseTables)]
        lookups = []
        followers = tables.table.followers
        monkeypatch.setattr(tables.table, "followers", lambda context, order: lookups.append(order) or
                            followers(context, order))
        words = [t for t in bundle.vocab.tokens if t.isalpha()][:40]
        text = " ".join(words[i % 7] for i in range(60)) + " "  # the same few contexts again and again
        for end in range(1, len(text) + 1):
            predictor.suggest(text[:end])
        first = len(lookups)
        assert 0 < first <= 2 * 7 + 2  # each pair and triple context looked up once
        at = predictor._memo[2]
        kept = tables.stage(at).parts
        assert len(lookups) == first  # met before: nothing looked up
        fresh = PhraseTables(tables.table, "phrases", vocab_size=len(bundle.vocab), unk_id=bundle.vocab.unk_id,
                             phrase_ids=tables._phrase_ids, lexicon_words=tables._lexicon_words,
                             lexicon=tables._lexicon).stage(at).parts
        assert len(lookups) == first + 2  # a fresh component looks up both orders
        assert len(kept) == len(fresh) > 0
        for a, b in zip(kept, fresh):
            assert a.weight == b.weight and a.words == b.words
            assert np.array_equal(a.ids, b.ids) and np.array_equal(a.log_probs, b.log_probs)
        predictor.set_phrase_settings(PhraseSettings(pair_weight=0.07, triple_weight=0.2))
        predictor.suggest(text)
        assert len(lookups) > first + 2  # other weights: other parts
        assert {part.weight for part in tables.stage(predictor._memo[2]).parts} <= {0.07, 0.2}
        monkeypatch.setattr(components, "PARTS_KEPT", 3)
        predictor.suggest(text + "x ")
        predictor.suggest(text + "x y ")
        assert len(tables._kept) <= 3
    finally:
        bundle.close()


def test_a_component_added_first_is_mixed_in_before_the_others(make_predictor):
    # Two stages on the same word: the one mixed in later scales the earlier one's mass.
    # First: P(cat) = (1 - 0.5) [(1 - 0.2) P + 0.2] + 0.5; last: (1 - 0.2) [(1 - 0.5) P + 0.5] + 0.2.
    plain = make_predictor()
    cat = plain.bundle.vocab.id("cat")
    p = math.exp(float(plain.next_word_log_probs("we met ")[0][cat]))
    for first, expected in ((True, 0.5 * (0.8 * p + 0.2) + 0.5), (False, 0.8 * (0.5 * p + 0.5) + 0.2)):
        predictor = make_predictor()
        predictor.add_component(Favour(cat, 0.5))
        late = Favour(cat, 0.2)
        predictor.add_component(late, first=first)
        assert (predictor.components[0] is late) == first
        after, _ = predictor.next_word_log_probs("we met ")
        assert float(after[cat]) == pytest.approx(math.log(expected), abs=1e-6)
