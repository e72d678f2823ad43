import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRAINING = ROOT / "training_data"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
AL_MONITOR = SHARED / "examples" / "al-monitor-idlib.txt"


def pytest_configure(config):
    """The tests neither read nor fill the user's own cache of models read (`boilerclf.cache`)."""
    os.environ["BOILERCLF_CACHE"] = tempfile.mkdtemp(prefix="boilerclf-cache-")


def pytest_unconfigure(config):
    shutil.rmtree(os.environ.pop("BOILERCLF_CACHE", ""), ignore_errors=True)


def manifest():
    return [json.loads(line) for line in (TRAINING / "pages.jsonl").read_text().splitlines() if line.strip()]


def small_sample(n=10):
    """n labelled pages from distinct sites, small enough to train on in seconds."""
    seen, picked = set(), []
    for entry in sorted(manifest(), key=lambda e: e["file"]):
        path = TRAINING / entry["file"]
        if entry["site"] not in seen and path.stat().st_size < 150_000:
            seen.add(entry["site"])
            picked.append(path)
        if len(picked) == n:
            break
    return picked


@pytest.fixture(scope="session")
def sample_pages():
    return small_sample()


@pytest.fixture(scope="session")
def small_model(sample_pages):
    from boilerclf.dataset import read_pages
    from boilerclf.model import train

    return train(read_pages(sample_pages), cv_folds=2)


@pytest.fixture(scope="session")
def small_model_path(small_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "small.boilerclf"
    small_model.save(path)
    return path
