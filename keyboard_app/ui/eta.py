"""The time left in a retrain run, as the user waits for it: all of it, honestly.

The trainer's own ``eta_s`` counts only the tokens left to train on, at the
current speed.  A run is more than that: validation passes between the
training steps, then (after the last token) the trainer's phrase tuning,
the measuring of the new model on held-out text and the export, and then
the dialog's comparison of both models.  ``RunEstimate`` adds them up:

* training: the trainer's ``eta_s`` stretched by what this run has shown
  (wall-clock time per second of pure token time: the validation passes);
* the trainer's steps after training: the scorings they make (12 for the
  phrase tuning and one for the measuring, of up to 1,000 held-out words
  each) at measured rates, plus the rest of the up-front allowance (int8
  graph, export, checks) in proportion to the corpus, less the start-up
  this run has already spent; once a step reports ``step``/``total``, its
  own rate instead;
* the comparison: the models scored on up to ``compare_words`` words each,
  at the rate the trainer's own measuring showed (or the default).

Between events the estimate counts down with the clock.  When it runs out
and the run is still going, ``left`` says None: the dialog then says
"taking longer than estimated" instead of "about 1 s left" for 15 s.
Times are plain seconds passed in by the caller (testable without a clock).

Rates measured on 2 cores: an adaptation on 3,500 words (20 KB of Austen)
spent 13 s training, 4 s tuning, 2 s measuring and 2.5 s comparing;
``benchmarks/adaptation.py`` measured 94 s beyond 192 s of training for
136,000 words.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..retraining import HELDOUT_FRACTION, MAX_STRETCH, busy_stretch, estimate_seconds, load_stretch, usable_cores

#: Seconds per word of the engine's measuring (perplexity, top-k, keystroke savings).
DEFAULT_SECONDS_PER_WORD = 0.0035
TUNING_SECONDS_PER_WORD = 0.001  # one scoring of the phrase weights (no keystroke simulation)
TUNING_SCORINGS = 12  # the trainer's phrase-weight search
TRAINER_EVAL_WORDS = 1000  # the trainer's measuring (retraining: --ksr-words)
MIN_AFTER_TRAINING_S = 5.0  # export and validation take this long at the least
REFERENCE_WORDS = 136_000  # the corpus the up-front allowance was measured on
#: ``retraining``'s rates are a quiet computer's.  A run shares the cores with whatever
#: else runs: on this 2-core machine the same adaptation of 140,650 words took 84-90 s
#: at a load average of 1.6-1.7, 146 s at 3.3 and 228 s at 6 (retraining's comment has
#: the runs), load averages read during the runs, so counting the run's own two threads:
#: 1 + (load - 2) / 2 times the quiet time.  Read before Start, the load leaves the run
#: out, so the stretch is ``retraining.load_stretch``'s 1 + load / cores, at most this:
MAX_BUSY_FACTOR = MAX_STRETCH
#: Adapting runs faster than the speed the current model's manifest records for its own
#: training (the built-in model: 3,982 tokens/s): 5.6k-6.1k tokens/s here on a quiet
#: machine (the anchor and the interpolation cost little; validation passes are short).
ADAPT_SPEED_OVER_MANIFEST = 1.5


def busy_factor(load: float | None = None, cores: int | None = None) -> float:
    """How many times longer than on a quiet computer a run started now will take:
    ``retraining.load_stretch`` of the last minute's load average (read now unless given)
    and the cores; 1 where the system keeps no load average (Windows)."""
    if load is None:
        return busy_stretch()
    if cores is None:
        cores = usable_cores()
    return load_stretch(load, cores)


def estimate_before_start(words: int, *, size: str | None, manifest_tokens_per_s: float | None,
                          max_minutes: float, busy: float) -> float:
    """The whole run's seconds as the dialog shows them before Start (``size`` None:
    adapting the current model, whose manifest records ``manifest_tokens_per_s``)."""
    speed = manifest_tokens_per_s * ADAPT_SPEED_OVER_MANIFEST if manifest_tokens_per_s else None
    return busy * estimate_seconds(words, size=size, adapt_tokens_per_s=speed, max_minutes=max_minutes)


@dataclass
class RunEstimate:
    fixed_s: float  # the up-front estimate's allowance beyond training (start-up, export, tuning…)
    words: int  # words in the corpus
    compare_words: int  # words each model is scored on by the comparison
    adapt: bool = True  # an adaptation tunes its phrase weights after training
    models_compared: int = 2
    _last_event: float = 0.0
    _left_at_event: float | None = None
    _training_began: float | None = None
    _startup_s: float = 0.0
    _phase: str = ""  # "", "training", "tuning", "evaluating", "writing", "comparing"
    _phase_began: float = 0.0
    _seconds_per_word: float = DEFAULT_SECONDS_PER_WORD

    # --- what the trainer and the dialog report ----------------------------------------------
    def training(self, now: float, *, tokens: int, total: int, tokens_per_s: float | None,
                 eta_s: float | None) -> None:
        if self._training_began is None:
            self._training_began = now
            self._startup_s = now
        self._phase = "training"
        if eta_s is None or not tokens_per_s or tokens <= 0:
            self._set(now, None)
            return
        token_time = tokens / tokens_per_s
        stretch = (now - self._training_began) / token_time if token_time > 0 else 1.0
        stretch = min(3.0, max(1.0, stretch))
        self._set(now, eta_s * stretch + self.after_training_s() + self.comparison_s())

    def step(self, now: float, kind: str, *, step: float, total: float) -> None:
        """A step after training ("tuning" or "evaluating") reported ``step`` of ``total``."""
        if kind != self._phase:
            self._phase, self._phase_began = kind, now
        done = max(0.0, min(step, total))
        spent = now - self._phase_began
        rate = spent / done if done > 0 and total > 0 and spent > 0 else None
        if kind == "evaluating":
            if rate is not None:
                self._seconds_per_word = rate  # the comparison measures the same way
            phase_left = rate * (total - done) if rate is not None else self._measuring_s()
            then = 0.0
        else:
            phase_left = rate * (total - done) if rate is not None else self._tuning_s()
            then = self._measuring_s()
        self._set(now, phase_left + then + MIN_AFTER_TRAINING_S + self.comparison_s())

    def writing(self, now: float) -> None:
        """The trainer measured the model and is writing it."""
        self._phase = "writing"
        self._set(now, MIN_AFTER_TRAINING_S + self.comparison_s())

    def comparing(self, now: float, fraction: float) -> None:
        """The dialog's comparison of the two models, ``fraction`` done."""
        if self._phase != "comparing":
            self._phase, self._phase_began = "comparing", now
        spent = now - self._phase_began
        if fraction >= 0.1 and spent > 0:
            self._set(now, spent * (1 - fraction) / fraction)
        else:
            self._set(now, self.comparison_s() * (1 - fraction))

    # --- what the dialog shows ---------------------------------------------------------------
    def left(self, now: float) -> float | None:
        """Seconds left, counting down since the last report; None if unknown or overrun."""
        if self._left_at_event is None:
            return None
        left = self._left_at_event - (now - self._last_event)
        return left if left >= 0.5 else None

    def overrun(self, now: float) -> bool:
        """The estimate ran out and the run goes on."""
        return self._left_at_event is not None and self.left(now) is None

    # --- parts ----------------------------------------------------------------------------
    def after_training_s(self) -> float:
        """The trainer's time after its last token: scorings, then the rest of the allowance."""
        scorings = self._tuning_s() + self._measuring_s()
        at_reference = self._tuning_s(TRAINER_EVAL_WORDS) + self._measuring_s(TRAINER_EVAL_WORDS)
        rest = max(0.0, self.fixed_s - self._startup_s - MIN_AFTER_TRAINING_S - at_reference)
        return MIN_AFTER_TRAINING_S + scorings + rest * min(1.0, self.words / REFERENCE_WORDS)

    def comparison_s(self) -> float:
        return self.models_compared * self.compare_words * self._seconds_per_word

    def _scored_words(self) -> float:
        return min(TRAINER_EVAL_WORDS, self.words * HELDOUT_FRACTION)

    def _tuning_s(self, words: float | None = None) -> float:
        if not self.adapt:
            return 0.0
        words = self._scored_words() if words is None else words
        return TUNING_SCORINGS * words * TUNING_SECONDS_PER_WORD

    def _measuring_s(self, words: float | None = None) -> float:
        words = self._scored_words() if words is None else words
        return words * self._seconds_per_word

    def _set(self, now: float, left: float | None) -> None:
        self._last_event, self._left_at_event = now, left
