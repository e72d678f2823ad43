"""The `boilerclf` command: thin typer wrappers over the library's functions.

Every command reads HTML pages and `.txt` plain-text pages (one paragraph per line),
gzipped or not, and walks folders recursively. `--model` defaults to the model
shipped with boilerclf.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, NoReturn, Optional, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from . import batch
from . import labels as labelled
from .dataset import entry_of, extend_manifest, page_files, read_manifest, read_named, read_pages, stats as dataset_stats
from .page import LABELS, BoilerclfError, InputWarning, ModelError, Page
from .load import PAGE_SUFFIXES
from .render import FORMATS, SUFFIX, to_json
from .sources import MANIFEST, Source, find_sources
from .segment import read_page

if TYPE_CHECKING:  # the model module imports scikit-learn (~1.5 s): only the commands that use it pay
    from .model import Model


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Leave a closed pipe to `_Group.main` (rich would exit 1, which says a page failed)."""
        raise  # the BrokenPipeError rich is handling


class _FlagHelp(TyperOption):
    def display_type_rich(self, ctx):
        return None  # a flag takes no value


class _ArgumentHelp(TyperArgument):
    def display_type_rich(self, ctx):
        return None  # the metavar says what it takes

    def get_usage_pieces(self, ctx) -> list[str]:
        return [self.metavar or self.name.upper()]


class _ClickStyleHelp:
    """typer 0.29's help shows every flag as taking a value (`--json <bool>`, even `--help`), and
    arguments as Python types in braces (`{pages}... <list[Path]>`), so users typed `--json true`.
    Show flags bare and arguments by their metavar (`PAGE...`), as click does."""

    def get_params(self, ctx) -> list:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.__class__ = _FlagHelp
            elif isinstance(param, TyperArgument) and param.metavar:
                param.__class__ = _ArgumentHelp
        return params


class _Command(_ClickStyleHelp, TyperCommand):
    pass


class _Group(_ClickStyleHelp, TyperGroup):
    def main(self, *args, **kwargs):
        """A closed output pipe (`boilerclf predict DIR | head -1`) ends any command quietly
        with 141 (128 + SIGPIPE), what a shell reports for a tool that SIGPIPE stopped: not 1
        (click's and rich's choice), which says a page failed. Handled here, around parsing too,
        since `--help`, `--version` and a bare `boilerclf` print while the arguments are parsed;
        click and rich exit 1 while handling the BrokenPipeError, which is how theirs is known."""
        try:
            try:
                return super().main(*args, **kwargs)
            finally:  # output still buffered meets a closed pipe here, rather than at Python's exit
                sys.stdout.flush()
        except SystemExit as e:
            if not isinstance(e.__context__, BrokenPipeError):
                raise
        except BrokenPipeError:
            pass
        with contextlib.suppress(OSError, ValueError):  # nothing left to flush at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


class _App(typer.Typer):
    def command(self, *args, **kwargs):
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _App(help="Clean scraped web pages: label each text block as content, promo, subscription or "
           "navigation, with a classifier you can retrain on your own labelled pages.",
           no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
           pretty_exceptions_enable=False, rich_markup_mode="markdown", cls=_Group)
err = _Console(stderr=True, highlight=False)  # progress, warnings, errors
out = _Console(highlight=False)  # a command's results, so that `> file` keeps them
T = TypeVar("T")
_COLOURS = {"content": "green", "promo": "yellow", "subscription": "magenta", "navigation": "blue", None: "red"}
MODEL_OPTION = typer.Option(None, "--model", "-m", help="Model file made by `boilerclf train` "
                            "(default: the model shipped with boilerclf).")
SUFFIXES = ", ".join(PAGE_SUFFIXES)
INPUTS_HELP = (f"Page files or folders (walked recursively): {SUFFIXES}; quoted glob patterns; or - to read a list "
               "of paths from stdin.")


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"boilerclf {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                          help="Print boilerclf's version and exit.")) -> None:
    pass


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Stop with a one-line error: exit 2 for a usage error, 1 for a failure (a page that cannot
    be read, a file that cannot be written)."""
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(exit_code)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def _number(count: object) -> str:
    """`12,345`; a hand-made model card's count as it is."""
    return format(count, ",") if isinstance(count, int) else str(count)


def _many(count: int, noun: str) -> str:
    """`1 page`, `2 pages`: a summary that reads right for one input too."""
    return f"{_number(count)} {noun}{'' if count == 1 else 's'}"


def _counts(counts: dict) -> str:
    """`content 20, promo 4, …`: counts as a person reads them (a Python dict was printed), labels in their order."""
    order = sorted(counts.items(), key=lambda item: LABELS.index(item[0]) if item[0] in LABELS else len(LABELS))
    return ", ".join(f"{name} {_number(n)}" for name, n in order)


def _some_blocks(indices: list[int]) -> str:
    """`3 blocks (4, 9, 12)`: a count, and indices as `show` prints them (the first ten)."""
    listed = ", ".join(map(str, indices[:10])) + (", …" if len(indices) > 10 else "")
    return f"{len(indices)} block{'s' if len(indices) > 1 else ''} ({listed})"


def report_failure(where: object, reason: object) -> None:
    """Report one input that failed, while the others go on (names printed as they are)."""
    err.print(f"[red]failed:[/red] {escape(f'{where}: {reason}')}")


def guard(fn: Callable[..., T], *args, exit_code: int = 2, **kwargs) -> T:
    """Call `fn`; a library error (bad input, bad model) becomes a one-line error and `exit_code`,
    and a warning of an input passed over (a folder it cannot read) a one-line warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        shown = warnings.showwarning
        warnings.showwarning = lambda message, category, *rest: (
            warn(str(message)) if issubclass(category, InputWarning) else shown(message, category, *rest))
        try:
            return fn(*args, **kwargs)
        except BoilerclfError as e:
            fail(str(e), exit_code)


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
    """The labels given, repeated or comma-separated (`--keep content,promo`, as people type them)."""
    labels = [k.strip() for value in keep for k in value.split(",") if k.strip()]
    bad = [k for k in labels if k not in LABELS]
    if bad or not labels:
        fail(f"unknown label(s) {', '.join(bad) or repr(','.join(keep))} for --keep: choose from {', '.join(LABELS)}")
    return tuple(dict.fromkeys(labels))


def _table(title: str, *columns: str) -> Table:
    """A table whose first column names the rows, the others holding figures (right-aligned)."""
    table = Table(title=title)
    table.add_column(columns[0])
    for column in columns[1:]:
        table.add_column(column, justify="right")
    return table


def _print_scores(cv: dict, title: str) -> None:
    table = _table(title, "label", "precision", "recall", "F1", "support")
    for label, s in cv["per_label"].items():
        table.add_row(label, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
    table.add_row("macro", "", "", f"{cv['macro_f1']:.3f}", "")
    _print_table(table)
    matrix = _table("Confusion matrix (rows: true label, columns: predicted)", "", *LABELS)
    for label, row in zip(LABELS, cv["confusion"]):
        matrix.add_row(label, *map(str, row))
    _print_table(matrix)


def _print_table(table: Table) -> None:
    """Print a table of results. Saved or piped, there is no terminal to fit: print it whole,
    where rich would cut it to 80 columns and page names with it."""
    (out if out.is_terminal else _Console(highlight=False, width=1_000_000)).print(table)


def _print_cv(cv: dict) -> None:
    _print_scores(cv, f"Cross-validation grouped by {cv['grouped_by']} ({cv['folds']} folds)")
    parts = [f"{name}: {cv[key]['macro_f1']:.3f}" for name, key in
             (("without the context stage", "without_context"), ("HTML blocks", "html_blocks"),
              ("text-only views", "text_blocks"), ("extracts", "extract_blocks")) if cv.get(key)]
    out.print("macro F1 " + "; ".join(parts))


@app.command()
def train(data: List[Path] = typer.Argument(..., help=f"Labelled pages or folders of them (walked recursively; "
                                            f"{SUFFIXES}): HTML with `data-label` attributes, or .txt files of "
                                            "`label<TAB>text` lines. A `pages.jsonl` manifest in a folder gives each "
                                            "file's url and site.", metavar="DATA..."),
          output: Path = typer.Option(..., "--output", "-o", help="Where to write the model: a .boilerclf file (a zip "
                                      "of meta.json and the estimators in skops format). An existing model there is "
                                      "replaced; any other existing file is refused."),
          folds: int = typer.Option(5, min=0, help="Cross-validation folds, grouped by site (at least as many sites "
                                    "or, failing that, pages as folds); 0 skips cross-validation."),
          jobs: int = typer.Option(1, "--jobs", "-j", min=0, help="Processes for cross-validation (0: one per CPU "
                                   "this process may use)."),
          text_views: bool = typer.Option(True, help="Also train on text-only views of HTML pages, so the model "
                                          "works on plain-text input: each page's whole text and, for every other page, "
                                          "the span from its first content block to its last, as an extractor's output "
                                          "shows it."),
          context: bool = typer.Option(True, help="Train the second stage, which revises each block's label with "
                                       "its neighbours' (+0.041 macro F1 on the shipped data); it learns from the out-of-fold "
                                       "predictions of the --folds folds (3 with --folds 0), so it needs at least as "
                                       "many labelled pages."),
          as_json: bool = typer.Option(False, "--json", help="Print the cross-validation scores as one JSON object "
                                       "(null with --folds 0, which skips them, as in the model card)."),
          ) -> None:
    """Train a block classifier on labelled pages and save it.

    A block takes the label of its nearest ancestor-or-self with a `data-label` attribute
    (content, promo, subscription or navigation); unlabelled blocks are not trained on and
    are counted. Label all four kinds: the model can only predict labels it was shown.

    The scores come from cross-validation grouped by site (a site is never in both a
    training and a test fold), so they estimate accuracy on sites the model has not seen;
    they are printed and saved in the model (`boilerclf info`). Per label: precision (of
    the blocks given that label, the share that had it), recall (of the blocks that had it,
    the share found), F1 (their harmonic mean); macro is the mean F1 over the labels that occur.

    Time and memory: about 40 s of CPU per 100 labelled pages; the shipped model's 593 pages
    take 3-4 minutes with -j 2 on two cores and 1.8 GB.
    """
    if folds == 1:
        fail("--folds 1 cannot cross-validate: give 0 (no cross-validation) or 2 or more")
    output = output.expanduser()  # as `Model.save` and every --model take it: one quoted has no shell to expand it
    _check_replaceable(output)
    _check_writable(output.parent)
    files = _page_files(data, "labelled pages")
    with _progress() as progress:
        task = progress.add_task("reading", total=len(files))
        pages = guard(read_pages, files, progress=lambda _: progress.advance(task), exit_code=1)
    _warn_unlabelled_pages(pages)
    from joblib import cpu_count  # --jobs 0: the CPUs this process may use, as in clean

    from .model import train as train_model

    try:
        with err.status("training", spinner="dots") as status:
            model = guard(train_model, pages, cv_folds=folds, n_jobs=jobs or cpu_count(), text_views=text_views,
                          context=context, progress=lambda stage: status.update(escape(stage)))
            status.update("saving")
        model.save(output)  # whole or not at all
    except KeyboardInterrupt:
        err.print(escape(f"interrupted: the model was not written ({output} is as it was)"))
        raise typer.Exit(130)
    info = model.meta["data"]
    # text views are made of HTML pages only: a set of text pages has none
    html = info["text_views"] and any(p.tree is not None for p in pages)
    views = " (HTML pages, their text and extracts)" if html else ""
    err.print(f"{_many(info['pages'], 'page')} from {_many(info['sites'], 'site')}; labelled blocks per label{views}: "
              f"{_counts(info['blocks_per_label'])}; unlabelled blocks: {info['unlabelled_blocks']}")
    if as_json:
        print(to_json(model.meta["cv"], indent=1))  # null without cross-validation: `{}` read as scores with none in them
    elif model.meta["cv"]:
        _print_cv(model.meta["cv"])
    by_site = bool(model.meta["cv"]) and model.meta["cv"]["grouped_by"] == "site"
    if model.meta["cv"] and not by_site:
        warn(f"fewer sites than the {folds} folds, so the folds are grouped by page: pages of one site may sit "
             "on both sides, and these scores are optimistic. Give each page's site in pages.jsonl, or use fewer "
             "--folds.")
    _warn_thin_labels(pages, folds if by_site else 0)
    err.print(escape(f"saved {output}"))


def _page_files(data: List[Path], what: str = "inputs") -> list[Path]:
    """The page files under `data`, found once and handed on, so that reading them walks no folder
    again: none, or a path that does not exist, is a usage error (exit 2); a page that cannot be
    read comes after, and is a failure (exit 1)."""
    files = guard(lambda: [path for path, _ in page_files(data)])
    if not files:
        fail(f"no {what} ({SUFFIXES}) in " + ", ".join(map(str, data)))
    return files


def _check_replaceable(output: Path) -> None:
    """Refuse a folder, anything but a model to overwrite (`-o` typed before a glob of pages, a
    page's own path), and a name that a later training run would read as a page."""
    from .card import read_meta

    try:
        exists, folder = output.exists(), output.is_dir()
    except OSError as e:  # a name too long
        fail(f"cannot write the model to {output}: {e.strerror or e}")
    if folder:
        fail(f"{output} is a folder: give the model file's path, e.g. {output / 'model.boilerclf'}")
    if exists:
        try:
            read_meta(output)
        except BoilerclfError:
            fail(f"{output} exists and is not a boilerclf model: refusing to replace it (remove it first, or give "
                 "another --output)")
    if output.name.lower().endswith((*PAGE_SUFFIXES, ".jsonl")):
        fail(f"{output} is named as a page or manifest, which `train` would later read as one: give the model "
             "a name such as model.boilerclf")


def _warn_unlabelled_pages(pages: list[Page]) -> None:
    """Say which pages have no labelled block: raw pages mixed in among labelled ones count
    in the page and site figures but give nothing to learn or score."""
    bare = [page.source for page in pages if not any(block.label for block in page.blocks)]
    if bare:
        warn(f"{len(bare)} of {_many(len(pages), 'page')} {'has' if len(bare) == 1 else 'have'} no labelled block and "
             f"count{'s' if len(bare) == 1 else ''} for nothing (e.g. "
             f"{', '.join(bare[:3])}): label them (`boilerclf label` pre-fills), or leave them out")


def _warn_thin_labels(pages: list[Page], folds: int) -> None:
    """Say which labels the model will never predict, or will be scored on in only a few folds."""
    from .model import site_group

    sites: dict[str, set] = {label: set() for label in LABELS}
    for page in pages:
        for block in page.blocks:
            if block.label:
                sites[block.label].add(site_group(page))
    for label, found in sites.items():
        if not found:
            warn(f"no block is labelled {label}: the model will never predict it")
        elif folds and len(found) < folds:
            warn(f"{label} blocks come from only {_many(len(found), 'site')}, fewer than the {folds} folds: some "
                 "folds have none, and its scores are rough")


@app.command()
def evaluate(data: List[Path] = typer.Argument(..., help="Labelled pages or folders of them, that the model was "
                                               "not trained on.", metavar="DATA..."),
             model: Optional[Path] = MODEL_OPTION,
             text_views: bool = typer.Option(False, help="Also score the text-only views of HTML pages."),
             worst: int = typer.Option(10, min=0, help="How many of the worst pages to list, by the share of their "
                                       "labelled blocks right (0: none)."),
             as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
             ) -> None:
    """Score a model on labelled pages: per-label precision, recall, F1, support, the
    confusion matrix, and the worst pages (lowest share of their labelled blocks right).

    Only blocks with a gold label count. Use pages from sites the model has not seen
    for an honest figure.
    """
    from .evaluate import evaluate as run

    files = _page_files(data)
    clf = _model(model)
    pages = guard(read_pages, files, exit_code=1)
    _warn_unlabelled_pages(pages)
    result = guard(run, clf, pages, text_views=text_views, worst=worst)
    if as_json:
        print(to_json(result, indent=1))
        return
    _print_scores(result, _many(result["pages"], "page") + (" and their text-only views" if text_views else ""))
    if result["worst_pages"]:  # --worst 0: no empty table
        table = _table("Worst pages", "page", "blocks", "errors", "accuracy")
        for row in result["worst_pages"]:
            table.add_row(escape(row["page"]), str(row["blocks"]), str(row["errors"]), f"{row['accuracy']:.3f}")
        _print_table(table)


@app.command()
def predict(pages: List[Path] = typer.Argument(..., metavar="PAGE...", help=INPUTS_HELP),
            model: Optional[Path] = MODEL_OPTION) -> None:
    """Print one JSON line per block to stdout: page, index, label, probabilities, text.

    PAGE can be a file, a folder, a quoted glob pattern (`'crawl/**/*.html'`), or `-` to
    read a list of paths, one per line, from stdin (not a page). A page with no visible
    text prints nothing and is no failure.

    The `label` field is the one with the highest `proba`, except on a page where no block
    would be content: its blocks with at least half the page's highest content probability
    are labelled content, so that every page keeps its main text.

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
            sys.stdout.write(to_json({"page": str(source.path), "index": b.index, "label": b.label,
                                      "proba": b.proba, "text": b.text}) + "\n")
    raise typer.Exit(1 if failed else 0)


@app.command()
def clean(inputs: List[str] = typer.Argument(..., help=f"Page files ({SUFFIXES}), folders "
                                             "(walked recursively), glob patterns, WARC/WARC.gz archives, JSONL files "
                                             "with one {\"url\", \"html\"} (or {\"url\", \"text\"}, plain text) object "
                                             "per line, or - to read a list of inputs from stdin.", metavar="INPUT..."),
          outdir: Path = typer.Option(..., "--output", "-o", help="Folder for the outputs; input names and subfolders "
                                      "are mirrored, with the format's suffix. WARC and JSONL inputs give one .jsonl "
                                      "per archive, a line per record keyed by record id or url, with its position "
                                      "in the archive (lines may come out of order with several jobs)."),
          keep: List[str] = typer.Option(["content"], help="Labels whose blocks survive (content, promo, subscription, navigation); "
                                 "repeat for several, or separate them by commas."),
          fmt: str = typer.Option("text", "--format", "-f", help="text: kept blocks, one per line (code in a `<pre>` keeps its line breaks and indentation, unless a `<br>` or a hidden or block element inside it splits it). html: the page "
                                  "with the other blocks' elements removed, structure kept. jsonl: one record per page "
                                  "with the kept text, the text of each other label, and every block's label and "
                                  "probabilities."),
          model: Optional[Path] = MODEL_OPTION,
          jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Worker processes (0: one per CPU this process may use). Each gets the model "
                                   "once; results stream back, so memory stays flat. An archive's records are "
                                   "spread over all of them."),
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
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: choose from {', '.join(FORMATS)}")
    if backend not in (None, "dask"):
        fail(f"unknown --backend {backend!r}: the only one is dask")
    if backend == "dask":
        try:  # not in a plain install: say so before any work, rather than a traceback once the pages are found
            importlib.import_module("distributed")
        except ImportError:
            fail("--backend dask needs Dask, which a plain install lacks: pip install 'boilerclf[dask]'")
    if scheduler and backend is None:
        fail("--scheduler is the address of a Dask scheduler: add --backend dask")
    settings = batch.Settings(outdir=outdir, fmt=fmt, keep=_keep(keep), model_path=str(model) if model else None,
                              max_bytes=max_bytes, timeout=timeout)
    with _sigterm_interrupts(), contextlib.ExitStack() as stack:
        found, missing = _sources(inputs, outdir, pages_only=False)

        def output_of(source: Source) -> Path:
            return source.output(outdir, SUFFIX[fmt])

        todo = _todo(found, output_of, outdir, overwrite)
        archives = sum(s.kind != "page" for s in found)
        if archives and fmt != "jsonl":
            warn(f"{_many(archives, 'WARC/JSONL archive')}: each is written as one .jsonl file, a record per line, "
                 f"whatever --format says (--format {fmt} applies to the page files)")
        _check_writable(outdir)
        guard(stack.enter_context, batch.folder_lock(outdir))
        from joblib import cpu_count  # --jobs 0: the CPUs this process may use (affinity, a container's quota)

        n_jobs = min(jobs or cpu_count(), max(batch.task_count(todo), 1))  # no idle workers to start
        # fail fast on a bad model: local workers load it themselves, from a copy of the file whose
        # card is checked here (the path may get another model during the run), so here its card is enough
        clf: Optional[Model] = None
        if n_jobs > 1 and backend is None:
            stack.enter_context(batch.forked_workers())
            copy, meta = guard(stack.enter_context, batch.model_file(settings.model_path))
            settings = dataclasses.replace(settings, model_copy=copy)
            known = meta.get("labels")
            if not isinstance(known, list):  # a hand-made or older card: the model itself knows
                known = guard(batch.load_copy, copy, settings.model_path).labels
        else:
            clf = _model(model)
            meta, known = clf.meta, clf.labels
        unknown = [k for k in settings.keep if k not in known]
        if unknown:
            warn(f"the model was trained without {', '.join(unknown)} blocks and never gives that label")
        data = meta.get("data")  # a hand-made or older card's may be null, or anything
        made_by = f"the model trained {meta.get('trained_at')} on data {data.get('fingerprint') if isinstance(data, dict) else None}"
        # an archive's output is jsonl whatever --format says: made with a --format text run's options, it was
        # kept by a later --format html run with another --keep, its records then disagreeing with the pages'
        formats = list(dict.fromkeys([fmt, *(["jsonl"] if archives else [])]))
        guard(batch.check_options, outdir, formats, {"keep": ",".join(sorted(settings.keep)), "model": made_by},
              redo=len(todo) == len(found), outputs=[output_of(s) for s in found])
        pages = skipped = 0
        failures = [{"source": os.path.abspath(path), "record": None, "position": None,
                     "reason": "no such file or folder"} for path in missing]
        labels: dict[str, int] = {}
        redone: set[str] = set()  # the inputs this run gave a result for, by absolute path as results name them
        pages_todo = {os.path.abspath(s.path): s for s in todo if s.kind == "page"}

        def done() -> list[Source]:
            """The inputs whose earlier failures still hold: archives finished before (an output) and not redone,
            which with --overwrite stopped early are some of those it was to redo. Not page files: a failure
            of one with an output came from another --format's run, and made a clean rerun exit 1."""
            return [s for s in found if os.path.abspath(s.path) not in redone and output_of(s).exists()
                    and s.kind != "page"]  # a page file's output and a failure of it cannot both hold (see below)

        # those of a run killed outright (with --overwrite: of done ones too), its errors and options files' too
        batch.remove_temporary([outdir / batch.ERRORS_FILE, outdir / batch.RUN_FILE, *map(output_of, found)])
        _write_errors(outdir, failures, done())  # the earlier failures that still hold; this run's are added as they come
        start = time.monotonic()
        try:
            with _progress(TextColumn("{task.fields[rate]}")) as progress:
                task = progress.add_task("cleaning", total=len(todo), rate="")
                labelled = 0

                def progressed(n: int) -> None:  # pages, archives' records too: a big archive is one input for long
                    nonlocal labelled
                    labelled += n
                    progress.update(task, rate=f"{_many(labelled, 'page')}, "
                                               f"{labelled / max(time.monotonic() - start, 1e-9):.1f} pages/s")

                for result in batch.run(todo, settings, n_jobs=n_jobs, backend=backend,
                                        scheduler=scheduler, model=clf, on_pages=progressed):
                    redone.add(result.source)
                    pages += result.pages
                    skipped += result.skipped
                    for label, count in result.labels.items():
                        labels[label] = labels.get(label, 0) + count
                    for failure in result.failures:
                        failures.append(failure)
                        batch.append_error(outdir, failure)
                        report_failure(failure["source"] + (f" [{failure['record']}]" if failure["record"] else ""),
                                       failure["reason"])
                    if overwrite and result.failures and result.source in pages_todo:
                        # its redo failed: the old output, made with the options this run replaced, would be kept
                        # by every resume with nothing saying so; gone, the next run tries the page again
                        with contextlib.suppress(OSError):
                            output_of(pages_todo[result.source]).unlink()
                    progress.advance(task)
        except (ModelError, batch.SchedulerError) as e:  # a damaged model file (read whole by a worker), no scheduler
            fail(str(e))
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: how far it got, and how to go on
            err.print(escape(f"interrupted: cleaned {_many(pages, 'page')} from {len(redone):,} of "
                             f"{_many(len(todo), 'input')} ({len(failures)} failed); rerun the same command to go on: "
                             "it skips the finished outputs"))
            raise typer.Exit(130) from None
        finally:  # an interrupted run still lists what failed in the archives it finished
            batch.remove_temporary(map(output_of, todo))  # those of the pages its stopped workers were writing
            listed = _write_errors(outdir, failures, done())
    elapsed = time.monotonic() - start
    earlier = f", plus {_many(listed - len(failures), 'earlier failure')} in archives already done" if listed > len(failures) else ""
    err.print(escape(f"cleaned {_many(pages, 'page')} from {_many(len(todo), 'input')} into {outdir} in {elapsed:.1f} s "
                     f"({pages / max(elapsed, 1e-9):.1f} pages/s); skipped {_many(len(found) - len(todo), 'input')} already "
                     f"done (--overwrite redoes them) and {_many(skipped, 'archive record')} that are not pages; {len(failures)} failed"
                     + earlier + (f" (see {outdir / batch.ERRORS_FILE})" if listed else "")
                     + f"; blocks per label: {_counts(labels) or 'none'}"))
    raise typer.Exit(1 if listed else 0)


def _write_errors(outdir: Path, failures: list[dict], done: list[Source]) -> int:
    """`batch.write_errors`, with a file that cannot be written (a full disk) reported in one line: the
    failures were printed as they came, and the summary of a night's run must not give way to a traceback."""
    try:
        return batch.write_errors(outdir, failures, done)
    except OSError as e:
        report_failure(outdir / batch.ERRORS_FILE, f"cannot write the errors file: {e.strerror or e}")
        return max(len(failures), 1)


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
def label(pages: List[Path] = typer.Argument(..., metavar="PAGE...", help=INPUTS_HELP),
          outdir: Path = typer.Option(..., "--output", "-o", help="Folder for the pre-labelled pages (names and "
                                      "subfolders mirrored; HTML pages become .html, text pages .txt)."),
          model: Optional[Path] = MODEL_OPTION,
          overwrite: bool = typer.Option(False, help="Replace pre-labelled pages that exist in the output folder "
                                         "(default: keep them, with the corrections made to them)."),
          ) -> None:
    """Pre-label pages with the model, for a person to correct and then train on.

    HTML pages are written as UTF-8 HTML with a `data-label` attribute on the element
    that owns each block; text pages as `label<TAB>text` lines. An element holds one
    label: where it owns several blocks (text split by `<br>`, an inline promo in a
    paragraph) it gets the label of most of its text, and a warning lists the blocks that
    got another label than predicted. Review pages with `boilerclf show` and fix them with
    `boilerclf relabel` (a text page's `label<TAB>text` lines in any editor). Pages already
    in the output folder are left as they are, so corrections are never overwritten. The pages' entries in `pages.jsonl`
    manifests (site, url) are added to the output folder's `pages.jsonl` under the copies'
    names, so that `train` groups them by the same sites, with a `labelling` that says their
    labels are the model's.

    A page that cannot be read is reported on stderr and the others go on; the exit
    status is 1 if any page failed.
    """
    found, missing = _sources(pages, outdir)

    def output_of(source: Source) -> Path:
        return source.output(outdir, ".txt" if labelled.is_text_path(source.path) else ".html")

    todo = _todo(found, output_of, outdir, overwrite)
    _check_writable(outdir)
    # the pages' manifest entries (site, url, language) follow them to their renamed copies, else `train`
    # on the copies grouped them by URL domain or file name, not the sites the user gave (see `extend_manifest`)
    manifests: dict = {}
    entries = guard(lambda: [(s, entry) for s in found if (entry := entry_of(s.path, manifests))])
    guard(read_manifest, outdir)  # an existing one that cannot be extended fails now, not after the work
    clf = _model(model)
    failed = len(missing)

    def work(source: Source) -> list[int]:
        page = clf.predict_pages([read_page(source.path)])[0]
        predicted = [b.label for b in page.blocks]
        labelled.clear_labels(page)
        outvoted = labelled.apply_labels(page, predicted)
        labelled.write_labelled(output_of(source), page)
        return outvoted

    with _progress() as progress:
        task = progress.add_task("labelling", total=len(todo))
        for source in todo:
            outvoted, reason = batch.attempt(work, source)
            progress.advance(task)
            if reason is not None:
                failed += 1
                report_failure(source.path, reason)
            elif outvoted:
                warn(f"{source.path}: {_some_blocks(outvoted)} took another label than predicted: that of most of "
                     "their element's text")
    # the copies' labels are the model's: an entry's `labelling` (training_data's: "every block read and
    # corrected by an annotator") no longer says how they were made
    made = f"pre-labelled by `boilerclf label` with {model or 'the shipped model'}; not yet checked"
    carried = [{**entry, "file": output_of(s).relative_to(outdir).as_posix(), "labelling": made}
               for s, entry in entries if output_of(s).is_file()]
    added = guard(extend_manifest, outdir, carried, exit_code=1) if carried else 0
    err.print(escape(f"labelled {_many(len(todo) + len(missing) - failed, 'page')} into {outdir}, {failed} failed; kept "
                     f"{len(found) - len(todo)} already there (--overwrite replaces them)"
                     + (f"; listed the manifest entries (site, url) of {_many(added, 'page')} in {outdir / MANIFEST}"
                        if added else "")))
    raise typer.Exit(1 if failed else 0)


@app.command()
def info(model: Optional[Path] = typer.Argument(None, metavar="[MODEL]",
                                                help="A model file (default: the shipped model)."),
         as_json: bool = typer.Option(False, "--json", help="Print the whole model card as JSON."),
         ) -> None:
    """Print a model's card: labels, versions, training data, cross-validated scores.

    Reads only the model's metadata, so it also works on a model that this installation
    cannot load, and says why it cannot.
    """
    from .card import DEFAULT_MODEL, check_compatible, read_meta

    path = model or DEFAULT_MODEL
    meta = guard(read_meta, path)
    if as_json:
        print(to_json(meta, indent=1))
        return
    out = _Console(highlight=False, markup=False)
    out.print(_card(path, meta))
    try:
        check_compatible(meta, path)
        out.print("compatible with this installation: yes")
    except BoilerclfError as e:
        out.print(f"compatible with this installation: no. {e}")
    if meta.get("cv"):
        try:
            _print_cv(meta["cv"])
        except (KeyError, TypeError, AttributeError, ValueError):  # a hand-made or damaged card
            out.print(f"cross-validation: {json.dumps(meta['cv'])[:500]}")
    elif "cv" in meta:  # else a model trained with --folds 0 looked like one whose scores were lost
        out.print("cross-validation: none (trained with --folds 0)")


def _card(path: Path, meta: dict) -> str:
    """The model card, a line per field it has: a hand-made or older `meta.json` may lack some."""
    data: Any = meta.get("data")
    labels, versions, context = meta.get("labels"), meta.get("versions"), meta.get("context")
    training: object
    try:
        training = (f"{_many(data['pages'], 'page')} from {_many(data['sites'], 'site')}, fingerprint {data['fingerprint']}, "
                    f"blocks per label {_counts(data['blocks_per_label'])}, unlabelled {data['unlabelled_blocks']}")
    except (KeyError, TypeError, AttributeError):
        training = data  # as it is
    fields = {"trained": meta.get("trained_at"),
              "labels": ", ".join(map(str, labels)) if isinstance(labels, list) else labels,
              "feature extractor version": meta.get("features_version"),
              "versions": ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) else versions,
              "training data": training,
              "context stage": ("yes" if context else "no (trained with --no-context)") if isinstance(context, bool) else context}
    return "\n".join([f"model: {path}"] + [f"{name}: {value}" for name, value in fields.items() if value is not None])


@app.command()
def stats(data: List[Path] = typer.Argument(..., metavar="DATA...", help="Labelled pages or folders of them."),
          as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
          ) -> None:
    """Count what a labelled set covers: pages, sites, languages, blocks per label and language.

    Languages and source corpora come from each folder's `pages.jsonl` manifest; a page it
    gives no language is counted in no language. Sites are those `train` groups by: the
    manifest's, else the registrable domain of the page's URL, else its file name.
    """
    files = _page_files(data)
    counts = guard(dataset_stats, files, exit_code=1)
    if as_json:
        print(to_json(counts, indent=1))
        return
    out = _Console(highlight=False, markup=False)
    without = counts["pages_without_language"]
    out.print(f"{_many(counts['pages'], 'page')}, {_many(counts['sites'], 'site')}, {_many(counts['languages'], 'language')}"
              + (f" ({_many(without, 'page')} with none in a manifest)" if without else "")
              + f", {_many(counts['unlabelled_blocks'], 'unlabelled block')}; pages per corpus: "
              + _counts(counts["pages_per_corpus"]))
    table = _table("Pages and labelled blocks per language", "language", "pages", *LABELS)
    rows = [("all", counts["pages"], counts["blocks_per_label"]), ("sites", "", counts["sites_per_label"]),
            *((language, counts["pages_per_language"][language], per_label)
              for language, per_label in counts["blocks_per_language"].items())]
    for name, pages, per_label in rows:
        table.add_row(name, str(pages), *(str(per_label.get(label, 0)) for label in LABELS))
    out.print(table)


@app.command()
def show(page: Path = typer.Argument(..., metavar="PAGE", help="A labelled page (.html with data-label, or a .txt "
                                     "of `label<TAB>text` lines)."),
         width: int = typer.Option(160, min=0, help="Cut each block's text to this many characters (0: never)."),
         ) -> None:
    """Print a labelled page's blocks, one per line: index, label, tag, text.

    Use it to review labels before correcting them with `boilerclf relabel`.
    Unlabelled blocks show as `-`.
    """
    doc = _read_labelled(page)
    out = _Console(highlight=False, soft_wrap=True)
    for b in doc.blocks:
        text = b.text if not width or len(b.text) <= width else b.text[: width - 1] + "…"
        out.print(f"{b.index:4d} [{_COLOURS[b.label]}]{b.label or '-':12s}[/] {b.tag:8s} ", end="", markup=True)
        out.print(text, markup=False)


def _read_labelled(page: Path) -> Page:
    """The labelled page a command names: a path that does not exist or is a folder is a usage
    error (exit 2), a file that cannot be read or is no page a failure (1), named in the message."""
    if not os.path.lexists(page) or page.is_dir():
        fail(f"{page} is a folder: give one page" if page.is_dir() else f"no such file: {page}")
    return guard(read_named, page, exit_code=1)


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?=(\w+)$")


@app.command()
def relabel(page: Path = typer.Argument(..., metavar="PAGE",
                                        help="The labelled .html (or .html.gz) page to edit in place."),
            changes: List[str] = typer.Argument(..., help="START[-END]=LABEL, block indices as `show` prints them, "
                                                "e.g. 0-12=navigation 40=subscription.", metavar="CHANGE..."),
            ) -> None:
    """Correct labels of blocks by index, writing `data-label` on the elements that own them.

    An element holds one label, so blocks that share one (text split by `<br>`, an inline
    promo in a paragraph) get the label of most of its text. Labelled blocks inside a
    relabelled element keep their labels; unlabelled ones inherit its label, since a
    `data-label` covers everything inside it. A warning lists the blocks of either kind
    (relabel them if that is wrong). The page is rewritten whole, as UTF-8, gzipped if it
    was a `.gz`.

    Changes apply in order, so a later range wins where it overlaps an earlier one
    (`0-20=navigation 5=content`). A block cannot be set back to unlabelled: remove the
    `data-label` that covers it in an editor.
    """
    if labelled.is_text_path(page):
        fail("relabel edits HTML pages; edit a label<TAB>text page in a text editor")
    if page.name.lower().endswith((".xhtml", ".xhtml.gz")):
        fail(f"relabel writes pages as HTML, which would leave {page} no longer XHTML (a browser reads .xhtml as "
             "XML): save it as .html, as `boilerclf label` does, and relabel that")
    doc = _read_labelled(page)
    if not doc.blocks:
        fail(f"{page} has no blocks (no visible text) to relabel")
    new = [b.label for b in doc.blocks]
    for change in changes:
        m = _RANGE.match(change)
        if m is None or m.group(3) not in LABELS:
            fail(f"bad change {change!r}: expected START[-END]=LABEL with LABEL one of {', '.join(LABELS)}")
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        if start > end:
            fail(f"bad range {change!r}: it is reversed, write {end}-{start}={m.group(3)}")
        if end >= len(new):
            fail(f"bad range {change!r}: the page has blocks 0-{len(new) - 1}")
        new[start:end + 1] = [m.group(3)] * (end - start + 1)
    changed = labelled.apply_labels(doc, new)
    try:
        labelled.write_labelled(page, doc, through_links=True)  # edited in place: a link's target
    except OSError as e:
        fail(f"cannot write {page}: {e.strerror or e}", exit_code=1)
    outvoted = [i for i in changed if new[i]]
    if outvoted:
        warn(f"{_some_blocks(outvoted)} took another label than asked: that of most of their element's text")
    inheriting = [i for i in changed if not new[i]]
    if inheriting:
        warn(f"{_some_blocks(inheriting)} had no label and inherited the label of a relabelled element around them")
    err.print(escape(f"relabelled {page}"))
