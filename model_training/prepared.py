"""The prepared data of a corpus, kept in the work folder for the next run over it.

With ``--keep-prepared`` a run leaves in ``WORK/prepared/`` what reading the
corpus produced: the vocabulary, the lexicon, the token counts per file and the
corpus hash, the encoded training and held-out ids, the held-out text and the
phrase tables.  A later run (``--resume`` or a new one, on one process or
under torchrun) whose corpus files have the same paths, sizes and
modification times, with the same vocabulary settings, uses them instead of
reading the corpus again; anything else (or a damaged folder) is ignored, and
replaced when the run keeps its own.  The folder is never removed by the work
folder's tidying; delete it, or run without ``--keep-prepared`` once the corpus
changed, to reclaim the space.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keyboard_app.engine.lexicon import Lexicon
from keyboard_app.engine.tokenizer import TokenizerSettings
from keyboard_app.engine.vocab import Vocabulary

from .config import TrainConfig
from .corpus import CorpusFile
from .streaming import SpilledPhrases, save_array
from .vocabulary import CorpusCounts, FileCount

log = logging.getLogger(__name__)

PREPARED_DIR = "prepared"
FORMAT = "keyboard-train-prepared"
VERSION = 3  # 2: the phrase tables kept as ``streaming.SpilledPhrases`` files, not one .npz; 3: a file of long
# lines holds out a part cut inside a line (``corpus.cut_in_line``), where it held out nothing
PHRASES_DIR = "phrases"  # main/ and user/ in it
KEY_FILE, META_FILE = "key.json", "meta.json"
TRAIN_IDS, HELDOUT_IDS = "train_ids.npy", "heldout_ids.npy"


def _stat_of(path: Path) -> list:
    st = Path(path).stat()
    return [str(Path(path).resolve()), st.st_size, st.st_mtime_ns]


def prepared_key(files: list[CorpusFile], config: TrainConfig, init_from) -> dict:
    """What the prepared data depends on: the files (path, size, modification time, the
    encoding they are read in: data kept before a Windows-1252 file was read as such is not used),
    the settings that shape the vocabulary, the held-out split and which phrase tables
    are kept, and the model being fine-tuned.  (A resumed checkpoint's vocabulary is compared on loading.)"""
    source = None
    if init_from is not None:
        source = [_stat_of(p) for p in sorted(Path(init_from).rglob("*"))] if Path(init_from).is_dir() \
            else [_stat_of(Path(init_from))]
    return {
        "format": FORMAT, "version": VERSION,
        "files": [[str(f.path.resolve()), f.name, *_stat_of(f.path)[1:], f.encoding.codec] for f in files],
        "settings": {k: getattr(config, k)
                     for k in ("vocab_size", "min_count", "max_new_words", "heldout_fraction", "heldout_at", "user_phrases",
                               "phrases_limit_mb")},
        "tokenizer": TokenizerSettings().to_dict(),
        "init_from": source,
    }


@dataclass
class Prepared:
    counts: CorpusCounts  # files and hash only (the word counts are not kept)
    vocab: Vocabulary
    lexicon: Lexicon | None
    train: np.ndarray
    heldout: np.ndarray
    heldout_texts: list[str]
    folder: Path


class PreparedStore:
    """``WORK/prepared``: load what a run kept, or keep this run's."""

    def __init__(self, work: Path) -> None:
        self.folder = Path(work) / PREPARED_DIR

    def phrases(self) -> tuple[SpilledPhrases | None, SpilledPhrases | None] | None:
        """The phrase tables kept with the data (read from their files as needed, never
        whole in memory), or None when there are none yet."""
        path = self.folder / PHRASES_DIR
        try:
            with open(path / "tables.json", encoding="utf-8") as f:
                parts = json.load(f)
            return tuple(SpilledPhrases.kept(path / name) if name in parts else None  # type: ignore[return-value]
                         for name in ("main", "user"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("%s: the kept phrase tables cannot be read (%s); counting them again", path, e)
            return None

    def load(self, key: dict) -> Prepared | None:
        """The kept data when ``key`` matches; None otherwise (never an error)."""
        try:
            with open(self.folder / KEY_FILE, encoding="utf-8") as f:
                if json.load(f) != json.loads(json.dumps(key)):
                    return None
            with open(self.folder / META_FILE, encoding="utf-8") as f:
                meta = json.load(f)
            counts = CorpusCounts(files=[FileCount(**entry) for entry in meta["files"]], sha256=meta["sha256"])
            vocab = Vocabulary.from_dict(meta["vocab"])
            lexicon = Lexicon.from_dict(meta["lexicon"]) if meta["lexicon"] is not None else None
            train = np.load(self.folder / TRAIN_IDS, mmap_mode="r+")
            heldout = np.load(self.folder / HELDOUT_IDS)
            if len(train) != meta["train_len"] or len(heldout) != meta["heldout_len"]:
                return None
            return Prepared(counts, vocab, lexicon, train, heldout, meta["heldout_texts"], self.folder)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("%s: the prepared data kept there cannot be used (%s); reading the corpus again",
                        self.folder, e)
            return None

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def start(self) -> Path:
        """An empty folder for this run's data (the key is written last, by ``save``)."""
        self.clear()
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def save(self, key: dict, counts: CorpusCounts, vocab: Vocabulary, lexicon: Lexicon | None,
             train: np.ndarray, heldout: np.ndarray, heldout_texts: list[str]) -> None:
        """Keep the data (the training ids are already in the folder: ``start``)."""
        if not (self.folder / TRAIN_IDS).is_file():  # a small corpus's ids lived in memory
            save_array(self.folder / TRAIN_IDS, np.asarray(train))
        save_array(self.folder / HELDOUT_IDS, np.asarray(heldout))
        meta: dict[str, Any] = {
            "files": [{"name": f.name, "train_tokens": f.train_tokens, "heldout_tokens": f.heldout_tokens}
                      for f in counts.files],
            "sha256": counts.sha256, "vocab": vocab.to_dict(),
            "lexicon": lexicon.to_dict() if lexicon is not None else None,
            "train_len": int(len(train)), "heldout_len": int(len(heldout)), "heldout_texts": heldout_texts,
        }
        _write_json(self.folder / META_FILE, meta)
        _write_json(self.folder / KEY_FILE, key)  # last: a folder without it is never used

    def save_phrases(self, phrases: SpilledPhrases | None, user: SpilledPhrases | None) -> None:
        """Keep the phrase tables (copied file by file; ``tables.json`` last: a folder
        without it is never used)."""
        path = self.folder / PHRASES_DIR
        shutil.rmtree(path, ignore_errors=True)
        try:
            parts = {}
            for name, tables in (("main", phrases), ("user", user)):
                if tables is not None:
                    tables.keep(path / name)
                    parts[name] = len(tables)
            path.mkdir(parents=True, exist_ok=True)
            _write_json(path / "tables.json", parts)
        except OSError as e:
            shutil.rmtree(path, ignore_errors=True)
            log.warning("%s: the phrase tables were not kept (%s)", self.folder, e.strerror or e)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
