import gzip
import json
import os
import re
import shutil
import subprocess
import sys

from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.labels import read_labelled
from boilerclf.page import LABELS

from .conftest import AL_MONITOR, CORPUS

runner = CliRunner()
NEWS_PAGE = CORPUS / "newspaper-pages" / "html" / "bostonherald.com1.html.gz"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_answers_questions():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("train", "predict", "clean", "label", "show", "relabel"):
        assert command in result.output
    assert "data-label" in invoke("train", "--help").output
    out = subprocess.run([sys.executable, "-m", "boilerclf", "clean", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--keep" in out.stdout and "--format" in out.stdout


def test_train_prints_grouped_scores_and_saves_a_model(sample_pages, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for page in sample_pages[:4]:
        shutil.copy(page, data / page.name)
    (data / "extra.txt").write_text("content\tA labelled line of text.\nnavigation\tHome\nNot labelled at all\n")
    result = invoke("train", data, "-o", tmp_path / "m.joblib", "--folds", "2", "-j", "0")  # 0: every CPU, as in clean
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Cross-validation grouped by site" in output
    assert "unlabelled blocks: 1" in output  # the .txt line without a label
    assert (tmp_path / "m.joblib").stat().st_size > 10_000


def test_train_refuses_folds_that_would_train_on_one_label(tmp_path):
    """A page with only its menu labelled, the other labels all on the page held out: scikit-learn's
    "number of classes has to be greater than one" came out as a traceback."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "menu.txt").write_text("navigation\tHome\nnavigation\tWorld\nnavigation\tSport\n")
    (data / "story.txt").write_text("navigation\tHome\ncontent\tThe council approved the budget on Tuesday.\n")
    for options in (("--folds", "2", "--no-context"), ("--folds", "2")):
        result = invoke("train", data, "-o", tmp_path / "m.boilerclf", *options)
        assert result.exit_code == 2 and not isinstance(result.exception, ValueError), result.output
        output = " ".join(result.output.split())
        assert f"cannot train on the pages other than {data / 'story.txt'}: they have only navigation" in output
    assert not (tmp_path / "m.boilerclf").exists()


def test_train_and_evaluate_name_the_pages_without_a_labelled_block(sample_pages, small_model_path, tmp_path):
    """A raw page mixed in among labelled ones counted in the page and site figures, silently."""
    data = tmp_path / "data"
    data.mkdir()
    for page in sample_pages[:2]:
        shutil.copy(page, data / page.name)
    raw = data / "raw.html"
    raw.write_bytes(gzip.decompress(NEWS_PAGE.read_bytes()))
    for args in (("train", data, "-o", tmp_path / "m.boilerclf", "--folds", "0", "--no-context"),
                 ("evaluate", data, "--model", small_model_path)):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert f"1 of 3 pages has no labelled block and counts for nothing (e.g. {raw})" in " ".join(
            result.output.split())
    result = invoke("evaluate", data, "--model", small_model_path, "--worst", "0")
    assert result.exit_code == 0 and "Worst pages" not in result.output  # it printed an empty table


def test_predict_prints_one_json_line_per_block(small_model_path, monkeypatch):
    """A model named from the home folder, `~/...`, quoted (no shell expands it), is found too:
    it was "no model file at ~/small.boilerclf", as it was from `load_model`."""
    from boilerclf.model import load_model

    monkeypatch.setenv("HOME", str(small_model_path.parent))
    assert load_model(f"~/{small_model_path.name}").meta == load_model(small_model_path).meta
    result = invoke("predict", AL_MONITOR, "--model", f"~/{small_model_path.name}")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    texts = [line for line in AL_MONITOR.read_text().splitlines() if line.strip()]
    assert len(lines) == len(texts)
    first = lines[0]
    assert set(first) == {"page", "index", "label", "proba", "text"}
    assert first["text"] == "Skip to main content" and first["label"] in LABELS
    assert set(first["proba"]) == set(LABELS)


def test_predict_and_label_go_on_after_a_page_that_breaks(tmp_path, small_model_path, monkeypatch):
    """An unexpected error on one page (a bug, a parser's exception) fails that page alone, as in `clean`."""
    import boilerclf.cli as cli

    broken = tmp_path / "broken.html"
    broken.write_text("<p>any page</p>")
    read = cli.read_page

    def read_page(path, *args, **kwargs):
        if path == broken:
            raise ValueError("All strings must be XML compatible")
        return read(path, *args, **kwargs)

    monkeypatch.setattr(cli, "read_page", read_page)
    result = invoke("predict", broken, AL_MONITOR, "--model", small_model_path)
    assert result.exit_code == 1
    assert "broken.html: ValueError: All strings must be XML compatible" in " ".join(result.stderr.split())
    assert {json.loads(line)["page"] for line in result.stdout.splitlines()} == {str(AL_MONITOR)}
    result = invoke("label", broken, AL_MONITOR, "-o", tmp_path / "out", "--model", small_model_path)
    assert result.exit_code == 1 and (tmp_path / "out" / AL_MONITOR.name).exists()


def test_clean_writes_every_format_mirrors_names_and_reports_bad_pages(tmp_path, small_model_path):
    inputs = tmp_path / "in"
    (inputs / "sub dir").mkdir(parents=True)
    shutil.copy(NEWS_PAGE, inputs / "sub dir" / "news.html.gz")
    shutil.copy(AL_MONITOR, inputs / "al.txt")
    (inputs / "empty.html").write_bytes(b"")
    before = {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}
    for fmt, suffix in (("text", ".txt"), ("html", ".html"), ("jsonl", ".jsonl")):
        out = tmp_path / fmt
        result = invoke("clean", inputs, "-o", out, "--format", fmt, "--model", small_model_path, "-j", "1")
        assert result.exit_code == 1  # the empty page failed, and the status says so
        assert "empty.html: empty page" in result.output.replace("\n", "")
        written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
        assert written == sorted([f"al{suffix}", f"sub dir/news{suffix}", "boilerclf-errors.jsonl", "boilerclf-run.json"])
        errors = [json.loads(line) for line in (out / "boilerclf-errors.jsonl").read_text().splitlines()]
        assert [(e["source"].endswith("empty.html"), e["reason"]) for e in errors] == [(True, "empty page")]
    record = json.loads((tmp_path / "jsonl" / "al.jsonl").read_text())
    assert {"source", "url", "text", "blocks"} <= set(record) and len(record["blocks"]) > 40
    kept = (tmp_path / "text" / "al.txt").read_text().splitlines()
    assert kept == [b["text"] for b in record["blocks"] if b["label"] == "content"]
    assert b"<script" not in (tmp_path / "html" / "sub dir" / "news.html").read_bytes()
    assert before == {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}  # inputs untouched


def test_keep_takes_labels_separated_by_commas_as_repeated(tmp_path):
    """`--keep content,promo` was refused as "unknown label(s) content,promo"."""
    assert invoke("clean", AL_MONITOR, "-o", tmp_path / "a", "--keep", "content,promo").exit_code == 0
    assert invoke("clean", AL_MONITOR, "-o", tmp_path / "b", "--keep", "content", "--keep", "promo").exit_code == 0
    kept = (tmp_path / "a" / AL_MONITOR.with_suffix(".txt").name).read_text()
    assert kept == (tmp_path / "b" / AL_MONITOR.with_suffix(".txt").name).read_text()
    assert invoke("clean", AL_MONITOR, "-o", tmp_path / "c").exit_code == 0
    content = (tmp_path / "c" / AL_MONITOR.with_suffix(".txt").name).read_text()
    assert set(content.splitlines()) < set(kept.splitlines())  # the promo lines too
    result = invoke("clean", AL_MONITOR, "-o", tmp_path / "d", "--keep", "content,ads")
    assert result.exit_code == 2 and "unknown label(s) ads" in result.output


def test_clean_rejects_unknown_labels_and_formats(tmp_path):
    assert invoke("clean", AL_MONITOR, "-o", tmp_path, "--keep", "ads").exit_code == 2
    assert invoke("clean", AL_MONITOR, "-o", tmp_path, "--format", "pdf").exit_code == 2
    assert invoke("clean", AL_MONITOR, "-o", tmp_path, "--scheduler", "tcp://10.0.0.5:8786").exit_code == 2
    assert invoke("clean", tmp_path / "nothing", "-o", tmp_path).exit_code == 2


def test_label_show_relabel_round_trip(tmp_path, small_model_path):
    result = invoke("label", NEWS_PAGE, AL_MONITOR, "-o", tmp_path, "--model", small_model_path)
    assert result.exit_code == 0, result.output
    page = tmp_path / "bostonherald.com1.html"
    labelled = read_labelled(page)
    assert labelled.blocks and all(b.label in LABELS for b in labelled.blocks)
    shown = invoke("show", page, "--width", "0").stdout.splitlines()
    assert len(shown) == len(labelled.blocks)
    assert invoke("relabel", page, "0-2=subscription", "3=promo").exit_code == 0
    after = read_labelled(page)
    assert [b.label for b in after.blocks[:4]] == ["subscription"] * 3 + ["promo"]
    assert [b.text for b in after.blocks] == [b.text for b in labelled.blocks]
    text_page = read_labelled(tmp_path / "al-monitor-idlib.txt")
    assert [b.text for b in text_page.blocks][0] == "Skip to main content" and text_page.blocks[0].label
    assert invoke("relabel", page, "0=spam").exit_code == 2


def test_label_keeps_corrected_pages_and_relabel_keeps_the_file_mode(tmp_path, small_model_path):
    out = tmp_path / "labelled"
    assert invoke("label", NEWS_PAGE, "-o", out, "--model", small_model_path).exit_code == 0
    page = out / "bostonherald.com1.html"
    page.chmod(0o640)
    model_label = read_labelled(page).blocks[0].label
    corrected = next(label for label in LABELS if label != model_label)
    assert invoke("relabel", page, f"0={corrected}").exit_code == 0
    assert page.stat().st_mode & 0o777 == 0o640
    result = invoke("label", NEWS_PAGE, "-o", out, "--model", small_model_path)
    assert result.exit_code == 0 and "kept 1 already there" in " ".join(result.output.split())
    assert read_labelled(page).blocks[0].label == corrected  # the correction survives a rerun
    assert invoke("label", NEWS_PAGE, "-o", out, "--model", small_model_path, "--overwrite").exit_code == 0
    assert read_labelled(page).blocks[0].label == model_label


def test_train_and_evaluate_refuse_what_they_cannot_do_before_working(tmp_path, sample_pages, small_model_path):
    (tmp_path / "folder").mkdir()
    result = invoke("train", sample_pages[0], "-o", tmp_path / "folder")
    assert result.exit_code == 2 and "is a folder" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == [tmp_path / "folder"]
    result = invoke("evaluate", NEWS_PAGE, "--model", small_model_path)  # a page without labels
    assert result.exit_code == 2 and "no labelled blocks" in " ".join(result.output.split())


def test_train_never_replaces_a_page_and_results_go_to_stdout(tmp_path, sample_pages, small_model_path):
    data = tmp_path / "data"
    data.mkdir()
    for page in sample_pages[:3]:
        shutil.copy(page, data / page.name)
    target = data / sample_pages[0].name
    before = target.read_bytes()
    result = invoke("train", data, "-o", target, "--folds", "0")  # as `train -o data/*.html` expands
    assert result.exit_code == 2 and "is not a boilerclf model" in " ".join(result.output.split())
    assert target.read_bytes() == before
    result = invoke("train", data, "-o", data / "model.html", "--folds", "0")  # would be read as a page later
    assert result.exit_code == 2 and "named as a page" in " ".join(result.output.split())
    assert not (data / "model.html").exists()
    result = invoke("train", data, "-o", tmp_path / "m.boilerclf", "--folds", "1")
    assert result.exit_code == 2 and "--folds 1" in result.output
    result = invoke("evaluate", data, "--model", small_model_path)
    assert result.exit_code == 0 and "Worst pages" in result.stdout and "macro" in result.stdout


def one_line(result) -> str:
    return " ".join(result.output.split())


def test_relabel_writes_a_gzipped_page_back_as_gzip(tmp_path, sample_pages):
    import gzip

    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(sample_pages[0].read_bytes()))
    before = read_labelled(page)
    corrected = next(label for label in LABELS if label != before.blocks[0].label)
    result = invoke("relabel", page, f"0={corrected}")
    assert result.exit_code == 0, result.output
    assert page.read_bytes()[:2] == b"\x1f\x8b"
    after = read_labelled(page)
    assert after.blocks[0].label == corrected and [b.text for b in after.blocks] == [b.text for b in before.blocks]


def test_relabel_says_which_unlabelled_blocks_inherit_from_a_relabelled_element(tmp_path):
    page = tmp_path / "nest.html"
    page.write_text('<html><body><div>Intro text of the box<p>Child paragraph one</p>'
                    '<p data-label="content">Child paragraph two</p></div></body></html>')
    result = invoke("relabel", page, "0=promo")
    assert result.exit_code == 0
    assert "1 block (1) had no label and inherited the label of a relabelled element" in one_line(result)
    assert "share" not in result.output
    assert [b.label for b in read_labelled(page).blocks] == ["promo", "promo", "content"]


def test_relabel_says_a_range_is_reversed(tmp_path, sample_pages):
    page = tmp_path / "page.html"
    shutil.copy(sample_pages[0], page)
    result = invoke("relabel", page, "3-1=promo")
    assert result.exit_code == 2 and "reversed" in one_line(result)


def test_help_shows_flags_as_flags_and_says_what_predict_and_relabel_do():
    from boilerclf import __version__

    for command in ("info", "label", "predict", "relabel"):  # typer 0.29: `--json <bool>`, `{pages}... <list[Path]>`
        shown = invoke(command, "--help").output
        assert "<bool>" not in shown and "<list[" not in shown and "{pages}" not in shown, shown
    predict = invoke("predict", "--help")
    assert "predict [OPTIONS] PAGE..." in predict.output
    for fact in ("one JSON line per block to stdout", "glob pattern", "read a list of paths, one per line, from stdin",
                 "no visible text prints nothing", "at least half the page's highest content probability"):
        assert fact in one_line(predict), fact
    relabel = one_line(invoke("relabel", "--help"))
    assert "a later range wins where it overlaps" in relabel and "cannot be set back to unlabelled" in relabel
    assert "relabel [OPTIONS] PAGE CHANGE..." in relabel
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout == f"boilerclf {__version__}\n"


def into_closed_pipe(*args) -> tuple[int, bytes]:
    """Run boilerclf with its output a pipe whose reader has gone before anything is written:
    the exit status and stderr."""
    reader, writer = os.pipe()
    os.close(reader)
    done = subprocess.run([sys.executable, "-m", "boilerclf", *map(str, args)], stdout=writer, stderr=subprocess.PIPE)
    os.close(writer)
    return done.returncode, done.stderr


def test_a_closed_output_pipe_exits_141_quietly(sample_pages):
    """`boilerclf show PAGE | head -1`: 1 would say a page failed."""
    for args in (["show", sample_pages[0]], ["stats", "--json", sample_pages[0]]):  # rich, then print
        assert into_closed_pipe(*args) == (141, b""), args


def test_help_and_version_into_a_closed_pipe_exit_141_too():
    """They print while the arguments are parsed, before any command runs."""
    for args in (["--help"], ["--version"], [], ["show", "--help"]):  # a bare `boilerclf` prints its help
        assert into_closed_pipe(*args) == (141, b""), args


def test_stats_and_evaluate_walk_their_inputs_once_so_each_warning_shows_once(tmp_path, sample_pages,
                                                                              small_model_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short names: not cut by the console's line breaks
    (tmp_path / "lab").mkdir()
    shutil.copy(sample_pages[0], tmp_path / "lab" / sample_pages[0].name)
    (tmp_path / "lab" / "snippets.jsonl").write_text(json.dumps(  # as the corpus's: "text" would be a page's
        {"url": "https://a.example/", "file": "a.html.gz", "with": ["x"], "without": ["y"]}) + "\n")
    for command in (["stats"], ["evaluate", "--model", small_model_path]):
        result = invoke(*command, "lab")
        assert result.exit_code == 0, result.output
        assert one_line(result).count("warning: lab/snippets.jsonl passed over") == 1, command


def test_relabel_refuses_to_write_an_xhtml_page_back_as_html(tmp_path):
    page = tmp_path / "p.xhtml"
    page.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>'
                    'T</title></head><body><nav><a href="/">Home</a></nav><p>First paragraph of the article.<br/>'
                    'Second line.</p></body></html>')
    before = page.read_bytes()
    result = invoke("relabel", page, "0=navigation", "1=content")
    assert result.exit_code == 2 and "save it as .html" in one_line(result)
    assert page.read_bytes() == before


def test_evaluate_counts_pages_not_views_and_prints_whole_names_when_saved(tmp_path, sample_pages, small_model_path):
    data = tmp_path / "data"
    data.mkdir()
    long_name = "a-page-name-long-enough-that-an-80-column-table-would-cut-it-" + "x" * 60 + ".html"
    shutil.copy(sample_pages[0], data / long_name)
    shutil.copy(sample_pages[1], data / sample_pages[1].name)
    result = invoke("evaluate", data, "--text-views", "--worst", "4", "--model", small_model_path)
    assert result.exit_code == 0, result.output
    assert "2 pages and their text-only views" in result.stdout
    assert str(data / long_name) + "#text" in result.stdout and "…" not in result.stdout


def test_stats_counts_sites_as_train_does_pages_per_language_and_refuses_no_pages(tmp_path):
    from boilerclf.dataset import read_pages

    data = tmp_path / "set"
    (data / "a").mkdir(parents=True)
    (data / "b").mkdir()
    html = ('<html><body><nav data-label="navigation"><a href="/">Home</a></nav><p data-label="content">Story about '
            'the council budget.</p></body></html>')
    (data / "a" / "x.html").write_text(html)
    (data / "b" / "x.html.gz").write_bytes(gzip.compress(html.encode()))
    (data / "a" / "y.html").write_text(html.replace("council budget", "parks"))
    (data / "a" / "pages.jsonl").write_text(json.dumps({"file": "x.html", "language": "de"}) + "\n")
    counts = json.loads(invoke("stats", data, "--json").stdout)
    assert counts["sites"] == len({page.site for page in read_pages([data])}) == 2  # x and y
    assert (counts["languages"], counts["pages_per_language"], counts["pages_without_language"]) == (1, {"de": 1}, 2)
    shown = invoke("stats", data).stdout
    assert "1 language (2 pages with none in a manifest)" in " ".join(shown.split())
    de_row = [line.split("│")[1:3] for line in shown.splitlines() if line.startswith("│ de")]
    assert [[cell.strip() for cell in row] for row in de_row] == [["de", "1"]]  # its pages
    (tmp_path / "empty").mkdir()
    result = invoke("stats", tmp_path / "empty")
    assert result.exit_code == 2 and "no inputs (.html" in one_line(result)


def test_a_page_with_the_sites_own_data_label_says_so_and_how_to_start_labelling_it(tmp_path):
    page = CORPUS / "trafilatura-eval" / "html" / "0a12df42d1764095989ab078ee0f940b.html.gz"  # data-label="Anzeige"
    copy = tmp_path / page.name
    shutil.copy(page, copy)
    for result, name in ((invoke("show", page), page), (invoke("relabel", copy, "0=navigation"), copy)):
        message = "".join(result.output.split())  # rich folds long paths where they have no space
        assert result.exit_code == 1
        assert f'{name}:thedata-label="Anzeige"of<li>online921camewiththepage' in message, message
        assert f"`boilerclflabel{name}-oFOLDER`" in message
    assert copy.read_bytes() == page.read_bytes()
    # as it says, `label` overwrites them: on the elements that own no block too (13 were left, and
    # taking a label off an element in an editor let one show through: `show` failed)
    assert invoke("label", page, "-o", tmp_path / "labelled").exit_code == 0
    labelled = tmp_path / "labelled" / page.name.removesuffix(".gz")
    assert 'data-label="Anzeige"' in gzip.decompress(page.read_bytes()).decode(errors="replace")
    assert 'data-label="Anzeige"' not in labelled.read_text()
    edited = tmp_path / "edited.html"
    edited.write_text(re.sub(r' data-label="[a-z]+"', "", labelled.read_text(), count=40))
    assert invoke("show", edited).exit_code == 0


def test_predict_and_clean_read_a_labelled_text_page_without_its_labels(tmp_path, small_model_path):
    plain = tmp_path / "in" / "al.txt"
    plain.parent.mkdir()
    plain.write_text("\n".join(AL_MONITOR.read_text().splitlines()[:30]))
    assert invoke("label", plain, "-o", tmp_path / "labelled", "--model", small_model_path).exit_code == 0
    labelled = tmp_path / "labelled" / "al.txt"
    label, _, text = labelled.read_text().splitlines()[0].partition("\t")  # as `label` writes it
    assert label in LABELS and text == "Skip to main content"
    predicted = [invoke("predict", page, "--model", small_model_path).stdout.splitlines() for page in (plain, labelled)]
    fields = [[{k: v for k, v in json.loads(line).items() if k != "page"} for line in lines] for lines in predicted]
    assert fields[0] == fields[1] and fields[0][0]["text"] == "Skip to main content"
    result = invoke("clean", labelled, "-o", tmp_path / "clean", "--model", small_model_path, "-j", "1")
    assert result.exit_code == 0, result.output
    kept = (tmp_path / "clean" / "al.txt").read_text().splitlines()
    assert kept and not any("\t" in line or line.startswith(LABELS) for line in kept)


def test_relabel_and_show_say_which_page_is_empty_or_has_no_blocks(tmp_path):
    empty, blank = tmp_path / "empty.html", tmp_path / "blank.html"
    empty.write_bytes(b"")
    blank.write_text("<html><body><script>x</script></body></html>")
    for result in (invoke("show", empty), invoke("relabel", empty, "0=promo")):
        assert result.exit_code == 1 and f"{empty}: empty page" in one_line(result)
    result = invoke("relabel", blank, "0=promo")
    assert result.exit_code == 2 and f"{blank} has no blocks" in one_line(result)


def test_usage_errors_exit_2_and_failures_1(tmp_path, sample_pages, small_model_path, monkeypatch):
    import boilerclf.cli as cli

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sample_pages[0], data / sample_pages[0].name)
    (data / "empty.html").write_bytes(b"")
    for command in (("stats", data), ("evaluate", data, "--model", small_model_path)):
        result = invoke(*command)
        assert result.exit_code == 1 and "empty.html: empty page" in one_line(result), command
        assert invoke(*command[:1], tmp_path / "missing", *command[2:]).exit_code == 2
    assert invoke("show", tmp_path / "missing.html").exit_code == 2
    page = tmp_path / "page.html"
    shutil.copy(sample_pages[0], page)

    def read_only(path, doc, **options):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.labelled, "write_labelled", read_only)
    result = invoke("relabel", page, "0=promo")
    assert result.exit_code == 1 and f"cannot write {page}: Permission denied" in one_line(result)


def test_label_gives_a_shared_element_the_label_of_most_of_its_text_and_warns(tmp_path, monkeypatch):
    import boilerclf.cli as cli

    class Model:  # predicts content, then promo for the inline "Read more" after the <br>
        def predict_pages(self, pages):
            for page in pages:
                for block, label in zip(page.blocks, ["content", "promo", "navigation"]):
                    block.label = label
            return pages

    monkeypatch.setattr(cli, "_model", lambda path: Model())
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.html").write_text("<p>A long paragraph of the article, in many words<br>Read more: other</p><p>Home</p>")
    result = invoke("label", raw, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "a.html: 1 block (1) took another label than predicted: that of most of their element's text" in one_line(result)
    assert [b.label for b in read_labelled(tmp_path / "out" / "a.html").blocks] == ["content", "content", "navigation"]


def test_info_prints_what_a_hand_made_model_card_has(small_model_path, tmp_path):
    """A card without `data` or `labels` (hand-made, or older) is printed as far as it goes, not a traceback."""
    import zipfile

    path = tmp_path / "partial.boilerclf"
    with zipfile.ZipFile(small_model_path) as good, zipfile.ZipFile(path, "w") as partial:
        meta = json.loads(good.read("meta.json"))
        del meta["data"], meta["labels"]
        partial.writestr("meta.json", json.dumps(meta))
        partial.writestr("estimators.skops", good.read("estimators.skops"))
    result = invoke("info", path)
    assert result.exit_code == 0, result.output
    assert f"trained: {meta['trained_at']}" in result.output and "training data" not in result.output
    assert "compatible with this installation: yes" in result.output
    with zipfile.ZipFile(small_model_path) as good, zipfile.ZipFile(path, "w") as odd:
        meta = json.loads(good.read("meta.json"))
        meta.update(versions="scikit-learn 1.9", cv={"macro_f1": 0.5})
        odd.writestr("meta.json", json.dumps(meta))
        odd.writestr("estimators.skops", good.read("estimators.skops"))
    result = invoke("info", path)
    assert result.exit_code == 0 and "compatible with this installation: no" in result.output, result.output
    assert "macro_f1" in result.output
    result = invoke("predict", AL_MONITOR, "--model", path)
    assert result.exit_code == 2 and "no library versions" in result.output


def test_train_on_one_page_needs_no_context_and_says_so(tmp_path, sample_pages):
    data = tmp_path / "one"
    data.mkdir()
    shutil.copy(sample_pages[0], data / sample_pages[0].name)
    result = invoke("train", data, "-o", tmp_path / "m.boilerclf", "--folds", "0")
    assert result.exit_code == 2 and "--no-context skips it" in " ".join(result.output.split())
    result = invoke("train", data, "-o", tmp_path / "m.boilerclf", "--folds", "0", "--no-context")
    assert result.exit_code == 0, result.output
    from boilerclf.model import load_model

    assert load_model(tmp_path / "m.boilerclf").context is None


def test_clean_html_of_a_latin1_page_declares_utf8_and_archives_say_their_format(tmp_path):
    import lxml.html

    page = CORPUS / "trafilatura-eval" / "html" / "bummfilm.de.über.html.gz"  # declares iso-8859-1
    for fmt in ("html", "text"):
        result = invoke("clean", page, "-o", tmp_path / fmt, "-f", fmt, "-j", "1")
        assert result.exit_code == 0, result.output
    html = (tmp_path / "html" / "bummfilm.de.über.html").read_bytes()
    assert b"iso-8859-1" not in html.lower() and b'<meta charset="utf-8">' in html and html.endswith(b"\n")
    shown = " ".join(lxml.html.document_fromstring(html).text_content().split())  # as a browser reads the bytes
    kept = (tmp_path / "text" / "bummfilm.de.über.txt").read_text().splitlines()
    accented = {w for line in kept for w in line.split() if any(c in w for c in "äöüßÄÖÜ")}
    assert accented and all(w in shown for w in accented)  # mojibake would give "Ã¼"
    archive = tmp_path / "pages.jsonl.gz"
    archive.write_bytes(gzip.compress(json.dumps({"url": "https://a.example/", "html": "<p>Text</p>"}).encode()))
    result = invoke("clean", archive, "-o", tmp_path / "arch", "-f", "html", "-j", "1")
    assert result.exit_code == 0 and "whatever --format says" in " ".join(result.output.split())


def test_label_carries_the_manifest_entries_of_its_pages_to_the_labelled_copies(tmp_path, small_model_path):
    """`label my_pages/ -o labelled/` wrote no manifest, and the copies are renamed (`x.html.gz` →
    `x.html`) so a copied one would not match: `train labelled/` grouped the pages by their URLs'
    domains or file names, not by the sites the user had given (optimistic cross-validation, one
    site on both sides), and lost their urls and languages, without a word."""
    from boilerclf.dataset import read_pages

    src = tmp_path / "my_pages"
    (src / "sub").mkdir(parents=True)
    (src / "a.html.gz").write_bytes(NEWS_PAGE.read_bytes())
    (src / "sub" / "b.html").write_bytes(b"<html><body><h1>A headline here</h1><p>Some text of the article, "
                                         b"long enough to be a paragraph of its own.</p></body></html>")
    (src / "c.html").write_bytes(b"<p>Unlisted page with a paragraph of text.</p>")
    (src / "pages.jsonl").write_text(
        json.dumps({"file": "a.html.gz", "site": "my.example", "url": "https://my.example/a", "language": "en",
                    "labelling": "every block read and corrected by an annotator"}) + "\n"
        + json.dumps({"file": "sub/b.html", "site": "my.example", "language": "de"}) + "\n")
    out = tmp_path / "labelled"
    out.mkdir()  # an entry the user wrote earlier is kept as it is
    (out / "pages.jsonl").write_text(json.dumps({"file": "sub/b.html", "site": "edited.example"}) + "\n")
    result = invoke("label", src, "-o", out, "--model", small_model_path)
    assert result.exit_code == 0, result.output
    sites = {page.source: (page.site, page.url) for page in read_pages([out])}
    assert sites[str(out / "a.html")] == ("my.example", "https://my.example/a")
    assert sites[str(out / "sub" / "b.html")] == ("edited.example", None)
    assert sites[str(out / "c.html")][0] != "my.example"
    entries = [json.loads(line) for line in (out / "pages.jsonl").read_text().splitlines()]
    assert [e["file"] for e in entries] == ["sub/b.html", "a.html"] and entries[1]["language"] == "en"
    # the copy's labels are the model's, not the annotator's that its source's entry tells of
    assert entries[1]["labelling"] == f"pre-labelled by `boilerclf label` with {small_model_path}; not yet checked"
    assert "listed the manifest entries (site, url) of 1 page in" in " ".join(result.output.split())


def test_train_help_gives_what_the_context_stage_adds_to_the_shipped_model():
    """`train --help` said the context stage adds +0.039 macro F1, the README and the shipped model's
    card +0.041: a user deciding on --no-context read a figure of an older model."""
    import re

    from boilerclf.card import read_meta, DEFAULT_MODEL

    cv = read_meta(DEFAULT_MODEL)["cv"]
    said = re.search(r"\+(0\.\d+) macro F1", " ".join(invoke("train", "--help").output.split()))
    assert said and float(said.group(1)) == round(cv["macro_f1"] - cv["without_context"]["macro_f1"], 3)


def test_counts_of_one_read_in_the_singular(tmp_path, small_model_path, monkeypatch):
    """`clean`, `label` and `train` say `1 page`; `stats`, `evaluate`, `info` and clean's progress said `1 pages`."""
    import io
    import zipfile

    from boilerclf import cli

    data = tmp_path / "one"
    data.mkdir()
    (data / "x.html").write_text('<html><body><nav data-label="navigation"><a href="/">Home</a></nav><p data-label='
                                 '"content">Story about the council budget.</p><p>A line no one labelled.</p></body></html>')
    result = invoke("stats", data)
    assert result.exit_code == 0, result.output
    assert "1 page, 1 site, 0 languages (1 page with none in a manifest), 1 unlabelled block;" in one_line(result)
    result = invoke("evaluate", data, "--model", small_model_path)
    assert result.exit_code == 0, result.output
    assert "1 page" in result.stdout and "1 pages" not in result.stdout
    model = tmp_path / "one.boilerclf"
    with zipfile.ZipFile(small_model_path) as good, zipfile.ZipFile(model, "w") as one:
        meta = json.loads(good.read("meta.json"))
        meta["data"].update(pages=1, sites=1)
        one.writestr("meta.json", json.dumps(meta))
        one.writestr("estimators.skops", good.read("estimators.skops"))
    result = invoke("info", model)
    assert result.exit_code == 0 and "training data: 1 page from 1 site," in one_line(result), result.output
    shown = io.StringIO()  # the progress bar, as a terminal shows it
    monkeypatch.setattr(cli, "err", cli._Console(file=shown, force_terminal=True, width=200, highlight=False))
    result = invoke("clean", NEWS_PAGE, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    assert " 1 page, " in shown.getvalue() and not re.search(r"(?<![\d.,])1 pages", shown.getvalue())  # 21.1 pages/s is fine


def test_train_json_prints_the_scores_or_null_without_cross_validation(tmp_path, sample_pages):
    """`--folds 0 --json` printed `{}`: an object of scores with none in them, where the card says null."""
    from boilerclf.card import read_meta

    data = tmp_path / "data"
    data.mkdir()
    for page in sample_pages[:3]:
        shutil.copy(page, data / page.name)
    for folds in ("0", "2"):
        model = tmp_path / f"m{folds}.boilerclf"
        result = invoke("train", data, "-o", model, "--folds", folds, "--no-context", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == read_meta(model)["cv"]
    assert json.loads(result.stdout)["folds"] == 2


def test_stats_counts_a_null_corpus_as_unknown(tmp_path, sample_pages):
    """A manifest's `"corpus": null` (allowed, as a null language is) was counted as a corpus of its own, `null`."""
    data = tmp_path / "set"
    data.mkdir()
    for page in sample_pages[:2]:
        shutil.copy(page, data / page.name)
    (data / "pages.jsonl").write_text(json.dumps({"file": sample_pages[0].name, "corpus": None}) + "\n")
    assert json.loads(invoke("stats", data, "--json").stdout)["pages_per_corpus"] == {"unknown": 2}


def test_info_says_a_model_has_no_cross_validation_or_context_stage(tmp_path, sample_pages, small_model_path):
    """A model trained with --folds 0 --no-context showed neither: its card looked like one whose scores were lost."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sample_pages[0], data / sample_pages[0].name)
    model = tmp_path / "m.boilerclf"
    assert invoke("train", data, "-o", model, "--folds", "0", "--no-context").exit_code == 0
    shown = invoke("info", model).stdout
    assert "context stage: no (trained with --no-context)" in shown
    assert "cross-validation: none (trained with --folds 0)" in shown
    shown = invoke("info", small_model_path).stdout
    assert "context stage: yes" in shown and "cross-validation: none" not in shown and "Cross-validation" in shown


def test_train_on_text_pages_does_not_claim_html_pages_and_extracts(tmp_path, sample_pages):
    """Trained on `label<TAB>text` pages alone, the block counts were said to be of "HTML pages, their text and extracts"."""
    data = tmp_path / "text"
    data.mkdir()
    for page in sample_pages[:3]:
        lines = "".join(f"{b.label or '-'}\t{b.text}\n" for b in read_labelled(page).blocks)
        (data / f"{page.stem}.txt").write_text(lines, encoding="utf-8")
    result = invoke("train", data, "-o", tmp_path / "m.boilerclf", "--folds", "0")
    assert result.exit_code == 0, result.output
    assert "3 pages from 3 sites; labelled blocks per label: content " in one_line(result)  # not a Python dict
