"""Stage 3: the one feature extractor, shared by training and prediction.

`BlockFeatures` is a stateless scikit-learn transformer from a list of `Block`s to a
sparse matrix. Everything is hashed (no vocabulary to fit or store), so the same object
handles any language and the model stays small. Groups of columns:

* text: word 1-2-grams and character 3-5-grams (the latter catch cue words in any
  language and script, and words glued together in CJK text);
* shallow statistics as in boilerpipe (Kohlschütter et al., 2010) for the block and its
  two neighbours: word count, link density, text density, word length, shares of
  capitals, digits, currency symbols and punctuation, position in the page;
* DOM: the owner's tag, the words of its and its ancestors' class/id/role, and the
  neighbours' tags and own cues. Plain-text blocks have none of these and get a
  `#text` marker instead, so one model serves both kinds of page.
"""
from __future__ import annotations

import math
import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer

from .page import Block

#: bump when the features change: models record it and refuse a mismatch on load.
FEATURES_VERSION = 1
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?。！？…:\"»”)]$")
_CURRENCY = re.compile("[$€£¥₹₽₩₺₴₪¢]")
_PUNCTUATION = re.compile(r"[^\w\s]")
STAT_CHARS = 2000  # shares are measured on a block's first characters: enough, and bounded cost
TEXT_CHARS = 300  # char n-grams look at the start of a block: cues live there, and it bounds cost
STAT_NAMES = ("words", "chars", "link_density", "text_density", "word_length", "caps", "digits", "currency",
              "punctuation", "sentence_end", "has_dom", "depth", "position", "page_share")
_MISSING = [0.0] * len(STAT_NAMES) + [1.0]  # a neighbour past the page's end: zeros and a flag
CONTAINER_NAMES = tuple(f"{level}_{name}" for level in ("parent", "grandparent", "great_grandparent")
                        for name in ("chars", "link_density", "blocks", "block_share"))
CONTEXT_WORDS = 8  # leading words of the neighbours and of the last heading that describe a block


def _tokens(text: str) -> list[str]:
    return text.split()


def block_stats(block: Block | None) -> list[float]:
    """Shallow statistics of one block (zeros, with a missing flag, past the page's ends)."""
    if block is None:
        return _MISSING
    text = block.text
    sample = text[:STAT_CHARS]
    n = len(sample) or 1
    words = _WORD.findall(sample)
    n_words = len(words)
    letters = sum(map(str.isalpha, sample)) or 1
    page = block.page
    total = page.total_chars if page is not None else len(text)
    position = block.index / max(len(page.blocks) - 1, 1) if page is not None else 0.0
    return [
        math.log1p(n_words) / 8,
        math.log1p(len(text)) / 10,
        block.link_chars / max(len(text), 1),
        min(n_words / max(math.ceil(n / 80), 1), 20) / 20,
        min(sum(map(len, words)) / max(n_words, 1), 20) / 20,
        sum(map(str.isupper, sample)) / letters,
        sum(map(str.isdigit, sample)) / n,
        len(_CURRENCY.findall(sample)) / n * 10,
        len(_PUNCTUATION.findall(sample)) / n,
        float(bool(_SENTENCE_END.search(text))),
        float(block.has_dom),
        min(block.depth, 60) / 60,
        position,
        len(text) / max(total, 1),
        0.0,
    ]


def container_stats(block: Block) -> list[float]:
    """How much text, and how much of it linked, the block's enclosing elements hold.

    Article paragraphs sit in containers full of unlinked text; menu items and teasers in
    containers of short linked runs (the idea behind readability's container scoring).
    """
    values = []
    for level in range(3):
        if level < len(block.containers):
            chars, links, count = block.containers[level]
            values += [math.log1p(chars) / 12, links / max(chars, 1), math.log1p(count) / 7,
                       len(block.text) / max(chars, 1)]
        else:
            values += [0.0, 0.0, 0.0, 0.0]
    return values


def _lead_words(text: str, prefix: str) -> list[str]:
    return [prefix + w for w in _WORD.findall(text.lower())[:CONTEXT_WORDS]]


def context_document(block: Block) -> str:
    """The block's DOM cues, its neighbours' tags, cues and leading words, and its heading's words."""
    parts = list(block.dom_tokens) if block.has_dom else ["#text"]
    parts += _lead_words(block.heading, "h:")
    page = block.page
    if page is not None:
        for offset, name in ((-1, "prev"), (1, "next")):
            other = page.neighbour(block, offset)
            if other is not None:
                parts.extend(f"{name}:{t}" for t in other.dom_tokens if t.startswith(("tag:", "self:")))
                parts += _lead_words(other.text, name + ":")
    return " ".join(parts)


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

    def _vectorizers(self):
        common = dict(alternate_sign=False, dtype=np.float32)
        return (
            HashingVectorizer(n_features=self.word_features, ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                              **common),
            HashingVectorizer(n_features=self.char_features, analyzer="char_wb", ngram_range=(3, 5), **common),
            HashingVectorizer(n_features=self.dom_features, analyzer=_tokens, lowercase=False, **common),
        )

    def transform(self, blocks):
        blocks = list(blocks)
        words, chars, dom = self._vectorizers()
        memo: dict[int, list[float]] = {}

        def cached(block: Block | None) -> list[float]:
            if block is None:
                return _MISSING
            key = id(block)
            if key not in memo:
                memo[key] = block_stats(block)
            return memo[key]

        stats = []
        for block in blocks:
            page = block.page
            prev = page.neighbour(block, -1) if page is not None else None
            nxt = page.neighbour(block, 1) if page is not None else None
            stats.append(cached(block) + cached(prev) + cached(nxt) + container_stats(block))
        return sp.hstack([
            words.transform(b.text[:2000] for b in blocks),
            chars.transform(b.text[:TEXT_CHARS] for b in blocks),
            dom.transform(context_document(b) for b in blocks),
            sp.csr_matrix(np.asarray(stats, dtype=np.float32).reshape(len(blocks), -1)),
        ], format="csr")

    def column_names(self, blocks) -> dict[int, str]:
        """Readable names of the hashed columns that these blocks use (`word:…`, `char:…`, `dom:…`).

        Hashing keeps no vocabulary, so names are recovered by hashing the tokens the blocks
        produce; a column shared by two tokens is named after the first one met.
        """
        from sklearn.utils import murmurhash3_32

        blocks = list(blocks)
        names: dict[int, str] = {}
        offset = 0
        words, chars, dom = self._vectorizers()
        sources = ((words, "word", [b.text[:2000] for b in blocks]), (chars, "char", [b.text[:TEXT_CHARS] for b in blocks]),
                   (dom, "dom", [context_document(b) for b in blocks]))
        for vectorizer, kind, docs in sources:
            analyze = vectorizer.build_analyzer()
            for token in {t for doc in docs for t in analyze(doc)}:
                names.setdefault(offset + abs(murmurhash3_32(token, seed=0)) % vectorizer.n_features, f"{kind}:{token}")
            offset += vectorizer.n_features
        for i, name in enumerate(self.get_feature_names_out()[offset:]):
            names[offset + i] = f"stat:{name}"
        return names

    def get_feature_names_out(self, input_features=None):
        hashed = [f"word_{i}" for i in range(self.word_features)] + \
                 [f"char_{i}" for i in range(self.char_features)] + [f"dom_{i}" for i in range(self.dom_features)]
        stats = [f"{where}{name}" for where in ("", "prev_", "next_") for name in (*STAT_NAMES, "missing")]
        stats += list(CONTAINER_NAMES)
        return np.asarray(hashed + stats, dtype=object)
