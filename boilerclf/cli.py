"""The `boilerclf` command: thin typer wrappers over the library's functions.

Every command reads HTML pages and `.txt` plain-text pages (one paragraph per line),
gzipped or not, and walks folders recursively. `--model` defaults to the model
shipped with boilerclf.
"""
from __future__ import annotations

import contextlib
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import batch
from . import labels as labelled
from .dataset import page_files, read_pages, stats as dataset_stats
from .page import LABELS, BoilerclfError, Page
from .load import PAGE_SUFFIXES
from .render import FORMATS, SUFFIX
from .sources import Source, find_sources
from .segment import read_page

if TYPE_CHECKING:  # the model module imports scikit-learn (~1.5 s): only the commands that use it pay
    from .model import Model

app = typer.Typer(help="Clean scraped web pages: label each text block as content, promo, subscription or "
                  "navigation, with a classifier you can retrain on your own labelled pages.",
                  no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
                  pretty_exceptions_enable=False, rich_markup_mode="markdown")
err = Console(stderr=True, highlight=False)
T = TypeVar("T")
_COLOURS = {"content": "green", "promo": "yellow", "subscription": "magenta", "navigation": "blue", None: "red"}
MODEL_OPTION = typer.Option(None, "--model", "-m", help="Model file made by `boilerclf train` "
                            "(default: the model shipped with boilerclf).")
SUFFIXES = ", ".join(PAGE_SUFFIXES)
INPUTS_HELP = f"Page files or folders (walked recursively): {SUFFIXES}."


def fail(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(2)


def report_failure(where: object, reason: object) -> None:
    """Report one input that failed, while the others go on (names printed as they are)."""
    err.print(f"[red]failed:[/red] {escape(f'{where}: {reason}')}")


def guard(fn: Callable[..., T], *args, **kwargs) -> T:
    """Call `fn`; a library error (bad input, bad model) becomes a one-line error and exit 2."""
    try:
        return fn(*args, **kwargs)
    except BoilerclfError as e:
        fail(str(e))
        raise  # unreachable: fail exits


def _model(path: Optional[Path]) -> Model:
    from .model import load_model

    return guard(load_model, path)


def _sources(inputs: List, outdir: Optional[Path] = None, pages_only: bool = True) -> tuple[list[Source], list[str]]:
    """The input files (page files only, unless archives are welcome), and the paths of a stdin
    list that do not exist, each reported here as failed."""
    missing: list[str] = []
    found = guard(find_sources, inputs, outdir=outdir, missing=missing)
    archives = [str(s.path) for s in found if s.kind != "page"]
    if archives and pages_only:
        fail(f"{archives[0]} is an archive: only `boilerclf clean` reads WARC and JSONL inputs")
    if not found:
        fail(f"no inputs ({SUFFIXES}{'' if pages_only else ', archives'}) in " + ", ".join(map(str, inputs))
             + (f"; {len(missing)} listed paths do not exist, e.g. {missing[0]}" if missing else ""))
    for path in missing:
        report_failure(path, "no such file or folder")
    return found, missing


def _todo(found: list[Source], output_of: Callable[[Source], Path], outdir: Path, overwrite: bool) -> list[Source]:
    """The sources to do: those without an output yet (all with `overwrite`), after refusing
    what would lose data (see `batch.check_outputs`)."""
    guard(batch.check_outputs, found, output_of, outdir)
    return batch.pending(found, output_of, overwrite)


def _check_writable(folder: Path) -> None:
    """Fail now, not after hours of work, if outputs cannot be written into `folder`."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        fail(f"cannot write to the output folder {folder}: {e.strerror or e}")


def _progress(*extra: TextColumn) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *extra,
                    TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal)


def _keep(keep: List[str]) -> tuple[str, ...]:
    bad = [k for k in keep if k not in LABELS]
    if bad:
        fail(f"unknown label(s) {', '.join(bad)} for --keep: choose from {', '.join(LABELS)}")
    return tuple(keep)


def _print_scores(cv: dict, title: str) -> None:
    table = Table(title=title)
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, s in cv["per_label"].items():
        table.add_row(label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
    table.add_row("macro", "", "", f"{cv['macro_f1']:.3f}", "")
    err.print(table)
    matrix = Table(title="Confusion matrix (rows: true label, columns: predicted)")
    matrix.add_column("")
    for label in LABELS:
        matrix.add_column(label, justify="right")
    for label, row in zip(LABELS, cv["confusion"]):
        matrix.add_row(label, *map(str, row))
    err.print(matrix)


def _print_cv(cv: dict) -> None:
    _print_scores(cv, f"Cross-validation grouped by {cv['grouped_by']} ({cv['folds']} folds)")
    parts = [f"{name}: {cv[key]['macro_f1']:.3f}" for name, key in
             (("without the context stage", "without_context"), ("HTML blocks", "html_blocks"),
              ("text-only views", "text_blocks")) if cv.get(key)]
    err.print("macro F1 " + "; ".join(parts))


@app.command()
def train(data: List[Path] = typer.Argument(..., help="Labelled pages or folders of them: HTML with `data-label` "
                                            "attributes, or `label<TAB>text` .txt files. A `pages.jsonl` manifest "
                                            "in a folder gives each file's url and site."),
          output: Path = typer.Option(..., "--output", "-o", help="Where to write the model (a .boilerclf file: a zip of meta.json and the estimators in skops format)."),
          folds: int = typer.Option(5, help="Cross-validation folds, grouped by site; 0 skips cross-validation."),
          jobs: int = typer.Option(1, "--jobs", "-j", help="Processes for cross-validation."),
          text_views: bool = typer.Option(True, help="Also train on text-only views of HTML pages, so the model "
                                          "works on plain-text input."),
          ) -> None:
    """Train a block classifier on labelled pages and save it.

    A block takes the label of its nearest ancestor-or-self with a `data-label` attribute
    (content, promo, subscription or navigation); unlabelled blocks are not trained on and
    are counted. Scores come from cross-validation grouped by site (a site is never in both
    a training and a test fold) and are saved in the model.
    """
    if output.is_dir():
        fail(f"{output} is a folder: give the model file's path, e.g. {output / 'model.boilerclf'}")
    _check_writable(output.parent)
    files = guard(lambda: list(page_files(data)))
    if not files:
        fail(f"no labelled pages ({SUFFIXES}) in " + ", ".join(map(str, data)))
    with _progress() as progress:
        task = progress.add_task("reading", total=len(files))
        pages = guard(read_pages, data, progress=lambda _: progress.advance(task))
    from .model import train as train_model

    model = guard(train_model, pages, cv_folds=folds, n_jobs=jobs, text_views=text_views)
    info = model.meta["data"]
    err.print(f"{info['pages']} pages from {info['sites']} sites; labelled blocks per label "
              f"(HTML and text views): {info['blocks_per_label']}; unlabelled blocks: {info['unlabelled_blocks']}")
    if model.meta["cv"]:
        _print_cv(model.meta["cv"])
        if model.meta["cv"]["grouped_by"] != "site":
            err.print(f"[yellow]warning:[/yellow] fewer sites than the {folds} folds, so the folds are grouped by page: "
                      "pages of one site may sit on both sides, and these scores are optimistic. Give each page's site "
                      "in pages.jsonl, or use fewer --folds.")
    model.save(output)
    err.print(escape(f"saved {output}"))


@app.command()
def evaluate(data: List[Path] = typer.Argument(..., help="Labelled pages or folders of them, that the model was "
                                               "not trained on."),
             model: Optional[Path] = MODEL_OPTION,
             text_views: bool = typer.Option(False, help="Also score the text-only views of HTML pages."),
             worst: int = typer.Option(10, min=0, help="How many of the worst pages to list."),
             as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
             ) -> None:
    """Score a model on labelled pages: per-label precision, recall, F1, support, the
    confusion matrix, and the pages with the most errors.

    Only blocks with a gold label count. Use pages from sites the model has not seen
    for an honest figure.
    """
    from .evaluate import evaluate as run

    clf = _model(model)
    pages = guard(read_pages, data)
    result = guard(run, clf, pages, text_views=text_views, worst=worst)
    if as_json:
        print(json.dumps(result, indent=1))
        return
    _print_scores(result, f"{result['pages']} pages")
    table = Table(title="Worst pages")
    for column in ("page", "blocks", "errors", "accuracy"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for row in result["worst_pages"]:
        table.add_row(escape(row["page"]), str(row["blocks"]), str(row["errors"]), f"{row['accuracy']:.3f}")
    err.print(table)


@app.command()
def predict(pages: List[Path] = typer.Argument(..., help=INPUTS_HELP), model: Optional[Path] = MODEL_OPTION) -> None:
    """Print one JSON line per block: page, index, label, probabilities, text.

    A page that cannot be read is reported on stderr and the others go on; the exit
    status is 1 if any page failed.
    """
    clf = _model(model)
    found, missing = _sources(pages)
    failed = len(missing)
    for source in found:
        page, reason = batch.attempt(lambda s: clf.predict_pages([read_page(s.path)])[0], source)
        if not isinstance(page, Page):
            failed += 1
            report_failure(source.path, reason)
            continue
        for b in page.blocks:
            sys.stdout.write(json.dumps({"page": str(source.path), "index": b.index, "label": b.label,
                                         "proba": b.proba, "text": b.text}, ensure_ascii=False) + "\n")
    raise typer.Exit(1 if failed else 0)


@app.command()
def clean(inputs: List[str] = typer.Argument(..., help="Page files (.html, .htm, .txt, and .gz of them), folders "
                                             "(walked recursively), glob patterns, WARC/WARC.gz archives, JSONL files "
                                             "with one {\"url\", \"html\"} object per line, or - to read a list of "
                                             "inputs from stdin."),
          outdir: Path = typer.Option(..., "--output", "-o", help="Folder for the outputs; input names and subfolders "
                                      "are mirrored, with the format's suffix. WARC and JSONL inputs give one .jsonl "
                                      "per archive, a line per record keyed by record id or url."),
          keep: List[str] = typer.Option(["content"], help="Labels whose blocks survive (content, promo, subscription, navigation); "
                                 "repeat for several."),
          fmt: str = typer.Option("text", "--format", "-f", help="text: kept blocks, one per line. html: the page "
                                  "with the other blocks' elements removed, structure kept. jsonl: one record per page "
                                  "with the kept text, the text of each other label, and every block's label and "
                                  "probabilities."),
          model: Optional[Path] = MODEL_OPTION,
          jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes (0: all cores). Each gets the model "
                                   "once; results stream back, so memory stays flat."),
          backend: Optional[str] = typer.Option(None, help="`dask` to run on a Dask cluster through joblib's Dask "
                                                "backend (needs `pip install boilerclf[dask]`)."),
          scheduler: Optional[str] = typer.Option(None, help="With --backend dask: the scheduler address, e.g. "
                                                  "tcp://10.0.0.5:8786 (default: a local cluster)."),
          overwrite: bool = typer.Option(False, help="Redo inputs whose output exists (default: skip them, so "
                                         "rerunning an interrupted command resumes it)."),
          max_bytes: int = typer.Option(batch.DEFAULT_MAX_BYTES, min=0, help="Per-page size limit in bytes (0: none); a "
                                        "larger page is reported as failed."),
          timeout: float = typer.Option(batch.DEFAULT_TIMEOUT, min=0, help="Per-page time limit in seconds (0: none); a "
                                        "slower page is reported as failed."),
          ) -> None:
    """Write a cleaned copy of every page, keeping only the blocks with the chosen labels.

    Outputs are written whole or not at all (temporary file, then rename) and inputs are
    never modified. A page that fails is reported with its reason in
    `OUTDIR/boilerclf-errors.jsonl` while the others go on; the exit status is 1 if any
    page failed, 2 for a usage error.
    """
    import os
    import time

    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: choose from {', '.join(FORMATS)}")
    if backend not in (None, "dask"):
        fail(f"unknown --backend {backend!r}: the only one is dask")
    if scheduler and backend is None:
        fail("--scheduler is the address of a Dask scheduler: add --backend dask")
    settings = batch.Settings(outdir=outdir, fmt=fmt, keep=_keep(keep), model_path=str(model) if model else None,
                              max_bytes=max_bytes, timeout=timeout)
    with _sigterm_interrupts(), contextlib.ExitStack() as stack:
        found, missing = _sources(inputs, outdir, pages_only=False)

        def output_of(source: Source) -> Path:
            return source.output(outdir, SUFFIX[fmt])

        todo = _todo(found, output_of, outdir, overwrite)
        _check_writable(outdir)
        guard(stack.enter_context, batch.folder_lock(outdir))
        n_jobs = min(jobs or os.cpu_count() or 1, max(len(todo), 1))
        if n_jobs > 1 and backend is None:
            batch.start_workers(n_jobs)
        clf = _model(model)  # fail fast on a bad model
        made_by = f"the model trained {clf.meta.get('trained_at')} on data {clf.meta.get('data', {}).get('fingerprint')}"
        guard(batch.check_options, outdir, fmt, {"keep": ",".join(sorted(settings.keep)), "model": made_by},
              redo=len(todo) == len(found))
        pages = skipped = 0
        failures = [{"source": os.path.abspath(path), "record": None, "reason": "no such file or folder"}
                    for path in missing]
        labels: dict[str, int] = {}
        pending = set(todo)
        start = time.monotonic()
        try:
            with _progress(TextColumn("{task.fields[rate]}")) as progress:
                task = progress.add_task("cleaning", total=len(todo), rate="")
                for result in batch.run(todo, settings, n_jobs=n_jobs, backend=backend,
                                        scheduler=scheduler, model=clf):
                    pages += result.pages
                    skipped += result.skipped
                    for label, count in result.labels.items():
                        labels[label] = labels.get(label, 0) + count
                    for failure in result.failures:
                        failures.append(failure)
                        report_failure(failure["source"] + (f" [{failure['record']}]" if failure["record"] else ""),
                                       failure["reason"])
                    progress.update(task, advance=1, rate=f"{pages / max(time.monotonic() - start, 1e-9):.1f} pages/s")
        finally:  # an interrupted run still lists what failed in the archives it finished
            listed = batch.write_errors(outdir, failures, done=[s for s in found if s not in pending])
    elapsed = time.monotonic() - start
    earlier = f", plus {listed - len(failures)} earlier failures in archives already done" if listed > len(failures) else ""
    err.print(escape(f"cleaned {pages} pages from {len(todo)} inputs into {outdir} in {elapsed:.1f} s "
                     f"({pages / max(elapsed, 1e-9):.1f} pages/s); skipped {len(found) - len(todo)} inputs already "
                     f"done (--overwrite redoes them) and {skipped} non-HTML records; {len(failures)} failed"
                     + earlier + (f" (see {outdir / batch.ERRORS_FILE})" if listed else "")
                     + f"; blocks per label: {labels}"))
    raise typer.Exit(1 if listed else 0)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (kill, a scheduler's time limit) stops a run as Ctrl-C does: workers stopped,
    temporary files removed, the errors file written (only the main thread may set handlers)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def label(pages: List[Path] = typer.Argument(..., help=INPUTS_HELP),
          outdir: Path = typer.Option(..., "--output", "-o", help="Folder for the pre-labelled pages (names and "
                                      "subfolders mirrored; HTML pages become .html, text pages .txt)."),
          model: Optional[Path] = MODEL_OPTION,
          overwrite: bool = typer.Option(False, help="Replace pre-labelled pages that exist in the output folder "
                                         "(default: keep them, with the corrections made to them)."),
          ) -> None:
    """Pre-label pages with the model, for a person to correct and then train on.

    HTML pages are written as UTF-8 HTML with a `data-label` attribute on the element
    that owns each block; text pages as `label<TAB>text` lines. Review them with
    `boilerclf show` and fix them with `boilerclf relabel` (or any editor). Pages already
    in the output folder are left as they are, so corrections are never overwritten.
    """
    found, missing = _sources(pages, outdir)

    def output_of(source: Source) -> Path:
        return source.output(outdir, ".txt" if labelled.is_text_path(source.path) else ".html")

    todo = _todo(found, output_of, outdir, overwrite)
    clf = _model(model)
    failed = len(missing)

    def work(source: Source) -> Page:
        page = clf.predict_pages([read_page(source.path)])[0]
        labelled.apply_labels(page, [b.label for b in page.blocks])
        batch.write_atomic(output_of(source), labelled.serialize(page))
        return page

    for source in todo:
        page, reason = batch.attempt(work, source)
        if page is None:
            failed += 1
            report_failure(source.path, reason)
    err.print(escape(f"labelled {len(todo) + len(missing) - failed} pages into {outdir}, {failed} failed; kept "
                     f"{len(found) - len(todo)} already there (--overwrite replaces them)"))
    raise typer.Exit(1 if failed else 0)


@app.command()
def info(model: Optional[Path] = typer.Argument(None, help="A model file (default: the shipped model)."),
         as_json: bool = typer.Option(False, "--json", help="Print the whole model card as JSON."),
         ) -> None:
    """Print a model's card: labels, versions, training data, cross-validated scores.

    Reads only the model's metadata, so it also works on a model that this installation
    cannot load, and says why it cannot.
    """
    from .model import DEFAULT_MODEL, _check_compatible, read_meta

    path = model or DEFAULT_MODEL
    meta = guard(read_meta, path)
    if as_json:
        print(json.dumps(meta, indent=1))
        return
    out = Console(highlight=False, markup=False)
    out.print(_card(path, meta))
    try:
        _check_compatible(meta, path)
        out.print("compatible with this installation: yes")
    except BoilerclfError as e:
        out.print(f"compatible with this installation: no. {e}")
    if meta.get("cv"):
        _print_cv(meta["cv"])


def _card(path: Path, meta: dict) -> str:
    """The model card, a line per field it has: a hand-made or older `meta.json` may lack some."""
    data: Any = meta.get("data")
    labels, versions = meta.get("labels"), meta.get("versions")
    training: object
    try:
        training = (f"{data['pages']} pages from {data['sites']} sites, fingerprint {data['fingerprint']}, "
                    f"blocks per label {data['blocks_per_label']}, unlabelled {data['unlabelled_blocks']}")
    except (KeyError, TypeError):
        training = data  # as it is
    fields = {"trained": meta.get("trained_at"),
              "labels": ", ".join(map(str, labels)) if isinstance(labels, list) else labels,
              "feature extractor version": meta.get("features_version"),
              "versions": ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) else versions,
              "training data": training}
    return "\n".join([f"model: {path}"] + [f"{name}: {value}" for name, value in fields.items() if value is not None])


@app.command()
def stats(data: List[Path] = typer.Argument(..., help="Labelled pages or folders of them."),
          as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
          ) -> None:
    """Count what a labelled set covers: pages, sites, languages, blocks per label and language.

    Sites, languages and source corpora come from each folder's `pages.jsonl` manifest.
    """
    counts = guard(dataset_stats, data)
    if as_json:
        print(json.dumps(counts, indent=1))
        return
    out = Console(highlight=False, markup=False)
    out.print(f"{counts['pages']} pages, {counts['sites']} sites, {counts['languages']} languages, "
              f"{counts['unlabelled_blocks']} unlabelled blocks; pages per corpus: {counts['pages_per_corpus']}")
    table = Table(title="Labelled blocks per language")
    table.add_column("language")
    for label in LABELS:
        table.add_column(label, justify="right")
    rows = [("all", counts["blocks_per_label"]), ("sites", counts["sites_per_label"]),
            *counts["blocks_per_language"].items()]
    for name, per_label in rows:
        table.add_row(name, *(str(per_label.get(label, 0)) for label in LABELS))
    out.print(table)


@app.command()
def show(page: Path = typer.Argument(..., help="A labelled page (.html with data-label, or a .txt of `label<TAB>text` lines)."),
         width: int = typer.Option(160, min=0, help="Cut each block's text to this many characters (0: never)."),
         ) -> None:
    """Print a labelled page's blocks, one per line: index, label, tag, text.

    Use it to review labels before correcting them with `boilerclf relabel`.
    Unlabelled blocks show as `-`.
    """
    doc = guard(labelled.read_labelled, page)
    out = Console(highlight=False, soft_wrap=True)
    for b in doc.blocks:
        text = b.text if not width or len(b.text) <= width else b.text[: width - 1] + "…"
        out.print(f"{b.index:4d} [{_COLOURS[b.label]}]{b.label or '-':12s}[/] {b.tag:8s} ", end="", markup=True)
        out.print(text, markup=False)


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?=(\w+)$")


@app.command()
def relabel(page: Path = typer.Argument(..., help="The labelled .html page to edit in place."),
            changes: List[str] = typer.Argument(..., help="START[-END]=LABEL, block indices as `show` prints them, "
                                                "e.g. 0-12=navigation 40=subscription."),
            ) -> None:
    """Correct labels of blocks by index, writing `data-label` on the elements that own them.

    Blocks that share an element (text split by `<br>`) take the label together.
    """
    if labelled.is_text_path(page):
        fail("relabel edits HTML pages; edit a label<TAB>text page in a text editor")
    doc = guard(labelled.read_labelled, page)
    new = [b.label for b in doc.blocks]
    for change in changes:
        m = _RANGE.match(change)
        if m is None or m.group(3) not in LABELS:
            fail(f"bad change {change!r}: expected START[-END]=LABEL with LABEL one of {', '.join(LABELS)}")
            return
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 0 <= start <= end < len(new):
            fail(f"bad range {change!r}: the page has blocks 0-{len(new) - 1}")
        new[start:end + 1] = [m.group(3)] * (end - start + 1)
    labelled.apply_labels(doc, new)
    batch.write_atomic(page, labelled.serialize(doc))
    check = labelled.read_labelled(page)
    wrong = [b.index for b, want in zip(check.blocks, new) if b.label != want]
    if wrong:
        err.print(f"[yellow]warning:[/yellow] blocks {wrong[:20]} share an element with another block and "
                  "took its label")
    err.print(escape(f"relabelled {page}"))
