"""Prediction quality through the engine: perplexity, next-word top-k and KSR.

Defined in docs/EVALUATION.md; in short:

* **KSR** (keystroke savings rate) and **top-k** come from simulating a person
  typing each text through ``Predictor.suggest`` itself, state cache and all,
  so they measure exactly what the suggestion strip shows.  The words are the
  tokenizer's word tokens (letters and inner apostrophes); punctuation,
  numbers, URLs and line breaks are not typed and not counted, but are part
  of the context, which is always the real text so far.  Before each letter
  of a word (and before the first) the simulated person looks at the ``k``
  suggestions; if the word (compared lowercase) is there after ``j`` letters,
  the word costs ``j + 1`` keystrokes (the selection adds the space), else
  ``len(word) + 1``.  ``KSR = (1 - cost / (sum of len(word) + 1)) * 100``.
  A suggestion passed over may be shown again for the same word (Presage's
  simulator does the same).  Top-k is the share of words that are among the
  ``k`` suggestions before their first letter.  One simulation serves every
  ``k``: the best ``k`` are always the first ``k`` of the best ``max(ks)``.
* **Phrases** (``phrases=True``): at each word start the strip of ``k``
  slots may also hold a phrase (``Predictor.phrase``, placed by
  ``beam.place`` exactly as the app places it).  The simulated person takes
  it with one keystroke only when its words are exactly the next words of
  the text (no punctuation between them); the words it covers then cost
  nothing more.  Where it is not taken, the word it pushed out of the strip
  is not there to be taken before the first letter.  The same simulation
  gives KSR with and without phrases, side by side.
* **Perplexity** is ``exp`` of the mean negative log-likelihood of every token
  of the text after the first (the model's own tokenizer, ``<unk>``,
  punctuation and paragraph breaks included), each given the whole text
  before it.  Computed batched: each text is cut into segments, the exact
  state at each segment start comes from a chunked run over the text, and the
  segments are then stepped in parallel, ``BATCH`` at a time.  (An int8 graph
  quantizes per batch, so its figure can differ from a one-at-a-time run in
  the fourth digit.)
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from .beam import place
from .bundle import load_bundle
from .predictor import Predictor
from .ranking import is_suggestable
from .tokenizer import BOS, Token

Progress = Callable[[int, int], None]  # (words done, words in all)

BATCH = 16  # parallel streams for perplexity (about 2x a single stream on 2 cores)
MIN_SEGMENT = 64  # tokens; shorter segments are not worth a state each
CHUNK = 512  # tokens per run when computing segment start states
PROGRESS_EVERY = 100  # words


@dataclass
class EvalReport:
    words: int  # words scored for top-k and KSR
    keystrokes: int  # keystrokes without prediction (sum of len(word) + 1)
    perplexity: float  # nan when there was no token to score
    heldout_tokens: int  # tokens scored for perplexity
    vocab_size: int
    topk: dict[int, float] = field(default_factory=dict)  # fraction 0..1
    ksr: dict[int, float] = field(default_factory=dict)  # percent
    repeats_allowed: bool = True  # a passed-over suggestion may be shown again
    # with ``phrases=True``: KSR of the same words with phrases offered, and per k the
    # phrases shown, taken, and the words the taken ones covered
    ksr_phrases: dict[int, float] = field(default_factory=dict)
    phrases_shown: dict[int, int] = field(default_factory=dict)
    phrases_taken: dict[int, int] = field(default_factory=dict)
    phrase_words: dict[int, int] = field(default_factory=dict)

    def to_metrics(self) -> dict:
        """The manifest's ``metrics`` entries (fractions for top-k, percent for KSR)."""
        metrics = {
            "heldout_tokens": self.heldout_tokens,
            "vocab_size": self.vocab_size,
            "perplexity": _rounded(self.perplexity, 3),
            "ksr": {str(k): round(v, 2) for k, v in self.ksr.items()},
            "ksr_words": self.words,
        }
        for k, v in self.topk.items():
            metrics[f"top{k}"] = round(v, 4)
        return metrics

    def to_dict(self) -> dict:
        out = {
            "words": self.words,
            "keystrokes": self.keystrokes,
            "perplexity": _rounded(self.perplexity, 4),
            "heldout_tokens": self.heldout_tokens,
            "vocab_size": self.vocab_size,
            "topk": {str(k): round(v, 4) for k, v in self.topk.items()},
            "ksr": {str(k): round(v, 2) for k, v in self.ksr.items()},
            "repeats_allowed": self.repeats_allowed,
        }
        if self.ksr_phrases:
            out["ksr_phrases"] = {str(k): round(v, 2) for k, v in self.ksr_phrases.items()}
            out["phrase_suggestions"] = {str(k): {"shown": self.phrases_shown[k], "taken": self.phrases_taken[k],
                                       "words": self.phrase_words[k]} for k in self.ksr_phrases}
        return out

    def format_table(self) -> str:
        ppl = "n/a" if math.isnan(self.perplexity) else f"{self.perplexity:,.2f}"
        rows = [
            ("perplexity", f"{ppl}  (vocabulary {self.vocab_size:,}, {self.heldout_tokens:,} tokens)"),
            ("next word", "   ".join(f"top-{k} {v:6.1%}" for k, v in self.topk.items())),
            ("KSR", "   ".join(f"k={k} {v:5.1f}%" for k, v in self.ksr.items())),
        ]
        if self.ksr_phrases:
            rows += [
                ("KSR, phrases", "   ".join(f"k={k} {v:5.1f}%" for k, v in self.ksr_phrases.items())),
                ("phrases taken", "   ".join(f"k={k} {self.phrases_taken[k]:,} of {self.phrases_shown[k]:,} "
                                             f"({self.phrase_words[k]:,} words)" for k in self.ksr_phrases)),
            ]
        rows += [
            ("words scored", f"{self.words:,} ({self.keystrokes:,} keystrokes without prediction; "
                             "a passed-over suggestion may be shown again)"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _rounded(x: float, digits: int) -> float | None:
    return None if math.isnan(x) else round(x, digits)


def typed_words(tokens: Iterable[Token]) -> list[Token]:
    """The tokens a person types as words (no punctuation, numbers, URLs...)."""
    return [t for t in tokens if is_suggestable(t.token)]


def evaluate(
    predictor: Predictor,
    texts: Sequence[str],
    ks: Sequence[int] = (1, 3, 5),
    max_words: int | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    phrases: bool = False,
) -> EvalReport:
    """Score ``texts`` (each a document of its own) through ``predictor``.

    ``max_words`` cuts the texts after that many words in all (perplexity is
    then computed on the same cut text).  ``progress(done, total)`` is called
    every hundred words and at the end.  ``jobs`` > 1 types the words in that
    many processes at once (this one and ``jobs - 1`` others that load the same
    bundle), each a contiguous part of them: the suggestions at any point of a
    text are those a fresh engine gives (Contract 3), so the figures are the
    same as one process gives, in about ``1 / jobs`` of the time plus a second
    to start.  Only for a predictor loaded from a bundle with onnxruntime.
    ``phrases``: also score the strip with phrase suggestions (module
    docstring), with the predictor's ``phrase_beam`` settings and no time
    budget, so the figure does not depend on the machine's load.
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive, not {ks}")
    if phrases and predictor.phrase_beam is None:
        raise ValueError("phrases=True needs a predictor with phrase suggestions on (phrase_beam)")
    texts, words = _cut(predictor, texts, max_words)
    total = sum(len(w) for w in words)

    # Perplexity runs the network in batches, which onnxruntime does without holding
    # Python's lock: on a second core, beside the typing simulation (mostly Python), it
    # costs almost no time.  (The same runs, so the same figure.)  A stand-in graph
    # (tests) may not be called from two threads: then one after the other.
    parallel = getattr(predictor.session, "thread_safe", False)
    with ThreadPoolExecutor(1, thread_name_prefix="perplexity") as pool:
        perplexity = pool.submit(perplexity_nll, predictor, texts) if parallel else None
        nll, scored = (0.0, 0) if parallel else perplexity_nll(predictor, texts)
        predictor.reset()
        # the simulation asks at word starts only, never between the two line breaks of a
        # blank line: a paragraph start computed ahead would never be used
        run_ahead, predictor.run_ahead = getattr(predictor, "run_ahead", False), False
        try:
            parts = _parts(words, jobs) if jobs > 1 and getattr(predictor.session, "thread_safe", False) else []
            if len(parts) > 1:
                typed = _simulate_parallel(predictor, texts, parts, ks, phrases, total, progress)
            else:
                typed = _simulate(predictor, texts, words, ks, phrases, total, progress)
        finally:
            predictor.run_ahead = run_ahead
        if perplexity is not None:
            nll, scored = perplexity.result()
    done = len(typed)
    if progress is not None:
        progress(done, total)
    keystrokes = sum(word.length + 1 for word in typed)
    report = EvalReport(
        words=done,
        keystrokes=keystrokes,
        perplexity=math.exp(nll / scored) if scored else float("nan"),
        heldout_tokens=scored,
        vocab_size=len(predictor.bundle.vocab),
        topk={k: sum(word.found.get(k) == 0 for word in typed) / done if done else 0.0 for k in ks},
        ksr={k: _ksr(sum(word.cost(k) for word in typed), keystrokes) for k in ks},
    )
    if phrases:
        for k in ks:
            cost, shown, taken, covered = _cost_with_phrases(typed, k)
            report.ksr_phrases[k] = _ksr(cost, keystrokes)
            report.phrases_shown[k], report.phrases_taken[k], report.phrase_words[k] = shown, taken, covered
    return report


def word_costs(predictor: Predictor, texts: Sequence[str], k: int,
               max_words: int | None = None) -> list[tuple[str, int, int]]:
    """Each typed word of ``texts`` with its keystrokes and what it cost at ``k``
    suggestions, ``(surface, len(word) + 1, cost)``, by the same simulation as
    ``evaluate`` (whose KSR is ``1 - sum of costs / sum of keystrokes``): for
    seeing which words a model saves keystrokes on (benchmarks/adaptation_breakdown.py)."""
    if k < 1:
        raise ValueError(f"k must be positive, not {k}")
    texts, words = _cut(predictor, texts, max_words)
    predictor.reset()
    run_ahead, predictor.run_ahead = getattr(predictor, "run_ahead", False), False  # as ``evaluate``
    try:
        typed = _simulate(predictor, texts, words, [k], False, sum(len(w) for w in words), None)
    finally:
        predictor.run_ahead = run_ahead
    return [(word.surface, record.length + 1, record.cost(k))
            for word, record in zip((w for ws in words for w in ws), typed)]


def _ksr(cost: int, keystrokes: int) -> float:
    return (1 - cost / keystrokes) * 100 if keystrokes else 0.0


@dataclass
class _Typed:
    """One word as the simulated person typed it (the costs are worked out from it)."""

    length: int
    found: dict[int, int]  # k -> letters typed when the word was first among k suggestions
    # with phrases: k -> the words of the text a phrase in the strip of k covered, when it
    # was shown before this word's first letter (0: shown, but not those words)
    phrase: dict[int, int] = field(default_factory=dict)
    # k -> letters typed when the word was first among the k suggestions with the
    # phrase in the strip (a phrase may have taken its slot before its first letter)
    found_beside_phrase: dict[int, int] = field(default_factory=dict)

    def cost(self, k: int) -> int:
        return self.found[k] + 1 if k in self.found else self.length + 1

    def cost_beside_phrase(self, k: int) -> int:
        j = self.found_beside_phrase.get(k)
        return j + 1 if j is not None else self.length + 1


def _cost_with_phrases(typed: list[_Typed], k: int) -> tuple[int, int, int, int]:
    """Keystrokes for the words with phrases in the strip of ``k`` (a phrase taken costs one,
    the words it covers nothing more); and the phrases shown, taken, and words covered."""
    cost = shown = taken = covered = 0
    skip = 0
    for word in typed:
        if skip:
            skip -= 1
            continue
        words = word.phrase.get(k)
        if words is not None:
            shown += 1
        if words:
            cost += 1
            taken += 1
            covered += words
            skip = words - 1
        else:
            cost += word.cost_beside_phrase(k)
    return cost, shown, taken, covered


def _simulate(predictor, texts, words, ks, phrases, total, progress) -> list[_Typed]:
    """Type every word letter by letter through ``predictor.suggest`` (module docstring)."""
    k_max = ks[-1]
    typed_words: list[_Typed] = []
    for text, text_words in zip(texts, words):
        following = following_words(predictor, text, predictor.phrase_beam.max_words) if phrases else {}
        for word in text_words:
            typed = word.surface.lower()
            length = len(word.surface)
            found: dict[int, int] = {}
            record = _Typed(length, found)
            for j in range(length):  # j letters typed; all typed saves nothing
                shown = predictor.suggest(text, k_max, end=word.start + j)
                rank = next((i for i, s in enumerate(shown) if s.text.lower() == typed), None)
                if rank is not None:
                    for k in ks:
                        if rank < k and k not in found:
                            found[k] = j
                if j == 0 and phrases:
                    _offer_phrases(predictor, text, word, shown, typed, following[word.start], ks, record)
                elif rank is not None:
                    for k in ks:
                        if rank < k and k not in record.found_beside_phrase:
                            record.found_beside_phrase[k] = j
                if ks[0] in found and all(k in record.found_beside_phrase for k in record.phrase):
                    break
            typed_words.append(record)
            if progress is not None and len(typed_words) % PROGRESS_EVERY == 0:
                progress(len(typed_words), total)
        predictor.reset()  # the next text is a document of its own
    return typed_words


def _offer_phrases(predictor, text, word, shown, typed, following, ks, record: _Typed) -> None:
    """Before the word's first letter: the strip of each k with its phrase, if any."""
    for k in ks:
        phrase = predictor.phrase(text, k, end=word.start, budget=None) if k >= 2 else None
        strip = place(shown, phrase, k, predictor.phrase_beam.odds)
        if phrase is not None and any(s is phrase for s in strip):
            said = phrase.text.lower().split(" ")
            record.phrase[k] = len(said) if following[: len(said)] == said else 0
        if any(s is not phrase and s.text.lower() == typed for s in strip):
            record.found_beside_phrase[k] = 0


def following_words(predictor, text: str, most: int) -> dict[int, list[str]]:
    """For each word of ``text`` (by its start), it and the words right after it, lowercase,
    up to ``most`` and up to the first token that is not a word (punctuation, a number,
    a paragraph break): what a phrase taken there must match."""
    tokens = list(predictor.tokenizer.iter_tokens(text))
    is_word = [is_suggestable(t.token) for t in tokens]
    following = {}
    for i, token in enumerate(tokens):
        if is_word[i]:
            run = []
            for t, w in zip(tokens[i : i + most], is_word[i : i + most]):
                if not w:
                    break
                run.append(t.surface.lower())
            following[token.start] = run
    return following


def _parts(words: list[list[Token]], jobs: int) -> list[list[list[Token]]]:
    """The texts' words cut into ``jobs`` contiguous parts of about equal size, each a
    list over the texts (empty where a part has none of a text's words)."""
    flat = [(t, w) for t, text_words in enumerate(words) for w in text_words]
    size = -(-len(flat) // max(jobs, 1))
    parts = []
    for lo in range(0, len(flat), size):
        part: list[list[Token]] = [[] for _ in words]
        for t, w in flat[lo : lo + size]:
            part[t].append(w)
        parts.append(part)
    return parts


#: The predictor's attributes, beyond its weights, that change what the strip shows: a
#: worker process's fresh engine takes them from the one ``evaluate`` was given.
STRIP_SETTINGS = ("typo_tolerance", "typo_model", "completions")


def _simulate_part(source: str, threads: int, settings: dict, texts, words, ks, phrases,
                   phrase_cache: str | None = None) -> list[_Typed]:
    """``_simulate`` in a worker process, on its own engine loaded from ``source`` and set
    up as the caller's (``settings``: its mixture weights, phrase beam and ``STRIP_SETTINGS``;
    ``phrase_cache``: the caller's folder of stored phrase-table copies, see ``load_bundle``)."""
    bundle = load_bundle(source, phrase_cache=phrase_cache)
    try:
        predictor = Predictor(bundle, threads=threads, weights=settings.pop("weights"))
    except BaseException:
        bundle.close()
        raise
    predictor.run_ahead = False
    for name, value in settings.items():
        setattr(predictor, name, value)
    try:
        return _simulate(predictor, texts, words, ks, phrases, 0, None)
    finally:
        predictor.close()


def _simulate_parallel(predictor, texts, parts, ks, phrases, total, progress) -> list[_Typed]:
    """The first part here, the others in worker processes (``evaluate``'s ``jobs``), in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    settings = {"weights": predictor.weights, "phrase_beam": predictor.phrase_beam,
                **{name: getattr(predictor, name) for name in STRIP_SETTINGS}}
    threads = getattr(predictor.session, "threads", 1)
    cache = getattr(predictor.bundle, "phrase_cache", None)
    for table in (getattr(predictor.bundle, "phrases", None), getattr(predictor.bundle, "user_phrases", None)):
        copying = getattr(table, "copying", None)
        if cache is not None and copying is not None:
            copying.join()  # the stored copy the workers read, not inflate (and write) again each
    context = multiprocessing.get_context("spawn")  # a fork would copy onnxruntime's threads' state
    with ProcessPoolExecutor(len(parts) - 1, mp_context=context) as pool:
        others = [pool.submit(_simulate_part, str(predictor.bundle.source), threads, settings, texts, part, ks,
                              phrases, None if cache is None else str(cache))
                  for part in parts[1:]]
        typed = _simulate(predictor, texts, parts[0], ks, phrases, total, progress)
        for other in others:
            typed += other.result()
    return typed


def _cut(predictor: Predictor, texts: Sequence[str], max_words: int | None) -> tuple[list[str], list[list[Token]]]:
    """The texts and their typed words, cut after ``max_words`` words in all."""
    kept_texts: list[str] = []
    kept_words: list[list[Token]] = []
    left = math.inf if max_words is None else max(0, max_words)
    for text in texts:
        if left <= 0:
            break
        words = typed_words(predictor.tokenizer.iter_tokens(text))
        if len(words) > left:
            words = words[: int(left)]
            text = text[: words[-1].end]
        left -= len(words)
        kept_texts.append(text)
        kept_words.append(words)
    return kept_texts, kept_words


def perplexity_nll(predictor: Predictor, texts: Sequence[str]) -> tuple[float, int]:
    """Sum of the negative log-likelihoods of every token after the first, and their number."""
    session = predictor.session
    vocab = predictor.bundle.vocab
    segments: list[tuple[tuple[np.ndarray, ...], np.ndarray]] = []  # (start state, ids from there)
    encoded = []
    for text in texts:
        ids = np.array([vocab.id(BOS)] + vocab.encode(predictor.tokenizer.tokenize(text)), np.int64)
        if len(ids) > 1:
            encoded.append(ids)
    total = sum(len(ids) - 1 for ids in encoded)
    if not total:
        return 0.0, 0
    length = max(MIN_SEGMENT, -(-total // BATCH))
    for ids in encoded:
        state = session.zero_state()
        position = 0
        for start in range(0, len(ids) - 1, length):
            while position < start:  # the exact state after ids[:start]
                step = min(CHUNK, start - position)
                _, state = session.run(ids[position : position + step].reshape(1, -1), state)
                position += step
            # feed ids[start:stop] and score ids[start + 1 : stop + 1]
            stop = min(start + length, len(ids) - 1)
            segments.append((state, ids[start : stop + 1]))

    segments.sort(key=lambda s: len(s[1]))
    nll, scored = 0.0, 0
    for first in range(0, len(segments), BATCH):
        group = segments[first : first + BATCH]
        state = tuple(np.concatenate(parts, axis=1) for parts in zip(*(s for s, _ in group)))
        steps = max(len(ids) for _, ids in group) - 1
        feed = np.full((len(group), steps + 1), vocab.id(BOS), np.int64)
        for row, (_, ids) in enumerate(group):
            feed[row, : len(ids)] = ids
        rows = np.arange(len(group))
        lengths = np.array([len(ids) - 1 for _, ids in group])
        for t in range(steps):
            log_probs, state = session.run(feed[:, t : t + 1], state)
            active = lengths > t
            nll -= float(log_probs[rows[active], feed[active, t + 1]].sum())
            scored += int(active.sum())
    return nll, scored
