"""The Python API: thread safety, batches, the scikit-learn surface, safe loading, typing."""
import gzip
import io
import json
import pickle
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score

import boilerclf
from boilerclf.dataset import read_pages
from boilerclf.model import ESTIMATORS, MANIFEST, load_model, read_meta, training_set
from boilerclf.page import ModelError

from .conftest import CORPUS, ROOT

PAGES = [gzip.decompress(p.read_bytes()) for p in sorted((CORPUS / "newspaper-pages" / "html").glob("*.gz"))[:6]]


def labels_and_probas(blocks):
    return [(b.text, b.label, tuple(sorted(b.proba.items()))) for b in blocks]


def test_classify_from_many_threads_equals_serial():
    model = boilerclf.load_model()
    serial = [labels_and_probas(model.classify(page)) for page in PAGES]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda page: labels_and_probas(model.classify(page)), PAGES * 3))
    assert threaded == serial * 3


def test_classify_many_in_processes_equals_classify():
    model = boilerclf.load_model()
    batch = model.classify_many(PAGES[:4], n_jobs=2)
    assert [labels_and_probas(b) for b in batch] == [labels_and_probas(model.classify(p)) for p in PAGES[:4]]
    assert all(b.element is None and b.page is None for blocks in batch for b in blocks)


def test_classify_many_can_skip_a_bad_page_and_keep_the_others():
    model = boilerclf.load_model()
    pages = [PAGES[0], b"", PAGES[1], b"\x89PNG\r\n\x1a\n not a page"]
    with pytest.raises(boilerclf.InputError):
        model.classify_many(pages)
    done = model.classify_many(pages, n_jobs=2, errors="skip")
    assert done[1] is None and done[3] is None
    assert [labels_and_probas(done[i]) for i in (0, 2)] == [labels_and_probas(model.classify(PAGES[i])) for i in (0, 1)]


def test_a_page_that_is_not_bytes_or_str_is_a_type_error():
    model = boilerclf.load_model()
    for wrong in (None, 42, PAGES[:1]):
        with pytest.raises(TypeError, match="a page is bytes or str"):
            model.classify(wrong)


def test_model_card_holds_what_a_user_needs():
    meta = read_meta(boilerclf.model.DEFAULT_MODEL)
    for key in ("labels", "features_version", "versions", "trained_at", "data", "cv"):
        assert key in meta
    assert set(meta["data"]["blocks_per_label"]) == set(boilerclf.LABELS)
    assert meta["cv"]["grouped_by"] == "site"


def test_sklearn_tools_work_on_the_exposed_pipeline(sample_pages):
    model = boilerclf.load_model()
    assert model.features is model.pipeline.named_steps["features"]
    blocks, labels, groups, _ = training_set(read_pages(sample_pages[:4]), text_views=False)
    scores = cross_val_score(clone(model.pipeline), blocks, labels, groups=groups, cv=GroupKFold(2))
    assert scores.shape == (2,) and np.all((scores > 0.3) & (scores <= 1))


def _model_file(path, payload, meta):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(meta))
        archive.writestr(ESTIMATORS, payload)


class Evil:
    def __reduce__(self):
        return (open, (MARKER, "w"))


MARKER = str(ROOT / ".payload-ran")


@pytest.mark.parametrize("kind", ["pickle-as-model", "pickle-inside", "skops-with-foreign-type", "skops-naming-os"])
def test_loading_a_malicious_file_refuses_and_never_runs_its_payload(kind, tmp_path):
    import os

    good = zipfile.ZipFile(boilerclf.model.DEFAULT_MODEL)
    meta = json.loads(good.read(MANIFEST))
    path = tmp_path / "evil.boilerclf"
    if kind == "pickle-as-model":
        path.write_bytes(pickle.dumps(Evil()))
    elif kind == "pickle-inside":
        _model_file(path, pickle.dumps(Evil()), meta)
    elif kind == "skops-with-foreign-type":
        _model_file(path, sio.dumps({"pipeline": Evil(), "context": None}), meta)
    else:  # a hand-made skops schema that asks for os.system
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as inner:
            inner.writestr("schema.json", json.dumps({
                "__class__": "system", "__module__": "os", "__loader__": "FunctionNode",
                "content": {"module_path": "os", "function": "system"}, "protocol": 2,
                "_skops_version": "0.16.0"}))
        _model_file(path, buffer.getvalue(), meta)
    with pytest.raises(ModelError):
        load_model(path)
    assert not os.path.exists(MARKER)


def test_package_is_typed_and_passes_mypy():
    assert (ROOT / "boilerclf" / "py.typed").exists()
    result = subprocess.run([sys.executable, "-m", "mypy", "boilerclf"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
