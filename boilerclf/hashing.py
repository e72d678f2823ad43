"""Hashed n-grams of many short texts at once, with numpy.

scikit-learn's `HashingVectorizer` builds every n-gram as a Python string; on a page of
~200 blocks that was over half the cleaning time. Here the texts are joined into one
array of code points and each n-gram's hash is array arithmetic: a polynomial hash
mod 2^64 (`raw_hash`), finished with MurmurHash3's 64-bit mixer before taking the
column. `raw_hash` is the same hash in plain Python, to name columns and to test.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

_MASK = (1 << 64) - 1
_BASE = 0x100000001B3  # odd, so invertible mod 2^64
_INVERSE = pow(_BASE, -1, 1 << 64)
_PAIR = np.uint64(0x9E3779B97F4A7C15)  # combines two words' hashes into their bigram's
WORD_PATTERN = re.compile(r"\w+")  # what `Texts.tokens` finds, for Python-side checks
SEPARATOR = 0  # code point between two texts; no n-gram spans it

# character classes, one bit each, for the Basic Multilingual Plane (other planes: computed on use)
WORD, ALPHA, UPPER, DIGIT, SPACE, CURRENCY = 1, 2, 4, 8, 16, 32
_CURRENCY = frozenset("$€£¥₹₽₩₺₴₪¢")


def _classes_of(ch: str) -> int:
    return ((WORD if ch.isalnum() or ch == "_" else 0) | (ALPHA if ch.isalpha() else 0)
            | (UPPER if ch.isupper() else 0) | (DIGIT if ch.isdigit() else 0)
            | (SPACE if ch.isspace() else 0) | (CURRENCY if ch in _CURRENCY else 0))


def _lower_of(ch: str) -> int:
    low = ch.lower()
    return ord(low) if len(low) == 1 else ord(ch)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Class bits and lower-case code point of every BMP character (built once, ~60 ms)."""
    chars = [chr(i) for i in range(0x10000)]
    return (np.fromiter(map(_classes_of, chars), dtype=np.uint8, count=0x10000),
            np.fromiter(map(_lower_of, chars), dtype=np.uint32, count=0x10000))


class Texts:
    """Many texts as one array of code points, with what every n-gram hash needs."""

    def __init__(self, texts: list[str]):
        joined = "".join(t.replace("\x00", " ") + "\x00" for t in texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        classes, lower = _tables()
        small = np.minimum(codes, 0xFFFF)
        self.classes = classes[small]
        self.lower = lower[small]
        big = np.flatnonzero(codes > 0xFFFF)
        if len(big):  # emoji, rare scripts: classify the few code points outside the BMP one by one
            self.classes[big] = [_classes_of(chr(c)) for c in codes[big]]
            self.lower[big] = codes[big]
        ends = np.flatnonzero(codes == SEPARATOR)
        self.lengths = np.diff(np.concatenate([[-1], ends])) - 1
        self.starts = ends - self.lengths  # first position of each text
        self.row = np.repeat(np.arange(len(texts)), self.lengths + 1)
        self.offset = np.arange(len(codes)) - self.starts[self.row]  # position inside its text
        self.n = len(texts)
        values = self.lower.astype(np.uint64)
        with np.errstate(over="ignore"):
            powers = _powers(_BASE, len(values))
            self._inverse = _powers(_INVERSE, len(values))
            self._prefix = np.zeros(len(values) + 1, dtype=np.uint64)
            np.cumsum(values * powers, out=self._prefix[1:])

    def span_hashes(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """`raw_hash` of the lower-cased text between each start and end."""
        with np.errstate(over="ignore"):
            return (self._prefix[ends] - self._prefix[starts]) * self._inverse[starts]

    def char_ngrams(self, sizes: tuple[int, ...], limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, hashes) of the character n-grams in each text's first `limit` characters."""
        rows, hashes = [], []
        for size in sizes:
            start = np.flatnonzero(self.offset + size <= np.minimum(self.lengths[self.row], limit))
            rows.append(self.row[start])
            hashes.append(self.span_hashes(start, start + size))
        return np.concatenate(rows), np.concatenate(hashes)

    def tokens(self, word_chars: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, hashes, rank in its text, start, end) of the tokens: runs of word characters
        (`\\w+`), or with `word_chars=False` runs of anything but spaces."""
        inside = (self.classes & WORD) > 0 if word_chars else (self.classes & SPACE) == 0
        inside[self.lower == SEPARATOR] = False
        edges = np.diff(np.concatenate([[False], inside, [False]]).astype(np.int8))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        rows = self.row[starts]
        first = np.searchsorted(rows, np.arange(self.n))
        return rows, self.span_hashes(starts, ends), np.arange(len(rows)) - first[rows], starts, ends

    def count(self, mask: int) -> np.ndarray:
        """Per text: how many characters have any of the class bits in `mask`."""
        return np.bincount(self.row, weights=(self.classes & mask) > 0, minlength=self.n)


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, n: int) -> np.ndarray:
    """base^0 … base^(n-1) mod 2^64 (numpy's unsigned products wrap, as wanted), kept and grown."""
    known = _POWERS.get(base)
    if known is None or len(known) < n:
        powers = np.full(max(n, 4096, 2 * len(known) if known is not None else 0), base, dtype=np.uint64)
        powers[0] = 1
        with np.errstate(over="ignore"):
            known = _POWERS[base] = np.cumprod(powers, dtype=np.uint64)
    return known[:n]


def bigrams(rows: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of each pair of consecutive tokens of the same text."""
    same = rows[1:] == rows[:-1]
    with np.errstate(over="ignore"):
        return rows[1:][same], hashes[:-1][same] * _PAIR + hashes[1:][same]


def prefixed(prefix: str, hashes: np.ndarray) -> np.ndarray:
    """`raw_hash(prefix + s)` from `raw_hash(s)`, without building the strings."""
    with np.errstate(over="ignore"):
        return np.uint64(raw_hash(prefix)) + hashes * _power(len(prefix))


@lru_cache(maxsize=32)
def _power(n: int) -> np.uint64:
    return np.uint64(pow(_BASE, n, 1 << 64))


def raw_hash(text: str) -> int:
    """The polynomial hash of a lower-cased string: sum of code point × BASE^position, mod 2^64."""
    classes, lower = _tables()
    total, power = 0, 1
    for ch in text:
        code = ord(ch)
        total = (total + (int(lower[code]) if code <= 0xFFFF else code) * power) & _MASK
        power = power * _BASE & _MASK
    return total


def pair_hash(first: int, second: int) -> int:
    return (first * int(_PAIR) + second) & _MASK


def columns(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """MurmurHash3's fmix64 over the hashes, then the column: spreads the polynomial's bits."""
    h = hashes.astype(np.uint64)
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return (h % np.uint64(n_features)).astype(np.int32)


def matrix(groups: list[tuple[np.ndarray, np.ndarray, int]], dense: np.ndarray) -> sp.csr_matrix:
    """One CSR matrix: for each group of (rows, hashes, n_features), hashed counts with every
    row's share scaled to unit length (as HashingVectorizer's `norm="l2"`); then `dense`'s columns.

    Built in canonical order straight from sorted keys: scipy's own assembly sorted and
    checked the entries again, and cost as much as the hashing.
    """
    n_rows, n_dense = dense.shape
    width = sum(size for _, _, size in groups)
    parts, offset = [], 0
    for rows, hashes, size in groups:
        parts.append(rows.astype(np.int64) * (width + n_dense) + offset + columns(hashes, size))
        offset += size
    keys = np.sort(np.concatenate(parts))
    first = np.flatnonzero(np.diff(keys, prepend=-1))  # where each distinct key starts (keys are >= 0)
    counts = np.diff(np.concatenate([first, [len(keys)]]))
    keys = keys[first]
    rows, cols = np.divmod(keys, width + n_dense)
    group = np.searchsorted(np.cumsum([size for _, _, size in groups]), cols, side="right")
    values = counts.astype(np.float32)
    slot = rows * len(groups) + group
    norms = np.sqrt(np.bincount(slot, weights=values ** 2, minlength=n_rows * len(groups)))
    values /= norms[slot]
    # each row: its hashed entries (sorted), then its dense columns
    hashed_per_row = np.bincount(rows, minlength=n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(hashed_per_row + n_dense, out=indptr[1:])
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    at = np.arange(len(keys)) + rows * n_dense
    data[at], indices[at] = values, cols
    dense_at = (indptr[:-1] + hashed_per_row)[:, None] + np.arange(n_dense)
    data[dense_at] = dense
    indices[dense_at] = width + np.arange(n_dense)
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, width + n_dense))
