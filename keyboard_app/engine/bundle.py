"""Contract 2: the model bundle, and how it is validated, read and written.

A bundle is a folder (or a .zip of one) holding::

    manifest.json   what the model is; see ``REQUIRED`` and docs/CONTRACTS.md
    model.onnx      ids [batch, time] + state -> next-word log-probs + state
    vocab.json      the vocabulary (``vocab.Vocabulary``)
    lexicon.json    optional: corpus words beyond the vocabulary (``lexicon.Lexicon``),
                    named by the manifest's ``lexicon.file``
    phrases.npz     optional: the corpus's word pairs and triples (``phrases.Phrases``),
                    named by the manifest's ``phrases.file``
    user_phrases.npz  optional: the word pairs and triples of the user's own corpus, for a
                    model adapted to it (same format), named by ``user_phrases.file``,
                    mixed in with its own ``user_phrases.weights``

Every file of the bundle is listed in the manifest with its SHA-256, so a
truncated, corrupted or swapped file is caught at load time and named in the
error.  A caller that loads the same bundle again and again (the app, at every
start) may pass a ``ChecksumMemo``: a file whose checksum was confirmed before
and whose identity (size, modification and change times, inode, device) is
the same is not read again.  On a POSIX system any write to a file changes its
change time, which a program cannot set back (short of moving the system's
clock), so a file changed since is read and checked again; only a change below
the file system (a failing disk) goes unseen, as it does for every program that
trusts its files between starts.  On Windows ``st_ctime`` is the creation time,
so the identity would miss a same-size edit whose modification time was put
back: a memo must not vouch for files there (the app's remembers nothing on
Windows: ``keyboard_app.checksum_memo.change_time_kept``).  (Hashing every file
at every start is slow where SHA-256 is not OpenSSL's, as in the frozen build.)

Loading never trusts a path from the bundle: names are plain file names
inside the bundle folder, and symbolic links are refused, so nothing
(external ONNX data included) can point outside it.

Writing goes to a temporary folder beside the destination, is checked by
the caller's validation function, and is only then moved into place.

The format's constants (its name and version, the file names, the model
types) are ``contract``'s, shared with the trainer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from . import contract, jsonfile
from .contract import BUNDLE_FORMAT, FORMAT_VERSION, MANIFEST, VOCAB_FILE
from .lexicon import Lexicon
from .phrases import PhraseSettings, Phrases
from .staging import fsync_dir
from .tokenizer import TOKENIZER_VERSION, TokenizerSettings
from .vocab import Vocabulary, VocabError

log = logging.getLogger(__name__)

#: The manifest's required fields and their JSON types.
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "format_version": int,
    "name": str,
    "created": str,
    "tokenizer": dict,
    "model": dict,
    "onnx": dict,
    "vocab": dict,
    "files": dict,
    "corpus": dict,
    "training": dict,
    "metrics": dict,
}
REQUIRED_MODEL = {"cell": str, "vocab_size": int, "num_layers": int, "hidden_size": int}
REQUIRED_ONNX = {"file": str, "inputs": dict, "outputs": dict}
PHRASE_PARTS = ("phrases", "user_phrases")  # optional phrase tables: the corpus's, the user's
#: The manifest's sizes, each at least 1 and at most this: far beyond any model we
#: train (20k words, 512 units, 1-2 layers), low enough that the state and the
#: output (``layers * hidden``, ``vocab`` floats) always fit in memory.
SIZE_LIMITS = {"vocab_size": 10_000_000, "num_layers": 64, "hidden_size": 65_536,
               "embedding_dim": 65_536, "projection_dim": 65_536}
MAX_STATE_FLOATS = 1024**2  # layers * hidden_size: 4 MB a state
# Zip bombs: a bundle is a few MB (the default model 20 MB); the largest we could
# train (100k words, 1024 units, float32) well under 1 GB.
MAX_ZIP_BYTES = 1024**3  # all members together, as declared
MAX_MEMBER_BYTES = 1024**3  # one member
MAX_ZIP_RATIO = 100  # uncompressed / compressed: ONNX weights ~1.1, JSON ~4, zeros ~1000
RATIO_CHECKED_ABOVE = 1024**2  # a small member may compress as well as it likes
MAX_ZIP_MEMBERS = 64  # a bundle has 3 to 5 files, and perhaps a model card
SETTLED_SECONDS = 2.0  # a file changed more recently is not remembered by a ChecksumMemo


class ModelLoadError(Exception):
    """A bundle cannot be used; the message is one sentence naming the file."""


#: What keyboard-train keeps while it trains (``model_training.pipeline``): a checkpoint in a
#: work folder, by default the bundle's folder name and this suffix beside it.  Given in
#: place of the bundle they are named for what they are (``TrainingFilesError``).
WORK_SUFFIX = ".work"
CHECKPOINT_FILE = "checkpoint.pt"


class TrainingFilesError(ModelLoadError):
    """A training checkpoint or a training run's work folder where a bundle was expected.
    ``bundle``: the folder the run writes its bundle to, where the work folder's name tells
    it (the default ``BUNDLE.work``), else None; it may not exist yet (the run is not done)."""

    def __init__(self, source: Path, what: str, bundle: Path | None) -> None:
        super().__init__(f"{source} is {what}, not a model bundle.")
        self.source, self.what, self.bundle = source, what, bundle


def _training_files(source: Path, what: str, work: Path) -> TrainingFilesError:
    """The error for ``source``, kept in the work folder ``work``."""
    named = work if work.name else Path(os.path.abspath(work))  # "." has no name
    stem = named.name[: -len(WORK_SUFFIX)] if named.name.endswith(WORK_SUFFIX) else ""
    return TrainingFilesError(source, what, named.with_name(stem) if stem else None)


def _is_work_folder(folder: Path) -> bool:
    """A training run's work folder (never a bundle's: it has no manifest)."""
    return (Path(os.path.abspath(folder)).name.endswith(WORK_SUFFIX)
            or (folder / CHECKPOINT_FILE).is_file()) and not (folder / MANIFEST).exists()


def _is_torch_checkpoint(names: list[str]) -> bool:
    """The members of ``torch.save``'s archive: ``NAME/data.pkl`` and the tensors beside it."""
    return any(name.count("/") == 1 and name.endswith("/data.pkl") for name in names)


class ChecksumMemo(Protocol):
    """Checksums confirmed by earlier loads, by file identity (the app keeps one in the
    user's cache folder: ``keyboard_app.checksum_memo``).  Sound only where the identity's
    change time is one (POSIX); elsewhere ``known`` must answer None."""

    def known(self, path: Path, identity: tuple[int, ...]) -> str | None:
        """The SHA-256 confirmed for ``path`` when it had ``identity``, else None."""

    def remember(self, path: Path, identity: tuple[int, ...], sha256: str) -> None:
        """``path``, as ``identity`` describes it, holds what ``sha256`` says."""


def file_identity(stat: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file's content does on a POSIX system: its size, its
    modification time (which a program may set back) and its change time (which it cannot),
    its inode and device.  Not on Windows, where ``st_ctime_ns`` is the creation time."""
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


@dataclass
class Bundle:
    """A validated bundle on disk (a zip is extracted to a private folder)."""

    path: Path  # the folder holding the files
    source: Path  # what the user named: the folder or the .zip
    manifest: dict[str, Any]
    vocab: Vocabulary
    tokenizer_settings: TokenizerSettings
    lexicon: Lexicon | None = None
    phrases: Phrases | None = None
    user_phrases: Phrases | None = None  # the user's corpus's, for an adapted model
    _tempdir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)
    #: the folder of stored copies of compressed phrase tables it was loaded with (``load_bundle``),
    #: so that another load of the same bundle (``evaluate``'s worker processes) reads them too
    phrase_cache: Path | None = None

    @property
    def onnx_path(self) -> Path:
        return self.path / self.manifest["onnx"]["file"]

    @property
    def user_phrase_settings(self) -> PhraseSettings:
        """The weights of the user's phrase tables, as tuned when the model was adapted."""
        if self.user_phrases is None:
            return PhraseSettings.off()
        return PhraseSettings.from_dict(self.manifest["user_phrases"].get("weights") or {})

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def cell(self) -> str:
        return self.manifest["model"]["cell"]

    @property
    def cell_type(self) -> contract.Cell:
        """The model type (``read_manifest`` checked it is one of ``contract.CELLS``)."""
        return contract.cell_type(self.cell)

    @property
    def num_layers(self) -> int:
        return self.manifest["model"]["num_layers"]

    @property
    def hidden_size(self) -> int:
        return self.manifest["model"]["hidden_size"]

    @property
    def input_names(self) -> dict[str, list]:
        return self.manifest["onnx"]["inputs"]

    @property
    def output_names(self) -> dict[str, list]:
        return self.manifest["onnx"]["outputs"]

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())

    def close(self) -> None:
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None


def sha256_file(path: Path) -> str:
    # Imported here: hashlib maps OpenSSL's libcrypto, which a later start, whose checksums
    # the memo confirms, never needs (see ``paths``).
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_fields(where: str, data: dict, spec: dict, source: Path) -> None:
    for key, kind in spec.items():
        if key not in data:
            raise ModelLoadError(f"{source / MANIFEST}: {where}field '{key}' is missing.")
        if not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
            raise ModelLoadError(f"{source / MANIFEST}: {where}field '{key}' has the wrong type.")


def _plain_name(name: str, source: Path) -> str:
    if not name or name != Path(name).name or name in (".", ".."):
        raise ModelLoadError(
            f"{source / MANIFEST}: file name {name!r} is not a plain name inside the bundle."
        )
    return name


def read_manifest(folder: Path, source: Path | None = None) -> dict[str, Any]:
    """Read and check the manifest's structure (not the files it lists)."""
    source = source or folder
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelLoadError(f"{source}: not a model bundle ({MANIFEST} is missing).")
    try:
        manifest = jsonfile.load(path)
    except jsonfile.JSONFileError as e:
        raise ModelLoadError(f"{source / MANIFEST}: {e}.") from e
    except OSError as e:
        raise ModelLoadError(f"{source / MANIFEST}: cannot be read ({e.strerror or e}).") from e
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise ModelLoadError(f"{source / MANIFEST}: not a keyboard model bundle manifest.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelLoadError(
            f"{source / MANIFEST}: bundle format version {version!r} is not supported "
            f"(this program reads version {FORMAT_VERSION})."
        )
    _check_fields("", manifest, REQUIRED, source)
    _check_fields("model.", manifest["model"], REQUIRED_MODEL, source)
    _check_fields("onnx.", manifest["onnx"], REQUIRED_ONNX, source)
    try:
        contract.cell_type(manifest["model"]["cell"])
    except ValueError as e:
        raise ModelLoadError(f"{source / MANIFEST}: {e}.") from None
    _check_sizes(manifest, source)
    if manifest["tokenizer"].get("version") != TOKENIZER_VERSION:
        raise ModelLoadError(
            f"{source / MANIFEST}: tokenizer version {manifest['tokenizer'].get('version')!r} "
            f"is not supported (this program has version {TOKENIZER_VERSION})."
        )
    return manifest


def _check_sizes(manifest: dict, source: Path) -> None:
    """The model's sizes are positive and bounded, and the part files are named by
    strings, so nothing later allocates a huge state or trips over a wrong type."""
    model = manifest["model"]
    for key, limit in SIZE_LIMITS.items():
        value = model.get(key)
        if value is None and key not in REQUIRED_MODEL:
            continue  # optional (a projection may be null)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ModelLoadError(f"{source / MANIFEST}: field 'model.{key}' has the wrong type.")
        if not 1 <= value <= limit:
            raise ModelLoadError(
                f"{source / MANIFEST}: 'model.{key}' is {value}, outside the sane range 1 to {limit:,}."
            )
    if model["num_layers"] * model["hidden_size"] > MAX_STATE_FLOATS:
        raise ModelLoadError(
            f"{source / MANIFEST}: {model['num_layers']} layers of {model['hidden_size']} units "
            "are far more than a keyboard model has."
        )
    if not isinstance(manifest["vocab"].get("file", VOCAB_FILE), str):
        raise ModelLoadError(f"{source / MANIFEST}: field 'vocab.file' has the wrong type.")
    for part in PHRASE_PARTS:
        phrases = manifest.get(part)
        entries = phrases.get("entries") if isinstance(phrases, dict) else None
        if entries is not None and not (
            isinstance(entries, dict)
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in entries.values())
        ):
            raise ModelLoadError(f"{source / MANIFEST}: field '{part}.entries' has the wrong type.")
    weights = manifest.get("user_phrases", {}).get("weights") if isinstance(manifest.get("user_phrases"), dict) else None
    if weights is not None:
        try:
            PhraseSettings.from_dict(weights)
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise ModelLoadError(f"{source / MANIFEST}: field 'user_phrases.weights' is invalid ({e}).") from None


def _verify_files(folder: Path, manifest: dict, source: Path, memo: ChecksumMemo | None = None) -> None:
    files = manifest["files"]
    names = [manifest["onnx"]["file"], manifest["vocab"].get("file", VOCAB_FILE),
             optional_file(manifest, source, "lexicon"),
             *(optional_file(manifest, source, part) for part in PHRASE_PARTS)]
    for name in filter(None, names):
        if name not in files:
            raise ModelLoadError(f"{source / MANIFEST}: '{name}' is not listed under 'files'.")
    for name, expected in files.items():
        _plain_name(name, source)
        path = folder / name
        if path.is_symlink():
            raise ModelLoadError(f"{source / name}: symbolic links are not allowed in a bundle.")
        if not path.is_file():
            raise ModelLoadError(f"{source / name}: the file is missing from the bundle.")
        if not _checksum_matches(path, expected, memo):
            raise ModelLoadError(
                f"{source / name}: the file is corrupt (its checksum does not match the manifest)."
            )
    for path in folder.iterdir():
        if path.is_symlink():
            raise ModelLoadError(f"{source / path.name}: symbolic links are not allowed in a bundle.")


def _checksum_matches(path: Path, expected: str, memo: ChecksumMemo | None) -> bool:
    """Whether ``path`` holds what ``expected`` says: remembered by ``memo`` for a file
    whose identity has not changed since, else read and hashed (and then remembered)."""
    if memo is None:
        return sha256_file(path) == expected
    identity = file_identity(path.stat())  # taken before the read: a write meanwhile changes it
    if memo.known(path, identity) == expected:
        return True
    if sha256_file(path) != expected:
        return False
    # File times are kept at the clock's coarse tick: a write within it could leave the same
    # times, so only a file that has not changed for a while is remembered ("racy git").
    if time.time_ns() - identity[2] > SETTLED_SECONDS * 1_000_000_000:
        memo.remember(path, identity, expected)
    return True


def optional_file(manifest: dict, source: Path, field: str) -> str | None:
    """The file name of an optional part (``lexicon``, ``phrases``), if the bundle has one."""
    entry = manifest.get(field)
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise ModelLoadError(f"{source / MANIFEST}: field '{field}' has the wrong type.")
    return entry["file"]


def _zip_members(archive: zipfile.ZipFile, source: Path) -> list[tuple[zipfile.ZipInfo, str]]:
    """The archive's files and their names in the bundle, judged by the sizes the
    archive declares before anything is extracted (zip bombs, path tricks)."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if _is_torch_checkpoint([m.filename for m in members]):
        raise _training_files(source, "a training checkpoint", source.parent)
    if len(members) > MAX_ZIP_MEMBERS:
        raise ModelLoadError(f"{source}: the archive holds {len(members)} files, too many for a model bundle.")
    # A bundle zipped with its folder has one top-level directory.
    prefixes = {m.filename.split("/", 1)[0] for m in members}
    strip = ""
    if len(prefixes) == 1 and all("/" in m.filename for m in members):
        strip = prefixes.pop() + "/"
    named, seen, total = [], set(), 0
    for member in members:
        name = member.filename[len(strip):]
        if "/" in name or "\\" in name or name in ("", ".", "..") or name in seen:
            raise ModelLoadError(
                f"{source}: the archive holds {member.filename!r}, which is not a plain file of a bundle."
            )
        seen.add(name)
        size = member.file_size
        if size > MAX_MEMBER_BYTES:
            raise ModelLoadError(
                f"{source}: the archive's {name} would unpack to {size / 1e6:,.0f} MB, "
                f"more than the {MAX_MEMBER_BYTES / 1e6:,.0f} MB a model bundle's file may have."
            )
        if size > RATIO_CHECKED_ABOVE and size > MAX_ZIP_RATIO * max(member.compress_size, 1):
            raise ModelLoadError(
                f"{source}: the archive's {name} would unpack to {size / 1e6:,.0f} MB from "
                f"{member.compress_size / 1e6:,.2f} MB, which no model file does (a zip bomb?)."
            )
        total += size
        named.append((member, name))
    if total > MAX_ZIP_BYTES:
        raise ModelLoadError(
            f"{source}: the archive would unpack to {total / 1e6:,.0f} MB, more than the "
            f"{MAX_ZIP_BYTES / 1e6:,.0f} MB a model bundle may have."
        )
    return named


def _copy_capped(src, dst, limit: int, source: Path, name: str) -> None:
    """Copy at most ``limit`` bytes: an archive whose header lies about a size
    is stopped at the limit, not at the end of the disk."""
    done = 0
    while block := src.read(min(1 << 20, limit + 1 - done)):
        done += len(block)
        if done > limit:
            raise ModelLoadError(f"{source}: the archive's {name} unpacks to more than it declares.")
        dst.write(block)


def _extract_zip(source: Path) -> tuple[Path, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory(prefix="keyboard-bundle-")
    try:
        with zipfile.ZipFile(source) as archive:
            for member, name in _zip_members(archive, source):
                with archive.open(member) as src, open(Path(tmp.name) / name, "wb") as dst:
                    _copy_capped(src, dst, member.file_size, source, name)
    except ModelLoadError:
        tmp.cleanup()
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError,
            OSError, EOFError) as e:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        tmp.cleanup()
        raise ModelLoadError(f"{source}: the zip archive cannot be read ({e}).") from e
    return Path(tmp.name), tmp


def load_bundle(path: str | os.PathLike, *, phrase_cache: str | os.PathLike | None = None,
                checksums: ChecksumMemo | None = None) -> Bundle:
    """Open and validate a bundle folder or .zip; raise ``ModelLoadError`` if unusable.

    Checks the manifest's structure and versions, every file's checksum, and
    that the vocabulary agrees with the manifest.  The ONNX graph itself is
    checked when the engine opens it (``session.RecurrentSession``).
    ``phrase_cache``: a folder for the stored copies of compressed phrase
    tables, keyed by their checked checksums (``Phrases.load``).
    ``checksums``: the checksums earlier loads confirmed (see the module's
    docstring); not used for a .zip, whose files are extracted anew each time.
    """
    source = Path(path)
    if not source.exists():
        raise ModelLoadError(f"{source}: no such model bundle.")
    tmp = None
    folder = source
    if source.is_dir() and _is_work_folder(source):
        raise _training_files(source, "the work folder of a training run", source)
    if source.is_file():
        if not zipfile.is_zipfile(source):
            if source.suffix.lower() == ".zip":  # (H69: "expected a .zip" said of a file named .zip)
                raise ModelLoadError(f"{source}: not a model bundle: named .zip, but no zip archive "
                                     "(damaged, or not a model; expected a folder or a .zip).")
            raise ModelLoadError(f"{source}: not a model bundle (expected a folder or a .zip).")
        folder, tmp = _extract_zip(source)
    try:
        manifest = read_manifest(folder, source)
        _verify_files(folder, manifest, source, checksums if tmp is None else None)
        vocab_name = manifest["vocab"].get("file", VOCAB_FILE)
        try:
            vocab = Vocabulary.load(folder / vocab_name)
        except VocabError as e:
            raise ModelLoadError(f"{source / vocab_name}: {e}.") from e
        if len(vocab) != manifest["model"]["vocab_size"]:
            raise ModelLoadError(
                f"{source / vocab_name}: it has {len(vocab)} tokens but the manifest "
                f"says the model has {manifest['model']['vocab_size']}."
            )
        lexicon = None
        lexicon_name = optional_file(manifest, source, "lexicon")
        if lexicon_name is not None:
            try:
                lexicon = Lexicon.load(folder / lexicon_name)
            except VocabError as e:
                raise ModelLoadError(f"{source / lexicon_name}: {e}.") from e
        tables: dict[str, Phrases | None] = {}
        for part in PHRASE_PARTS:
            tables[part] = None
            phrases_name = optional_file(manifest, source, part)
            if phrases_name is not None:
                try:
                    tables[part] = Phrases.load(folder / phrases_name, len(vocab), len(lexicon or ()),
                                                vocab.unk_id, entries=manifest[part].get("entries"),
                                                cache_folder=phrase_cache, sha256=manifest["files"][phrases_name])
                except VocabError as e:
                    raise ModelLoadError(f"{source / phrases_name}: {e}.") from e
        try:
            settings = TokenizerSettings.from_dict(manifest["tokenizer"])
        except (TypeError, ValueError) as e:
            raise ModelLoadError(f"{source / MANIFEST}: tokenizer settings are invalid ({e}).") from e
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    return Bundle(folder, source, manifest, vocab, settings, lexicon, tables["phrases"],
                  tables["user_phrases"], tmp, Path(phrase_cache) if phrase_cache is not None else None)


def write_bundle(
    dest: str | os.PathLike,
    manifest: dict[str, Any],
    files: dict[str, Path],
    validate: Callable[[Path], None] | None = None,
    *,
    inputs: tuple[str | os.PathLike, ...] | list = (),
) -> Path:
    """Write a bundle atomically: build it beside ``dest``, validate, then move it in.

    ``files`` maps bundle file names to the files to copy in; the manifest's
    ``files`` checksums are filled in here.  ``validate(folder)`` (for example
    opening it with the engine and predicting) may raise to abort: ``dest`` is
    then left exactly as it was.  ``dest`` must be new, empty or an existing
    bundle (``staging.check_destination``; ``inputs`` are paths it may not
    overlap): an existing bundle is replaced only once the new one is
    complete, and plain files of the user's beside its own are carried over.
    What an interrupted earlier write left is recovered first
    (``staging.recover``).  A failure to write raises ``BundleWriteError``
    naming ``dest``.
    """
    from .faults import fault_point
    from .staging import check_destination, make_folder, new_folder_mode, old_name, recover, unmark, write_errors

    dest = Path(os.path.abspath(dest))  # "." has no name to stage beside
    recover(dest)
    check_destination(dest, inputs=inputs)
    with write_errors(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_folder(dest, "partial")
    old = None
    try:
        with write_errors(dest, tmp):
            manifest = json.loads(json.dumps(manifest))  # a private, JSON-clean copy
            manifest["files"] = {}
            for name, src in files.items():
                _plain_name(name, dest)
                shutil.copyfile(src, tmp / name)
                manifest["files"][name] = sha256_file(tmp / name)
            _write_json_synced(tmp / MANIFEST, manifest)
            for name in list(files) + [MANIFEST]:
                _fsync(tmp / name)
            load_bundle(tmp)
            if validate is not None:
                validate(tmp)
            unmark(tmp)
            os.chmod(tmp, new_folder_mode(dest))  # the replaced folder's, or the umask's
            if dest.exists():
                for extra in dest.iterdir():  # the user's files beside the bundle's own
                    if extra.name not in files and extra.name != MANIFEST and extra.is_file():
                        shutil.copy2(extra, tmp / extra.name)
                        _fsync(tmp / extra.name)
                old = old_name(dest)
                if old.exists():
                    shutil.rmtree(old)
                os.replace(dest, old)
            fault_point("bundle.swapped-out")
            os.replace(tmp, dest)
            fault_point("bundle.swapped-in")
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            fsync_dir(dest.parent)
    except BaseException:
        if old is not None and old.exists() and not dest.exists():
            os.replace(old, dest)  # the swap failed half way: the old bundle goes back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _write_json_synced(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def zip_bundle(folder: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Export a bundle folder as a .zip (written atomically)."""
    folder, dest = Path(folder), Path(dest)
    load_bundle(folder)
    from .staging import new_file_mode, recover, staging_prefix

    recover(dest)
    mode = new_file_mode(dest)  # (an exported file is the user's: 0644 under umask 022, not 0600, H77)
    fd, tmp_name = tempfile.mkstemp(prefix=staging_prefix(dest, "zip"), dir=dest.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    archive.write(path, path.name)
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return dest
