"""Counting the corpus and choosing the vocabulary (pass 1 of 2 over the text).

The count runs over the training part of each file only, so held-out
metrics see unknown words as a user would.  The display form of a word is
its most frequent written form among occurrences that do not start a
sentence ("I", "London", "iPhone"); a sentence-initial capital says
nothing, so words seen only there are shown lowercase.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from keyboard_app.engine.lexicon import Lexicon, build_lexicon, small_letter_counts
from keyboard_app.engine.ranking import is_suggestable
from keyboard_app.engine.tokenizer import BOS, SPECIAL_TOKENS, Token, Tokenizer
from keyboard_app.engine.vocab import Vocabulary

from .corpus import CorpusError, CorpusFile, ReadStats, Split, read_lines, warn_invalid

log = logging.getLogger(__name__)

LEXICON_MAX_WORDS = 100_000  # engine.lexicon.build_lexicon's default max_words
# A fine-tune's corpus that writes one of the source's slips this often, and at least a tenth as
# often as the word meant, makes it the writer's spelling (``own_spelling``).
OWN_SLIP = 3
OWN_SLIP_SHARE = 10


@dataclass
class FileCount:
    name: str
    train_tokens: int = 0
    heldout_tokens: int = 0


@dataclass
class CorpusCounts:
    counts: Counter = field(default_factory=Counter)  # token -> training occurrences
    non_initial: Counter = field(default_factory=Counter)  # token -> non-sentence-initial ones
    forms: dict[str, Counter] = field(default_factory=dict)  # token -> {written form != token: n}
    files: list[FileCount] = field(default_factory=list)
    sha256: str = ""
    # Occurrences of the tokens a count spilled to disk left out (``streaming.keep_top``):
    # too rare for the vocabulary and the lexicon, unknown words either way.
    dropped: int = 0
    # The words only casual files have (``count_corpus_tokens``' ``casual``): kept out of the lexicon.
    casual_only: frozenset = frozenset()
    # token -> {written form: n}: those of ``non_initial`` and ``forms`` that stood in runs of words
    # in capitals (``telling_forms``), whose capitals may be the run's ("WITHOUT ANY WARRANTY")
    run_forms: dict[str, Counter] = field(default_factory=dict)

    def outside_runs(self, token: str) -> int:
        """How often ``token`` is written inside a sentence, not in a run of words in capitals."""
        return self.non_initial.get(token, 0) - sum(self.run_forms.get(token, {}).values())

    @property
    def train_tokens(self) -> int:
        return sum(f.train_tokens for f in self.files)

    @property
    def heldout_tokens(self) -> int:
        return sum(f.heldout_tokens for f in self.files)

    def display_form(self, token: str, *, runs: bool = True) -> str:
        """The form ``token`` is most often written in inside a sentence (module docstring);
        ``runs=False``: leaving out runs of words in capitals (``outside_runs``)."""
        others = self.forms.get(token)
        in_runs = None if runs else self.run_forms.get(token)
        if in_runs:
            others = Counter(others) - in_runs
        if not others:
            return token
        lowercase_n = self.outside_runs(token) if in_runs else self.non_initial[token]
        lowercase_n -= sum(others.values())
        form, n = max(others.items(), key=lambda item: (item[1], item[0]))
        return form if n > lowercase_n else token


def count_corpus_tokens(
    files: list[CorpusFile],
    splits: dict[Path, Split],
    tokenizer: Tokenizer,
    progress=None,
    *,
    max_types: int | None = None,
    spill_dir: Path | None = None,
    keep_words: int | None = None,
    min_count: int = 1,
    casual: Collection[str] = (),
) -> CorpusCounts:
    """Pass 1: token counts and written forms (training part), token totals, hash.

    ``progress(bytes_done)`` is called after each file.  With ``max_types``, memory
    is bounded: whenever more distinct tokens than that are held, the counts go to a
    sorted file in ``spill_dir`` and start again; at the end the files are merged and
    only what the vocabulary (``keep_words`` tokens, or all seen ``min_count`` times
    when None) and the lexicon can use is kept (``streaming.keep_top``), exactly as
    counting in memory would choose it.

    ``casual`` names files (by name, file name or stem: "chitchat") of casual writing,
    chat typed in small letters and with its slips: "christmas", "korea", "joe",
    "studnet", "acutally".  Their words are counted as any file's, but how they write a
    word (``non_initial``, ``forms``: the display form and ``small_letters``) counts only
    for the words no other file writes inside a sentence ("BYU", "iPhone"), and the words
    no other file has are listed in ``casual_only`` (``corpus_lexicon`` leaves them out).
    """
    from .streaming import SpillFolder, keep_top, spill_counts

    if casual and max_types is not None:
        # the casual evidence is kept apart, in memory, and the lexicon's cap would be filled
        # before its words are left out: not for a count bounded by spilling
        raise ValueError("casual files cannot be counted with a bounded memory (max_types)")
    result = CorpusCounts()
    spill = spilled = None
    check_every = max(1, min(1 << 16, (max_types or 0) // 4))  # tokens between two looks at the size
    counts, non_initial, forms = result.counts, result.non_initial, result.forms
    casual_inside: Counter = Counter()  # the casual files' evidence, kept apart (never spilled)
    casual_forms: dict[str, Counter] = {}
    casual_counts: Counter = Counter()
    run_forms: dict[str, Counter] = {}  # the forms of words in runs of capitals (``telling_forms``)
    digest = hashlib.sha256()
    done = 0
    for file in files:
        casual_file = is_casual(file.name, casual)
        inside, written = (casual_inside, casual_forms) if casual_file else (non_initial, forms)
        digest.update(file.name.encode() + b"\0")
        stats = ReadStats(digest=digest)
        entry = FileCount(file.name)
        for start, stop, held_out in splits[file.path].parts(file.size):  # in file order: the hash's
            lines = read_lines(file.path, stats, start, stop, encoding=file.encoding)
            if held_out:
                entry.heldout_tokens += sum(1 for _ in tokenizer.iter_stream(lines))
                continue
            for token, told, in_run in telling_forms(tokenizer.iter_stream(lines)):
                if token is not None:
                    entry.train_tokens += 1
                    if max_types is not None and not entry.train_tokens % check_every and len(counts) > max_types:
                        if spill is None:
                            spill, spilled = SpillFolder(spill_dir), []
                        spilled.append(spill_counts(counts, non_initial, forms, spill))
                    word = token.token
                    counts[word] += 1
                    if casual_file:
                        casual_counts[word] += 1
                if told is not None:  # written inside a sentence
                    word = told.token
                    if in_run:  # (its capitals may be the run's: noted apart too)
                        run_forms.setdefault(word, Counter())[told.surface] += 1
                    inside[word] += 1
                    if told.surface != word and told.surface:
                        by_form = written.get(word)
                        if by_form is None:
                            by_form = written[word] = Counter()
                        by_form[told.surface] += 1
        digest.update(b"\0")
        warn_invalid(file.path, stats)
        result.files.append(entry)
        done += file.size
        if progress is not None:
            progress(done)
    result.sha256 = digest.hexdigest()
    if spill is not None:
        try:
            spilled.append(spill_counts(counts, non_initial, forms, spill))
            merged = keep_top(spilled, keep_words, min_count, LEXICON_MAX_WORDS)
            result.counts, result.non_initial, result.forms, result.dropped = merged
        finally:
            spill.close()
        log.info("vocabulary count: %d spills merged, %d tokens kept", len(spilled), len(result.counts))
    result.casual_only = frozenset(w for w, n in casual_counts.items() if result.counts.get(w) == n)
    result.run_forms = {word: by_form for word, by_form in run_forms.items() if word in result.counts}
    for word, n in casual_inside.items():
        if word in result.counts and not result.non_initial.get(word):
            result.non_initial[word] = n
            if word in casual_forms:
                result.forms[word] = casual_forms[word]
    return result


def telling_forms(tokens: Iterable[Token]) -> Iterator[tuple[Token | None, Token | None, bool]]:
    """Each token of ``tokens``, in order, beside a token whose written form says how its word is
    written inside a sentence (``CorpusCounts.non_initial`` and ``forms``), or None, and whether
    that one stands in a run of words written in capitals ("WITHOUT WARRANTY OF ANY KIND, EXPRESS
    OR IMPLIED"), whose capitals are the run's: a licence's disclaimers made "KIND" and "OUT" the
    way a fine-tuned model wrote its known words (``grow_vocabulary`` leaves runs out; a word of a
    manual written in capitals in runs, "NO MAXVALUE", "ICMP ECHO", is still shown so).  A sentence's first word says nothing (its
    capital is the sentence's).  A word in capitals is told one word late, once the next word
    shows whether the run goes on, so a triple may be (None, word, run) at the end; a run needs
    two words in capitals side by side, one of two letters or more ("the GNU General" is none)."""
    held: Token | None = None  # a word in capitals, waiting for the next word
    held_after_capitals = False  # ... which came right after a word in capitals
    previous: str | None = None  # the last word as written, since the paragraph's start
    for token in tokens:
        is_word = token.token[:1].isalpha()
        if held is not None and (is_word or token.token == BOS):
            yield None, held, held_after_capitals or (is_word and _run_of_capitals(held.surface, token.surface))
            held = None
        if token.token == BOS:
            previous = None
        told = None
        if not token.initial:  # (a sentence's first word: its capital is the sentence's)
            if is_word and _in_capitals(token.surface):
                held = token
                held_after_capitals = previous is not None and _run_of_capitals(previous, token.surface)
            else:
                told = token  # (a mark or a number too, as ever)
        if is_word:
            previous = token.surface
        yield token, told, False
    if held is not None:
        yield None, held, held_after_capitals


def _run_of_capitals(first: str, second: str) -> bool:
    """Whether two words side by side are a run of capitals: both in capitals, one of them
    two letters or more ("OF ANY", "FOR A"; not "A I")."""
    return (_in_capitals(first) and _in_capitals(second)) and (len(first) > 1 or len(second) > 1)


def _in_capitals(surface: str) -> bool:
    """Letters, every one a capital ("KIND", "A", "I'M")."""
    return surface.isupper()


def is_casual(name: str, casual: Collection[str]) -> bool:
    """Whether the corpus file ``name`` is one of ``casual`` (its name, file name or stem)."""
    if not casual:
        return False
    if isinstance(casual, str):  # one name, not its letters
        casual = (casual,)
    path = PurePosixPath(name.replace("\\", "/"))
    return name in casual or path.name in casual or path.stem in casual


def build_vocabulary(counts: CorpusCounts, size: int, min_count: int) -> Vocabulary:
    """The special tokens, then the ``size - len(SPECIAL_TOKENS)`` most frequent
    tokens seen at least ``min_count`` times (``size`` 0: all of them).

    A corpus with fewer such tokens than asked for gets a vocabulary of all of
    them, with a warning (a small corpus trains with the default size; the
    manifest records both sizes).  Raises ``CorpusError`` when ``size`` leaves
    no room for words, or the corpus has no word seen ``min_count`` times.
    """
    if 0 < size <= len(SPECIAL_TOKENS):
        raise CorpusError(
            f"the vocabulary size must be larger than {len(SPECIAL_TOKENS)}: its "
            f"{len(SPECIAL_TOKENS)} special tokens leave no room for words (use --vocab-size 0 "
            "for every word of the corpus)."
        )
    special = set(SPECIAL_TOKENS)
    candidates = [
        (n, t) for t, n in counts.counts.items() if n >= min_count and t not in special
    ]
    if not candidates:
        advice = "use a larger corpus, or --min-count 1" if min_count > 1 else "use a larger corpus"
        raise CorpusError(f"the corpus has no word seen at least {_times(min_count)} ({advice}).")
    wanted = size - len(SPECIAL_TOKENS) if size else len(candidates)
    if len(candidates) < wanted:
        log.warning(
            "the corpus has only %d distinct %s seen at least %s: the vocabulary has "
            "%d tokens, not the %d asked for.",
            len(candidates), "word" if len(candidates) == 1 else "words", _times(min_count),
            len(candidates) + len(SPECIAL_TOKENS), size,
        )
        wanted = len(candidates)
    candidates.sort(key=lambda item: (-item[0], item[1]))
    chosen = [t for _, t in candidates[:wanted]]
    tokens = list(SPECIAL_TOKENS) + chosen
    display = list(SPECIAL_TOKENS) + [counts.display_form(t) for t in chosen]
    kept = set(chosen)
    unknown = sum(n for t, n in counts.counts.items() if t not in kept and t not in special) + counts.dropped
    numbers = [counts.counts.get(t, 0) for t in SPECIAL_TOKENS]
    numbers[0] += unknown  # <unk> stands for every word left out
    vocab = Vocabulary(tokens, display, numbers + [counts.counts[t] for t in chosen])
    total = max(1, sum(counts.counts.values()) + counts.dropped)
    log.info(
        "vocabulary: %d tokens (min count %d), %.2f%% of training tokens unknown",
        len(vocab), min_count, 100.0 * unknown / total,
    )
    return vocab


def read_word_list(path: Path) -> dict[str, str]:
    """A word list, one word a line (Debian's ``wamerican``: /usr/share/dict/words): each word's
    token (small letters) and how the list writes it, in small letters where it lists the word
    small at all ("Hubble", "Pinocchio", but "bill" beside "Bill").  An unreadable file raises
    ``CorpusError``, one sentence."""
    words: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                written = line.strip()
                if written:
                    token = written.lower()
                    if words.get(token) != token:
                        words[token] = token if written == token else words.get(token, written)
    except OSError as e:
        raise CorpusError(f"cannot read the word list {path}: {e.strerror or e}.") from None
    return words


def corpus_lexicon(counts: CorpusCounts, vocab: Vocabulary, base: Lexicon | None = None,
                   known: Mapping[str, str] | None = None) -> Lexicon | None:
    """The bundle's lexicon: the corpus's words beyond ``vocab``,
    added to ``base``'s (the lexicon of a model being fine-tuned), so that
    the engine can still complete them (see ``keyboard_app.engine.lexicon``).  Not the
    words only casual files have (``CorpusCounts.casual_only``: mostly their slips), but
    where ``base`` has them or the word list ``known`` (``read_word_list``) does: those are
    real words ("marshmallow", "homesick"), shown as the list writes them where the casual
    files write them small ("Pinocchio").  A name the list has only with its capital counts
    only where the casual files write it so at least once ("Pinocchio", "Boise"): their
    "como" is Spanish, not the lake, and one letter from "acomo" it kept the typo search
    from "accommodate"."""
    special = set(SPECIAL_TOKENS)
    merged: Counter = Counter({t: n for t, n in counts.counts.items() if t not in special})
    display = {}
    if known:
        known = {word: form for word, form in known.items() if word in counts.casual_only and (
            form == word or any(written[:1].isupper() for written in counts.forms.get(word, ())))}
        for word in known:
            if counts.display_form(word) == word:
                display[word] = known[word]
    extra_unknown = counts.dropped  # the rare words a spilled count left out
    if base is not None:
        for word, form, n in zip(base.words, base.display, base.counts):
            merged[word] += n
            if word not in counts.counts:
                display[word] = form
        extra_unknown += base.unknown_total - sum(base.counts)  # its words rarer than it kept
    casual_only = counts.casual_only - set(base.words) if base is not None else counts.casual_only
    if known:
        casual_only = casual_only - known.keys()
    # (their occurrences stay in the unknown words' total)
    lexicon = build_lexicon(
        merged, lambda t: display.get(t) or counts.display_form(t), lambda t: t in vocab,
        (lambda t: is_suggestable(t) and t not in casual_only) if casual_only else is_suggestable,
    )
    if lexicon is not None and extra_unknown > 0:
        lexicon = Lexicon(lexicon.words, lexicon.display, lexicon.counts, lexicon.unknown_total + extra_unknown)
    if lexicon is not None and base is not None and base.identifiers:
        # the source's identifier marks (engine/completions.py), less the words this corpus
        # uses itself: a user who writes "fromhex" is offered it as any other word
        lexicon.identifiers = base.identifiers - counts.counts.keys()
    if lexicon is not None and base is not None and base.slips:
        # the source's misspellings (scripts/mark_slips.py), less the user's habits (``own_spelling``)
        listed = set(lexicon.words)
        lexicon.slips = {w: meant for w, meant in base.slips.items()
                         if not own_spelling(w, meant, counts.counts) and (w in vocab or w in listed)}
    if lexicon is not None:
        # how often its words written with a capital are written small inside a sentence
        # (lexicon.json's small_letters; engine/completions.py), the source's counts and this corpus's
        written = [*zip(vocab.tokens, vocab.display), *zip(lexicon.words, lexicon.display)]
        lexicon.small_letters = merged_small_letters(
            small_letter_counts(written, counts.non_initial, counts.forms), counts.non_initial,
            base.small_letters if base is not None else {})
        log.info("lexicon: %d words beyond the vocabulary", len(lexicon))
    return lexicon


def own_spelling(slip: str, meant: str, counts: Mapping[str, int]) -> bool:
    """Whether a fine-tune's corpus (``counts``) writes ``slip`` as its writer's own spelling: at
    least ``OWN_SLIP`` times, and at least a tenth as often as the rarest word of ``meant`` ("alot"
    for "a lot": as often as "lot").  A slip of theirs ("teh" 3 times beside "the" 50,000 times)
    is not, and stays marked."""
    seen = counts.get(slip, 0)
    return seen >= OWN_SLIP and seen * OWN_SLIP_SHARE >= min(counts.get(word, 0) for word in meant.split(" "))


def merged_small_letters(counted: dict[str, tuple[int, int]], inside: dict[str, int],
                         base: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """A fine-tune's ``small_letters``: the source model's counts with this corpus's added,
    its uses inside a sentence too where it never writes the word small (``counted`` lists
    only the words it does), so a user who writes "Parsonage" every time moves the share."""
    merged = dict(counted)
    for token, (small, seen) in base.items():
        more_small, more_seen = counted.get(token, (0, inside.get(token, 0)))
        merged[token] = (small + more_small, seen + more_seen)
    return merged


#: Occurrences inside a sentence (not at its start) of a known word in the user's text
#: before the way the user writes it replaces the source model's (``grow_vocabulary``).
MIN_FORM_EVIDENCE = 3


def grow_vocabulary(base: Vocabulary, new: Vocabulary, max_new: int,
                    written: CorpusCounts | None = None) -> Vocabulary:
    """For fine-tuning: ``base``'s tokens keep their ids; the ``max_new`` most
    frequent tokens of ``new`` that ``base`` lacks are appended.

    ``written``: the user's corpus counts.  A known word the user writes inside
    sentences at least ``MIN_FORM_EVIDENCE`` times is shown the way the user
    mostly writes it there with capitals ("License" in "the GNU General Public
    License", where the source model said "license"): the strip offers the
    user's spelling of their terms.  A capital is never taken away ("English"
    stays so for a user who writes "english").
    """
    tokens, display, counts = list(base.tokens), list(base.display), list(base.counts)
    if written is not None:
        for i, token in enumerate(tokens):
            # (a licence's "WITHOUT WARRANTY OF ANY KIND" says nothing of how "kind" is written)
            if written.outside_runs(token) >= MIN_FORM_EVIDENCE:
                form = written.display_form(token, runs=False)
                if form != token:
                    display[i] = form
    room = max_new
    for i, token in enumerate(new.tokens):
        if room <= 0:
            break
        if token not in base:
            tokens.append(token)
            display.append(new.display[i])
            counts.append(new.counts[i])
            room -= 1
    return Vocabulary(tokens, display, counts)


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"
