"""The one feature extractor: the numpy hashing agrees with a plain-Python reading of the texts."""
import gzip

import numpy as np

from boilerclf import hashing
from boilerclf.features import CHAR_SIZES, TEXT_CHARS, BlockFeatures
from boilerclf.segment import segment

from .conftest import CORPUS

# Chinese, Ukrainian, German and Polish pages of the corpus: scripts, diacritics, CJK without spaces
PAGES = ["trafilatura-eval/html/" + name for name in (
    "xinhuanet.com.c_1125597921.html.gz", "football.ua.podolski.html.gz", "0a12df42d1764095989ab078ee0f940b.html.gz",
    "Angus Barbieri. Nie jadł przez 382 dni - Menway w INTERIA.PL.html.gz")]


def real_texts():
    texts = []
    for name in PAGES:
        blocks = segment(gzip.decompress((CORPUS / name).read_bytes())).blocks
        texts += [b.text for b in blocks]
    return texts + ["", "emoji 🙂 and 𝔘nicode outside the BMP", "tab\tand\u00a0nbsp", "x"]


def test_word_tokens_and_bigrams_match_a_regex_reading():
    texts = real_texts()
    rows, hashes, rank, _ = hashing.Texts(texts).tokens()
    expected = [(i, hashing.raw_hash(w)) for i, t in enumerate(texts) for w in hashing.WORD_PATTERN.findall(t.lower())]
    assert list(zip(rows.tolist(), hashes.tolist())) == expected
    assert rank.max() > 0 and (rank[rows == rows[0]] == np.arange((rows == rows[0]).sum())).all()
    pair_rows, pairs = hashing.bigrams(rows, hashes)
    expected_pairs = [(i, hashing.pair_hash(hashing.raw_hash(a), hashing.raw_hash(b)))
                      for i, t in enumerate(texts) for words in [hashing.WORD_PATTERN.findall(t.lower())]
                      for a, b in zip(words, words[1:])]
    assert list(zip(pair_rows.tolist(), pairs.tolist())) == expected_pairs


def test_char_ngrams_are_those_of_each_text_start():
    texts = real_texts()
    rows, hashes = hashing.Texts(texts).char_ngrams(CHAR_SIZES, TEXT_CHARS)
    expected = sorted((i, hashing.raw_hash(t[:TEXT_CHARS][j:j + n]))
                      for n in CHAR_SIZES for i, t in enumerate(texts) for j in range(len(t[:TEXT_CHARS]) - n + 1))
    assert sorted(zip(rows.tolist(), hashes.tolist())) == expected


def test_hashed_groups_have_unit_length_and_names_cover_every_column():
    page = segment(gzip.decompress((CORPUS / PAGES[2]).read_bytes()))
    features = BlockFeatures()
    x = features.transform(page.blocks)
    x.check_format(full_check=True)
    size = features.word_features
    for group in range(3):
        part = x[:, group * size:(group + 1) * size]
        assert np.allclose(np.sqrt(part.multiply(part).sum(axis=1)), 1.0, atol=1e-5)
    names = features.column_names(page.blocks[:20])
    used = set(features.transform(page.blocks[:20]).nonzero()[1])
    assert used <= set(names)
    assert any(n.startswith("dom:prev:tag:") for n in names.values())


def test_a_block_has_the_same_features_alone_or_with_its_page():
    page = segment(gzip.decompress((CORPUS / PAGES[3]).read_bytes()))
    features = BlockFeatures()
    whole = features.transform(page.blocks)
    some = features.transform(page.blocks[5:9])
    assert (whole[5:9] != some).nnz == 0


def test_pages_hashed_in_chunks_get_the_same_features(monkeypatch):
    from boilerclf import features

    page = segment(gzip.decompress((CORPUS / PAGES[3]).read_bytes()))
    whole = BlockFeatures().transform(page.blocks)
    monkeypatch.setattr(features, "CHUNK_CHARS", 500)  # memory is bounded by hashing a huge page in slices
    assert len(features.chunk_starts(page.blocks)) > 3
    assert (BlockFeatures().transform(page.blocks) != whole).nnz == 0
