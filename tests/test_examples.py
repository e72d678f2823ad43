"""The shipped model on real pages it was not trained on."""
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.segment import text_lines

from .conftest import AL_MONITOR


def test_clean_al_monitor_keeps_the_article_and_drops_every_pitch(tmp_path):
    result = CliRunner().invoke(app, ["clean", str(AL_MONITOR), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    kept = set((tmp_path / "al-monitor-idlib.txt").read_text().splitlines())
    lines = list(text_lines(AL_MONITOR.read_text()))
    first = next(i for i, t in enumerate(lines) if t.startswith("A top US envoy today pressed Russia"))
    pitch = lines.index("Join hundreds of Middle East professionals with Al-Monitor PRO.")
    article = lines[first:pitch]
    assert len(article) >= 15 and article[-1].startswith("“They simply leave it,”")
    missing = [t for t in article if t not in kept]
    assert not missing, f"article paragraphs dropped: {missing}"
    leaked = [t for t in lines[pitch:] if t in kept]
    assert not leaked, f"PRO, newsletter or membership lines kept: {leaked}"
