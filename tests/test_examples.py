"""The shipped model on real scraped text of sites it was not trained on (no al-monitor.com,
thedailybeast.com or huffingtonpost.com page is in training_data)."""
import re

import pytest
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.segment import text_lines

from .conftest import AL_MONITOR, CORPUS, manifest

LINES = list(text_lines(AL_MONITOR.read_text()))
FIRST = next(i for i, t in enumerate(LINES) if t.startswith("A top US envoy today pressed Russia"))
PRO = LINES.index("Join hundreds of Middle East professionals with Al-Monitor PRO.")
MEMBERSHIP = LINES.index("Already a Member? Sign in")  # the newsletter and membership pitches start here


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    result = CliRunner().invoke(app, ["clean", str(AL_MONITOR), "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    return set((out / "al-monitor-idlib.txt").read_text().splitlines())


def test_clean_keeps_every_paragraph_of_the_article(kept):
    article = LINES[FIRST:PRO]
    assert len(article) >= 15 and article[-1].startswith("“They simply leave it,”")
    missing = [t for t in article if t not in kept]
    assert not missing, f"article paragraphs dropped: {missing}"


def test_clean_drops_the_newsletter_and_membership_pitches(kept):
    pitch = LINES[MEMBERSHIP:]
    assert "• Daily Briefing (PM)" in pitch and "$25.00 / month" in pitch
    leaked = [t for t in pitch if t in kept]
    assert not leaked, f"newsletter or membership lines kept: {leaked}"


def test_clean_drops_the_al_monitor_pro_teaser(kept):
    """Two lines of prose right after the article, with no markup to tell them apart: what gives
    them away is their wording ("Join hundreds of ...", "Try it for free and cancel anytime"), which
    the cue phrases (`boilerclf.cues`) map onto what the training pages' pitches taught."""
    teaser = LINES[PRO:MEMBERSHIP]
    assert len(teaser) == 2
    assert not [t for t in teaser if t in kept]


@pytest.mark.parametrize("extract", ["thedailybeast.com2.txt", "huffingtonpost.com1.txt"])
def test_clean_keeps_the_last_paragraph_of_an_extractors_output(extract, tmp_path):
    """Text an extractor wrote (newspaper's, here) ends with the article's last paragraph, where a whole
    page's text ends with its footer; trained on whole pages only, the model took it for navigation."""
    path = CORPUS / "newspaper-pages" / "txt" / extract
    assert re.sub(r"\d*\.txt$", "", extract) not in {entry["site"] for entry in manifest()}
    result = CliRunner().invoke(app, ["clean", str(path), "-o", str(tmp_path), "-j", "1"])
    assert result.exit_code == 0, result.output
    lines = list(text_lines(path.read_text()))
    kept = (tmp_path / extract).read_text().splitlines()
    assert len(lines) > 10 and kept[-1] == lines[-1]
