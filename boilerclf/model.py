"""Stage 4: the model — a scikit-learn `Pipeline` from blocks to labels, with its metadata.

Training fits `BlockFeatures → SGDClassifier` (log-loss) on labelled blocks of HTML pages
and of their text-only views, then the `context` stage on out-of-fold probabilities;
cross-validation is grouped by site. `Model` wraps the fitted
pipeline with the metadata it was saved with and the page-level calls of the API.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import contextlib
import io
import threading
import warnings
import zipfile

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, PredefinedSplit, cross_val_predict
from sklearn.pipeline import Pipeline

from . import cache
from .batch import write_atomic
from .context import ContextClassifier, decide
from .dataset import EXTRACT, fingerprint, with_text_views
from .card import ESTIMATORS, FEATURES_VERSION, FORMAT, MANIFEST, library_versions, model_path, read_card
from .features import BlockFeatures
from .page import LABELS, Block, ModelError, Page
from .render import kept_labels, output_text, to_json
from .segment import segment, site_of

#: the only non-scikit-learn types a model file may contain
OWN_TYPES = frozenset({"boilerclf.features.BlockFeatures", "boilerclf.context.ContextClassifier",
                       # scikit-learn's own tree node arrays, which skops does not list as trusted
                       "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"})


def build_pipeline() -> Pipeline:
    """The first stage: features, then a linear classifier trained by SGD on log-loss.

    SGD fits hundreds of thousands of blocks in seconds and gives probabilities; it scored
    like LogisticRegression (lbfgs, saga) in grouped cross-validation at a fraction of the time.
    """
    return Pipeline([
        ("features", BlockFeatures()),
        ("classifier", SGDClassifier(loss="log_loss", alpha=1e-5, class_weight="balanced", max_iter=30, tol=None,
                                     random_state=0)),
    ])


def site_group(page: Page) -> str:
    """The cross-validation group of a page: its site as given, else its URL's registrable domain,
    else its file (a text or extract view's being its page's, so that they share its fold)."""
    return page.site or site_of(page.url) or (page.view_of or page).source


def training_set(pages: Sequence[Page], text_views: bool = True) -> tuple[list[Block], list[str], list[str], int]:
    """Labelled blocks, labels, site groups, and the count of unlabelled blocks."""
    views = with_text_views(pages, text_views, extracts=True)  # extracts: trained on, scored apart (see `train`)
    blocks = [b for view in views for b in view.blocks if b.label]
    labels = [str(b.label) for b in blocks]
    unlabelled = sum(b.label is None for page in pages for b in page.blocks)
    site = {id(page): site_group(page) for page in views}
    groups = [site[id(b.page)] if b.page else "" for b in blocks]
    return blocks, labels, groups, unlabelled


def scores(y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray) -> dict:
    """Per-label precision/recall/F1/support, macro F1 and the confusion matrix (rows: truth)."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    # macro over the labels that occur (in truth or predictions): a label absent from both says nothing
    predicted = set(np.asarray(y_pred).tolist())
    present = [i for i, lab in enumerate(LABELS) if s[i] or lab in predicted]
    return {
        "per_label": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                            "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(LABELS)},
        "macro_f1": round(float(np.mean(f[present])) if present else 0.0, 4),
        "macro_labels": [LABELS[i] for i in present],
        "accuracy": round(float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), 4),
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def _page_ids(blocks: Sequence[Block], views_together: bool = False) -> np.ndarray:
    """A page number per block; with `views_together`, the same for a page and its text view, so
    that folds grouped by page never hold a page's text on one side and its HTML on the other.
    A block without a page is a page of its own, as the features take it: the context stage took
    all such blocks for one page, so that a lone block's label hung on the others given with it."""
    ids: dict[int, int] = {}
    if views_together:
        return np.asarray([ids.setdefault(id((b.page.view_of or b.page) if b.page else b), len(ids))
                           for b in blocks])
    return np.asarray([ids.setdefault(id(b.page or b), len(ids)) for b in blocks])


def _folds(groups: Sequence[str], blocks: Sequence[Block], folds: int, why: str = "") -> tuple[PredefinedSplit, str]:
    """Group by site; with fewer sites than folds, by page (and say so in the scores).

    The folds are made from the pages' own blocks (HTML and whole text) and extracts follow their
    page: a partial copy of half the pages must not move sites between folds.
    """
    if len(set(groups)) >= folds:
        by, grouped_by = np.asarray(groups), "site"
    else:
        by, grouped_by = _page_ids(blocks, views_together=True), "page"
        n_pages = len(set(by.tolist()))
        if n_pages < folds:
            raise ModelError(f"{folds}-fold cross-validation{why} needs at least {folds} labelled pages; these are "
                             f"{n_pages} page{'' if n_pages == 1 else 's'}: "
                             + (f"use {n_pages} folds" if n_pages >= 2 and not why else "label more pages"))
    own = by[~_extracts(blocks)]
    fold_of = {}
    for fold, (_, test) in enumerate(GroupKFold(folds).split(own, groups=own)):
        fold_of.update(dict.fromkeys(own[test].tolist(), fold))
    return PredefinedSplit([fold_of[group] for group in by.tolist()]), grouped_by


def _extracts(blocks: Sequence[Block]) -> np.ndarray:
    """Whether each block comes from an extract view (`dataset.extract_view`)."""
    return np.asarray([b.page is not None and b.page.source.endswith(EXTRACT) for b in blocks], dtype=bool)


def _check_folds(splitter: PredefinedSplit, y: np.ndarray, blocks: Sequence[Block], why: str) -> None:
    """Refuse folds whose training part has one label, which scikit-learn cannot fit (a traceback):
    a page labelled only in part (its menu), with the other labels on the pages held out."""
    for train_idx, test_idx in splitter.split(y, y):
        if len(set(y[train_idx].tolist())) < 2:
            pages = {(b.page.view_of or b.page).source for i in test_idx if (b := blocks[i]).page}
            raise ModelError(f"{splitter.get_n_splits()}-fold cross-validation{why} cannot train on the pages other "
                             f"than {', '.join(sorted(pages)[:3])}{', …' if len(pages) > 3 else ''}: they have only "
                             f"{y[train_idx][0]} blocks. Label the other kinds of blocks on more pages")


@dataclass(frozen=True, eq=False)
class Model:
    """The fitted first-stage pipeline, the context stage, and the metadata saved with them.

    Immutable and never written to after training, so one instance serves many threads.
    Compared and hashed by identity (its `meta` is a dict), so models go in sets and caches.
    """

    pipeline: Pipeline
    context: Optional[ContextClassifier] = None
    meta: dict = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The labels this model was trained on and can predict: some of `LABELS`, or all of them."""
        return [str(c) for c in self.pipeline.classes_]

    def predict_proba(self, blocks: Sequence[Block]) -> np.ndarray:
        """Class probabilities (columns: `labels`) of blocks given in page order."""
        if isinstance(blocks, Page):  # else "object of type 'Page' has no len()"
            raise TypeError("takes a page's blocks, not a Page: page.blocks, or predict_pages([page]) to label it")
        if not len(blocks):  # a page with no text: no rows, rather than scikit-learn's error
            return np.zeros((0, len(self.labels)))
        features = self.pipeline[:-1].transform(blocks)
        probas = self.pipeline[-1].predict_proba(features)
        if self.context is not None:
            probas = self.context.predict_proba(probas, _page_ids(blocks), self.features.dense(features))
        return probas

    def predict(self, blocks: Sequence[Block]) -> list[str]:
        """Labels of blocks given in page order (see `context.decide`)."""
        labels = self.labels
        return [labels[i] for i in decide(self.predict_proba(blocks), _page_ids(blocks), labels)]

    def predict_pages(self, pages: Iterable[Page]) -> list[Page]:
        """Fill `label` and `proba` of every block of the pages, in one call to the pipeline.

        `proba` has every label of `LABELS`, 0.0 for those the model was not trained on, so
        that code written for one model runs with another.
        """
        pages = list(pages)
        _check_pages(pages, "predict_pages takes Pages", "make them with boilerclf.segment(html), or call classify_many")
        # each page once: a page given twice went through the context stage as one page of both copies
        blocks = [b for page in {id(page): page for page in pages}.values() for b in page.blocks]
        if blocks:
            labels = self.labels
            unknown = dict.fromkeys(LABELS, 0.0) if set(labels) != set(LABELS) else {}
            probas = self.predict_proba(blocks)
            for block, row, best in zip(blocks, probas.round(4).tolist(), decide(probas, _page_ids(blocks), labels)):
                block.label = labels[best]
                block.proba = {**unknown, **dict(zip(labels, row))}
        return pages

    def classify(self, html: bytes | str, url: Optional[str] = None, *, text: bool = False,
                 charset: Optional[str] = None) -> list[Block]:
        """Label every block of one page (HTML, or plain text with `text=True`), in page order.

        Each `Block` has `text`, `label` and `proba` (label → probability); `element` is its lxml
        element and `page` its `Page`. `url`, the page's address, is kept as `page.url` (else the
        page's canonical link) for your records: it does not change the labels. `charset`: the one
        an HTTP `Content-Type` header gave, for the bytes of a page that declares none itself (a
        text page never does), where detection only guesses ("Hernández" read as cp1257). Raises
        `InputError` for a page that cannot be read (empty, binary, undecodable) and `TypeError`
        for anything but bytes or str (a `Path`: read it first, or use `boilerclf.read_page`).
        A page with no visible text gives `[]`.

        Thread-safe, but holds the GIL: threads give no speed-up (see `classify_many`). No size
        or time limit (the CLI's are its own): a service should cap untrusted pages' size itself
        and run them in a process it can kill (a 5 MB page of a million blocks: ~30 s, 3.4 GB).
        """
        return self.predict_pages([segment(html, text=text, url=url, charset=charset)])[0].blocks

    def clean(self, html: bytes | str, keep: Sequence[str] | str = ("content",), url: Optional[str] = None, *,
              text: bool = False, charset: Optional[str] = None) -> str:
        """The text of the blocks whose label is in `keep`, one block per line (a `<pre>`, such
        as code, keeps its own line breaks and indentation).

        `keep`: labels of `LABELS`, or one label as a str. An unknown label raises ValueError,
        as a typo would otherwise give "" without a word. `url`, `charset` and the other errors: see `classify`.
        """
        wanted = kept_labels(keep, self.labels)
        return "\n".join(output_text(b) for b in self.classify(html, url, text=text, charset=charset)
                         if b.label in wanted)

    @property
    def features(self) -> BlockFeatures:
        """The feature extractor: the pipeline's first step."""
        return self.pipeline.named_steps["features"]

    def classify_many(self, pages: Iterable[bytes | str], n_jobs: int = 1, *, text: bool = False,
                      errors: str = "raise") -> list[Optional[list[Block]]]:
        """Classify many pages (a list or other iterable of them), in `n_jobs` processes (-1: one
        per core); the blocks of each page, in order, come back detached from the DOM.

        `errors="raise"` raises the first error a page gives; `errors="skip"` gives None in that
        page's place instead, so that one bad page in a million does not cost the others.
        Processes pay off from ~250 pages on the first call, which starts them (~1 s), and from a
        few dozen on later calls, which reuse them if they ask for as many workers
        (min(n_jobs, len(pages)); another number stops some or starts new ones); on 2 cores
        `n_jobs=2` is ~1.4x as fast, as this process rebuilds every block the workers send back
        (~3 ms a page). To clean files, `boilerclf clean -j` is faster: its workers write the
        outputs. A str or bytes is one page, not a list of them, and raises TypeError.

        Calls from several threads take turns in the worker processes (joblib has one pool per
        process, which a call asking for another number of workers resized under another's jobs).
        In a child forked after this process used `n_jobs>1`, `n_jobs>1` hangs: the child inherits
        the pool's state (`classify` works there).
        """
        from joblib import effective_n_jobs

        if errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', not {errors!r}")
        if isinstance(pages, (str, bytes, bytearray)):
            raise TypeError("classify_many takes a list of pages, not one page: classify_many([page]) or classify(page)")
        pages = list(pages)
        workers = min(effective_n_jobs(n_jobs), len(pages))
        if workers <= 1:
            return _classify_detached(self, pages, text, errors)
        return _classify_in_processes(self, pages, workers, text, errors)

    def save(self, path: Path | str) -> None:
        """Write the model as a zip of `meta.json` (readable without loading anything, see `read_meta`)
        and the estimators in skops' secure format. A `~` path is in the home folder, as `load_model`
        reads it: else `save("~/m.boilerclf")` made a folder named `~` here, which the load missed."""
        path = Path(path).expanduser()
        if path.is_dir():  # else the rename at the end fails on a temporary name the caller never gave
            raise ModelError(f"{path} is a folder: give the model file's path, e.g. {path / 'model.boilerclf'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        import skops.io as sio  # here, not at the top: importing it imports all of scikit-learn (~2.7 s)

        payload = sio.dumps({"pipeline": self.pipeline, "context": self.context})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, to_json({"format": FORMAT, **self._card()}, indent=1))
            archive.writestr(ESTIMATORS, payload)
        write_atomic(path, buffer.getvalue())  # whole or not at all, even on Ctrl-C; no temporary file left

    def _card(self) -> dict:
        """`meta`, with what `load_model` checks filled in where it lacks it: a `Model(pipeline)` of
        one's own, made here, saved a file that its load refused as "not a boilerclf model"."""
        return {"labels": self.labels, "features_version": FEATURES_VERSION, "versions": library_versions(),
                **self.meta}


#: input bytes of one task sent to a worker, about: a task holds its pages and their blocks
TASK_BYTES = 16_000_000
#: held while a call's tasks run in joblib's process pool, which is one per process: a call asking for
#: another number of workers resized it under another thread's running call, and both waited forever
_POOL_LOCK = threading.Lock()


def _classify_in_processes(model: Model, pages: list, workers: int, text: bool,
                           errors: str) -> list[Optional[list[Block]]]:
    """Pages in about four tasks per worker, so that the workers end about together. The model
    goes to the workers as one file per call, which each loads once (memory-mapped), rather
    than pickled with every task (13 MB); joblib reuses its workers between calls that ask for as
    many (another number resizes its pool: workers stopped, or started and loading the model)."""
    from joblib import Parallel, delayed
    from joblib.parallel import get_active_backend

    from .batch import groups, model_copy

    tasks = groups(pages, -(-len(pages) // (4 * workers)), TASK_BYTES, _input_size)
    # processes of this machine share /tmp; threads and a Dask cluster get the model itself
    local = type(get_active_backend()[0]).__name__ in ("LokyBackend", "MultiprocessingBackend")
    with model_copy(model) if local else contextlib.nullcontext() as copy, \
            _POOL_LOCK if local else contextlib.nullcontext():
        done = Parallel(n_jobs=workers)(delayed(_classify_with_copy)(copy, task, text, errors) if local
                                        else delayed(_classify_detached)(model, task, text, errors) for task in tasks)
    return [blocks for task in done for blocks in task]


def _classify_with_copy(copy: str, pages: list, text: bool, errors: str) -> list[Optional[list[Block]]]:
    from .batch import cached_model

    return _classify_detached(cached_model(copy=copy), pages, text, errors)


def _input_size(page) -> int:
    return len(page) if isinstance(page, (bytes, str)) else 0


def _classify_detached(model: Model, pages: list, text: bool, errors: str) -> list[Optional[list[Block]]]:
    """Label pages a batch at a time (the features and trees cost per call, not per page; a batch's
    DOMs are held together, so its size is bounded as in bulk cleaning) and detach their blocks
    from the DOM, which cannot travel back from a worker. When a call fails and errors are
    skipped, its pages go one by one, so that only the bad one gives None."""
    from .batch import BATCH_BYTES, CHUNK, groups

    result: list[Optional[list[Block]]] = []
    for chunk in groups(pages, CHUNK, BATCH_BYTES, _input_size):
        try:
            labelled: Sequence[Optional[Page]] = model.predict_pages([segment(html, text=text) for html in chunk])
        except Exception:
            if errors == "raise":
                raise
            labelled = [_label_or_none(model, html, text) for html in chunk] if len(chunk) > 1 else [None]
        for page in labelled:
            for block in page.blocks if page else ():
                block.element = block.page = None
                block.sources = ()
            result.append(page.blocks if page else None)
    return result


def _label_or_none(model: Model, html: bytes | str, text: bool) -> Optional[Page]:
    try:
        return model.predict_pages([segment(html, text=text)])[0]
    except Exception:
        return None


def _check_pages(pages: list, takes: str, how: str) -> None:
    """A TypeError that says what to do with HTML or paths given for pages, rather than an
    AttributeError deep inside."""
    wrong = next((page for page in pages if not isinstance(page, Page)), None)
    if wrong is not None:
        raise TypeError(f"{takes}, not {type(wrong).__name__}: {how}")


def train(pages: Iterable[Page], *, cv_folds: int = 5, n_jobs: int = 1, text_views: bool = True,
          context: bool = True, progress: Optional[Callable[[str], None]] = None) -> Model:
    """Fit both stages on every labelled block, scoring them first by grouped cross-validation.

    The context stage learns from out-of-fold first-stage probabilities, as it will see
    them on unseen pages. The feature step is stateless, so features are computed once
    and only the classifiers are refitted per fold.
    """
    say = progress or (lambda stage: None)
    pages = list(pages)  # read several times: a generator would be empty after the first
    _check_pages(pages, "train takes labelled Pages", "read the files with boilerclf.dataset.read_pages(paths)")
    if cv_folds == 1 or cv_folds < 0:
        raise ModelError(f"cv_folds must be 0 (no cross-validation) or at least 2, not {cv_folds}")
    blocks, labels, groups, unlabelled = training_set(pages, text_views)
    if len(set(labels)) < 2:
        raise ModelError(f"training needs labelled blocks of at least two labels; these pages have "
                         f"{', '.join(sorted(set(labels))) or 'none'}. HTML pages are labelled with data-label "
                         "attributes, text pages are .txt files of label<TAB>text lines")
    y = np.asarray(labels)
    pipeline = build_pipeline()
    say(f"computing the features of {len(blocks):,} blocks")
    features = pipeline[:-1].transform(blocks)
    cv = None
    reviser = None
    if cv_folds or context:
        why = "" if cv_folds else " (which the context stage learns from; --no-context skips it)"
        splitter, grouped_by = _folds(groups, blocks, cv_folds or 3, why)
        _check_folds(splitter, y, blocks, why)
        say(f"cross-validating ({splitter.get_n_splits()} folds grouped by {grouped_by})")
        with warnings.catch_warnings():  # a label missing from a fold: the CLI warns of thin labels itself
            warnings.filterwarnings("ignore", "Number of classes in training fold", RuntimeWarning)
            oof = cross_val_predict(clone(pipeline[-1]), features, y, cv=splitter, n_jobs=n_jobs,
                                    method="predict_proba")
        classes = np.unique(y)
        page_ids = _page_ids(blocks)
        first = classes[decide(oof, page_ids, classes.tolist())]
        if context:
            say("training the context stage")
            stats = pipeline[0].dense(features)
            final = np.empty_like(y)
            for train_idx, test_idx in splitter.split(oof, y):
                stage = ContextClassifier().fit(oof[train_idx], y[train_idx], page_ids[train_idx], stats[train_idx])
                probas = stage.predict_proba(oof[test_idx], page_ids[test_idx], stats[test_idx])
                # its own classes: a label missing from this fold's training sites has no column
                final[test_idx] = stage.classes_[decide(probas, page_ids[test_idx], stage.classes_.tolist())]
            reviser = ContextClassifier().fit(oof, y, page_ids, stats)
        else:
            final = first
        if cv_folds:
            # HTML blocks, whole pages' text, extracts' text; the headline scores leave out extracts,
            # a partial copy of the pages that would count some blocks twice
            views = np.where(_extracts(blocks), 2, [int(not b.has_dom) for b in blocks])
            whole = views < 2
            cv = scores(y[whole], final[whole])
            cv.update(folds=splitter.get_n_splits(), grouped_by=grouped_by,
                      without_context=scores(y[whole], first[whole]) if context else None,
                      **{name: scores(y[views == v], final[views == v]) if (views == v).any() else None
                         for v, name in enumerate(("html_blocks", "text_blocks", "extract_blocks"))})
    say("fitting the final model")
    classifier = pipeline[-1].fit(features, y)
    # column-major weights make `features @ coef_.T` copy-free: 4 ms saved on every page
    classifier.coef_ = np.asfortranarray(classifier.coef_)
    meta = {
        "labels": [str(c) for c in pipeline.classes_],
        "features_version": FEATURES_VERSION,
        "versions": library_versions(),
        "trained_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "data": {"fingerprint": fingerprint(pages), "pages": len(pages), "sites": len(set(map(site_group, pages))),
                 "blocks_per_label": {lab: labels.count(lab) for lab in LABELS}, "unlabelled_blocks": unlabelled,
                 "text_views": text_views},
        "context": context,
        "cv": cv,
    }
    return Model(pipeline, reviser, meta)


def load_model(path: Path | str | None = None) -> Model:
    """Load a model (default: the one shipped with boilerclf).

    Safe on untrusted files: nothing in them is unpickled. The estimators are read with skops,
    which builds only the types it trusts plus boilerclf's own two classes (and scikit-learn's
    tree nodes), and refuses a file that names any other type, before creating any object. The
    model read is then kept in the user's cache folder, and later loads of the same file take
    that copy, ten times faster (see `boilerclf.cache`). A `~` path is in the home folder, here
    where every `--model` comes: one quoted or set in a script (`--model '~/m.boilerclf'`) has
    no shell to expand it.
    """
    path = model_path(path)
    meta = read_card(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the model file {path}: {e.strerror or e}") from None
    name = cache.key(data)
    model = cache.load(name)
    if model is None:
        model = _read_estimators(path, data, meta)
        cache.store(name, model)
    return model


def _read_estimators(path: Path, data: bytes, meta: dict) -> Model:
    """The model in a model file's bytes, read with skops (see `load_model`)."""
    import skops.io as sio  # here, not at the top: importing it imports all of scikit-learn's estimators (~0.4 s)

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            payload = archive.read(ESTIMATORS)
        unknown = set(sio.get_untrusted_types(data=payload)) - OWN_TYPES
        if unknown:
            raise ModelError(f"{path} names types a boilerclf model never contains, refused: {sorted(unknown)}")
        saved = sio.loads(payload, trusted=sorted(OWN_TYPES))
    except ModelError:
        raise
    except Exception as e:  # a corrupt payload fails in many ways inside skops
        raise ModelError(f"{path} is not a readable boilerclf model ({type(e).__name__}: {e})") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("pipeline"), Pipeline):
        raise ModelError(f"{path} is not a boilerclf model")
    return Model(saved["pipeline"], saved.get("context"), meta)
