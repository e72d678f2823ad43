"""Stage 3: the one feature extractor, shared by training and prediction.

`BlockFeatures` is a stateless scikit-learn transformer from a list of `Block`s to a
sparse matrix. Everything is hashed (no vocabulary to fit or store), so the same object
handles any language and the model stays small. Groups of columns:

* text: word 1-2-grams and character 3-5-grams (the latter catch cue words in any
  language and script, and words glued together in CJK text), hashed with numpy a page
  at a time (`hashing`);
* shallow statistics as in boilerpipe (Kohlschütter et al., 2010) for the block and its
  two neighbours: word count, link density, text density, word length, shares of
  capitals, digits, currency symbols and punctuation, position in the page;
* DOM: the owner's tag, the words of its and its ancestors' class/id/role, and the
  neighbours' tags and own cues. Plain-text blocks have none of these and get a
  `#text` marker instead, so one model serves both kinds of page;
* cue phrases ("read also", "subscribe", "sign in"… in many languages, `cues`), one column
  per function whatever the language, so that languages with few training pages borrow
  the others' weights.

A change to what these compute must bump `card.FEATURES_VERSION`: models record it and refuse a mismatch.
"""
from __future__ import annotations

import numbers
from operator import attrgetter

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from . import hashing
from .cues import NAMES as CUE_NAMES, cue_matrix
from .hashing import ALPHA, CURRENCY, DIGIT, SPACE, UPPER, WORD, Texts
from .page import Block

_SENTENCE_END = frozenset(".!?。！？…:\"»”)")
STAT_CHARS = 2000  # words and shares are measured on a block's first characters: enough, and bounded cost
TEXT_CHARS = 300  # char n-grams look at the start of a block: cues live there, and it bounds cost
CHAR_SIZES = (3, 4, 5)
STAT_NAMES = ("words", "chars", "link_density", "text_density", "word_length", "caps", "digits", "currency",
              "punctuation", "sentence_end", "has_dom", "depth", "position", "page_share")
CONTAINER_NAMES = tuple(f"{level}_{name}" for level in ("parent", "grandparent", "great_grandparent")
                        for name in ("chars", "link_density", "blocks", "block_share"))
#: characters hashed at once (each costs ~70 bytes of arrays while hashed): a page of 6,500 menu
#: items took 130 MB in one go, and big transient arrays leave the heap fragmented for good
CHUNK_CHARS = 200_000
CONTEXT_WORDS = 8  # leading words of the neighbours and of the last heading that describe a block
_OWN_CUES = (ord("t"), ord("s"))
N_DENSE = 3 * (len(STAT_NAMES) + 1) + len(CONTAINER_NAMES) + len(CUE_NAMES)  # the statistics' columns
_NUMBERS = attrgetter("link_chars", "depth", "index")


def with_neighbours(blocks: list[Block]) -> tuple[list[Block], np.ndarray, np.ndarray]:
    """Every block of the pages the blocks belong to (a block's neighbours shape its features
    even when they are not asked for), a page number per block, and the rows asked for."""
    start_of: dict[int, int] = {}
    everything: list[Block] = []
    pages: list[int] = []
    rows = []
    for block in blocks:
        if not isinstance(block, Block):  # texts, as a scikit-learn text classifier takes: not an AttributeError
            raise TypeError(f"the features take Blocks, not {type(block).__name__}: make them with "
                            "boilerclf.segment(html).blocks, or boilerclf.Block(text) for a text alone")
        page = block.page
        if page is None:  # a lone block: a page of its own
            rows.append(len(everything))
            everything.append(block)
            pages.append(len(start_of) + len(rows))
            continue
        start = start_of.get(id(page))
        if start is None:
            page.renumber()  # its `blocks` may have been filtered (its size cached), reordered, added to
            start = start_of[id(page)] = len(everything)
            everything.extend(page.blocks)
            pages.extend([-1 - len(start_of)] * len(page.blocks))
        rows.append(start + block.index)
    return everything, np.asarray(pages), np.asarray(rows, dtype=np.int64)


def chunk_starts(blocks: list[Block]) -> list[int]:
    """Where each slice of at most ~`CHUNK_CHARS` hashed characters starts (always 0 first)."""
    cost = np.fromiter((min(len(b.text), STAT_CHARS) + 12 * len(b.dom_tokens) + 40 for b in blocks),
                       dtype=np.int64, count=len(blocks))
    chunk = (np.cumsum(cost) - cost) // CHUNK_CHARS
    return np.flatnonzero(np.diff(chunk, prepend=-1)).tolist()


def _shift(rows: np.ndarray, pages: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Move features of row r to row r + offset, keeping only moves within the same page."""
    target = rows + offset
    keep = (target >= 0) & (target < len(pages))
    keep[keep] = pages[target[keep]] == pages[rows[keep]]
    return target[keep], keep


def block_stats(blocks: list[Block], sample: Texts, word_rows: np.ndarray) -> np.ndarray:
    """Shallow statistics of each block, one row per block (columns: `STAT_NAMES`); `word_rows`
    is the text row of each word of `sample`."""
    n_words = np.bincount(word_rows, minlength=sample.n)
    chars = np.fromiter(map(len, (b.text for b in blocks)), dtype=np.float64, count=len(blocks))
    n = np.maximum(np.minimum(chars, STAT_CHARS), 1)
    letters = np.maximum(sample.count(ALPHA), 1)
    link, depth, index = np.asarray(list(map(_NUMBERS, blocks)), dtype=np.float64).reshape(-1, 3).T
    has_dom = np.fromiter((b.tag != "#text" for b in blocks), dtype=bool, count=len(blocks))
    sentence_end = np.fromiter((b.text[-1:] in _SENTENCE_END for b in blocks), dtype=bool, count=len(blocks))
    # page sizes from the pages themselves: `blocks` may be a slice of a page
    size, total = np.asarray([(len(b.page.blocks), b.page.total_chars) if b.page is not None else (1, len(b.text))
                              for b in blocks], dtype=np.float64).reshape(-1, 2).T
    return np.column_stack([
        np.log1p(n_words) / 8,
        np.log1p(chars) / 10,
        link / np.maximum(chars, 1),
        np.minimum(n_words / np.maximum(np.ceil(n / 80), 1), 20) / 20,
        np.minimum(sample.count(WORD) / np.maximum(n_words, 1), 20) / 20,
        sample.count(UPPER) / letters,
        sample.count(DIGIT) / n,
        sample.count(CURRENCY) / n * 10,
        (np.minimum(chars, STAT_CHARS) - sample.count(WORD | SPACE)) / n,
        sentence_end, has_dom, np.minimum(depth, 60) / 60,
        index / np.maximum(size - 1, 1),
        chars / np.maximum(total, 1),
    ])


def neighbour_stats(stats: np.ndarray, pages: np.ndarray) -> np.ndarray:
    """The block's statistics, then its previous and next block's, each with a `missing` flag."""
    n = len(stats)
    parts = [np.column_stack([stats, np.zeros(n)])]
    for offset in (-1, 1):  # row r gets the stats of row r + offset
        moved = np.zeros((n, stats.shape[1] + 1))
        moved[:, -1] = 1.0
        target, keep = _shift(np.arange(n), pages, -offset)
        moved[target, :-1] = stats[keep]
        moved[target, -1] = 0.0
        parts.append(moved)
    return np.hstack(parts)


def container_stats(blocks: list[Block]) -> np.ndarray:
    """How much text, and how much of it linked, the block's enclosing elements hold.

    Article paragraphs sit in containers full of unlinked text; menu items and teasers in
    containers of short linked runs (the idea behind readability's container scoring).
    """
    n = len(blocks)
    levels = [b.containers[:3] for b in blocks]
    per_block = np.fromiter(map(len, levels), dtype=np.int64, count=n)
    totals = np.zeros((n, 3, 3))
    present = np.zeros((n, 3), dtype=bool)
    if per_block.any():
        row = np.repeat(np.arange(n), per_block)
        level = np.arange(len(row)) - np.repeat(np.cumsum(per_block) - per_block, per_block)
        totals[row, level] = [t for containers in levels for t in containers]
        present[row, level] = True
    chars, links, count = np.moveaxis(totals, 2, 0)
    own = np.fromiter(map(len, (b.text for b in blocks)), dtype=np.float64, count=n)[:, None]
    values = np.stack([np.log1p(chars) / 12, links / np.maximum(chars, 1), np.log1p(count) / 7,
                       np.where(present, own / np.maximum(chars, 1), 0.0)], axis=2)
    return values.reshape(n, 12)


def context_tokens(blocks: list[Block], words: tuple, pages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, hashes) of each block's DOM cues, its heading's leading words (`h:`) and its
    neighbours' tags, own cues and leading words (`prev:`, `next:`)."""
    dom = Texts([" ".join(b.dom_tokens) if b.has_dom else "#text" for b in blocks])
    rows, hashes, _, starts, _ = dom.tokens(word_chars=False)
    own = np.isin(dom.lower[starts], _OWN_CUES)  # `tag:` and `self:` tokens: what a neighbour says of itself
    heading_rows, heading_hashes, rank, *_ = Texts([b.heading[:200] for b in blocks]).tokens()
    lead = heading_rows[rank < CONTEXT_WORDS], hashing.prefixed("h:", heading_hashes[rank < CONTEXT_WORDS])
    word_rows, word_hashes, word_rank = words
    first = word_rank < CONTEXT_WORDS
    all_rows, all_hashes = [rows, lead[0]], [hashes, lead[1]]
    for offset, name in ((1, "prev:"), (-1, "next:")):  # what row r says of itself goes to row r + offset
        for source_rows, source_hashes in ((rows[own], hashes[own]), (word_rows[first], word_hashes[first])):
            target, keep = _shift(source_rows, pages, offset)
            all_rows.append(target)
            all_hashes.append(hashing.prefixed(name, source_hashes[keep]))
    return np.concatenate(all_rows), np.concatenate(all_hashes)


class BlockFeatures(TransformerMixin, BaseEstimator):
    """Blocks → sparse features. Stateless: `fit` learns nothing, so train and predict agree."""

    def __init__(self, word_features: int = 2**18, char_features: int = 2**18, dom_features: int = 2**18):
        self.word_features = word_features
        self.char_features = char_features
        self.dom_features = dom_features

    def fit(self, blocks, y=None):
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless: usable without fit, like HashingVectorizer

    def transform(self, blocks):
        self._check_sizes()
        everything, pages, rows = with_neighbours(list(blocks))
        n = len(everything)
        starts = chunk_starts(everything)
        if len(starts) <= 1:
            matrix = self._matrix(everything, pages)
        else:  # bounded memory on huge pages and training sets; one block of overlap keeps neighbours
            pieces = []
            for start, end in zip(starts, [*starts[1:], n]):
                low, high = max(start - 1, 0), min(end + 1, n)
                pieces.append(self._matrix(everything[low:high], pages[low:high])[start - low:end - low])
            matrix = sp.vstack(pieces, format="csr")
        return matrix if np.array_equal(rows, np.arange(n)) else matrix[rows]

    def _matrix(self, everything: list[Block], pages: np.ndarray):
        sample = Texts([b.text[:STAT_CHARS] for b in everything])
        tokens = sample.tokens()
        word_rows, word_hashes, word_rank, *_ = tokens
        pair_rows, pair_hashes = hashing.bigrams(word_rows, word_hashes)
        char_rows, char_hashes = sample.char_ngrams(CHAR_SIZES, TEXT_CHARS)
        dom_rows, dom_hashes = context_tokens(everything, (word_rows, word_hashes, word_rank), pages)
        dense = np.hstack([neighbour_stats(block_stats(everything, sample, word_rows), pages), container_stats(everything),
                           cue_matrix(sample, tokens, len(everything))])
        return hashing.matrix([
            (np.concatenate([word_rows, pair_rows]), np.concatenate([word_hashes, pair_hashes]), self.word_features),
            (char_rows, char_hashes, self.char_features),
            (dom_rows, dom_hashes, self.dom_features),
        ], dense)

    def _check_sizes(self) -> None:
        """Sizes that `set_params` or a grid search give unchecked: 0 hashed every token into the next
        group's first column (a divide-by-zero warning the only sign), a total past int32 wrapped."""
        sizes = (self.word_features, self.char_features, self.dom_features)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes) \
                or sum(sizes) + N_DENSE >= 2**31:
            raise ValueError("BlockFeatures' word_features, char_features and dom_features must be whole numbers "
                             f"of at least 1, together under 2**31 columns: got {', '.join(map(repr, sizes))}")

    @property
    def n_hashed(self) -> int:
        """How many hashed columns come before the dense statistics."""
        return self.word_features + self.char_features + self.dom_features

    def dense(self, matrix) -> np.ndarray:
        """The statistics columns of a feature matrix, as a dense array (the context stage uses them)."""
        return matrix[:, self.n_hashed:].toarray()

    def column_names(self, blocks) -> dict[int, str]:
        """Readable names of the hashed columns that these blocks use (`word:…`, `char:…`, `dom:…`).

        Hashing keeps no vocabulary, so names are recovered by hashing the tokens the blocks
        produce; a column shared by two tokens is named after the first one met.
        """
        everything, _, _ = with_neighbours(list(blocks))
        tokens: dict[str, dict[str, int]] = {"word": {}, "char": {}, "dom": {}}
        for block in everything:
            text = block.text[:STAT_CHARS].lower()
            words = hashing.WORD_PATTERN.findall(text)
            for word in words:
                tokens["word"][word] = hashing.raw_hash(word)
            for a, b in zip(words, words[1:]):
                tokens["word"][f"{a} {b}"] = hashing.pair_hash(hashing.raw_hash(a), hashing.raw_hash(b))
            head = text[:TEXT_CHARS]
            for size in CHAR_SIZES:
                for i in range(len(head) - size + 1):
                    tokens["char"][head[i:i + size]] = 0
            cues = list(block.dom_tokens) if block.has_dom else ["#text"]
            own = [t for t in cues if t.startswith(("tag:", "self:"))]
            lead = words[:CONTEXT_WORDS]
            for token in cues + [f"h:{w}" for w in hashing.WORD_PATTERN.findall(block.heading[:200].lower())[:8]] + \
                    [f"{name}{t}" for name in ("prev:", "next:") for t in own + lead]:
                tokens["dom"][token] = 0
        names: dict[int, str] = {}
        offset = 0
        for kind, size in (("word", self.word_features), ("char", self.char_features), ("dom", self.dom_features)):
            found = tokens[kind]
            raw = np.asarray([h or hashing.raw_hash(t) for t, h in found.items()], dtype=np.uint64)
            for token, column in zip(found, hashing.columns(raw, size).tolist()):
                names.setdefault(offset + column, f"{kind}:{token}")
            offset += size
        for i, name in enumerate(self.get_feature_names_out()[offset:]):
            names[offset + i] = f"stat:{name}"
        return names

    def get_feature_names_out(self, input_features=None):
        hashed = [f"word_{i}" for i in range(self.word_features)] + \
                 [f"char_{i}" for i in range(self.char_features)] + [f"dom_{i}" for i in range(self.dom_features)]
        stats = [f"{where}{name}" for where in ("", "prev_", "next_") for name in (*STAT_NAMES, "missing")]
        stats += [*CONTAINER_NAMES, *CUE_NAMES]
        return np.asarray(hashed + stats, dtype=object)
