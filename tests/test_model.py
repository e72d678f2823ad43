import numpy as np
import pytest

import boilerclf
from boilerclf import card, features
from boilerclf.dataset import read_pages
from boilerclf.features import BlockFeatures
from boilerclf.labels import ATTRIBUTE, read_labelled
from boilerclf.model import load_model, train
from boilerclf.page import LABELS, ModelError
from boilerclf.segment import segment


def test_feature_extractor_never_sees_data_label(sample_pages):
    labelled = read_labelled(sample_pages[0])
    assert any(b.label for b in labelled.blocks)
    for el in labelled.tree.iter():
        if isinstance(el.tag, str):
            el.attrib.pop(ATTRIBUTE, None)
    import lxml.html
    stripped = segment(lxml.html.tostring(labelled.tree))
    again = read_labelled(sample_pages[0])
    x1, x2 = BlockFeatures().transform(again.blocks), BlockFeatures().transform(stripped.blocks)
    assert x1.shape == x2.shape and (x1 != x2).nnz == 0


def test_train_and_predict_share_one_feature_path(sample_pages, monkeypatch):
    seen = []
    original = BlockFeatures.transform

    def spy(self, blocks):
        blocks = list(blocks)
        seen.append(len(blocks))
        return original(self, blocks)

    monkeypatch.setattr(features.BlockFeatures, "transform", spy)
    pages = read_pages(sample_pages[:3])
    model = train(pages, cv_folds=0, context=False)
    assert isinstance(model.pipeline.named_steps["features"], BlockFeatures)
    trained = len(seen)
    model.classify("<html><body><p>Subscribe to our newsletter</p></body></html>")
    assert trained >= 1 and len(seen) == trained + 1 and seen[-1] == 1


def test_save_load_round_trip_keeps_predictions_and_metadata(small_model, small_model_path, sample_pages):
    loaded = load_model(small_model_path)
    page = read_labelled(sample_pages[0])
    np.testing.assert_allclose(small_model.predict_proba(page.blocks), loaded.predict_proba(page.blocks))
    meta = loaded.meta
    assert set(meta["labels"]) == set(LABELS)
    assert meta["features_version"] == card.FEATURES_VERSION
    assert {"scikit-learn", "numpy", "python"} <= set(meta["versions"])
    assert len(meta["data"]["fingerprint"]) == 16 and meta["data"]["pages"] == len(sample_pages)
    cv = meta["cv"]
    assert cv["grouped_by"] == "site" and cv["folds"] == 2
    assert set(cv["per_label"]) == set(LABELS) and 0 < cv["macro_f1"] <= 1


def test_saving_into_a_folder_says_so(small_model, tmp_path):
    """The rename at the end failed with an IsADirectoryError naming a temporary .part file."""
    with pytest.raises(ModelError, match=f"{tmp_path} is a folder: give the model file's path"):
        small_model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_model_made_from_a_pipeline_of_ones_own_saves_a_file_that_loads(small_model, sample_pages, tmp_path):
    """`Model(pipeline).save(path)` wrote a card without versions, so `load_model(path)` refused the
    file it had just written as "not a boilerclf model"."""
    from sklearn.base import clone

    from boilerclf.model import Model, training_set

    blocks, labels, _, _ = training_set(read_pages(sample_pages[:3]), text_views=False)
    mine = Model(clone(small_model.pipeline).fit(blocks, labels))
    mine.save(tmp_path / "mine.boilerclf")
    loaded = load_model(tmp_path / "mine.boilerclf")
    page = read_labelled(sample_pages[4])
    np.testing.assert_allclose(loaded.predict_proba(page.blocks), mine.predict_proba(page.blocks))
    assert loaded.meta["labels"] == mine.labels and loaded.meta["features_version"] == card.FEATURES_VERSION


def test_cross_validation_scores_are_out_of_fold(sample_pages):
    # trained and scored on the same pages, a model would look near perfect; grouped CV must not
    pages = read_pages(sample_pages)
    model = train(pages, cv_folds=2)
    blocks = [b for p in pages for b in p.blocks if b.label]
    fitted = np.mean([b.label == lab for b, lab in zip(blocks, model.pipeline.predict(blocks))])
    assert model.meta["cv"]["accuracy"] < fitted



def _site_page(site: str, promo: bool):
    """A news page as text: article lines, a menu, a newsletter pitch; promo teasers only if `promo`."""
    from boilerclf.labels import parse_text_labels

    lines = [f"content\tThe {site} council voted {n} times on the budget for the new harbour bridge." for n in range(40)]
    lines += [f"navigation\t{word}" for word in ("Home", "World", "Sport", "Business", "Opinion", "Culture") * 7]
    lines += [f"subscription\tSubscribe to the {site} newsletter for ${n} a month, cancel anytime." for n in range(40)]
    lines += [f"promo\tSponsored: win a cruise {n} with our partner travel shop today" for n in range(40)] if promo else []
    page = parse_text_labels("\n".join(lines), f"{site}.txt")
    page.site = site
    return page


def test_cross_validation_maps_a_context_fold_without_a_label_to_the_right_labels():
    """Promo on one site only: the context stage of the fold holding it out knows three labels, and its
    columns were read as the four of all folds, so its subscription blocks were scored as predicted promo."""
    pages = [_site_page("ayr", promo=True), _site_page("bute", promo=False), _site_page("coll", promo=False)]
    cv = train(pages, cv_folds=3, text_views=False).meta["cv"]
    subscription = cv["confusion"][LABELS.index("subscription")]
    assert subscription[LABELS.index("promo")] == 0  # the pitches are alike on all three sites
    assert cv["per_label"]["subscription"]["recall"] == 1.0

def test_api_classify_and_clean_with_shipped_model():
    model = boilerclf.load_model()
    html = ("<html><body><nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
            "<article><h1>Council approves new budget</h1>"
            "<p>The city council approved a new budget on Tuesday after a long debate about school funding, "
            "road repairs and the cost of public transport for the next three years.</p></article></body></html>")
    blocks = model.classify(html)
    assert [b.text for b in blocks][:2] == ["Home", "News"]
    assert all(isinstance(b.label, str) and b.label in LABELS for b in blocks)
    assert all(abs(sum(b.proba.values()) - 1) < 1e-3 for b in blocks)
    assert blocks[-1].label == "content" and blocks[0].label == "navigation"
    assert model.clean(html.encode()).splitlines()[-1].startswith("The city council approved")
    assert model.predict([]) == [] and model.predict_proba([]).shape == (0, len(LABELS))
    assert model.classify("<html><body><img src='a.png'></body></html>") == []


def test_incompatible_or_broken_model_files_fail_clearly(small_model, tmp_path):
    from boilerclf.model import Model

    old = Model(small_model.pipeline, small_model.context, {**small_model.meta, "features_version": -1})
    old.save(tmp_path / "old.boilerclf")
    with pytest.raises(ModelError, match="incompatible.*feature extractor.*Retrain"):
        load_model(tmp_path / "old.boilerclf")
    (tmp_path / "junk.boilerclf").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a boilerclf model"):
        load_model(tmp_path / "junk.boilerclf")
    good = (tmp_path / "good.boilerclf")
    small_model.save(good)
    (tmp_path / "truncated.boilerclf").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelError, match="truncated or corrupt"):
        load_model(tmp_path / "truncated.boilerclf")
    with pytest.raises(ModelError, match="no model file"):
        load_model(tmp_path / "missing.boilerclf")


def test_folds_grouped_by_page_keep_a_page_and_its_text_view_together(sample_pages):
    from boilerclf.model import _folds, training_set

    pages = read_pages(sample_pages[:3])
    for page in pages:
        page.site = "one-site.com"
    blocks, _, groups, _ = training_set(pages)
    splitter, grouped_by = _folds(groups, blocks, 3)
    assert grouped_by == "page"
    of_page: dict = {}
    for block, group in zip(blocks, splitter.test_fold.tolist()):
        of_page.setdefault(block.page.source.split("#")[0], set()).add(group)
    assert len(of_page) == 3 and all(len(g) == 1 for g in of_page.values())  # HTML, text, extract: one group
    with pytest.raises(ModelError, match="needs at least 5 labelled pages; these are 3"):
        train(pages, cv_folds=5)


def test_macro_f1_counts_the_labels_that_occur():
    from boilerclf.model import scores

    result = scores(["navigation"] * 9 + ["promo"], ["navigation"] * 9 + ["navigation"])
    assert result["macro_labels"] == ["promo", "navigation"]
    assert result["macro_f1"] == pytest.approx((0.0 + result["per_label"]["navigation"]["f1"]) / 2)
    assert result["per_label"]["content"]["support"] == 0


def test_manifest_of_a_subfolder_is_read_and_errors_name_the_page(sample_pages, tmp_path):
    import json
    import shutil

    from boilerclf.dataset import stats
    from boilerclf.page import InputError

    site = tmp_path / "set" / "site-a"
    site.mkdir(parents=True)
    for page in sample_pages[:3]:
        shutil.copy(page, site / page.name)
    (site / "pages.jsonl").write_text("".join(json.dumps({"file": p.name, "site": "a.example", "language": "xx"}) + "\n"
                                              for p in sample_pages[:3]))
    for folder in (tmp_path / "set", site):  # the same pages, whichever folder is named
        assert {p.site for p in read_pages([folder])} == {"a.example"}
        assert stats([folder])["languages"] == 1
    above = tmp_path / "set" / "pages.jsonl"  # a manifest above the named folder counts too
    above.write_text((site / "pages.jsonl").read_text().replace('"file": "', '"file": "site-a/'))
    (site / "pages.jsonl").unlink()
    assert {p.site for p in read_pages([site])} == {"a.example"}
    bad = site / sample_pages[0].name
    bad.write_text(bad.read_text().replace('data-label="content"', 'data-label="contnet"', 1))
    with pytest.raises(InputError, match=f"{bad.name}: unknown label 'contnet'"):
        read_pages([tmp_path / "set"])


def test_a_manifest_saved_with_a_bom_gives_the_sites(sample_pages, tmp_path):
    """Notepad and PowerShell save UTF-8 with a BOM, which json.loads refuses in a str: the manifest's
    first line, as written, was "not a manifest line"."""
    import json
    import shutil

    for page in sample_pages[:2]:
        shutil.copy(page, tmp_path / page.name)
    lines = "".join(json.dumps({"file": p.name, "site": "a.example"}) + "\r\n" for p in sample_pages[:2])
    (tmp_path / "pages.jsonl").write_bytes(lines.encode("utf-8-sig"))
    assert [p.site for p in read_pages([tmp_path])] == ["a.example", "a.example"]


def test_a_manifest_not_in_utf8_is_an_error_naming_it(sample_pages, tmp_path):
    """A manifest saved in Latin-1, with a file name such as über.html, stopped train with a traceback."""
    import shutil

    from boilerclf.page import InputError

    shutil.copy(sample_pages[0], tmp_path / sample_pages[0].name)
    (tmp_path / "pages.jsonl").write_bytes(b'{"file": "\xfcber.html", "site": "a.example"}\n')
    with pytest.raises(InputError, match=r"pages\.jsonl: not UTF-8 \(invalid start byte at byte 10\)"):
        read_pages([tmp_path])


def test_a_page_listed_twice_in_a_manifest_is_an_error_naming_both_lines(sample_pages, tmp_path):
    """Two entries for one file (a manifest appended to twice, one a fix of the other) silently gave the
    page the last one's site: an error naming both lines, unless the two say the same."""
    import json
    import shutil

    from boilerclf.page import InputError

    name = sample_pages[0].name
    shutil.copy(sample_pages[0], tmp_path / name)
    entries = [{"file": name, "site": "a.example"}, {"file": "other.html"}, {"file": f"./{name}", "site": "a.example"}]
    (tmp_path / "pages.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert [p.site for p in read_pages([tmp_path])] == ["a.example"]  # the same entry twice: no harm
    entries[2]["site"] = "b.example"
    (tmp_path / "pages.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    with pytest.raises(InputError, match=rf"pages\.jsonl:3: \./{name} is listed on line 1 too, with another site: keep one"):
        read_pages([tmp_path])


def test_train_takes_a_generator_of_pages(sample_pages):
    """A generator was read once by `training_set`: the model card counted no unlabelled blocks, and
    training failed on "object of type 'generator' has no len()" only after the whole fit."""
    pages = read_pages(sample_pages[:3])
    model = train((page for page in pages), cv_folds=0, context=False)
    assert model.meta["data"] == train(pages, cv_folds=0, context=False).meta["data"]


def test_train_given_paths_or_html_says_how_to_read_them(sample_pages):
    """Paths or HTML failed on "'PosixPath' object has no attribute 'tree'"."""
    for wrong in (sample_pages[:3], [path.read_bytes() for path in sample_pages[:3]]):
        with pytest.raises(TypeError, match="read_pages"):
            train(wrong, cv_folds=0, context=False)


def test_extract_views_span_the_content_with_a_little_residue_and_stay_out_of_the_headline_scores(sample_pages):
    """Half the pages also train as an extractor's output (first to last content block, 0-3 blocks
    either side), so that such text's last paragraph is not taken for a footer; the scores people
    compare leave them out, and a site's extract sits in its site's fold (GroupKFold on the
    pages' own blocks, as without extracts)."""
    from sklearn.model_selection import GroupKFold

    from boilerclf.dataset import extract_view
    from boilerclf.model import _extracts, _folds, training_set

    pages = read_pages(sample_pages)
    extracts = {page.source: extract_view(page) for page in pages}
    assert 2 <= sum(v is not None for v in extracts.values()) <= 8  # about every other page
    for page in pages:
        view = extracts[page.source]
        if view is None:
            continue
        texts, labels = [b.text for b in page.blocks], [b.label for b in page.blocks]
        content = [i for i, label in enumerate(labels) if label == "content"]
        start = texts.index(view.blocks[0].text, max(content[0] - 3, 0))
        assert texts[start:start + len(view.blocks)] == [b.text for b in view.blocks]
        assert content[0] - 3 <= start <= content[0] and content[-1] <= start + len(view.blocks) - 1 <= content[-1] + 3
        assert not any(b.has_dom for b in view.blocks) and view.view_of is page
        again = extract_view(read_pages([page.source])[0])  # the same page and span each time
        assert [b.text for b in again.blocks] == [b.text for b in view.blocks]
    blocks, labels, groups, _ = training_set(pages)
    extract = _extracts(blocks)
    splitter, _ = _folds(groups, blocks, 3)
    own = np.asarray(groups)[~extract]
    expected = [sorted(set(own[test])) for _, test in GroupKFold(3).split(own, groups=own)]
    assert [sorted(set(np.asarray(groups)[test])) for _, test in splitter.split(blocks)] == expected
    cv = train(pages, cv_folds=3).meta["cv"]
    assert cv["extract_blocks"]["per_label"]["content"]["support"] == int((extract & (np.asarray(labels) == "content")).sum())
    assert sum(s["support"] for s in cv["per_label"].values()) == int((~extract).sum())


def test_pages_without_site_or_url_train_with_their_views_in_their_fold(sample_pages):
    """Pages made by the API (read_labelled, segment) may have no site and no URL: their group is
    their source, which a text or extract view's `#text`/`#extract` suffix made another group
    (a KeyError in _folds for an extract; the page's text on the other side of its HTML)."""
    from boilerclf.labels import read_labelled
    from boilerclf.model import _folds, training_set

    pages = [read_labelled(path) for path in sample_pages]
    for page in pages:
        page.site = page.url = None
    blocks, _, groups, _ = training_set(pages)
    assert len(set(groups)) == len(pages)
    splitter, grouped_by = _folds(groups, blocks, 3)
    assert grouped_by == "site"
    of_page: dict = {}
    for block, fold in zip(blocks, splitter.test_fold.tolist()):
        of_page.setdefault(block.page.source.split("#")[0], set()).add(fold)
    assert all(len(f) == 1 for f in of_page.values())


@pytest.mark.parametrize("field, value", [("url", 12345), ("site", ["a.example", "b.example"]),
                                          ("language", {"code": "de"}), ("file", 3)])
def test_a_manifest_field_of_the_wrong_type_is_an_error_naming_the_line(sample_pages, tmp_path, field, value):
    """A manifest's `url` that was a number stopped train and stats with a traceback in urllib
    ('int' object has no attribute 'decode'), a `site` that was a list with "unhashable type: 'list'"
    after every page had been read: a user's mistake, to be named as such."""
    import json
    import shutil

    from boilerclf.dataset import stats
    from boilerclf.page import InputError

    for page in sample_pages[:2]:
        shutil.copy(page, tmp_path / page.name)
    entries = [{"file": p.name, "site": "a.example", "url": None} for p in sample_pages[:2]]
    entries[1][field] = value
    (tmp_path / "pages.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    with pytest.raises(InputError, match=rf"pages\.jsonl:2: .*'{field}'"):
        read_pages([tmp_path])
    with pytest.raises(InputError, match=rf"pages\.jsonl:2: .*'{field}'"):
        stats([tmp_path])


def test_training_blocks_go_to_joblib_workers_for_a_parallel_cross_validation(sample_pages):
    """`cross_val_score(pipeline, blocks, labels, groups=sites, cv=..., n_jobs=2)`, the README's recipe
    on two cores, failed with "PicklingError: Could not pickle the task": blocks held their lxml
    elements. They pickle without them, and give the same features."""
    import copy
    import pickle

    from sklearn.model_selection import GroupKFold, cross_val_score

    from boilerclf.features import BlockFeatures
    from boilerclf.model import build_pipeline, training_set

    pages = read_pages(sample_pages[:4])
    blocks, labels, sites, _ = training_set(pages, text_views=False)
    copied = pickle.loads(pickle.dumps(blocks))
    assert copied[0].element is None and copied[0].page.tree is None and pages[0].tree is not None
    assert copy.copy(blocks[0]).element is blocks[0].element and copy.copy(pages[0]).tree is pages[0].tree
    features = BlockFeatures(word_features=2**12, char_features=2**12, dom_features=2**12)
    assert (features.transform(copied) != features.transform(blocks)).nnz == 0
    scores = cross_val_score(build_pipeline(), blocks, labels, groups=sites, cv=GroupKFold(2), n_jobs=2)
    assert len(scores) == 2
