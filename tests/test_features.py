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
    rows, hashes, rank, *_ = hashing.Texts(texts).tokens()
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


def _cues_by_hand(text):
    """The cue classes of a text, read with the lexicon and a regex rather than hashes."""
    from boilerclf.cues import CUES, FIRST_WORDS
    from boilerclf.features import STAT_CHARS

    words = hashing.WORD_PATTERN.findall(text[:STAT_CHARS].lower())[:FIRST_WORDS]
    pairs = list(zip(words, words[1:]))
    found = set()
    for name, entries in CUES.items():
        for entry in entries.split():
            first, entry = entry.startswith("^"), entry.lstrip("^")
            if "_" in entry:
                hits = [i for i, pair in enumerate(pairs) if pair == tuple(entry.split("_"))]
            elif entry.endswith("*"):
                hits = [i for i, w in enumerate(words) if w.startswith(entry[:-1])]
            else:
                hits = [i for i, w in enumerate(words) if w == entry]
            hits = [i for i in hits if i == 0] if first else hits
            found |= {f"cue_{name}" for _ in hits[:1]} | {f"cue_{name}_first" for i in hits if i == 0}
    return found | ({"cue_copyright"} if "©" in text[:STAT_CHARS] else set())


def test_cue_phrases_match_a_plain_reading_of_the_lexicon():
    from boilerclf.cues import NAMES

    texts = real_texts() + ["Lesen Sie auch: Merkel", "Czytaj także", "Te puede interesar", "© 2020 Al-Monitor",
                            "Suscríbete a nuestro boletín", "By Jane Doe", "Written by Jane", "Abonnieren Sie jetzt"]
    features = BlockFeatures()
    blocks = [b for t in texts for b in segment(t, text=True).blocks]
    cues = features.transform(blocks)[:, -len(NAMES):].toarray()
    assert [{NAMES[i] for i in np.flatnonzero(row)} for row in cues] == [_cues_by_hand(b.text) for b in blocks]
    assert cues.any(axis=0).sum() >= 8  # most classes occur in these texts


def test_read_also_lines_share_one_cue_across_languages():
    """A Polish page's "Czytaj także" and a German page's "Lesen Sie auch" light the same column, so
    the weight the many German pages give it serves the few Polish ones."""
    from boilerclf.cues import NAMES

    column = NAMES.index("cue_read_also")
    for name, lead in (("Eurostat_ Polska z najniższym bezrobociem w całej UE.html.gz", "czytaj także"),
                       ("auto.oe24.at-golfchina.html.gz", "lesen sie auch"),
                       ("ambito.com-paritarias.html.gz", "te puede interesar")):
        blocks = segment(gzip.decompress((CORPUS / "trafilatura-eval/html" / name).read_bytes())).blocks
        lines = [i for i, b in enumerate(blocks) if b.text.lower().startswith(lead)]
        assert lines, name
        cues = BlockFeatures().transform(blocks)[:, -len(NAMES):].toarray()
        assert cues[lines, column].all()
        assert cues[:, column].sum() < len(blocks) / 4  # a cue, not every block


def test_a_feature_group_size_that_cannot_hash_is_a_value_error():
    """`set_params(features__word_features=0)` (a grid search "turning off" word features) hashed every
    word into column 0 with a divide-by-zero warning, silently sharing the char features' first
    column; a negative size was an OverflowError, 2**31 overflowed the int32 columns."""
    import pytest

    blocks = segment(b"<p>Read more about it</p><p>Subscribe now</p>").blocks
    for size in (0, -5, 2.5, 2**31, True):
        with pytest.raises(ValueError, match="word_features, char_features and dom_features"):
            BlockFeatures(word_features=size).transform(blocks)
    assert BlockFeatures(word_features=np.int64(16)).transform(blocks).shape[1] == BlockFeatures(
        word_features=16).transform(blocks).shape[1]
