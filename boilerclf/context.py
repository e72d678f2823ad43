"""Stage 4b: revise each block's label with its neighbours' (jusText's "revise" stage, learned).

The first stage classifies each block on its own; this stage feeds every block's class
probabilities, those of the `window` blocks before and after it, the mean probabilities of
the regions before and after it, and the block's shallow statistics to small gradient-boosted
trees. A pitch box is then one unit, and a short line between two article paragraphs is
rarely a menu. Trees beat a logistic regression here because the cues interact (a short
line is a menu item among menu items, a pitch after an article).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController


def neighbour_matrix(probas: np.ndarray, page_ids: np.ndarray, window: int) -> np.ndarray:
    """Each row's probabilities, its neighbours' within the same page, and the window's mean.

    Past a page's ends the neighbours are zeros, with no flag: a flag taught the model that
    page edges are navigation, which wiped out every block of short pages.
    """
    n, k = probas.shape
    columns = [probas]
    total = probas.copy()
    count = np.ones((n, 1))
    for offset in [o for d in range(1, window + 1) for o in (-d, d)]:
        shifted = np.zeros_like(probas)
        same = np.zeros(n, dtype=bool)
        if offset < 0 and n > -offset:
            shifted[-offset:] = probas[:offset]
            same[-offset:] = page_ids[-offset:] == page_ids[:offset]
        elif offset > 0 and n > offset:
            shifted[:-offset] = probas[offset:]
            same[:-offset] = page_ids[:-offset] == page_ids[offset:]
        shifted[~same] = 0.0
        columns.append(shifted)
        total += shifted
        count += same[:, None]
    columns.append(total / count)
    for span in REGIONS:  # what comes before and after, separately: a pitch box starts where the page turns
        columns += [_directional_mean(probas, page_ids, span, -1), _directional_mean(probas, page_ids, span, 1)]
    return np.hstack(columns)


#: sizes of the regions before and after a block whose mean probabilities the context stage sees
REGIONS = (3, 10)


def _directional_mean(probas: np.ndarray, page_ids: np.ndarray, span: int, direction: int) -> np.ndarray:
    """Mean probabilities of the `span` blocks before (direction -1) or after (+1) each block, same page."""
    if not np.all(page_ids[1:] >= page_ids[:-1]):
        return np.zeros_like(probas)
    # float64: the first stage gives float32, whose running sum over many pages would make a
    # page's means depend on the pages labelled with it
    cumulative = np.vstack([np.zeros((1, probas.shape[1])), np.cumsum(probas, axis=0, dtype=np.float64)])
    index = np.arange(len(probas))
    starts = np.searchsorted(page_ids, page_ids, side="left")
    ends = np.searchsorted(page_ids, page_ids, side="right")
    if direction < 0:
        lo, hi = np.maximum(index - span, starts), index
    else:
        lo, hi = index + 1, np.minimum(index + 1 + span, ends)
    width = np.maximum(hi - lo, 0)[:, None]
    total = cumulative[np.maximum(hi, lo)] - cumulative[lo]
    return np.where(width > 0, total / np.maximum(width, 1), 0.0)


_THREADS = ThreadpoolController()


class ContextClassifier(ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees over a block's and its neighbours' first-stage probabilities.

    `fit(probas, y, page_ids, stats)` and `predict_proba(probas, page_ids, stats)` take the
    first stage's probabilities of blocks in page order, one page id per row, and optionally
    each block's dense statistics (the last columns of `BlockFeatures`).
    """

    def __init__(self, window: int = 3, max_iter: int = 40, max_leaf_nodes: int = 31, learning_rate: float = 0.2):
        self.window = window
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.learning_rate = learning_rate

    def _matrix(self, probas, page_ids, stats) -> np.ndarray:
        matrix = neighbour_matrix(np.asarray(probas), np.asarray(page_ids), self.window)
        return matrix if stats is None else np.hstack([matrix, np.asarray(stats)])

    def fit(self, probas, y, page_ids, stats=None):
        self.estimator_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, max_leaf_nodes=self.max_leaf_nodes, learning_rate=self.learning_rate,
            min_samples_leaf=40, l2_regularization=1.0, early_stopping=False, random_state=0)
        with _THREADS.limit(limits=1, user_api="openmp"):  # see predict_proba; train's folds run in parallel
            self.estimator_.fit(self._matrix(probas, page_ids, stats), y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, probas, page_ids, stats=None):
        check_is_fitted(self)  # NotFittedError, as scikit-learn's estimators say, not an AttributeError
        width = np.shape(probas)[1] * (2 * self.window + 2 + 2 * len(REGIONS))  # `neighbour_matrix`'s columns
        if (self.estimator_.n_features_in_ > width) != (stats is not None):  # else "X has 48 features, but…"
            raise ValueError(f"this context stage was fitted {'with' if stats is None else 'without'} the blocks' "
                             "statistics: give predict_proba `stats` as fit had them (`BlockFeatures.dense` of the features)")
        # one thread: a page is a few hundred rows, where OpenMP threads cost more than they
        # save; and on a busy machine (bulk cleaning's workers) spinning threads stall for seconds
        with _THREADS.limit(limits=1, user_api="openmp"):
            return self.estimator_.predict_proba(self._matrix(probas, page_ids, stats))

    def predict(self, probas, page_ids, stats=None):
        return self.classes_[self.predict_proba(probas, page_ids, stats).argmax(axis=1)]

    def score(self, probas, y, page_ids, stats=None, sample_weight=None):
        """Accuracy, as `ClassifierMixin.score` gives, whose `predict(X)` lacked the page ids: a TypeError."""
        return accuracy_score(y, self.predict(probas, page_ids, stats), sample_weight=sample_weight)


def decide(probas: np.ndarray, page_ids: np.ndarray, classes: list[str]) -> np.ndarray:
    """Labels from probabilities: the most likely label, except that every page has main text.

    The guide makes the main listing of a page with no article `content`, so a page where
    no block would be content gets it for the blocks with at least half the page's highest
    content probability (short, sparse pages otherwise come out empty).
    """
    best = probas.argmax(axis=1)
    if "content" not in classes:
        return best
    content = classes.index("content")
    for page in np.unique(page_ids):
        rows = np.flatnonzero(page_ids == page)
        if not (best[rows] == content).any():
            likely = probas[rows, content]
            best[rows[likely >= 0.5 * likely.max()]] = content
    return best
