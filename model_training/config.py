"""The model's shape and the training settings, as frozen dataclasses.

Parsed from the command line in ``cli.main()`` only and passed explicitly
everywhere else.  Both are recorded in the bundle's manifest and in every
checkpoint (as plain dicts), so a model can always be rebuilt from either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from keyboard_app.engine.contract import CELLS  # the model types a bundle may hold
from keyboard_app.engine.contract import PHRASE_ARRAYS_MAX_BYTES

OUTPUT_LOSSES = ("sampled", "full")
SCHEDULES = ("cosine", "plateau", "constant")
LR_SCALINGS = ("sqrt", "linear", "none")  # with the number of processes (see distributed)
PRECISIONS = ("auto", "fp32", "bf16")
#: Which part of each file is held out for validation.  The end of a file by
#: default; its start when a model is adapted to a person's own writing, whose
#: newest text is the most like what they will type next and often the only
#: place the names and words of their current work appear (a novel's late
#: characters, a project's new terms): held out, the adapted model would never
#: learn them (the adaptation benchmark, issue 12).
HELDOUT_AT = ("end", "start")
PHRASES_LIMIT_MB = PHRASE_ARRAYS_MAX_BYTES / 1e6  # what the engine accepts


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 20000  # set from the built vocabulary
    embedding_dim: int = 256  # also the width of the tied output layer
    hidden_size: int = 512  # recurrent state per layer
    # Stacked recurrent layers (dropout between them).  One layer of 512 trains
    # ~1.7x faster than two on a CPU (measured), so an hour's budget gets ~1.7x
    # the epochs, and it steps faster in the app.
    num_layers: int = 1
    cell: str = "lstm"  # one of CELLS: "lstm" or "gru"
    dropout: float = 0.1  # on embeddings, between layers and before the output
    tied: bool = True  # output layer shares the embedding matrix
    # Untied models only: a bottleneck before the output layer (None: none).
    # Tied models project hidden_size -> embedding_dim when the two differ.
    projection: int | None = None

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, not {self.cell!r}")
        for name in ("vocab_size", "embedding_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    @property
    def projection_dim(self) -> int | None:
        """Width of the layer between the last recurrent layer and the output."""
        if self.tied:
            return self.embedding_dim if self.embedding_dim != self.hidden_size else None
        return self.projection

    @property
    def output_dim(self) -> int:
        """Width of the features the output layer sees."""
        return self.projection_dim or self.hidden_size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class TrainConfig:
    # Vocabulary
    vocab_size: int = 20000  # at most this many tokens, special tokens included
    min_count: int = 3  # a word seen fewer times becomes <unk>
    heldout_fraction: float = 0.02  # this part of each file is held out for validation
    heldout_at: str = "end"  # of each file; "start" when adapting (``corpus.HELDOUT_AT``)
    max_new_words: int = 5000  # --init-from: at most this many new words join the vocabulary
    # Optimisation
    batch_size: int = 32  # parallel streams
    bptt: int = 35  # time steps per batch (truncated back-propagation)
    lr: float = 3e-3  # AdamW peak learning rate
    weight_decay: float = 0.01  # AdamW, not applied to biases and norms
    clip: float = 0.5  # gradient norm clipping
    warmup_steps: int = 200  # linear warm-up before the schedule
    schedule: str = "cosine"  # "cosine" over the run, "plateau" (halve on no gain) or "constant"
    epochs: int = 3  # passes over the training tokens (the budget may stop earlier)
    patience: int = 2  # early stop after this many validations without gain
    evals_per_epoch: int = 1  # validations (and plateau/early-stop checks) per epoch
    # Output layer during training only (exported graphs always have the full softmax):
    # "sampled" scores the most frequent words exactly and the rest against shared
    # negatives drawn from count^0.75 (with the log-Q correction); "full" is the exact
    # softmax cross-entropy.
    output_loss: str = "sampled"
    num_exact: int = 1024  # sampled softmax: most frequent words always scored exactly
    num_samples: int = 1024  # sampled softmax: negatives per batch from the other words
    # Budget (0 = none): stop cleanly and export when either is reached
    max_minutes: float = 0.0
    max_tokens: int = 0
    # Run
    seed: int = 1234
    device: str = "auto"  # "auto" (cuda when available), "cpu", "cuda", "cuda:1"
    # Under torchrun (N processes, each --batch-size streams): the peak learning rate is
    # lr ("none": a larger batch at the same rate, the safe choice), lr * sqrt(N)
    # ("sqrt") or lr * N ("linear").  One process: lr.
    lr_scaling: str = "none"
    # Forward pass precision: "auto" = bfloat16 autocast on a CUDA GPU that supports it,
    # float32 elsewhere; "fp32" or "bf16" to choose.  The exported graph is float32 always.
    precision: str = "auto"
    threads: int = 0  # torch threads; 0 = all cores
    quantize: bool = False  # int8 dynamic quantization of the exported graph
    dry_run: bool = False  # one batch, export, parity check
    eval_max_words: int = 5000  # words of held-out text scored for KSR (slow: per keystroke)
    # Fine-tuning (--init-from): each step also moves every weight of the source model
    # this fraction of the learning rate back toward its value in the source (a
    # decoupled L2 pull, as AdamW's decay pulls toward zero), so a small corpus
    # adapts the network without making it forget; weights of new words are free.
    anchor: float = 0.0
    # Fine-tuning: after training, every weight of the source model becomes
    # source + interpolate x (trained - source) (WiSE-FT); new words keep their trained
    # rows.  1 keeps the trained weights.  Less than 1 trades a little of the gain on
    # the user's text for much less forgetting elsewhere (benchmarks/adaptation.py).
    interpolate: float = 1.0
    # Fine-tuning: also write the user's own word pairs and triples as a second phrase
    # table (``user_phrases``).  They add little on the user's text once the network
    # has learnt it, and cost KSR on every other text (issue 12), so the app's recipe
    # leaves them out.
    user_phrases: bool = True
    # Work folder.  Both are settings of the run, not of the model: ``--resume``
    # takes them from its own command line, not from the checkpoint.
    # A checkpoint at every epoch end, and within an epoch whenever this many minutes
    # have passed since the last one (0 = epoch ends only), so a killed run loses at
    # most this much work.  Fractions are allowed.
    checkpoint_minutes: float = 5.0
    keep_work: bool = False  # keep the last checkpoint after a successful run
    # Data preparation's working memory (GB): the vocabulary count and the phrase
    # tables' counts are spilled to the work folder in shards to stay under it.
    prep_memory_gb: float = 2.0
    # The most the phrase tables' arrays may take in the bundle (MB): a corpus of
    # hundreds of millions of words keeps more distinct pairs and triples than that,
    # and the rarest are cut until they fit (``streaming.fit_phrases``), before
    # training starts.  The engine refuses a file over ``PHRASES_LIMIT_MB``.
    phrases_limit_mb: float = 512.0
    # Write the phrase tables compressed, as the built-in model's are (about a quarter of
    # the size on disk; the app reads them through a stored copy in its cache folder,
    # ``engine.phrases``), instead of stored for memory-mapping.  The app's retrain asks
    # for it: a fine-tuned model's tables are nearly all its source's.
    compress_phrases: bool = False
    # Keep the prepared data (vocabulary, encoded ids, phrase tables) in WORK/prepared
    # for the next run over the same files (sizes and modification times) and settings.
    keep_prepared: bool = False

    def __post_init__(self) -> None:
        if self.output_loss not in OUTPUT_LOSSES:
            raise ValueError(f"output loss must be one of {OUTPUT_LOSSES}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}")
        if self.lr_scaling not in LR_SCALINGS:
            raise ValueError(f"the learning-rate scaling must be one of {LR_SCALINGS}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"the precision must be one of {PRECISIONS}")
        if self.batch_size < 1 or self.bptt < 1:
            raise ValueError("batch size and bptt must be at least 1")
        if not 0.0 <= self.heldout_fraction < 0.5:
            raise ValueError("the held-out fraction must be in [0, 0.5)")
        if self.heldout_at not in HELDOUT_AT:
            raise ValueError("the held-out part must be at the end or the start of each file")
        if not self.anchor >= 0:
            raise ValueError("the anchor strength must be 0 or more")
        if not 0.0 < self.interpolate <= 1.0:  # also refuses NaN
            raise ValueError("the interpolation toward the source model (--interpolate) must be in (0, 1]")
        if not self.prep_memory_gb >= 0.01:  # also refuses NaN
            raise ValueError("the data preparation's memory (--prep-memory) must be at least 0.01 GB")
        if not 0.01 <= self.phrases_limit_mb <= PHRASES_LIMIT_MB:  # also refuses NaN
            raise ValueError(f"the phrase tables' limit (--phrases-limit) must be between 0.01 and "
                             f"{PHRASES_LIMIT_MB:,.2f} MB (what the app accepts)")
        if not self.checkpoint_minutes >= 0:  # also refuses NaN
            raise ValueError("checkpoint minutes must be 0 (epoch ends only) or more")
        if not 0.0 < self.lr < float("inf"):  # also refuses NaN
            raise ValueError("the learning rate (--lr) must be more than 0")
        if self.warmup_steps < 0:
            raise ValueError("the warm-up steps (--warmup) must be 0 or more")
        if self.max_tokens < 0 or not 0.0 <= self.max_minutes < float("inf"):
            raise ValueError("the budgets (--max-tokens, --max-minutes) must be 0 (none) or more")
        if self.eval_max_words < 0:
            raise ValueError("the words scored for keystroke savings (--ksr-words) must be 0 (not measured) or more")
        if self.threads < 0:
            raise ValueError("the threads (--threads) must be 0 (all cores) or more")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def replace(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)
