"""The cache of models read (`boilerclf.cache`): later loads of a model file skip skops, and only a
dump of the same bytes, in a folder no one else can write, is ever used."""
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io

from boilerclf import cache
from boilerclf.card import DEFAULT_MODEL
from boilerclf.model import load_model
from boilerclf.segment import segment

from .conftest import CORPUS

PAGE = segment(gzip.decompress(sorted((CORPUS / "newspaper-pages" / "html").glob("*.gz"))[0].read_bytes()))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("BOILERCLF_CACHE", str(where))
    return where


def no_skops(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read with skops")

    monkeypatch.setattr(skops.io, "loads", refuse)


def test_a_model_read_once_loads_from_the_cache_without_skops(folder, small_model_path, monkeypatch):
    first = load_model(small_model_path)
    assert [p.suffix for p in folder.iterdir()] == [".joblib"] and folder.stat().st_mode & 0o777 == 0o700
    no_skops(monkeypatch)
    again = load_model(small_model_path)
    assert again.meta == first.meta
    np.testing.assert_array_equal(again.predict_proba(PAGE.blocks), first.predict_proba(PAGE.blocks))


def test_a_changed_model_file_is_read_again(folder, small_model_path, tmp_path):
    path = tmp_path / "m.boilerclf"
    shutil.copy(small_model_path, path)
    small = load_model(path)
    shutil.copy(DEFAULT_MODEL, path)  # saved over, as `train -o` does
    assert load_model(path).meta == load_model().meta != small.meta
    assert len(list(folder.glob("*.joblib"))) == 2


def test_a_dump_in_a_folder_others_can_write_is_never_used(folder, small_model_path):
    """A dump is unpickled: one that another user could have planted must not be."""
    load_model(small_model_path)
    dump = next(folder.glob("*.joblib"))
    planted = load_model()
    joblib.dump(planted, dump)  # another model under the key of this file's
    dump.chmod(0o600)
    assert load_model(small_model_path).meta == planted.meta  # only this user could have put it there: used
    folder.chmod(0o777)
    assert load_model(small_model_path).meta != planted.meta
    folder.chmod(0o700)
    dump.chmod(0o666)
    assert load_model(small_model_path).meta != planted.meta
    assert load_model(small_model_path).meta != planted.meta and dump.stat().st_mode & 0o777 == 0o600  # replaced


def test_a_damaged_dump_is_read_again_and_replaced(folder, small_model_path):
    model = load_model(small_model_path)
    dump = next(folder.glob("*.joblib"))
    dump.write_bytes(dump.read_bytes()[:1000])
    assert load_model(small_model_path).meta == model.meta
    assert load_model(small_model_path).meta == model.meta and dump.stat().st_size > 100_000


def test_the_cache_can_be_turned_off_and_keeps_few_dumps(tmp_path, small_model_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BOILERCLF_CACHE", "")
    load_model(small_model_path)
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("BOILERCLF_CACHE")
    monkeypatch.setattr(cache, "KEEP", 1)
    load_model(small_model_path)
    load_model()
    assert len(list((tmp_path / "xdg" / "boilerclf").glob("*.joblib"))) == 1
    monkeypatch.delenv("XDG_CACHE_HOME")

    def homeless():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", homeless)  # a service's user: no cache, and loads as before
    assert load_model(small_model_path).meta["data"]["pages"] == 10


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forkserver workers: POSIX")
def test_the_workers_of_a_parallel_clean_fill_the_cache(tmp_path, small_model_path):
    """They load the model themselves: the first run's workers leave the dump the next runs' load."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for i, page in enumerate(sorted((CORPUS / "newspaper-pages" / "html").glob("*.gz"))[:4]):
        (pages / f"{i}.html").write_bytes(gzip.decompress(page.read_bytes()))
    env = {**os.environ, "BOILERCLF_CACHE": str(tmp_path / "cache")}
    for run in ("first", "second"):
        done = subprocess.run([sys.executable, "-m", "boilerclf", "clean", pages, "-o", tmp_path / run, "-j", "2",
                               "--model", small_model_path], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert len(list((tmp_path / "cache").glob("*.joblib"))) == 1
    assert sorted(p.read_text() for p in (tmp_path / "first").iterdir()) == \
        sorted(p.read_text() for p in (tmp_path / "second").iterdir())
