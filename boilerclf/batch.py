"""Many pages in, one output per page: input discovery, mirrored output names, atomic writes.

Outputs are written to a temporary file and renamed when complete, so an interrupted run
never leaves a half-written output, and a failing page never stops the others.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

from .dataset import page_files
from .load import PAGE_SUFFIXES
from .page import BoilerclfError, InputError

T = TypeVar("T")


def strip_page_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(PAGE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class Job:
    source: Path
    relative: Path  # the input's path relative to the folder it was found in

    def output(self, outdir: Path, suffix: str) -> Path:
        return outdir / self.relative.parent / (strip_page_suffix(self.relative.name) + suffix)


def jobs(inputs: Iterable[Path | str]) -> list[Job]:
    """Every page file under the inputs; a folder is walked recursively."""
    return [Job(path, path.relative_to(root)) for path, root in page_files(inputs)]


def check_collisions(found: list[Job], outdir: Path, suffix: str) -> None:
    """Two inputs mapping to one output (a.html and a.htm) would lose data: refuse before starting."""
    seen: dict[Path, Path] = {}
    for job in found:
        out = job.output(outdir, suffix)
        if out in seen:
            raise InputError(f"{seen[out]} and {job.source} would both be written to {out}; clean them separately")
        seen[out] = job.source


def write_atomic(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Summary:
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)

    def count(self, labels: Iterable[Optional[str]]) -> None:
        for label in labels:
            self.labels[label or "-"] = self.labels.get(label or "-", 0) + 1


def attempt(work: Callable[[Job], T], job: Job) -> tuple[Optional[T], Optional[str]]:
    """Run `work(job)`; the library's own errors (and OS errors) become a one-line reason."""
    try:
        return work(job), None
    except (BoilerclfError, OSError) as e:
        return None, str(e)
