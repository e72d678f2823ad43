"""Paths in and out: symlinks, folder walks, file names that are not UTF-8, stdin lists, output folders."""
import gzip
import json
import os
import shutil

from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.labels import read_labelled
from boilerclf.page import LABELS

from .conftest import CORPUS

NEWS = sorted((CORPUS / "newspaper-pages" / "html").glob("*.html.gz"))
TRAFILATURA = CORPUS / "trafilatura-eval"


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def one_line(result) -> str:
    return " ".join(result.output.split())


def test_relabel_writes_through_a_symlink_to_its_target(tmp_path, sample_pages):
    target, link = tmp_path / "target.html", tmp_path / "link.html"
    shutil.copy(sample_pages[0], target)
    link.symlink_to(target.name)
    corrected = next(label for label in LABELS if label != read_labelled(target).blocks[0].label)
    assert invoke("relabel", link, f"0={corrected}").exit_code == 0
    assert link.is_symlink() and read_labelled(target).blocks[0].label == corrected


def test_folder_walks_follow_symlinked_folders_once_each(tmp_path, sample_pages):
    """A symlinked folder is walked as its files are read; a link back to an ancestor ends there."""
    (tmp_path / "mixed").mkdir()
    (tmp_path / "set").mkdir()
    shutil.copy(sample_pages[0], tmp_path / "mixed" / "a.html")
    for page in sample_pages[1:3]:
        shutil.copy(page, tmp_path / "set" / page.name)
    (tmp_path / "mixed" / "more").symlink_to(tmp_path / "set")
    (tmp_path / "set" / "up").symlink_to(tmp_path / "mixed")  # a cycle
    result = invoke("stats", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pages"] == 3


def test_a_symlinked_folder_that_leads_out_of_the_named_folder_is_not_followed(tmp_path, sample_pages, monkeypatch):
    """`ln -s / in/root` would walk the whole machine: one warning, and the walk stays inside."""
    monkeypatch.chdir(tmp_path)  # short names: not cut by the console's line breaks
    for folder, page in (("in/sub", sample_pages[0]), ("outside", sample_pages[1])):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(page, tmp_path / folder / page.name)
    (tmp_path / "in" / "away").symlink_to(tmp_path / "outside")
    (tmp_path / "in" / "same").symlink_to(tmp_path / "in" / "sub")  # inside: followed (and walked once)
    result = invoke("stats", "in", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pages"] == 1
    assert one_line(result).count(f"warning: in/away links outside in (to {tmp_path / 'outside'}): not followed") == 1


def test_clean_and_label_replace_a_link_in_the_output_folder_and_never_write_through_it(tmp_path, small_model_path):
    """A link planted in the output folder, dangling or live, is replaced: nothing is written
    outside the folder. Only `relabel`, which edits a page in place, writes through a link."""
    src, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    for folder in (src, out, elsewhere):
        folder.mkdir()
    shutil.copy(NEWS[0], src / "a.html.gz")
    (src / "empty.html").write_text("")  # fails, so that the errors file is written
    (elsewhere / "notes").write_text("precious")
    runs = [(["clean", "-j", "1"], ["a.txt", "boilerclf-run.json", "boilerclf-errors.jsonl"]), (["label"], ["a.html"])]
    for command, outputs in runs:
        for target in ("../elsewhere/planted", "../elsewhere/notes"):  # dangling, then live
            for name in outputs:
                (out / name).unlink(missing_ok=True)
                (out / name).symlink_to(target)
            result = invoke(*command, src, "-o", out, "--overwrite", "--model", small_model_path)
            assert result.exit_code == 1 and "empty page" in one_line(result), result.output
            assert not any((out / name).is_symlink() for name in outputs), command
    assert [p.name for p in elsewhere.iterdir()] == ["notes"] and (elsewhere / "notes").read_text() == "precious"
    assert read_labelled(out / "a.html").blocks


def test_a_folder_that_cannot_be_read_or_vanishes_during_a_walk_is_a_warning(tmp_path, sample_pages, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short names: not cut by the console's line breaks
    for name in ("locked", "gone", "."):
        (tmp_path / "set" / name).mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_pages[0], tmp_path / "set" / name / "a.html")
    scandir = os.scandir

    def scan(path):  # root reads any folder: refuse one as a folder without permission would be
        name = "" if isinstance(path, int) else os.path.basename(path)
        if name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        if name == "gone":
            shutil.rmtree(path)  # deleted between listing its parent and reading it
        return scandir(path)

    monkeypatch.setattr(os, "scandir", scan)
    result = invoke("stats", "set", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pages"] == 1
    for name in ("locked (Permission denied)", "gone (No such file or directory)"):
        assert f"warning: cannot read the folder set/{name}" in one_line(result)


def test_a_page_piped_to_dash_is_refused_rather_than_read_as_paths(tmp_path):
    """`-` reads a list of paths: a page's lines (`//` among them) would be walked as paths."""
    page = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    for command in (["predict"], ["label", "-o", tmp_path / "out"], ["clean", "-o", tmp_path / "out"]):
        result = invoke(*command, "-", input=page)
        assert result.exit_code == 2 and "pass the page's file name instead" in one_line(result), result.output
    assert "stdin" in invoke("predict", "--help").output


def test_gzipped_xhtml_pages_are_found_in_folders(tmp_path):
    xhtml = '<html><body><p>Some article text here for the reader.</p></body></html>'
    (tmp_path / "a.xhtml").write_text(xhtml)
    (tmp_path / "b.xhtml.gz").write_bytes(gzip.compress(xhtml.encode()))
    result = invoke("predict", tmp_path)
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["page"] for line in result.stdout.splitlines()} == {
        str(tmp_path / "a.xhtml"), str(tmp_path / "b.xhtml.gz")}
    assert ".xhtml.gz" in one_line(invoke("clean", "--help"))


def test_file_names_that_are_not_utf8_are_written_as_json_escapes(tmp_path):
    """A name Python decodes with lone surrogates is written as `\\udcXX`: valid UTF-8 JSON, and
    `os.fsencode` of the str `json.loads` gives back is the name's bytes."""
    src = tmp_path / "in"
    src.mkdir()
    page, empty = os.fsdecode(b"caf\xe9.html"), os.fsdecode(b"vid\xe9.html")
    (src / page).write_bytes(gzip.decompress(NEWS[0].read_bytes()))
    (src / empty).write_bytes(b"")
    result = invoke("predict", src)
    assert result.exit_code == 1, result.output  # the empty page
    lines = [json.loads(line) for line in result.stdout_bytes.decode("utf-8").splitlines()]
    assert lines and {os.fsencode(line["page"]) for line in lines} == {os.fsencode(src / page)}
    out = tmp_path / "out"
    assert invoke("clean", src, "-o", out, "-f", "jsonl", "-j", "1").exit_code == 1
    record = json.loads((out / os.fsdecode(b"caf\xe9.jsonl")).read_bytes().decode("utf-8"))
    assert record["source"] == str(src / page) and record["blocks"]
    errors = [json.loads(line) for line in (out / "boilerclf-errors.jsonl").read_bytes().decode("utf-8").splitlines()]
    assert [(e["source"], e["reason"]) for e in errors] == [(str(src / empty), "empty page")]


def test_a_jsonl_file_that_holds_no_pages_is_passed_over_in_a_folder(tmp_path, monkeypatch):
    """The corpus's own snippets.jsonl, next to its html/ folder, is metadata, not an archive."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "corpus"
    (src / "html").mkdir(parents=True)
    pages = sorted((TRAFILATURA / "html").glob("*.html.gz"))[:2]
    for page in pages:
        shutil.copy(page, src / "html" / page.name)
    snippets = (TRAFILATURA / "snippets.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (src / "snippets.jsonl").write_text("".join(snippets[:3]), encoding="utf-8")
    warning = "warning: corpus/snippets.jsonl passed over"
    result = invoke("predict", "corpus")
    assert result.exit_code == 0 and one_line(result).count(warning) == 1, result.output
    assert {json.loads(line)["page"] for line in result.stdout.splitlines()} == {f"corpus/html/{p.name}" for p in pages}
    result = invoke("label", "corpus", "-o", "labelled")
    assert result.exit_code == 0 and warning in one_line(result), result.output
    result = invoke("clean", "corpus", "-o", "out", "-j", "1")
    assert result.exit_code == 0 and "cleaned 2 pages" in one_line(result), result.output
    result = invoke("predict", "corpus/snippets.jsonl")  # named: read as an archive, as before
    assert result.exit_code == 2 and "is an archive" in one_line(result)


def test_a_crawl_dump_whose_first_fetch_failed_is_read_as_an_archive_in_a_folder(tmp_path, small_model_path,
                                                                                  monkeypatch):
    """Only a file none of whose first records has an "html" key holds no pages; `"html": null`
    is a failed fetch, reported alone while the good records are cleaned."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "crawl").mkdir()
    records = [{"url": "https://a.example/1", "html": None, "error": "timeout"}] + [
        {"url": f"https://a.example/{i}", "html": f"<html><body><p>The council met on Tuesday, story {i}.</p></body></html>"}
        for i in range(2, 6)]
    (tmp_path / "crawl" / "dump.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = invoke("clean", "crawl", "-o", "out", "-j", "1", "--model", small_model_path)
    assert result.exit_code == 1 and "cleaned 4 pages" in one_line(result), result.output
    errors = [json.loads(line) for line in (tmp_path / "out" / "boilerclf-errors.jsonl").read_text().splitlines()]
    assert [(e["record"], e["reason"]) for e in errors] == [("line 1", 'line 1 has no "html" or "text" string')]
    assert len((tmp_path / "out" / "dump.jsonl").read_text().splitlines()) == 4


def test_label_refuses_an_output_folder_it_cannot_write_before_any_work(tmp_path, monkeypatch):
    import boilerclf.cli as cli

    def model(path):
        raise AssertionError("the model was loaded before the output folder was checked")

    monkeypatch.setattr(cli, "_model", model)
    (tmp_path / "afile").write_text("a file, not a folder")
    result = invoke("label", NEWS[0], "-o", tmp_path / "afile")
    assert result.exit_code == 2 and "cannot write to the output folder" in one_line(result), result.output
