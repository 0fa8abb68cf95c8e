"""The models the user can choose from: the built-in one and the user's own.

A model is a bundle folder.  The built-in default ships with the program
(``paths.default_model_path``); models the user trained or imported live in
``paths.user_models_dir()``, one folder each, plus a small ``index.json``
saying where each came from.  A model is named in the settings by a key:
``"default"``, ``"user:<folder>"``, or an absolute path (``--model``).

Listing reads the manifests only (fast); the full check (checksums, the
ONNX graph) happens when a model is loaded, imported or adopted.  Every
change is atomic: an import is written with ``bundle.write_bundle`` (built
beside the destination, validated, then renamed in); an adoption (a bundle
the app made, such as a retrain's) is checked where it lies, then moved
beside its destination under a staging name and renamed in; a rename
rewrites the manifest with a temporary file; a delete renames the folder
away before removing it.  What a kill leaves half done is finished or
removed when the store is next opened (``engine.staging.recover_folder``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import paths
from .engine import jsonfile
from .engine.bundle import MANIFEST, ModelLoadError, load_bundle, read_manifest, zip_bundle
from .engine.faults import fault_point
from .engine.staging import DestinationError
from .storage import atomic_write_json

log = logging.getLogger(__name__)

DEFAULT_KEY = "default"
INDEX = "index.json"


class ModelStoreError(Exception):
    """An operation on the user's models failed; the message is for the user."""


class ModelImportError(ModelStoreError, ModelLoadError):
    """What the user asked to import (or the app to adopt) is not a usable bundle; one
    sentence naming the file.  Both a ``ModelStoreError`` and the engine's ``ModelLoadError``."""


@dataclass
class ModelInfo:
    key: str
    name: str
    path: Path
    origin: str  # "built-in", "trained", "imported" or "file"
    size_bytes: int = 0
    created: str = ""
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)
    problem: str | None = None  # the manifest could not be read

    @property
    def is_default(self) -> bool:
        return self.key == DEFAULT_KEY

    @property
    def metrics(self) -> dict[str, Any]:
        return self.manifest.get("metrics", {}) or {}

    def corpus_summary(self) -> str:
        corpus = self.manifest.get("corpus", {}) or {}
        files = corpus.get("files") or []
        files = files if isinstance(files, list) else []  # a hand-edited manifest may hold anything
        tokens = corpus.get("train_tokens")
        parts = []
        if files:
            names = [Path(str(f.get("path", "?") if isinstance(f, dict) else "?")).name for f in files[:3]]
            more = f" and {len(files) - 3} more" if len(files) > 3 else ""
            parts.append(", ".join(names) + more)
        if isinstance(tokens, int):
            parts.append(f"{tokens:,} words and punctuation marks")
        return "; ".join(parts) or "not recorded"

    def size_text(self) -> str:
        return format_size(self.size_bytes)

    def created_text(self) -> str:
        try:
            when = _dt.datetime.fromisoformat(self.created.replace("Z", "+00:00"))
        except ValueError:
            return self.created or "unknown"
        return when.astimezone().strftime("%Y-%m-%d %H:%M")


def format_size(n: int) -> str:
    """``n`` bytes for the user, 1 MB being 10^6 bytes: as the docs, the build's log and the
    app's other messages count (a 1024-based figure labelled "MB" read 17.7 for an 18.6 MB model)."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} bytes"


def _folder_size(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    except OSError:
        return 0


def slugify(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40]
    return slug or "model"


class ModelStore:
    """Lists, resolves, imports, renames, exports and deletes models."""

    def __init__(self, models_dir: Path | None = None, default_path: Path | None = None) -> None:
        self.models_dir = models_dir if models_dir is not None else paths.user_models_dir()
        self.default_path = default_path if default_path is not None else paths.default_model_path()
        # A write or delete cut short by a kill (an import, a retrain's install)
        # is finished or undone before anything is listed: see engine.staging.
        from .engine.staging import recover_folder

        self.recovered = recover_folder(self.models_dir)

    # --- reading --------------------------------------------------------
    def _index(self) -> dict[str, dict[str, Any]]:
        path = self.models_dir / INDEX
        try:
            data = jsonfile.load(path)
        except FileNotFoundError:
            return {}
        except (OSError, jsonfile.JSONFileError) as e:
            # Only where each model came from is lost; the models themselves are listed from their folders.
            log.warning("%s: ignored, %s.", path, e if isinstance(e, ValueError) else e.strerror or e)
            return {}
        if not isinstance(data, dict):
            return {}
        return {name: entry for name, entry in data.items() if isinstance(entry, dict)}

    def _write_index(self, index: dict[str, dict[str, Any]]) -> None:
        atomic_write_json(self.models_dir / INDEX, index)

    def info(self, key: str) -> ModelInfo:
        path = self.path_for(key)
        if key == DEFAULT_KEY:
            origin = "built-in"
        elif key.startswith("user:"):
            origin = str(self._index().get(key[5:], {}).get("origin", "imported"))
        else:
            origin = "file"
        info = ModelInfo(key=key, name=Path(path).name, path=path, origin=origin)
        try:
            if path.is_dir():
                manifest = read_manifest(path)
            else:
                bundle = load_bundle(path)
                manifest = bundle.manifest
                bundle.close()
            info.manifest = manifest
            info.name = manifest.get("name") or info.name
            info.created = str(manifest.get("created", ""))
        except ModelLoadError as e:
            info.problem = str(e)
        info.size_bytes = _folder_size(path) if path.is_dir() else _file_size(path)
        return info

    def list(self) -> list[ModelInfo]:
        """The built-in model (if it is there) first, then the user's, newest first."""
        models = []
        if self.default_path.exists():
            models.append(self.info(DEFAULT_KEY))
        user = []
        if self.models_dir.is_dir():
            for folder in self.models_dir.iterdir():
                if folder.is_dir() and not folder.name.startswith(".") and (folder / MANIFEST).exists():
                    user.append(self.info("user:" + folder.name))
        user.sort(key=lambda m: m.created, reverse=True)
        return models + user

    def distinct_name(self, name: str) -> str:
        """``name``, or "name (2)", "name (3)"… if a model in the list is already called that."""
        taken = {info.name.casefold() for info in self.list()}
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{name} ({number})"
        return candidate

    def path_for(self, key: str) -> Path:
        if key == DEFAULT_KEY:
            return self.default_path
        if key.startswith("user:"):
            name = key[5:]
            if not name or name != Path(name).name or name.startswith("."):
                raise ModelStoreError(f"{key!r} does not name a model.")
            return self.models_dir / name
        return Path(key)

    def key_for(self, path: Path) -> str:
        """The key of a model path: a user model's key if it lives in the models folder."""
        path = Path(path).resolve()
        if path == self.default_path.resolve():
            return DEFAULT_KEY
        if path.parent == self.models_dir.resolve():
            return "user:" + path.name
        return str(path)

    def exists(self, key: str) -> bool:
        try:
            return self.path_for(key).exists()
        except ModelStoreError:
            return False

    # --- changing -------------------------------------------------------
    def new_folder(self, name: str) -> Path:
        """A fresh, unused folder path in the models folder (not created)."""
        base = slugify(name)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        candidate = self.models_dir / f"{base}-{stamp}"
        while candidate.exists():
            candidate = self.models_dir / f"{base}-{stamp}-{uuid.uuid4().hex[:4]}"
        return candidate

    def register(self, folder: Path, origin: str) -> str:
        """Record where a bundle folder in the models folder came from; return its key."""
        index = self._index()
        index[folder.name] = {
            "origin": origin,
            "added": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        self._write_index(index)
        return "user:" + folder.name

    def import_bundle(
        self, source: Path, validate: Callable[[Path], None] | None = None, *, origin: str = "imported"
    ) -> str:
        """Copy a bundle (folder or .zip) into the models folder; return its key.

        Raises ``ModelImportError`` (a ``ModelLoadError`` with the engine's
        message) if it is not a usable bundle; ``validate(folder)`` may raise too (for example when the ONNX
        graph does not open).  Nothing is left behind on failure.
        """
        from .engine.bundle import write_bundle

        try:
            bundle = load_bundle(source)
        except ModelLoadError as e:
            raise ModelImportError(str(e)) from e
        try:
            manifest = dict(bundle.manifest)
            # Two models called "English (default)" cannot be told apart in the list: the
            # copy gets "English (default) (2)" (the name is not among the checksummed files).
            name = manifest.get("name") or Path(source).stem
            manifest["name"] = self.distinct_name(str(name))
            files = {name: bundle.path / name for name in manifest["files"]}
            dest = self.new_folder(manifest.get("name") or Path(source).stem)
            try:
                write_bundle(dest, manifest, files, validate=validate)
            except ModelLoadError as e:  # found in the copy being made: named as the user's
                raise ModelImportError(self._as_source(str(e), source)) from e
        finally:
            bundle.close()
        return self.register(dest, origin)

    def _as_source(self, message: str, source: Path) -> str:
        """``message`` with the copy's folder in the models folder (which is gone by the
        time the user reads it) put back as the bundle they chose, as ``load_bundle``
        names a file of it (``notes.zip/model.onnx``)."""
        folder = os.path.abspath(self.models_dir)  # (as the copy's paths are written)
        copy = r"(?<![^\s'\"(])" + re.escape(folder) + r"[/\\][^/\\\s]+[/\\]"
        return re.sub(copy, lambda _: str(source) + os.sep, message)

    def adopt(
        self, folder: Path, *, name: str | None = None, origin: str = "trained",
        validate: Callable[[Path], None] | None = None,
    ) -> str:
        """Move a finished bundle folder (a retrain's) into the models folder; its key.

        The bundle is checked where it lies first, as an import is (``load_bundle``:
        the manifest and every checksum; then ``validate(folder)``, say opening it with
        the engine): ``ModelImportError``, one sentence, if it fails, and nothing has
        moved.  It is named ``name`` (or its manifest's name), made distinct as an
        import's is ("My writing (2)") in its manifest where it lies, then renamed in
        (on another disk: copied beside its destination under a staging name, then
        renamed in): the models folder never holds half a model, and a kill on the way
        leaves the bundle where it was (or a copy's staging folder, which the next
        opening of the store removes).  ``folder`` is gone once this returns; on a
        failure it is where it was, as it was.
        """
        from .engine.staging import fsync_dir, make_folder, unmark, write_errors

        folder = Path(folder)
        try:
            # compressed phrase tables (a retrain's, H33's finding 4) through their stored copy,
            # which the retrain's comparison has made: not inflated again while the user waits
            bundle = load_bundle(folder, phrase_cache=paths.phrase_cache_dir())
        except ModelLoadError as e:
            raise ModelImportError(str(e)) from e
        manifest = dict(bundle.manifest)
        bundle.close()
        if validate is not None:
            try:
                validate(folder)
            except ModelStoreError:
                raise
            except ModelLoadError as e:  # the engine's sentence, naming the file
                raise ModelImportError(str(e)) from e
            except Exception as e:  # noqa: BLE001 - anything else, said in one sentence
                raise ModelImportError(f"{folder}: the model cannot be used ({e}).") from e
        name = self.distinct_name(str(name or manifest.get("name") or folder.name))
        dest = self.new_folder(name)
        manifest_path = folder / MANIFEST
        original = manifest_path.read_bytes()
        staged: Path | None = None
        renamed = moved = False
        try:
            with write_errors(dest, folder):
                dest.parent.mkdir(parents=True, exist_ok=True)
                if manifest.get("name") != name:
                    # Named where it lies (not among the checksummed files: the bundle stays
                    # valid), so that one rename puts it in place: a kill at any moment leaves
                    # it either where it was or in the models folder, never only in a staging
                    # folder that the next opening of the store would remove.
                    atomic_write_json(manifest_path, {**manifest, "name": name})
                    renamed = True
                fault_point("store.adopt-staged")
                try:
                    os.rename(folder, dest)
                    moved = True
                except OSError:  # another file system: a copy beside the destination, renamed in
                    staged = make_folder(dest, "partial")
                    shutil.copytree(folder, staged, dirs_exist_ok=True)
                    unmark(staged)
                    os.replace(staged, dest)
                    staged = None
                fsync_dir(dest.parent)
        except BaseException:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
            if renamed and not moved:
                with contextlib.suppress(OSError):
                    manifest_path.write_bytes(original)
            raise
        if not moved:
            shutil.rmtree(folder, ignore_errors=True)
        key = self.register(dest, origin)
        log.info("adopted %s as %s", folder, key)
        return key

    def rename(self, key: str, new_name: str) -> None:
        new_name = new_name.strip()
        if not new_name:
            raise ModelStoreError("A model needs a name.")
        if key == DEFAULT_KEY:
            raise ModelStoreError("The built-in model cannot be renamed.")
        # Two models of one name cannot be told apart in the list or the status bar
        # (an import gets "name (2)"; a name the user types is theirs to choose again).
        if any(info.key != key and info.name.casefold() == new_name.casefold() for info in self.list()):
            raise ModelStoreError(f"Another model is already called \u201c{new_name}\u201d; choose another name.")
        path = self.path_for(key)
        manifest_path = path / MANIFEST
        try:
            manifest = read_manifest(path)
            manifest["name"] = new_name
            # The manifest is not among the checksummed files, so this keeps the bundle valid.
            atomic_write_json(manifest_path, manifest)
        except ModelLoadError as e:
            raise ModelStoreError(f"The model could not be renamed: {e}") from e
        except (OSError, ValueError) as e:
            raise ModelStoreError(f"{manifest_path}: the model could not be renamed ({e}).") from e

    def export(self, key: str, dest: Path, *, replace: bool = False) -> Path:
        """Write the model as a .zip (or as a folder if ``dest`` has no .zip suffix).

        An existing file is replaced only with ``replace`` (the user was asked);
        nothing is written inside the model itself or inside the models folder.
        """
        source = self.path_for(key)
        dest = Path(os.path.abspath(dest))
        for folder, what in ((Path(source), "the model being exported"), (self.models_dir, "the models folder")):
            inside = folder.resolve()
            if dest.resolve() == inside or inside in dest.resolve().parents:
                raise ModelStoreError(f"{dest}: cannot export into {what} ({folder}); choose a place outside it.")
        try:
            if dest.suffix.lower() == ".zip":
                if dest.exists() and not replace:
                    raise ModelStoreError(f"{dest} already exists.")
                if dest.is_dir():
                    raise ModelStoreError(f"{dest} is a folder; choose a file name.")
                return zip_bundle(source, dest)
            if dest.exists():
                raise ModelStoreError(f"{dest} already exists.")
            bundle = load_bundle(source)
            from .engine.bundle import write_bundle

            files = {name: bundle.path / name for name in bundle.manifest["files"]}
            return write_bundle(dest, bundle.manifest, files)
        except DestinationError as e:
            raise ModelStoreError(str(e)) from e
        except OSError as e:
            raise ModelStoreError(f"{dest}: the model could not be exported ({e.strerror or e}).") from e

    def delete(self, key: str) -> None:
        from .engine.staging import staging_prefix

        if key == DEFAULT_KEY or not key.startswith("user:"):
            raise ModelStoreError("Only models you trained or imported can be deleted.")
        path = self.path_for(key)
        trash = path.with_name(f"{staging_prefix(path, 'deleting')}{uuid.uuid4().hex[:6]}")
        try:
            os.replace(path, trash)  # gone from the list at once, atomically
        except OSError as e:
            raise ModelStoreError(f"{path}: the model could not be deleted ({e.strerror}).") from e
        shutil.rmtree(trash, ignore_errors=True)
        index = self._index()
        if index.pop(path.name, None) is not None:
            self._write_index(index)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
