"""A fast copy of each model file read: reading one with skops is safe but slow in every process
that loads it (importing skops imports every scikit-learn estimator, ~0.4 s, and the reading takes
~0.15 s more: each CLI call, each worker of `clean`). After skops has read and checked a file, the
model is dumped with joblib into the user's cache folder, under a key made of the file's bytes and the
library versions; later loads of the same bytes memory-map that dump (~0.05 s, its arrays shared by
the processes that map it). Like Python's `__pycache__`, it is trusted because only the user can write
there: a folder or file that another user could write is not used. `BOILERCLF_CACHE` names another
folder; set to an empty string it turns the cache off.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .card import library_versions

if TYPE_CHECKING:
    from .model import Model

KEEP = 4  # dumps kept (the most recently used): one per model file and set of library versions, ~13 MB each


def folder() -> Optional[Path]:
    """The cache folder: `BOILERCLF_CACHE`, else the XDG cache folder's `boilerclf`; None when turned off."""
    chosen = os.environ.get("BOILERCLF_CACHE")
    if chosen is not None:
        return Path(chosen).expanduser() if chosen else None
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "boilerclf"
    except RuntimeError:  # no home folder (a service's user): no cache
        return None


def key(data: bytes) -> str:
    """What a dump of the model in the file `data` is stored under: the bytes and the libraries that unpickle it."""
    import joblib

    versions = {**library_versions(), "joblib": joblib.__version__}
    digest = hashlib.sha256(data)  # not of `data + …`, a copy of the whole file
    digest.update(repr(sorted(versions.items())).encode())
    return digest.hexdigest()[:32]


def _private(path: Path) -> bool:
    """Whether only this user can have written `path` (POSIX; elsewhere a user's folders are their own)."""
    if not hasattr(os, "getuid"):
        return True
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def load(name: str) -> Optional[Model]:
    """The model dumped under `name`, memory-mapped; None if there is none that can be trusted and read."""
    where = folder()
    if where is None:
        return None
    dump = where / f"{name}.joblib"
    try:
        if not (dump.is_file() and _private(where) and _private(dump)):
            return None
        import joblib

        model = joblib.load(dump, mmap_mode="r")
    except Exception:  # a damaged or half-deleted dump, an old pickle: read the model file again
        return None
    with contextlib.suppress(OSError):
        os.utime(dump)  # recently used: kept by `_prune`
    from .model import Model

    return model if isinstance(model, Model) else None


def store(name: str, model: Model) -> None:
    """Dump `model` under `name`, whole or not at all; and drop all but the `KEEP` most recently used.
    Never fails: a read-only home or a full disk only leaves the next load as slow as this one."""
    where = folder()
    if where is None:
        return
    with contextlib.suppress(Exception):
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(where):
            return
        import joblib

        fd, tmp = tempfile.mkstemp(dir=where, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                joblib.dump(model, f)
            os.replace(tmp, where / f"{name}.joblib")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    _prune(where)


def _prune(where: Path) -> None:
    """Drop all but the `KEEP` most recently used dumps (a process that maps one keeps its copy until it is
    done), and what a process killed while writing left (a `.part` over an hour old)."""
    with contextlib.suppress(OSError):
        dumps = sorted(where.glob("*.joblib"), key=lambda p: p.stat().st_mtime, reverse=True)
        stale = [p for p in where.glob("*.part") if time.time() - p.stat().st_mtime > 3600]
        for old in dumps[KEEP:] + stale:
            with contextlib.suppress(OSError):
                old.unlink()
