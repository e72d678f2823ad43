"""The Python API: thread safety, batches, the scikit-learn surface, safe loading, typing."""
import contextlib
import gzip
import io
import json
import os
import pickle
import re
import signal
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
from boilerclf.card import ESTIMATORS, MANIFEST, read_meta
from boilerclf.model import load_model, training_set
from boilerclf.page import ModelError

from .conftest import AL_MONITOR, CORPUS, ROOT
from .test_hostile import pdf, png, zip_bytes

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


def test_classify_many_with_threads_or_a_cluster_sends_the_model_not_a_local_file():
    """A /tmp copy exists only on this machine: other joblib backends get the model itself."""
    from joblib import parallel_config

    from boilerclf import batch

    model = boilerclf.load_model()
    with parallel_config(backend="threading"):
        done = model.classify_many(PAGES[:3], n_jobs=2)
    assert [labels_and_probas(b) for b in done] == [labels_and_probas(model.classify(p)) for p in PAGES[:3]]
    assert not batch._COPY  # no copy was made, so none stays mapped in this process


def test_classify_many_can_skip_a_bad_page_and_keep_the_others():
    model = boilerclf.load_model()
    pages = [PAGES[0], b"", PAGES[1], b"\x89PNG\r\n\x1a\n not a page"]
    with pytest.raises(boilerclf.InputError):
        model.classify_many(pages)
    done = model.classify_many(pages, n_jobs=2, errors="skip")
    assert done[1] is None and done[3] is None
    assert [labels_and_probas(done[i]) for i in (0, 2)] == [labels_and_probas(model.classify(PAGES[i])) for i in (0, 1)]


def test_classify_many_spreads_few_pages_over_workers_and_sends_the_model_once(monkeypatch):
    """Tasks are small enough that 8 pages reach both workers, and carry a path to a copy of
    the model, never the model itself (13 MB pickled per task)."""
    import joblib

    model = boilerclf.load_model()
    tasks = []

    class Recorder:  # runs the tasks here, as a worker would
        def __init__(self, n_jobs):
            assert n_jobs == 2

        def __call__(self, calls):
            tasks.extend(calls)
            return [fn(*args, **kwargs) for fn, args, kwargs in tasks]

    monkeypatch.setattr(joblib, "Parallel", Recorder)
    pages = (PAGES * 2)[:8]
    done = model.classify_many(pages, n_jobs=2)
    assert [labels_and_probas(b) for b in done] == [labels_and_probas(model.classify(p)) for p in pages]
    assert len(tasks) >= 2
    assert not any(isinstance(arg, boilerclf.Model) for _, args, kwargs in tasks for arg in (*args, *kwargs.values()))
    assert len(pickle.dumps(tasks)) < 2 * sum(map(len, pages))


@pytest.mark.parametrize("one_page", [PAGES[0], PAGES[0].decode("utf-8", "replace"), bytearray(PAGES[0])])
def test_classify_many_refuses_one_page_given_for_a_list(one_page):
    with pytest.raises(TypeError, match="list of pages, not one page"):
        boilerclf.load_model().classify_many(one_page, errors="skip")


def test_a_page_that_is_not_bytes_or_str_is_a_type_error():
    model = boilerclf.load_model()
    for wrong in (None, 42, PAGES[:1]):
        with pytest.raises(TypeError, match="a page is bytes or str"):
            model.classify(wrong)


def test_predict_pages_given_html_says_to_segment_it():
    """HTML given for pages failed on "'bytes' object has no attribute 'blocks'"."""
    with pytest.raises(TypeError, match="boilerclf.segment"):
        boilerclf.load_model().predict_pages(PAGES[:2])


def test_predict_given_texts_or_a_page_for_blocks_says_what_it_takes():
    """Texts given to `predict`, `predict_proba` or the pipeline, as to a scikit-learn text classifier,
    failed on "'str' object has no attribute 'page'"; a Page on "object of type 'Page' has no len()"."""
    model = boilerclf.load_model()
    page = boilerclf.segment(PAGES[0])
    texts = [b.text for b in page.blocks]
    for call in (model.predict, model.predict_proba, model.pipeline.predict, model.features.transform):
        with pytest.raises(TypeError, match=r"take Blocks, not str: .*boilerclf.segment\(html\).blocks"):
            call(texts)
    for call in (model.predict, model.predict_proba):
        with pytest.raises(TypeError, match=r"takes a page's blocks, not a Page: page.blocks"):
            call(page)
    assert model.predict(page.blocks) == [b.label for b in model.classify(PAGES[0])]


def test_model_card_holds_what_a_user_needs():
    meta = read_meta(boilerclf.card.DEFAULT_MODEL)
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


def test_the_context_stage_follows_scikit_learn_conventions_unfitted_and_scored():
    """Unfitted, `predict_proba` failed on "no attribute 'estimator_'" where scikit-learn's estimators
    raise NotFittedError; `score`, inherited, called `predict` without page ids: always a TypeError."""
    from sklearn.exceptions import NotFittedError

    from boilerclf.model import _page_ids

    model = boilerclf.load_model()
    blocks = boilerclf.segment(PAGES[1]).blocks
    features = model.pipeline[:-1].transform(blocks)
    probas, pages, stats = model.pipeline[-1].predict_proba(features), _page_ids(blocks), model.features.dense(features)
    with pytest.raises(NotFittedError):
        clone(model.context).predict_proba(probas, pages, stats)
    with pytest.raises(ValueError, match="fitted with the blocks' statistics: give predict_proba `stats`"):
        model.context.predict_proba(probas, pages)  # scikit-learn's "X has 48 features, but … expecting 127"
    labels = [b.label for b in model.classify(PAGES[1])]
    assert model.context.score(probas, labels, pages, stats) == np.mean(
        model.context.predict(probas, pages, stats) == np.asarray(labels)) > 0.8


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

    good = zipfile.ZipFile(boilerclf.card.DEFAULT_MODEL)
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


USER_SCRIPT = """
from boilerclf import Block, Model, load_model, train

model: Model = load_model()
blocks: list[Block] = model.classify(b"<p>hello</p>")
n: int = model.clean("<p>x</p>")  # error
model.classify(123)  # error
model.no_such_method()  # error
x: int = blocks[0].text  # error
"""


def test_user_code_importing_from_the_package_is_type_checked(tmp_path):
    """The README's `from boilerclf import load_model` has real types, not Any, for mypy."""
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    result = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "--cache-dir",
                             str(tmp_path / "cache"), "user.py"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "MYPYPATH": str(ROOT)})
    errors = sorted(int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line)
    deliberate = [i for i, line in enumerate(USER_SCRIPT.splitlines(), 1) if line.endswith("# error")]
    assert errors == deliberate, result.stdout + result.stderr


def test_lazy_names_are_listed_but_not_imported_with_the_package():
    code = ("import sys, boilerclf; assert {'Model', 'load_model', 'train'} <= set(dir(boilerclf)); "
            "assert 'sklearn' not in sys.modules, 'importing boilerclf imported scikit-learn'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr


def test_the_segment_function_is_no_submodule_and_listing_the_package_imports_nothing_heavy():
    """`help(boilerclf)` and `inspect.getmembers` fetch every name `dir` lists: submodules there
    would import scikit-learn and the CLI. Only the three lazy API names import the model module."""
    code = ("import sys, boilerclf; from boilerclf.segment import html_blocks; "
            "assert callable(boilerclf.segment) and 'segment' not in boilerclf._SUBMODULES; "
            "[getattr(boilerclf, name) for name in dir(boilerclf) if name not in boilerclf._LAZY]; "
            "heavy = {'sklearn', 'typer', 'boilerclf.cli'} & set(sys.modules); assert not heavy, heavy; "
            "assert boilerclf.model.training_set and 'sklearn' in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr


def test_submodules_are_reached_from_the_package_as_the_readme_does(sample_pages):
    """README: `boilerclf.model.training_set(boilerclf.dataset.read_pages([...]))` after `import boilerclf`."""
    code = ("import boilerclf; blocks, labels, sites, _ = boilerclf.model.training_set(boilerclf.dataset.read_pages("
            f"[{str(sample_pages[0])!r}])); assert blocks and len(labels) == len(sites) == len(blocks)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr


def test_clean_checks_keep_and_takes_a_url():
    model = boilerclf.load_model()
    page = PAGES[0]
    content = model.clean(page)
    assert content and model.clean(page, "content") == content == model.clean(page, url="https://example.com/a")
    both = model.clean(page, keep=["content", "promo"])
    for wrong in (["Content"], "contentpromo", ["content", "ads"]):
        with pytest.raises(ValueError, match="the labels are content, "):
            model.clean(page, keep=wrong)
    for wrong in (None, b"content"):  # "'NoneType' object is not iterable"; bytes read as numbers (99, 111, …)
        with pytest.raises(TypeError, match=f"keep takes a label or labels, not {type(wrong).__name__}"):
            model.clean(page, keep=wrong)
    assert len(both) > len(content)


def test_render_checks_keep_as_clean_does():
    """`render_html(page, keep=...)`, as the README shows it, rendered a typo ("Content") as an empty
    page without a word, and read a str as the labels it contains ("contentpromo": both)."""
    model = boilerclf.load_model()
    blocks = model.classify(PAGES[0])
    page = blocks[0].page
    for wrong in (["Content"], "contentpromo", ("content", "ads")):
        for render in (boilerclf.render.render_text, boilerclf.render.render_html, boilerclf.render.page_record):
            with pytest.raises(ValueError, match="unknown label"):
                render(page, keep=wrong)
    assert boilerclf.render.render_text(page, "promo") == boilerclf.render.render_text(page, ["promo"]) != ""
    assert boilerclf.render.render_text(page).rstrip("\n") == model.clean(PAGES[0])


def test_a_model_saved_under_the_home_folder_is_where_load_model_looks(small_model, tmp_path, monkeypatch):
    """`save("~/m.boilerclf")` made a folder named `~` in the current one, so the `load_model("~/m.boilerclf")`
    the README shows for your own model said "no model file"; `read_meta` (`boilerclf info`) missed it too."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "work")
    small_model.save("~/mine.boilerclf")
    assert (tmp_path / "home" / "mine.boilerclf").is_file() and not any((tmp_path / "work").iterdir())
    assert boilerclf.load_model("~/mine.boilerclf").meta == small_model.meta == read_meta("~/mine.boilerclf")


def test_a_page_whose_blocks_were_filtered_is_labelled_as_a_page_of_those_blocks():
    """A caller dropping short blocks before labelling (`page.blocks = [...]`) got an IndexError from
    scipy (the blocks' old `index` past the new list's end), or the features of other blocks."""
    model = boilerclf.load_model()

    def long_blocks():
        return [b for b in boilerclf.segment(PAGES[2]).blocks if len(b.text) > 40]

    page = boilerclf.segment(PAGES[2])
    page.blocks = [b for b in page.blocks if len(b.text) > 40]
    fresh = boilerclf.Page(long_blocks())
    assert 10 < len(page.blocks) < 100
    assert labels_and_probas(model.predict_pages([page])[0].blocks) == labels_and_probas(
        model.predict_pages([fresh])[0].blocks)
    assert [b.index for b in page.blocks] == list(range(len(page.blocks)))


def test_a_labelled_page_cut_to_its_first_blocks_is_labelled_as_a_page_of_those_blocks():
    """`page.blocks = page.blocks[:n]` after a first labelling leaves each block's index right, but the
    page's size was cached: the blocks' share of the page was still measured against the whole page."""
    model = boilerclf.load_model()
    [page] = model.predict_pages([boilerclf.segment(PAGES[2])])
    n = len(page.blocks) // 2
    page.blocks = page.blocks[:n]
    fresh = boilerclf.Page(boilerclf.segment(PAGES[2]).blocks[:n])
    assert n > 10 and labels_and_probas(model.predict_pages([page])[0].blocks) == labels_and_probas(
        model.predict_pages([fresh])[0].blocks)


def test_a_page_given_twice_to_predict_pages_is_labelled_as_given_once():
    """Its blocks went twice through the context stage as one page, its end before its start: the
    first blocks' probabilities hung on the last ones' (a batch with a page repeated, from a cache)."""
    model = boilerclf.load_model()
    page = boilerclf.segment(PAGES[0])
    assert model.predict_pages([page, page]) == [page, page]
    assert labels_and_probas(page.blocks) == labels_and_probas(model.classify(PAGES[0]))


def test_blocks_without_a_page_are_each_labelled_on_their_own():
    """The features take a block without a page as a page of its own, but the context stage took
    all of them for one page: a lone "Subscribe…" line was labelled by the other lines given with it."""
    model = boilerclf.load_model()
    texts = [b.text for b in boilerclf.read_page(AL_MONITOR).blocks if len(b.text) > 30][:6]
    together = model.predict_proba([boilerclf.Block(text) for text in texts])
    alone = np.vstack([model.predict_proba([boilerclf.Block(text)]) for text in texts])
    assert len(texts) == 6 and np.allclose(together, alone)
    assert model.predict([boilerclf.Block(text) for text in texts]) == [
        model.predict([boilerclf.Block(text)])[0] for text in texts]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252"])
def test_a_pdf_or_image_given_as_a_str_is_refused_as_its_bytes_are(encoding):
    """`requests.get(pdf_link).text` is a str of the PDF's bytes decoded: it was labelled as a page of
    gibberish (one "content" block, "%PDF-1.4 …"), where the bytes are "binary data, not a page"."""
    model = boilerclf.load_model()
    for data, what in ((pdf(), "a PDF document"), (png(), "a PNG image"), (zip_bytes(), "a ZIP archive")):
        with pytest.raises(boilerclf.InputError, match=re.escape(f"binary data, not a page ({what})")):
            model.classify(data.decode(encoding, errors="replace"))
    assert model.clean(PAGES[0].decode()) == model.clean(PAGES[0]) != ""


def test_models_hash_by_identity_so_they_can_be_cached():
    import functools

    model, other = boilerclf.load_model(), boilerclf.load_model()
    assert len({model, model, other}) == 2 and model != other and model == model

    @functools.lru_cache
    def labels_of(m):
        return m.labels

    assert labels_of(model) == labels_of(model)


def test_proba_has_every_label_even_those_the_model_lacks(sample_pages):
    pages = read_pages(sample_pages[:3])
    for page in pages:
        for block in page.blocks:
            block.label = "promo" if block.label == "subscription" else block.label
    model = boilerclf.train(pages, cv_folds=0, context=False, text_views=False)
    assert "subscription" not in model.labels
    blocks = model.classify(PAGES[0])
    assert all(list(b.proba) == list(boilerclf.LABELS) and b.proba["subscription"] == 0.0 for b in blocks)
    assert all(abs(sum(b.proba.values()) - 1) < 1e-3 for b in blocks)
    assert model.clean(PAGES[0], keep=["content", "subscription"]) == model.clean(PAGES[0])


def _distribution(requirement):
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_notebook_extra_installs_what_the_notebook_imports():
    import ast
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = {_distribution(r) for r in project["dependencies"] + project["optional-dependencies"]["notebook"]}
    notebook = json.loads((ROOT / "notebooks" / "walkthrough.ipynb").read_text())
    imported = {alias.name.split(".")[0] if isinstance(node, ast.Import) else node.module.split(".")[0]
                for cell in notebook["cells"] if cell["cell_type"] == "code"
                for node in ast.walk(ast.parse("".join(cell["source"])))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    third_party = imported - set(sys.stdlib_module_names) - {"boilerclf"}
    missing = {module for module in third_party
               if not {d.lower() for d in packages_distributions().get(module, [module])} & installed}
    assert "matplotlib" in third_party and not missing
    assert "ipykernel" in installed  # the kernel that runs it


def test_a_fresh_install_gets_the_versions_the_shipped_model_loads_with():
    """pyproject allowed Python 3.10 and any scikit-learn >= 1.4, NumPy >= 1.24, SciPy >= 1.10, but the
    shipped model loads only with the minor versions it was made with: on Python 3.10 (NumPy 2.2 at
    most), or once scikit-learn 1.10 is out, the README's `pip install .` then `boilerclf clean`
    stopped with "made by an incompatible version"."""
    import tomllib
    from importlib.metadata import metadata

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from boilerclf.card import CHECKED_LIBRARIES, DEFAULT_MODEL

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {Requirement(r).name.lower(): Requirement(r).specifier for r in project["dependencies"]}
    made_with = read_meta(DEFAULT_MODEL)["versions"]
    pythons = [f"3.{minor}" for minor in range(8, 20) if f"3.{minor}" in SpecifierSet(project["requires-python"])]
    for lib in CHECKED_LIBRARIES:
        major, minor = map(int, made_with[lib].split(".")[:2])
        spec = pinned[lib]
        assert made_with[lib] in spec and f"{major}.{minor + 1}.0" not in spec and f"{major + 1}.0.0" not in spec
        assert minor == 0 or f"{major}.{minor - 1}.999" not in spec, (lib, spec)
        needs = SpecifierSet(metadata(lib)["Requires-Python"] or "")  # the installed one: the model's minor
        assert all(python + ".0" in needs for python in pythons), (lib, needs, project["requires-python"])


THREADS_AT_ONCE = """
import gzip, os, signal, sys, threading, time
import boilerclf

model = boilerclf.load_model()
pages = [gzip.decompress(open(path, "rb").read()) for path in sys.argv[1:]] * 3
expected = [[(b.text, b.label) for b in model.classify(page)] for page in pages]
same = []

def call(n):
    for _ in range(3):
        same.append([[(b.text, b.label) for b in blocks] for blocks in model.classify_many(pages[:n], n_jobs=3)]
                    == expected[:n])

threads = [threading.Thread(target=call, args=(n,), daemon=True) for n in (len(pages), 2)]
for thread in threads:
    thread.start()
deadline = time.monotonic() + 60
for thread in threads:
    thread.join(timeout=max(0, deadline - time.monotonic()))
print(same, flush=True)
if any(thread.is_alive() for thread in threads):
    print("hung", flush=True)
    os.killpg(0, signal.SIGKILL)  # with the workers, which hold stdout; exiting would wait forever in loky's exit handler
"""


def test_classify_many_in_processes_from_threads_at_once_does_not_hang():
    """A call asking for fewer workers (min(n_jobs, pages)) resized joblib's shared pool while
    another call had jobs running and more to send (18 pages: more tasks than joblib sends at
    once), and both calls waited forever. In a process of its own, which a hang cannot outlive."""
    paths = [str(p) for p in sorted((CORPUS / "newspaper-pages" / "html").glob("*.gz"))[:6]]
    with subprocess.Popen([sys.executable, "-c", THREADS_AT_ONCE, *paths], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=300)
        finally:  # its process group: it and its workers, whatever happened
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    assert "hung" not in out, "classify_many calls from two threads hung"
    assert process.returncode == 0, err
    assert out.strip() == str([True] * 6)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252"])
def test_gzip_or_jpeg_bytes_given_as_a_str_are_refused(encoding):
    """Signatures with fewer than three ASCII bytes (gzip's, a JPEG's) do not survive decoding: a
    corpus page's gzip file given as `r.text` was labelled as a page of gibberish."""
    model = boilerclf.load_model()
    for path in sorted((CORPUS / "trafilatura-eval" / "html").glob("*.html.gz"))[:3]:
        with pytest.raises(boilerclf.InputError, match=re.escape("binary data, not a page (too many control")):
            model.classify(path.read_bytes().decode(encoding, errors="replace"))
    stray = PAGES[0].decode().replace("<body", "\x01\x02\x03\x04\x05\x06\x07<body", 1)
    assert model.clean(stray) == model.clean(PAGES[0])  # a page with stray control characters is still read


def test_a_folder_given_as_the_model_is_said_to_be_a_folder(tmp_path):
    """It said "no model file at" a path the user could see was there."""
    with pytest.raises(ModelError, match=re.escape(f"{tmp_path} is a folder, not a model file")):
        load_model(tmp_path)


def test_classify_and_clean_take_the_charset_an_http_header_gave():
    """A service holding a response's `Content-Type` had no way to pass its charset (only `segment`
    took one), and a text page, which never declares one, is decoded by a guess: a cp1252 article's
    "Hernández" came out "Hernįndez" (cp1257)."""
    model = boilerclf.load_model()
    data = (CORPUS / "newspaper-pages" / "txt" / "foxnews.com2.txt").read_text(encoding="utf-8").encode("cp1252")
    read = {charset: " ".join(b.text for b in model.classify(data, text=True, charset=charset))
            for charset in ("windows-1252", "cp1257")}  # the header's word is taken, whatever it says
    assert "Hernández" in read["windows-1252"] and "Hernįndez" in read["cp1257"]
    assert model.clean(data, keep=list(boilerclf.LABELS), text=True, charset="windows-1252") == "\n".join(
        b.text for b in model.classify(data, text=True, charset="windows-1252"))
