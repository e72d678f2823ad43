"""Bulk cleaning: many sources in, one output per source, on all cores or a Dask cluster.

Each output is written to a temporary file and renamed when complete, so an interrupted
run leaves no half-written output and a rerun skips what is finished. A page that fails
becomes a line in the errors file and the others go on. Workers load the model once
each and results stream back as they finish, so memory stays flat on any corpus size.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator, Optional, Sequence, TypeVar

from .load import TooLarge, is_text_path, read_bytes
from .page import BoilerclfError, InputError, ModelError, Page
from .render import SUFFIX, page_record, render, to_json
from .segment import segment
from .sources import ERRORS_FILE, Record, Source, records

if TYPE_CHECKING:
    from .model import Model

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so stale model copies are left to the OS's temp cleaning
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_TIMEOUT = 30.0
CHUNK = 16  # sources per parallel task, and pages per model call, at most
BATCH_BYTES = 2_000_000  # input bytes labelled in one model call, about: their DOMs are held together


class PageTimeout(InputError):
    """A page took longer than the per-page time limit."""


class SchedulerError(BoilerclfError):
    """The Dask scheduler of --scheduler cannot be reached."""


@dataclass(frozen=True)
class Settings:
    outdir: Path
    fmt: str = "text"
    keep: tuple[str, ...] = ("content",)
    model_path: Optional[str] = None
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT
    #: a copy of the model in a private temporary folder, for local workers: a joblib dump of the model
    #: already loaded by the parent (`model_copy`), which loads in milliseconds with its arrays memory-mapped
    #: (shared by all workers), or the model file itself (`model_file`, a `.boilerclf` read with `load_model`)
    model_copy: Optional[str] = None


@dataclass
class Result:
    """What one source gave: pages cleaned, records skipped, failures with reasons, labels."""

    source: str
    pages: int = 0
    skipped: int = 0
    failures: list[dict] = field(default_factory=list)
    labels: Counter = field(default_factory=Counter)

    def fail(self, reason: str, record: Optional[str] = None, position: Optional[int] = None) -> None:
        """`record` and `position`: an archive record's key and position (as in the outputs, to find it by)."""
        self.failures.append({"source": self.source, "record": record, "position": position, "reason": reason})


_MODELS: dict = {}  # model path (None: the shipped model) → the model loaded from it in this process
_COPY: dict = {}  # the latest model copy → its model; each run makes (and deletes) its own, so one is kept


def cached_model(model_path: Optional[str] = None, copy: Optional[str] = None) -> Model:
    """The model, loaded once per worker process and kept for every later task: from `copy`
    (a `model_copy` or `model_file` copy of the model at `model_path`) when given, else from `model_path`."""
    if copy:
        if copy not in _COPY:
            _COPY.clear()  # an earlier run's copy, deleted with that run: no task will ask for it again
            _COPY[copy] = load_copy(copy, model_path)
        return _COPY[copy]
    if model_path not in _MODELS:
        from .model import load_model

        _MODELS[model_path] = load_model(model_path)
    return _MODELS[model_path]


def load_copy(copy: str, model_path: Optional[str] = None) -> Model:
    """The model in `copy`, a `model_copy` or `model_file` of the model at `model_path`."""
    if not copy.endswith(MODEL_SUFFIX):
        import joblib

        return joblib.load(copy, mmap_mode="r")
    from .model import load_model

    try:
        return load_model(copy)
    except ModelError as e:  # a damaged file: say which one the user gave
        from .card import model_path as source

        raise ModelError(str(e).replace(copy, str(source(model_path)))) from None


@contextlib.contextmanager
def time_limit(seconds: float, limit: Optional[float] = None) -> Iterator[None]:
    """Interrupt a page that runs too long (SIGALRM: only in a process's main thread; no-op elsewhere).
    `limit`: the page's whole limit, for the message, when `seconds` is what is left of it."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise PageTimeout(f"took longer than the {limit or seconds:g} s per-page limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: anything one page raises fails that page alone, and the run goes on: the library's own errors
#: carry a one-line reason, anything else (a bug, recursion, memory) is reported with its type
PAGE_ERRORS = (Exception,)


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, BoilerclfError) else f"{type(error).__name__}: {error}"


def label(pages: list[Page], settings: Settings, budgets: Sequence[float]) -> list[Optional[str]]:
    """Label the pages in one model call, or page by page if that fails, so that a bad page
    fails alone; the failure reason of each page (None: labelled). `budgets`: the seconds each
    page has left of its time limit (0: no limit).

    One call for many pages because the feature arrays and the context stage's 160 trees
    cost per call: a call per page took ~3 of its ~20 ms.
    """
    model = cached_model(settings.model_path, settings.model_copy)
    if len(pages) > 1:
        try:  # within the smallest budget: a slow page then fails alone below, not in company
            with time_limit(min(budgets), settings.timeout):
                model.predict_pages(pages)
            return [None] * len(pages)
        except PAGE_ERRORS:
            pass
    reasons: list[Optional[str]] = []
    for page, budget in zip(pages, budgets):
        try:
            with time_limit(budget, settings.timeout):
                model.predict_pages([page])
            reasons.append(None)
        except PAGE_ERRORS as e:
            reasons.append(_reason(e))
    return reasons


class _Batch:
    """Pages read and waiting to be labelled in one call: at most `CHUNK` pages and about
    `BATCH_BYTES` of input, since their DOMs are held together (a 20 MB page is labelled alone).
    `emit(owner, page)` gets each labelled page; `fail(owner, reason)` each page that failed,
    in reading, labelling or `emit`."""

    def __init__(self, settings: Settings, emit: Callable[[Any, Page], None], fail: Callable[[Any, str], None]):
        self.settings, self.emit, self.fail = settings, emit, fail
        self.items: list[tuple[Any, Page, float]] = []
        self.size = 0

    def add(self, owner: Any, data: bytes | str, **where) -> None:
        """Read one page (`where`: `segment`'s keywords) within the size and time limits."""
        if _full(len(self.items), self.size, len(data), CHUNK, BATCH_BYTES):
            self.flush()
        max_bytes, limit = self.settings.max_bytes, self.settings.timeout  # reading and labelling share one page's limit
        start = time.monotonic()
        try:
            if max_bytes and len(data) > max_bytes:
                raise TooLarge(f"{len(data):,} bytes", max_bytes)
            with time_limit(limit):
                page = segment(data, **where)
        except PAGE_ERRORS as e:
            self.fail(owner, _reason(e))
            return
        self.items.append((owner, page, max(limit - (time.monotonic() - start), 1e-3) if limit else 0.0))
        self.size += len(data)

    def flush(self) -> None:
        items, self.items, self.size = self.items, [], 0
        if not items:
            return
        for (owner, page, _), reason in zip(items, label([i[1] for i in items], self.settings, [i[2] for i in items])):
            if reason is None:
                try:
                    self.emit(owner, page)
                    continue
                except PAGE_ERRORS as e:
                    reason = _reason(e)
            self.fail(owner, reason)


def write_atomic(path: Path, data: bytes | str, *, through_links: bool = False) -> None:
    """Write a whole file or nothing (see `atomic_file`)."""
    with atomic_file(path, through_links=through_links) as f:
        f.write(data.encode() if isinstance(data, str) else data)


@contextlib.contextmanager
def atomic_file(path: Path, *, through_links: bool = False) -> Iterator[BinaryIO]:
    """A file to write whole or not at all: a temporary file renamed over `path` when the block
    ends without an error. The file keeps the mode `path` had; a new one gets the usual mode
    (0666 less the umask, where mkstemp's are 0600). A symlink at `path` is replaced, so that an
    output never lands outside its folder through a planted link; `through_links` writes to its
    target instead, as editors do, for a file edited in place (a hard link cannot survive the
    rename: it keeps the old content)."""
    if through_links:
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_temporary(outputs: Iterable[Path]) -> None:
    """Delete the temporary files of `outputs` that a stopped worker left (a worker stopped
    mid-page, or a run killed outright, cannot clean up after itself): run at the start and
    end of a run that holds the output folder, so no one else is writing them."""
    names: dict[Path, set[str]] = {}
    for out in outputs:
        names.setdefault(out.parent, set()).add(out.name)
    for folder, wanted in names.items():
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                match = _TEMPORARY.fullmatch(entry.name)
                if match and match.group(1) in wanted:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


_TEMPORARY = re.compile(r"\.(.+)\.[0-9a-f]{12}\.part")  # atomic_file's names


def process_many(sources: Sequence[Source], settings: Settings) -> list[Result]:
    """Clean page files into their outputs; never raises for bad input, records it instead.

    Pages are read, labelled a batch at a time (`_Batch`), then written.
    """
    # absolute, in the outputs' "source" as in the errors file's, so that the two join: reruns may start elsewhere
    results = [Result(os.path.abspath(source.path)) for source in sources]

    def write(owner: tuple[Result, Source], page: Page) -> None:
        result, source = owner
        write_atomic(source.output(settings.outdir, SUFFIX[settings.fmt]), render(page, settings.fmt, settings.keep))
        result.pages += 1
        result.labels.update(b.label for b in page.blocks)

    batch = _Batch(settings, write, lambda owner, reason: owner[0].fail(reason))
    for source, result in zip(sources, results):
        try:
            data = read_bytes(source.path, settings.max_bytes)
        except PAGE_ERRORS as e:
            result.fail(_reason(e))
            continue
        batch.add((result, source), data, text=is_text_path(source.path), source=result.source,
                  sources=settings.fmt == "html")  # archives are written as JSONL
    batch.flush()
    return results


@dataclass
class Part:
    """Records of an archive labelled in one task: their JSONL lines, labels and failures."""

    archive: int  # the `Archive` (a key of the run's table)
    lines: str = ""
    pages: int = 0
    labels: Counter = field(default_factory=Counter)
    failures: list[tuple[str, int, str]] = field(default_factory=list)  # (record key, position, reason)


def label_records(batch: Sequence[Record], archive: int, source: str, settings: Settings) -> Part:
    """Label records of the archive `source` (in a worker): what its output gets of them."""
    part, lines = Part(archive), []

    def keep(record: Record, page: Page) -> None:
        cut = {"truncated": record.truncated} if record.truncated else {}  # by the crawler (see `Record`)
        lines.append(to_json({"record": record.key, "position": record.position, **cut,
                              **page_record(page, settings.keep)}) + "\n")
        part.labels.update(b.label for b in page.blocks)

    pages = _Batch(settings, keep, lambda record, reason: part.failures.append((record.key, record.position, reason)))
    for record in batch:
        pages.add(record, record.html or "", text=record.text, source=source, url=record.url, charset=record.charset)
    pages.flush()
    part.lines, part.pages = "".join(lines), len(lines)
    return part


def task_count(sources: Sequence[Source]) -> int:
    """About how many tasks the sources make: one per page file, one per `BATCH_BYTES` of an
    archive (HTML gzips ~4 to 1), so that a small JSONL starts no workers to idle."""
    return sum(1 if s.kind == "page" else -(-_size(s.path) // BATCH_BYTES) for s in sources)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size * (4 if path.name.lower().endswith(".gz") else 1)
    except OSError:  # gone since it was found: it fails alone, later
        return 1


def _full(items: int, held: int, n: int, count: int, size: int) -> bool:
    """Whether a group of `items` holding `held` bytes closes before one of `n` bytes joins it: at
    `count` items, or past `size` bytes (so that a bigger one goes alone)."""
    return items > 0 and (items >= count or held + n > size)


def groups(items: Iterable[T], count: int, size: int, size_of: Callable[[T], int]) -> Iterator[list[T]]:
    """Consecutive items, at most `count` of them and about `size` bytes of input (see `_full`)."""
    group: list[T] = []
    held = 0
    for item in items:
        n = size_of(item)
        if _full(len(group), held, n, count, size):
            yield group
            group, held = [], 0
        group.append(item)
        held += n
    if group:
        yield group


def record_batches(source: Source, result: Result, max_bytes: int) -> Iterator[list[Record]]:
    """An archive's HTML records, in batches of at most `CHUNK` records and about `BATCH_BYTES`
    (a task each, so that one archive keeps every worker busy); records that are skipped or
    cannot be read go into `result` as they are met."""
    def pages() -> Iterator[Record]:
        for record in records(source, max_bytes):
            if record.skipped:
                result.skipped += 1
            elif record.error or record.html is None:
                result.fail(record.error or "no HTML", record.key, record.position)
            else:
                yield record

    return groups(pages(), CHUNK, BATCH_BYTES, lambda record: len(record.html or ""))


@dataclass(eq=False)
class Archive:
    """An archive being cleaned: its parts are labelled in any order and written as they come
    into its temporary output, which is renamed once the last is in."""

    source: Source
    result: Result
    parts: int = 0  # tasks made of its records so far
    written: int = 0
    read: bool = False  # every record is read: `parts` is final
    error: Optional[str] = None  # a read or a write failed: the archive fails whole
    pages: int = 0
    labels: Counter = field(default_factory=Counter)
    output: Optional[BinaryIO] = None
    closing: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def write(self, part: Part, outdir: Path) -> None:
        if self.error is None:
            try:
                if self.output is None:
                    self.output = self.closing.enter_context(atomic_file(self.source.output(outdir, ".jsonl")))
                self.output.write(part.lines.encode())
            except OSError as e:  # a full disk: the records are labelled, but there is nowhere to write them
                self.abort(e)
                self.error = _reason(e)
        self.written += 1
        self.pages += part.pages
        self.labels.update(part.labels)
        for key, position, reason in part.failures:
            self.result.fail(reason, key, position)

    @property
    def finished(self) -> bool:
        return self.read and self.written == self.parts

    def finish(self) -> Result:
        """Rename the output into place and count the pages (none if a write failed)."""
        if self.error is None:
            try:
                self.closing.close()
                self.result.pages += self.pages
                self.result.labels.update(self.labels)
                return self.result
            except OSError as e:
                self.error = _reason(e)
        else:  # reading failed (see `_next_batch`) with parts written: the temporary output goes
            self.abort(InputError(self.error))
        self.result.fail(self.error)
        return self.result

    def abort(self, error: BaseException) -> None:
        """Close the output and remove it (the temporary file: it was never renamed). Closing may
        fail too (a full disk: the bytes left in the file's buffer), and the file is removed all the same."""
        with contextlib.suppress(OSError):
            self.closing.__exit__(type(error), error, error.__traceback__)


def tasks(sources: Sequence[Source], settings: Settings, size: int,
          archives: dict[int, Archive]) -> Iterator[tuple[Callable, tuple]]:
    """The work: chunks of `size` page files, and the record batches of each archive, which is
    put in `archives` as it starts (a parallel run makes tasks in another thread, as workers finish)."""
    pages: list[Source] = []
    keys = itertools.count()
    for source in [*sources, None]:
        if pages and (source is None or source.kind != "page" or len(pages) == size):
            yield process_many, (pages, settings)
            pages = []
        if source is None:
            break
        if source.kind == "page":
            pages.append(source)
            continue
        key = next(keys)
        archive = archives[key] = Archive(source, Result(os.path.abspath(source.path)))
        batches = record_batches(source, archive.result, settings.max_bytes)
        # an archive without pages still gets its (empty) output, and one that cannot be read its
        # failure: either sends one empty task
        batch: Optional[list[Record]] = _next_batch(batches, archive) or []
        while batch is not None:
            following = _next_batch(batches, archive)  # one ahead, to tell the last batch
            archive.parts += 1
            archive.read = following is None  # before the last task goes: it may come back at once
            yield label_records, (batch, key, archive.result.source, settings)
            batch = following


def _next_batch(batches: Iterator[list[Record]], archive: Archive) -> Optional[list[Record]]:
    """The archive's next batch of records, None after the last. An archive that cannot be read (gone
    since it was listed, a broken link, a read error midway) fails whole, as one whose write fails:
    an error raised here would stop the whole run (in a parallel run, from joblib's dispatch thread)."""
    try:
        return next(batches, None)
    except PAGE_ERRORS as e:
        archive.error = archive.error or _reason(e)
        return None


def collect(outputs: Iterable[list[Result] | Part], archives: dict[int, Archive], settings: Settings,
            on_pages: Callable[[int], None]) -> Iterator[Result]:
    """Results from the tasks' outputs, in any order: page files' as they come, an archive's once
    every part of it is written. An interrupted run removes its archives' temporary outputs."""
    try:
        for output in outputs:
            if not isinstance(output, Part):
                on_pages(sum(result.pages for result in output))
                yield from output
                continue
            archive = archives[output.archive]
            archive.write(output, settings.outdir)
            on_pages(output.pages)
            if archive.finished:
                del archives[output.archive]
                result = archive.finish()
                if archive.error is not None:  # failed whole: its pages were counted as they came
                    on_pages(-archive.pages)
                yield result
    except BaseException as e:
        for archive in list(archives.values()):  # a copy: in a parallel run, another thread adds to it
            archive.abort(e)
        raise


def check_outputs(sources: Sequence[Source], output_of: Callable[[Source], Path], outdir: Path) -> None:
    """Refuse before starting what would lose data: an output that is an input, two inputs with
    one output (a.html and a.htm), an output that the errors file would overwrite. Inputs with
    one output are counted and the first few named in one refusal: a run of a million inputs
    refused once per collision would take as many reruns to fix."""
    seen: dict[Path, Path] = {}
    collided, examples = 0, []
    inputs = {source.path.resolve() for source in sources}
    for source in sources:
        out = output_of(source)
        if out.resolve() in inputs:
            raise InputError(f"{out} is an input and would be overwritten by the output of {source.path}; "
                             "choose another output folder")
        if out in seen:
            collided += 1
            examples += [f"{seen[out]} and {source.path} to {out}"] if collided <= 5 else []
        if out == outdir / ERRORS_FILE:
            raise InputError(f"the output of {source.path} would be overwritten by the errors file {out}; rename it")
        seen.setdefault(out, source.path)
    if collided:
        more = f"; and {collided - len(examples):,} more" if collided > len(examples) else ""
        raise InputError(f"{collided:,} input{'s' if collided > 1 else ''} would be written to another input's "
                         f"output: {'; '.join(examples)}{more}; do them separately")


@contextlib.contextmanager
def folder_lock(outdir: Path) -> Iterator[None]:
    """Hold the output folder for one run: two runs writing into it at once would redo each
    other's pages and overwrite each other's errors file."""
    if fcntl is None:
        yield
        return
    fd = os.open(outdir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"another boilerclf run is writing into {outdir}: wait for it to end, or choose "
                             "another output folder") from None
        yield
    finally:
        os.close(fd)


RUN_FILE = "boilerclf-run.json"  # in the output folder, by the errors file: the options its outputs were made with


def check_options(outdir: Path, formats: Sequence[str], options: dict, redo: bool,
                  outputs: Iterable[Path] = ()) -> None:
    """Refuse to resume into a folder whose outputs of these formats were made with other options
    (another --keep or model): the kept outputs and the new ones would silently disagree.
    `formats`: those of the outputs this run writes (an archive's is jsonl, whatever --format says).
    `redo`: every output of this run's inputs, `outputs`, is (re)made this run; an output of other
    inputs in the folder still holds the options recorded. Then record this run's options."""
    path = outdir / RUN_FILE
    try:
        made = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        made = {}
    made = made if isinstance(made, dict) else {}
    for fmt in formats:
        earlier = made.get(fmt)
        if isinstance(earlier, dict) and earlier != options and (not redo or _other_outputs(outdir, fmt, outputs)):
            changed = "; ".join(f"{key} was {earlier.get(key)}, now {value}" for key, value in options.items()
                                if earlier.get(key) != value)
            what = "jsonl outputs (archives' among them)" if fmt == "jsonl" else f"{fmt} outputs"
            raise InputError(f"the {what} already in {outdir} were made with other options ({changed}): rerun "
                             "with --overwrite to redo them all, or choose another output folder")
    write_atomic(path, to_json({**made, **dict.fromkeys(formats, options)}, indent=1) + "\n")


def _other_outputs(outdir: Path, fmt: str, outputs: Iterable[Path]) -> bool:
    """Whether `outdir` holds a `fmt` output that is none of `outputs` (the errors file is none)."""
    mine = {*outputs, outdir / ERRORS_FILE}
    return any(path not in mine and path.is_file() for path in outdir.rglob(f"*{SUFFIX[fmt]}"))


def pending(sources: Sequence[Source], output_of: Callable[[Source], Path], overwrite: bool) -> list[Source]:
    """The sources whose output does not exist yet (all of them with `overwrite`)."""
    return [s for s in sources if overwrite or not output_of(s).exists()]


@contextlib.contextmanager
def forked_workers() -> Iterator[None]:
    """Have this process's local workers fork from a server process that imports boilerclf and
    scikit-learn once (multiprocessing's forkserver, which loky supports), started now, ahead of
    the run: each worker then starts in milliseconds with both imported, rather than importing them
    itself (~1 s of CPU each, on the cores that the pages need), and only loads the model (0.05 s
    from the cache, `boilerclf.cache`; the first time 0.6 s, importing skops and reading the file).
    Loky's start method is one per process: the one before is restored at the end, so that the
    process's later joblib calls start their workers as they would have.

    Not where a worker would rerun the main script: multiprocessing imports it in every worker
    it starts this way, and a script that runs `clean` without an `if __name__ == "__main__":`
    guard would start a run in each. Then loky starts the workers as usual (slower, not wrong)."""
    import multiprocessing.forkserver

    from joblib.externals.loky.backend.context import get_start_method, set_start_method

    main = sys.modules.get("__main__")
    name, script = getattr(getattr(main, "__spec__", None), "name", None), getattr(main, "__file__", None)
    # multiprocessing never reruns a package's __main__; `boilerclf`, pip's launcher, has the guard
    users = script is not None and not (name or "").endswith("__main__") and Path(script).name != "boilerclf"
    if users or "forkserver" not in multiprocessing.get_all_start_methods():  # or Windows
        yield
        return
    previous = get_start_method()
    multiprocessing.set_forkserver_preload([f"{__package__}.cli", f"{__package__}.model"])
    set_start_method("forkserver", force=True)
    try:
        multiprocessing.forkserver.ensure_running()
        yield
    finally:
        set_start_method(previous, force=True)


def limit_threads(n: int) -> None:
    """Give a worker's BLAS and OpenMP pools `n` threads, its share of the cores: what loky does through the
    environment of the workers it starts itself, which those forked from a forkserver never see."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)


def run(sources: Sequence[Source], settings: Settings, *, n_jobs: int = 1, backend: Optional[str] = None,
        scheduler: Optional[str] = None, model: Optional[Model] = None,
        on_pages: Callable[[int], None] = lambda n: None) -> Iterator[Result]:
    """Process sources in parallel and yield each result as soon as it is ready; `on_pages(n)`
    hears of every `n` pages labelled (an archive's too, long before its result; `n` < 0 takes
    back those of an archive that then fails whole).

    `model`, when given, is `settings.model_path` already loaded: this process reuses it and
    local workers get a copy of it (see `Settings.model_copy`) rather than loading it again.
    """
    if model is not None:
        _MODELS[settings.model_path] = model
    archives: dict[int, Archive] = {}
    if n_jobs == 1 and backend is None:
        yield from collect((work(*args) for work, args in tasks(sources, settings, CHUNK, archives)),
                           archives, settings, on_pages)
        return
    from joblib import Parallel, cpu_count, delayed, parallel_config

    client = None
    if backend == "dask":
        from distributed import Client

        client = _client(scheduler) if scheduler else Client(processes=True, n_workers=max(n_jobs, 1))
        sources, settings = _absolute(sources, settings)
    # tasks of several pages: one round trip per chunk keeps the parent process (which
    # shares the cores) nearly idle, while chunks stay small enough for an even spread
    size = max(1, min(CHUNK, len(sources) // (4 * max(n_jobs, 1))))
    with contextlib.ExitStack() as stack:
        if client is not None:
            stack.callback(client.close)
        if model is not None and backend is None:
            settings = replace(settings, model_copy=stack.enter_context(model_copy(model)))
        # local workers of a run killed outright (SIGKILL, the OOM killer) go once idle for this long, not 300 s;
        # each gets its share of the CPUs this process may use (affinity, a container's quota), as loky gives it
        local = {"backend": "loky", "n_jobs": n_jobs, "idle_worker_timeout": 10, "initializer": limit_threads,
                 "initargs": (max(cpu_count() // n_jobs, 1),)}
        with parallel_config(**(local if backend is None else {"backend": backend, "n_jobs": -1})):
            outputs = Parallel(return_as="generator_unordered", pre_dispatch="2*n_jobs")(
                delayed(work)(*args) for work, args in tasks(sources, settings, size, archives))
            yield from collect(outputs, archives, settings, on_pages)


def _client(scheduler: str) -> Any:
    """A client of the scheduler at `scheduler`; one that does not answer within Dask's connection
    timeout, or an address that is none, fails the run in one line, before any work."""
    from distributed import Client

    try:
        return Client(scheduler)
    except (OSError, ValueError) as e:  # a timeout, a refusal, an unknown scheme or a malformed address
        raise SchedulerError(f"cannot connect to the Dask scheduler at {scheduler}: {e}") from None


def _absolute(sources: Sequence[Source], settings: Settings) -> tuple[list[Source], Settings]:
    """The sources, output folder and model as absolute paths: a cluster's workers run in folders of
    their own, where the relative paths of the command line name other files, or none."""
    model = settings.model_path and os.path.abspath(os.path.expanduser(settings.model_path))
    return ([replace(source, path=Path(os.path.abspath(source.path))) for source in sources],
            replace(settings, outdir=Path(os.path.abspath(settings.outdir)), model_path=model))


COPY_PREFIX, LOCK = "boilerclf-", "lock"
MODEL_SUFFIX = ".boilerclf"


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    """A private temporary folder (mode 0700: no one else can swap what is in it) removed at the
    end. The run holds a lock on the folder while it lives, so that a later run can tell the
    folder of a run killed outright (SIGKILL, the OOM killer) and remove it."""
    remove_stale_copies()
    with tempfile.TemporaryDirectory(prefix=COPY_PREFIX) as folder, open(Path(folder) / LOCK, "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield Path(folder)


@contextlib.contextmanager
def model_copy(model: Model) -> Iterator[str]:
    """A joblib dump of the verified model for local workers (see `Settings.model_copy`), in a
    private temporary folder (`_private_folder`)."""
    import joblib

    with _private_folder() as folder:
        copy = folder / "model.joblib"
        joblib.dump(model, copy)
        yield str(copy)


@contextlib.contextmanager
def model_file(model_path: Optional[str]) -> Iterator[tuple[str, dict]]:
    """A copy of the model file at `model_path` (default: the shipped model), in a private temporary
    folder (`_private_folder`), for local workers that load the model themselves (see
    `Settings.model_copy`); and its card, checked against this installation (no scikit-learn import).

    Not the path itself: a worker loads the model when it starts, which may be during the run (an
    idle one stops, joblib replaces one), and joblib keeps it for this process's later runs. A model
    saved at the path meanwhile, or the file deleted, gave pages another model than the one the
    run checked and recorded; so did a `~` or relative path read in a worker's older home or folder."""
    from .card import model_path as named, read_card

    source = named(model_path)
    read_card(source)  # its errors: no such file, not a model, an incompatible one
    try:
        data = source.read_bytes()
    except OSError as e:  # deleted meanwhile
        raise ModelError(f"cannot read the model file {source}: {e.strerror or e}") from None
    with contextlib.ExitStack() as stack:
        try:
            copy = stack.enter_context(_private_folder()) / f"model{MODEL_SUFFIX}"
            copy.write_bytes(data)
        except OSError as e:  # a full temporary folder
            raise ModelError(f"cannot copy the model file for the workers into {tempfile.gettempdir()}: "
                             f"{e.strerror or e}; set TMPDIR to a folder with room, or run with --jobs 1") from None
        del data
        try:
            meta = read_card(copy)  # that of the very bytes the workers get
        except ModelError as e:
            raise ModelError(str(e).replace(str(copy), str(source))) from None
        yield str(copy), meta


def remove_stale_copies(min_age: float = 60.0) -> None:
    """Delete the model copies that killed runs left: our folders whose lock nobody holds (the
    kernel drops a dead process's locks, in any PID namespace). A folder younger than `min_age`
    seconds may be a run that has not taken its lock yet, and stays."""
    import shutil

    if fcntl is None:
        return
    for folder in Path(tempfile.gettempdir()).glob(f"{COPY_PREFIX}*"):
        try:
            if folder.stat().st_uid != os.getuid() or time.time() - folder.stat().st_mtime < min_age:
                continue
            with open(folder / LOCK, "rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a live run holds it
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # not a copy folder, not ours, or in use
            continue


def attempt(work: Callable[[T], R], item: T) -> tuple[Optional[R], Optional[str]]:
    """Run `work(item)`; whatever it raises fails that item alone, with a one-line reason, as in bulk cleaning."""
    try:
        return work(item), None
    except PAGE_ERRORS as e:
        return None, _reason(e)


def append_error(outdir: Path, failure: dict) -> None:
    """Add one failure to the errors file as it comes, so that a run killed outright (SIGKILL, the OOM
    killer), which never writes the whole file, still lists the failed records of the archives it
    finished: a rerun skips those archives, so nothing else would report them. One write per line,
    so that a kill leaves no half line; never through a planted symlink; a file that cannot be
    written (a full disk) is reported when the whole file is written at the end."""
    with contextlib.suppress(OSError):
        fd = os.open(outdir / ERRORS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            os.write(fd, (to_json(failure) + "\n").encode())
        finally:
            os.close(fd)


def write_errors(outdir: Path, failures: Iterable[dict], done: Sequence[Source] = ()) -> int:
    """Write this run's failures to the errors file, keeping the earlier runs' failures of the
    `done` sources (skipped as finished: an archive with an output may have records that failed),
    as they were written (those of before `position` without it), each once: an --overwrite run killed outright
    after redoing an input listed its failures twice, those kept until it was redone and those found again;
    how many failures the file now lists."""
    failures = list(failures)
    path = outdir / ERRORS_FILE
    finished = {s.path.resolve() for s in done}  # resolved: a rerun may name the inputs another way
    if finished and path.is_file():
        with contextlib.suppress(ValueError, TypeError, KeyError):  # an errors file edited into something else: start afresh
            earlier = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            failures = [f for f in earlier if Path(f["source"]).resolve() in finished] + failures
    lines = dict.fromkeys(to_json(f) + "\n" for f in failures)
    if not lines:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, "".join(lines))
    return len(lines)
