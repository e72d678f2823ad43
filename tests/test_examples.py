"""The shipped model on a real scraped page it was not trained on (no al-monitor.com page is in
training_data)."""
import pytest
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.segment import text_lines

from .conftest import AL_MONITOR

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


@pytest.mark.xfail(strict=True, reason="known miss: in plain text, the two-line Al-Monitor PRO teaser right after "
                   "the article reads like prose to the shipped model; it passes once a model drops them")
def test_clean_drops_the_al_monitor_pro_teaser(kept):
    assert not [t for t in LINES[PRO:MEMBERSHIP] if t in kept]
