"""A model file's card (`meta.json`): read, and checked against this installation, without
loading the estimators or importing scikit-learn (~1 s), so that `boilerclf info` and a
parallel `clean`, whose workers load the model themselves, start at once."""
from __future__ import annotations

import functools
import json
import platform
import zipfile
from importlib import metadata as importlib_metadata
from pathlib import Path

from .page import ModelError

DEFAULT_MODEL = Path(__file__).parent / "models" / "default.boilerclf"
FORMAT = "boilerclf-model/1"
MANIFEST, ESTIMATORS = "meta.json", "estimators.skops"
#: what `features` computes: bump when the features change; models record it and refuse a mismatch on load.
FEATURES_VERSION = 4
#: libraries whose version is recorded; a different major.minor of these refuses to load.
CHECKED_LIBRARIES = ("scikit-learn", "numpy", "scipy")


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    """Read once per process: each look-up scans the installed packages (~6 ms), and every load asks."""
    versions = {"python": platform.python_version()}
    for name in ("boilerclf", *CHECKED_LIBRARIES, "skops", "lxml"):
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def library_versions() -> dict[str, str]:
    return dict(_versions())  # a copy: the one read is kept


def read_meta(path: Path | str) -> dict:
    """The metadata (model card) of a model file, without loading its estimators (`~`: the home
    folder, as in `load_model`, so that `boilerclf info '~/m.boilerclf'` finds what `--model` does)."""
    path = Path(path).expanduser()
    if path.is_dir():  # else "no model file at" a path the user can see exists
        raise ModelError(f"{path} is a folder, not a model file: give the .boilerclf file in it")
    if not path.is_file():
        raise ModelError(f"no model file at {path}" + (" (the package was installed without its default model)"
                                                       if path == DEFAULT_MODEL else ""))
    try:
        with open(path, "rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(MANIFEST))
    except OSError as e:
        raise ModelError(f"cannot read the model file {path}: {e.strerror or e}") from None
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        what = "is truncated or corrupt (a zip that cannot be read)" if zipped and isinstance(e, zipfile.BadZipFile) \
            else "is not a boilerclf model"
        raise ModelError(f"{path} {what} ({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or meta.pop("format", None) != FORMAT:
        raise ModelError(f"{path} is not a boilerclf model")
    return meta


def check_compatible(meta: dict, path: Path) -> None:
    """Refuse a model made by another feature extractor or another scikit-learn, NumPy or SciPy."""
    problems = []
    if meta.get("features_version") != FEATURES_VERSION:
        problems.append(f"feature extractor version {meta.get('features_version')} (this boilerclf: {FEATURES_VERSION})")
    saved = meta.get("versions")
    if not isinstance(saved, dict):
        raise ModelError(f"{path} is not a boilerclf model (its card has no library versions)")
    here = library_versions()
    for lib in CHECKED_LIBRARIES:
        if str(saved.get(lib, "")).split(".")[:2] != here[lib].split(".")[:2]:
            problems.append(f"{lib} {saved.get(lib)} (installed: {here[lib]})")
    if problems:
        raise ModelError(f"{path} was made by an incompatible version: " + "; ".join(problems) +
                         ". Retrain it with `boilerclf train DATA -o MODEL` on this installation.")


def model_path(path: Path | str | None = None) -> Path:
    """The model file that `path` names: the shipped model for None, `~` in the home folder."""
    return Path(path).expanduser() if path is not None else DEFAULT_MODEL


def read_card(path: Path | str | None = None) -> dict:
    """The card of a model this installation can load (default: the shipped model)."""
    path = model_path(path)
    meta = read_meta(path)
    check_compatible(meta, path)
    return meta
