"""Bulk cleaning: archives, globs, stdin lists, resuming, parallel workers, a Dask cluster."""
import contextlib
import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import boilerclf
from boilerclf.card import DEFAULT_MODEL
from boilerclf.cli import app

from .conftest import AL_MONITOR, CORPUS

NEWS = sorted((CORPUS / "newspaper-pages" / "html").glob("*.html.gz"))


def invoke(*args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def news_folder(tmp_path, n):
    """A folder `in` of the first `n` newspaper pages."""
    src = tmp_path / "in"
    src.mkdir()
    for page in NEWS[:n]:
        shutil.copy(page, src / page.name)
    return src


def jsonl(path):
    """The records of a JSONL output or errors file."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def clean_failing_archive(archive, out):
    """Clean one archive in which a record fails: the urls of its output lines, and the errors."""
    assert invoke("clean", archive, "-o", out, "-j", "1").exit_code == 1
    return [record["url"] for record in jsonl(out / (archive.name.split(".warc")[0] + ".jsonl"))], \
        jsonl(out / "boilerclf-errors.jsonl")


def workers_asked(monkeypatch):
    """The --jobs that each `clean` then asks `batch.run` for, as a list that fills as they run."""
    from boilerclf import batch

    workers = []
    run = batch.run

    def counted(*args, n_jobs, **kwargs):
        workers.append(n_jobs)
        return run(*args, n_jobs=n_jobs, **kwargs)

    monkeypatch.setattr(batch, "run", counted)
    return workers


def archive_fails_alone(tmp_path, archive):
    """Clean the archive and page.html.gz in tmp_path: the archive fails whole, leaving no output,
    and the page is cleaned; the archive's one error."""
    result = invoke("clean", tmp_path / archive, tmp_path / "page.html.gz", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["boilerclf-errors.jsonl", "boilerclf-run.json",
                                                                     "page.txt"]
    [error] = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    return error


def write_warc(path, pages, extra=True):
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=str(path).endswith(".gz"))
        for i, page in enumerate(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://example.org/{i}", "response",
                                                          payload=io.BytesIO(page), http_headers=headers))
        if extra:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record("https://example.org/logo.png", "response",
                                                          payload=io.BytesIO(b"\x89PNG"), http_headers=headers))
            writer.write_record(writer.create_warc_record("https://example.org/", "request",
                                                          payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))


def test_warc_responses_with_an_error_or_redirect_status_are_skipped_and_counted(tmp_path):
    """A crawl's 404 pages and redirects were cleaned as pages: "Page not found" and the site's
    menus, or a "Moved" stub, in a corpus of articles."""
    page = gzip.decompress(NEWS[0].read_bytes())
    with open(tmp_path / "crawl.warc", "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for i, status in enumerate(["200 OK", "404 Not Found", "301 Moved Permanently", "206 Partial Content"]):
            headers = StatusAndHeaders(status, [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://example.org/{i}", "response",
                                                          payload=io.BytesIO(page), http_headers=headers))
    result = invoke("clean", tmp_path / "crawl.warc", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    assert "and 2 archive records that are not pages" in " ".join(result.output.split())
    assert [r["url"] for r in jsonl(tmp_path / "out" / "crawl.jsonl")] == ["https://example.org/0",
                                                                          "https://example.org/3"]


def test_warc_and_jsonl_archives_give_one_jsonl_per_archive(tmp_path):
    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:3]]
    write_warc(tmp_path / "crawl.warc.gz", pages)
    with open(tmp_path / "scrape.jsonl", "w") as f:
        f.write(json.dumps({"url": "https://a.example/1", "html": pages[0].decode("utf-8", "replace")}) + "\n")
        f.write("{not json\n")
        f.write(json.dumps({"url": "https://a.example/2"}) + "\n")
    out = tmp_path / "out"
    result = invoke("clean", tmp_path / "crawl.warc.gz", tmp_path / "scrape.jsonl", "-o", out, "-j", "1")
    assert result.exit_code == 1  # two bad JSONL lines
    text = " ".join(result.output.split())
    assert "skipped 0 inputs already done (--overwrite redoes them) and 2 archive records that are not pages; 2 failed" in text
    warc = jsonl(out / "crawl.jsonl")
    assert [r["url"] for r in warc] == [f"https://example.org/{i}" for i in range(3)]
    assert all(r["record"].startswith("<urn:uuid:") and r["text"] and r["blocks"] for r in warc)
    scraped = jsonl(out / "scrape.jsonl")
    assert [r["record"] for r in scraped] == ["https://a.example/1"]
    errors = jsonl(out / "boilerclf-errors.jsonl")
    assert [e["record"] for e in errors] == ["line 2", "line 3"]
    assert "not JSON" in errors[0]["reason"] and "no \"html\"" in errors[1]["reason"]


def test_globs_stdin_lists_resume_and_overwrite(tmp_path):
    src = news_folder(tmp_path, 4)
    out = tmp_path / "out"
    first = invoke("clean", str(src / "*1.html.gz"), "-o", out, "-j", "1")
    assert first.exit_code == 0, first.output
    done = sorted(p.name for p in out.glob("*.txt"))
    assert done and all(name.endswith("1.txt") for name in done)
    listed = "\n".join(str(p) for p in sorted(src.iterdir())) + "\n"
    stamp = {p: p.stat().st_mtime_ns for p in out.glob("*.txt")}
    second = invoke("clean", "-", "-o", out, "-j", "1", input=listed)
    assert second.exit_code == 0
    assert f"skipped {len(done)} inputs already done" in " ".join(second.output.split())
    assert len(list(out.glob("*.txt"))) == 4 and all(p.stat().st_mtime_ns == t for p, t in stamp.items())
    third = invoke("clean", src, "-o", out, "-j", "1", "--overwrite")
    assert "skipped 0 inputs already done" in " ".join(third.output.split())
    assert not list(out.glob(".*.part"))


def test_parallel_jobs_give_the_same_outputs_as_one(tmp_path):
    src = news_folder(tmp_path, 6)
    shutil.copy(AL_MONITOR, src / "al.txt")
    assert invoke("clean", src, "-o", tmp_path / "one", "-j", "1").exit_code == 0
    assert invoke("clean", src, "-o", tmp_path / "two", "-j", "2").exit_code == 0
    one = {p.name: p.read_text() for p in (tmp_path / "one").glob("*.txt")}
    assert one == {p.name: p.read_text() for p in (tmp_path / "two").glob("*.txt")} and len(one) == 7


def test_dask_backend_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = news_folder(tmp_path, 3)
    with open(src / "scrape.jsonl", "w") as f:  # an archive: its records go out in batches from the client
        for i in range(2 * 16 + 3):
            f.write(json.dumps({"url": f"https://example.org/{i}", "html": gzip.decompress(NEWS[i % 8].read_bytes())
                                .decode("utf-8", "replace")}) + "\n")
    assert invoke("clean", src, "-o", tmp_path / "local", "-j", "1").exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        result = invoke("clean", src, "-o", tmp_path / "dask", "--backend", "dask", "--scheduler",
                        cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    local = {p.name: p.read_text() for p in (tmp_path / "local").glob("*.txt")}
    assert local == {p.name: p.read_text() for p in (tmp_path / "dask").glob("*.txt")} and len(local) == 3
    records = [sorted(jsonl(tmp_path / run / "scrape.jsonl"), key=lambda r: r["position"]) for run in ("local", "dask")]
    assert records[0] == records[1] and [r["position"] for r in records[0]] == list(range(1, 36))


def test_dask_backend_without_dask_installed_is_a_usage_error(tmp_path, monkeypatch):
    """A plain `pip install boilerclf` has no Dask: --backend dask says which extra to install,
    before any work, rather than ending in a ModuleNotFoundError traceback."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails, as without the extra
    result = invoke("clean", news_folder(tmp_path, 2), "-o", tmp_path / "out", "--backend", "dask")
    assert result.exit_code == 2, result.output
    assert "pip install 'boilerclf[dask]'" in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_dask_workers_in_another_folder_get_absolute_paths(tmp_path, monkeypatch):
    """A cluster's workers run in folders of their own: relative inputs, output folder and model
    named on the command line are the client's, not read or written in the workers' folders."""
    distributed = pytest.importorskip("distributed")
    news_folder(tmp_path, 2)
    shutil.copy(DEFAULT_MODEL, tmp_path / "m.boilerclf")
    (tmp_path / "workers").mkdir()
    monkeypatch.chdir(tmp_path / "workers")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:  # one worker thread: joblib would run it all here
        monkeypatch.chdir(tmp_path)
        result = invoke("clean", "in", "-o", "out", "--model", "m.boilerclf", "--backend", "dask",
                        "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").glob("*.txt")) == [p.name.replace(".html.gz", ".txt")
                                                                       for p in NEWS[:2]]
    assert not any((tmp_path / "workers").iterdir())


def test_dask_scheduler_that_does_not_answer(tmp_path):
    """A scheduler address where none listens, or that is no address, is a one-line error (exit 2)
    after the connection timeout, not a traceback."""
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as free:  # a port of this machine that nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        for address in (f"tcp://127.0.0.1:{port}", "bogus://127.0.0.1"):
            result = invoke("clean", AL_MONITOR, "-o", tmp_path / "out", "--backend", "dask", "--scheduler", address)
            assert result.exit_code == 2, result.output
            assert f"cannot connect to the Dask scheduler at {address}" in result.output, result.output
            assert "Traceback" not in result.output


def test_pages_labelled_together_fail_alone(tmp_path):
    """Pages of a task go through the model in one call; when that call fails, only the page
    that made it fail is reported, and the others are labelled as they would be alone."""
    from boilerclf import batch, load_model
    from boilerclf.page import InputError
    from boilerclf.segment import read_page

    real = load_model()

    class FailsOnSecondPage:
        def predict_pages(self, pages):
            if any(p.source == str(NEWS[1]) for p in pages):
                raise InputError("this page cannot be labelled")
            return real.predict_pages(pages)

    settings = batch.Settings(outdir=tmp_path, model_path="fails-on-second-page")
    batch._MODELS["fails-on-second-page"] = FailsOnSecondPage()
    try:
        pages = [read_page(p) for p in NEWS[:3]]
        assert batch.label(pages, settings, [30.0] * 3) == [None, "this page cannot be labelled", None]
    finally:
        del batch._MODELS["fails-on-second-page"]
    alone = real.predict_pages([read_page(NEWS[2])])[0]
    assert [b.label for b in pages[2].blocks] == [b.label for b in alone.blocks]
    assert all(b.label is None for b in pages[1].blocks)


def test_a_bad_record_fails_alone_inside_an_archive(tmp_path, monkeypatch):
    """A record that fails is reported; the archive's other records are written and counted. A URL
    that is not valid Unicode (a lone surrogate) fails nothing: it is written as a JSON escape."""
    import boilerclf.batch as batch

    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in NEWS[:3]]
    urls = ["https://example.org/a", "https://example.org/\ud800odd", "https://example.org/c"]
    archive = tmp_path / "crawl.jsonl"
    archive.write_text("".join(json.dumps({"url": u, "html": h}) + "\n" for u, h in zip(urls, pages)))
    record = batch.page_record

    def page_record(page, keep):
        if page.url == urls[2]:
            raise ValueError("cannot render")
        return record(page, keep)

    monkeypatch.setattr(batch, "page_record", page_record)
    result = invoke("clean", archive, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in (tmp_path / "out" / "crawl.jsonl").read_bytes().decode().splitlines()]
    assert [line["url"] for line in lines] == urls[:2]
    assert "cleaned 2 pages" in " ".join(result.output.split())
    assert "blocks per label: content " in result.output and "{'" not in result.output  # not a Python dict
    errors = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    assert [(e["record"], e["reason"]) for e in errors] == [(urls[2], "ValueError: cannot render")]


def test_model_copies_of_killed_runs_are_removed(tmp_path, monkeypatch):
    """`classify_many(n_jobs=2)` gives its workers a copy of the model in the temp folder, locked
    while the call lives; a process killed outright cannot delete it, so the next call removes the
    copies whose lock nobody holds, and no other."""
    import fcntl
    import tempfile
    import time

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    folders = {name: temp / f"boilerclf-{name}" for name in ("stale", "live", "young", "nolock")}
    for name, folder in folders.items():
        folder.mkdir()
        (folder / "model.joblib").write_bytes(b"model")
        if name != "nolock":
            (folder / "lock").write_bytes(b"")
        if name != "young":
            os.utime(folder, (time.time() - 3600, time.time() - 3600))
    with open(folders["live"] / "lock", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a live run holds it
        done = boilerclf.load_model().classify_many([gzip.decompress(page.read_bytes()) for page in NEWS[:2]], n_jobs=2)
        assert len(done) == 2 and all(done)
    assert sorted(p.name for p in temp.iterdir()) == sorted(f"boilerclf-{n}" for n in ("live", "young", "nolock"))


def test_a_script_without_a_main_guard_runs_clean_in_parallel_once(tmp_path):
    """Workers forked from a forkserver import the main script again; `clean --jobs 2` run at the
    top level of a script, as a user may write one, must not start another run in each worker."""
    src = news_folder(tmp_path, 4)
    script = tmp_path / "nightly.py"
    script.write_text("import sys\nfrom boilerclf.cli import app\n"
                      f"sys.argv = ['boilerclf', 'clean', {str(src)!r}, '-o', {str(tmp_path / 'out')!r}, '-j', '2']\napp()\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("cleaned 4 pages") == 1 and "error" not in done.stderr
    assert len(list((tmp_path / "out").glob("*.txt"))) == 4


def test_a_parallel_run_leaves_the_process_s_own_workers_as_they_were(tmp_path):
    """`clean --jobs 2` run in-process (a notebook, a service, a test) forks its workers from a
    forkserver by switching loky's process-wide start method; the process's later joblib calls
    must get loky's own workers again, not forked ones without their thread limits."""
    from joblib.externals.loky.backend.context import get_start_method

    src = news_folder(tmp_path, 4)
    before = get_start_method()
    assert invoke("clean", src, "-o", tmp_path / "out", "-j", "2").exit_code == 0
    assert get_start_method() == before


def test_a_damaged_model_ends_a_parallel_run_as_a_serial_one(tmp_path):
    """With --jobs 2 this process reads only the model's card and the workers load the model:
    estimators that cannot be read end the run with the same one-line error and exit 2 as with
    --jobs 1, not a traceback or a failure per page, and leave no output."""
    import zipfile

    from boilerclf.card import DEFAULT_MODEL, ESTIMATORS, MANIFEST

    bad = tmp_path / "bad.boilerclf"
    with zipfile.ZipFile(DEFAULT_MODEL) as good, zipfile.ZipFile(bad, "w") as damaged:
        damaged.writestr(MANIFEST, good.read(MANIFEST))
        damaged.writestr(ESTIMATORS, b"not the estimators" * 100)
    src = news_folder(tmp_path, 4)
    for jobs in ("1", "2"):
        result = invoke("clean", src, "-o", tmp_path / jobs, "-j", jobs, "--model", bad)
        assert result.exit_code == 2 and "is not a readable boilerclf model" in " ".join(result.output.split()), result.output
        assert "bad.boilerclf is not" in " ".join(result.output.split())  # the file given, not the workers' copy
        assert "Traceback" not in result.output and "failed:" not in result.output
        assert not list((tmp_path / jobs).glob("*.txt"))


def _texts(folder):
    return {p.name: p.read_text() for p in folder.glob("*.txt")}


def test_a_model_file_retrained_between_parallel_runs_in_one_process_is_the_one_used(tmp_path, small_model_path):
    """Workers outlive a run (joblib reuses them for the next one) and kept each model by its path:
    a second `clean --jobs 2` in one process, with another model saved at the same path meanwhile,
    labelled with the first one while its options file named the second."""
    from boilerclf.card import DEFAULT_MODEL

    src = news_folder(tmp_path, 4)
    model = tmp_path / "model.boilerclf"
    shutil.copy(small_model_path, model)
    assert invoke("clean", src, "-o", tmp_path / "small", "-j", "2", "--model", model).exit_code == 0
    shutil.copy(DEFAULT_MODEL, model)  # retrained, say
    assert invoke("clean", src, "-o", tmp_path / "two", "-j", "2", "--model", model).exit_code == 0
    assert invoke("clean", src, "-o", tmp_path / "one", "-j", "1", "--model", model).exit_code == 0
    assert _texts(tmp_path / "one") != _texts(tmp_path / "small")  # the two models differ on these pages
    assert _texts(tmp_path / "two") == _texts(tmp_path / "one") and len(_texts(tmp_path / "one")) == 4
    assert (tmp_path / "two" / "boilerclf-run.json").read_text() == (tmp_path / "one" / "boilerclf-run.json").read_text()


def test_a_parallel_run_uses_the_model_file_it_checked_whatever_becomes_of_it(tmp_path, small_model_path, monkeypatch):
    """The command checks the model's card and the workers load the model when they start, or start
    again (idle, or restarted by joblib) during the run: a model saved at that path meanwhile, or the
    file deleted, must not give some pages another model than the one the options file names."""
    from boilerclf import batch
    from boilerclf.card import DEFAULT_MODEL

    src = news_folder(tmp_path, 4)
    model = tmp_path / "model.boilerclf"
    shutil.copy(small_model_path, model)
    assert invoke("clean", src, "-o", tmp_path / "one", "-j", "1", "--model", model).exit_code == 0
    run = batch.run

    def replaced(*args, **kwargs):
        shutil.copy(DEFAULT_MODEL, model)  # after the command read the card, before any worker loads the model
        yield from run(*args, **kwargs)
        model.unlink()

    monkeypatch.setattr(batch, "run", replaced)
    result = invoke("clean", src, "-o", tmp_path / "two", "-j", "2", "--model", model)
    assert result.exit_code == 0, result.output
    assert _texts(tmp_path / "two") == _texts(tmp_path / "one") and len(_texts(tmp_path / "one")) == 4
    assert (tmp_path / "two" / "boilerclf-run.json").read_text() == (tmp_path / "one" / "boilerclf-run.json").read_text()


def test_a_temporary_folder_that_cannot_take_the_model_stops_a_parallel_run_in_one_line(tmp_path, monkeypatch):
    """The workers get a copy of the model in the temporary folder: one without room for it ends
    the run before it starts, saying what to do, not with a traceback or as a model that cannot be read."""
    import errno
    from pathlib import Path

    src = news_folder(tmp_path, 4)
    write_bytes = Path.write_bytes

    def full(path, data):
        if path.parent.name.startswith("boilerclf-"):  # the private folder of the copy
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    result = invoke("clean", src, "-o", tmp_path / "out", "-j", "2")
    assert result.exit_code == 2, result.output
    assert "cannot copy the model file for the workers" in " ".join(result.output.split()) and "TMPDIR" in result.output
    assert not list((tmp_path / "out").glob("*.txt"))


def test_a_parallel_run_warns_of_a_kept_label_the_model_lacks_whatever_its_card_says(tmp_path):
    """With --jobs 2 the command reads the labels from the model's card; a hand-made or older card
    without them (or with `null`) must still give the warning that --jobs 1 gives, not none or a traceback."""
    import zipfile

    from boilerclf.card import MANIFEST
    from boilerclf.dataset import read_pages
    from boilerclf.model import train

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        (data / f"p{i}.txt").write_text(f"content\tA long paragraph of article {i}, in many words to read.\n"
                                        "navigation\tHome\nnavigation\tAbout us\n")
    two = tmp_path / "two.boilerclf"
    train(read_pages(sorted(data.glob("*.txt"))), cv_folds=0, context=False).save(two)
    src = news_folder(tmp_path, 4)
    for labels in (None, "absent", "no data", "data said"):  # and a card whose `data` is null or a note: a traceback
        model = tmp_path / f"{labels}.boilerclf"
        with zipfile.ZipFile(two) as good, zipfile.ZipFile(model, "w") as odd:
            for item in good.namelist():
                content = good.read(item)
                if item == MANIFEST:
                    meta = json.loads(content)
                    if labels == "absent":
                        del meta["labels"]
                    elif labels == "no data":
                        meta["data"] = None
                    elif labels == "data said":
                        meta["data"] = "the 2024 crawl, 500 pages"
                    else:
                        meta["labels"] = labels
                    content = json.dumps(meta).encode()
                odd.writestr(item, content)
        for jobs in ("1", "2"):
            result = invoke("clean", src, "-o", tmp_path / f"{labels}{jobs}", "-j", jobs, "--model", model, "--keep", "promo")
            assert result.exit_code == 0, result.output
            assert "trained without promo blocks" in " ".join(result.output.split()), (labels, jobs, result.output)


def _digest(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_outputs_never_overwrite_inputs_or_become_inputs(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(NEWS[0], src / NEWS[0].name)
    shutil.copy(AL_MONITOR, src / "al.txt")
    before = _digest(src)
    for command, out, says in (("clean", src / "cleaned", "is inside the input folder"),
                               ("clean", src, "is inside the input folder"),
                               ("label", src, "is inside the input folder"),
                               ("clean", None, "is an input and would be overwritten")):
        args = [src / "al.txt", "-o", src] if out is None else [src, "-o", out]
        result = invoke(command, *args)
        assert result.exit_code == 2 and says in " ".join(result.output.split()), result.output
    assert _digest(src) == before and not (src / "cleaned").exists()
    nested = src / "in"  # its page in/x.html.gz would be cleaned into in/x.txt, another input
    (nested / "in").mkdir(parents=True)
    shutil.copy(NEWS[0], nested / "in" / "x.html.gz")
    (nested / "x.txt").write_text("an input page")
    result = invoke("clean", nested, "-o", src, "--overwrite")
    assert result.exit_code == 2 and "is an input and would be overwritten" in " ".join(result.output.split())
    assert (nested / "x.txt").read_text() == "an input page"


def test_a_folder_s_manifest_and_errors_file_are_not_read_as_archives(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(NEWS[0], src / NEWS[0].name)
    (src / "pages.jsonl").write_text(json.dumps({"file": NEWS[0].name, "site": "x.com"}) + "\n")
    (src / "boilerclf-errors.jsonl").write_text(json.dumps({"source": "a", "reason": "b"}) + "\n")
    result = invoke("clean", src, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(["boilerclf-run.json", NEWS[0].name.replace(".html.gz", ".txt")])


def test_names_with_brackets_and_earlier_failures_survive_a_rerun(tmp_path, monkeypatch):
    """Record keys and file names are printed as they are (not read as console markup), and a rerun
    that skips a finished archive keeps listing the records of it that failed, from an errors file
    of before `position` too."""
    archive = tmp_path / "scrape.jsonl"
    good = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    archive.write_text(json.dumps({"url": "[/x]", "html": ""}) + "\n" + json.dumps({"url": "https://a.example/",
                                                                                     "html": good}) + "\n")
    out = tmp_path / "out"
    runs = []
    for name in (archive, archive.relative_to(tmp_path)):  # the rerun names it another way
        monkeypatch.chdir(tmp_path)
        runs.append(invoke("clean", name, "-o", out, "-j", "1"))
        assert runs[-1].exit_code == 1, runs[-1].output
        errors = jsonl(out / "boilerclf-errors.jsonl")
        assert [(e["record"], e.get("position")) for e in errors] == [("[/x]", 1 if len(runs) == 1 else None)]
        old = [{key: e[key] for key in ("source", "record", "reason")} for e in errors]  # as written before `position`
        (out / "boilerclf-errors.jsonl").write_text("".join(json.dumps(e) + "\n" for e in old))
    assert "scrape.jsonl [[/x]]: empty page" in " ".join(runs[0].output.split())
    assert "0 failed, plus 1 earlier failure in archives already done" in " ".join(runs[1].output.split())
    assert len((out / "scrape.jsonl").read_text().splitlines()) == 1


def test_outputs_get_the_usual_file_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        assert invoke("clean", AL_MONITOR, "-o", tmp_path / "out", "-j", "1").exit_code == 0
    finally:
        os.umask(umask)
    assert (tmp_path / "out" / AL_MONITOR.name).stat().st_mode & 0o777 == 0o644


def test_a_stale_path_in_a_stdin_list_fails_alone(tmp_path):
    gone = [str(tmp_path / "gone.html"), str(tmp_path / "gone[1].html")]  # brackets: not a glob that matches
    listed = f"{NEWS[0]}\n{gone[0]}\n{NEWS[1]}\n{gone[1]}\n"
    result = invoke("clean", "-", "-o", tmp_path / "out", "-j", "1", input=listed)
    assert result.exit_code == 1, result.output
    assert len(list((tmp_path / "out").glob("*.txt"))) == 2
    errors = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    assert errors == [{"source": path, "record": None, "position": None, "reason": "no such file or folder"}
                      for path in gone]
    for command in (["predict"], ["label", "-o", tmp_path / "labelled"]):
        result = invoke(*command, "-", input=listed)
        assert result.exit_code == 1 and "gone[1].html: no such file or folder" in " ".join(result.output.split())
    assert invoke("clean", tmp_path / "gone.html", "-o", tmp_path / "out").exit_code == 2  # named on the command line


def test_an_interrupted_run_still_lists_the_failures_of_what_it_finished(tmp_path, monkeypatch):
    import boilerclf.batch as batch

    archive = tmp_path / "scrape.jsonl"
    archive.write_text(json.dumps({"url": "https://a.example/", "html": ""}) + "\n")
    run = batch.run

    def interrupted(*args, **kwargs):
        yield from run(*args, **kwargs)
        raise KeyboardInterrupt  # Ctrl-C or SIGTERM once the archive is done

    monkeypatch.setattr(batch, "run", interrupted)
    result = invoke("clean", archive, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code != 0 and (tmp_path / "out" / "scrape.jsonl").exists()
    errors = (tmp_path / "out" / "boilerclf-errors.jsonl").read_text().splitlines()
    assert len(errors) == 1 and json.loads(errors[0])["reason"] == "empty page"


def test_resuming_with_other_options_is_refused(tmp_path):
    src = news_folder(tmp_path, 2)
    out = tmp_path / "out"
    assert invoke("clean", src, "-o", out, "-j", "1").exit_code == 0
    shutil.copy(NEWS[2], src / NEWS[2].name)
    before = _digest(out)
    result = invoke("clean", src, "-o", out, "-j", "1", "--keep", "content", "--keep", "promo")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "keep was content, now content,promo" in said and "--overwrite" in said
    assert _digest(out) == before  # nothing written: the old outputs and new ones would disagree
    assert invoke("clean", src, "-o", out, "-j", "1").exit_code == 0  # same options: resumes
    assert len(list(out.glob("*.txt"))) == 3
    assert invoke("clean", src, "-o", out, "-j", "1", "--keep", "promo", "--overwrite").exit_code == 0
    assert invoke("clean", src, "-o", out, "-j", "1", "-f", "html").exit_code == 0  # other outputs, other suffix
    assert invoke("clean", src, "-o", out, "-j", "1", "--keep", "promo").exit_code == 0  # text outputs: as recorded


def test_other_inputs_with_other_options_into_a_folder_of_outputs_are_refused(tmp_path):
    """A run whose own inputs have no output yet still shares the folder with the earlier run's
    outputs: with another --keep it mixed the two and recorded its own options for all of them, so
    that resuming the first run was refused and one with the new options kept the old outputs."""
    first, second = news_folder(tmp_path, 2), tmp_path / "more"
    second.mkdir()
    shutil.copy(NEWS[2], second / NEWS[2].name)
    out = tmp_path / "out"
    assert invoke("clean", first, "-o", out, "-j", "1").exit_code == 0
    before = _digest(out)
    result = invoke("clean", second, "-o", out, "-j", "1", "--keep", "promo")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "keep was content, now promo" in said, said
    assert _digest(out) == before
    assert invoke("clean", second, "-o", out, "-j", "1").exit_code == 0  # same options: written beside them
    assert invoke("clean", first, "-o", out, "-j", "1").exit_code == 0 and len(list(out.glob("*.txt"))) == 3


def test_resuming_with_another_format_but_other_options_is_refused_for_the_archives_jsonl(tmp_path):
    """An archive's output is .jsonl whatever --format says: a --format html run with another
    --keep skipped the archive's output of the text run, its records made with the old --keep."""
    src = news_folder(tmp_path, 1)
    write_warc(src / "crawl.warc", [gzip.decompress(p.read_bytes()) for p in NEWS[1:3]])
    out = tmp_path / "out"
    assert invoke("clean", src, "-o", out, "-j", "1").exit_code == 0
    before = _digest(out)
    result = invoke("clean", src, "-o", out, "-j", "1", "-f", "html", "--keep", "content,promo")
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "keep was content, now content,promo" in said, said
    assert _digest(out) == before
    assert invoke("clean", src, "-o", out, "-j", "1", "-f", "html").exit_code == 0  # same options: other outputs
    assert len(list(out.glob("*.html"))) == 1


def test_a_page_file_with_an_output_keeps_no_earlier_failure(tmp_path):
    """Page files that failed in a --format html run made a later text run, whose outputs were all
    there, exit 1 with "2 earlier failures in archives already done". A page whose --overwrite redo
    fails loses its old output, made with the options replaced, which resumes kept with nothing said."""
    src = news_folder(tmp_path, 2)
    out = tmp_path / "out"
    assert invoke("clean", src, "-o", out, "-j", "1").exit_code == 0
    assert invoke("clean", src, "-o", out, "-j", "1", "-f", "html", "--max-bytes", 1000).exit_code == 1
    result = invoke("clean", src, "-o", out, "-j", "1")
    assert result.exit_code == 0 and "earlier" not in result.output, result.output
    assert not (out / "boilerclf-errors.jsonl").exists()
    result = invoke("clean", src, "-o", out, "-j", "1", "--overwrite", "--keep", "promo", "--max-bytes", 1000)
    assert result.exit_code == 1 and not list(out.glob("*.txt"))  # not the --keep content outputs
    assert invoke("clean", src, "-o", out, "-j", "1", "--keep", "promo").exit_code == 0  # tried again
    assert len(list(out.glob("*.txt"))) == 2


def test_globs_and_lists_mirror_folders_and_pass_over_outputs(tmp_path, monkeypatch):
    """`crawl/**/*.html.gz` and `find . -name ... | clean -` keep the subfolders (two index pages
    do not collide), and a rerun whose pattern or list now matches the outputs resumes."""
    monkeypatch.chdir(tmp_path)
    for site, page in zip("ab", NEWS):
        (tmp_path / "crawl" / site).mkdir(parents=True)
        shutil.copy(page, tmp_path / "crawl" / site / "index.html.gz")
    for run in range(2):
        result = invoke("clean", "crawl/**/*.html*", "-o", "crawl/out", "-j", "1", "-f", "html")
        assert result.exit_code == 0, result.output
        listed = "".join(f"./{p.relative_to(tmp_path)}\n" for p in sorted(tmp_path.rglob("*.html*"))
                         if not p.is_relative_to(tmp_path / "crawl" / "out"))  # on the rerun: listed/ too
        result = invoke("clean", "-", "-o", "listed", "-j", "1", "-f", "html", input=listed)
        assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(tmp_path / "crawl/out").as_posix() for p in (tmp_path / "crawl/out").rglob("*.html")) \
        == ["a/index.html", "b/index.html"]
    assert {p.relative_to(tmp_path / "listed").as_posix() for p in (tmp_path / "listed").rglob("*.html")} \
        == {"crawl/a/index.html", "crawl/b/index.html"}


def test_a_list_of_absolute_paths_mirrors_them_whole(tmp_path):
    """`find /data/crawl -name '*.html' | clean -` lists absolute paths: their file names alone
    collided (two index.html refused the whole run); they keep the folders below the one they share."""
    for site, page in zip("ab", NEWS):
        (tmp_path / "crawl" / site).mkdir(parents=True)
        shutil.copy(page, tmp_path / "crawl" / site / "index.html.gz")
    listed = "".join(f"{p}\n" for p in sorted((tmp_path / "crawl").rglob("*.html.gz")))
    result = invoke("clean", "-", "-o", tmp_path / "out", "-j", "1", input=listed)
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt")) == \
        ["a/index.txt", "b/index.txt"]


def test_a_list_of_absolute_paths_resumes_into_an_output_folder_among_them(tmp_path):
    """`find /data -name '*.html' | clean - -o /data/out -f html`: the rerun's list holds the
    outputs too, which are passed over but moved the folder the paths share (/data/site to /data),
    so the rerun redid every page into out/site/... beside the first run's out/a/..."""
    for site, page in zip("ab", NEWS):
        (tmp_path / "site" / site).mkdir(parents=True)
        (tmp_path / "site" / site / "index.html").write_bytes(gzip.decompress(page.read_bytes()))
    out = tmp_path / "out"
    for run in range(2):
        listed = "".join(f"{p}\n" for p in sorted(tmp_path.rglob("*.html")))
        result = invoke("clean", "-", "-o", out, "-j", "1", "-f", "html", input=listed)
        assert result.exit_code == 0, result.output
    assert "skipped 2 inputs already done" in " ".join(result.output.split()), result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == ["a/index.html", "b/index.html"]


def test_two_runs_into_one_output_folder_at_once_are_refused(tmp_path):
    from boilerclf.batch import folder_lock

    (tmp_path / "out").mkdir()
    with folder_lock(tmp_path / "out"):  # as a run in progress holds it
        result = invoke("clean", AL_MONITOR, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 2 and "another boilerclf run is writing into" in " ".join(result.output.split())
    assert invoke("clean", AL_MONITOR, "-o", tmp_path / "out", "-j", "1").exit_code == 0


def test_a_warc_response_without_target_uri_fails_alone(tmp_path):
    """And the errors file gives each failed record's position, as the outputs do: a record id alone
    did not find it in the archive. Failed in reading (no target URI) or in labelling (empty)."""
    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:3]]
    pages[2:2] = [b""]
    with open(tmp_path / "crawl.warc", "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for i, page in enumerate(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://example.org/{i}", "response", payload=io.BytesIO(page),
                                               http_headers=headers)
            if i == 1:  # warcio raised AttributeError on it, and the records after it were lost
                record.rec_headers.remove_header("WARC-Target-URI")
            writer.write_record(record)
    urls, errors = clean_failing_archive(tmp_path / "crawl.warc", tmp_path / "out")
    assert urls == ["https://example.org/0", "https://example.org/3"]
    assert len(errors) == 2 and "WARC-Target-URI" in errors[0]["reason"] and errors[0]["record"].startswith("<urn:")
    assert [(e["position"], e["reason"].split(" ")[-1]) for e in errors] == [(2, "have"), (3, "page")]


def test_a_warc_cut_inside_a_record_reports_it(tmp_path):
    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:3]]
    write_warc(tmp_path / "whole.warc.gz", pages, extra=False)
    data = (tmp_path / "whole.warc.gz").read_bytes()
    (tmp_path / "cut.warc.gz").write_bytes(data[:len(data) - 2000])  # a download cut short, in the last page
    urls, errors = clean_failing_archive(tmp_path / "cut.warc.gz", tmp_path / "out")
    assert urls == ["https://example.org/0", "https://example.org/1"]
    assert len(errors) == 1 and "archive ends" in errors[0]["reason"]


def test_an_archive_output_is_written_as_it_goes(tmp_path, monkeypatch):
    """An archive's output streams to its temporary file: it was held in memory whole, which grew
    with the archive (1,600 records: 800 MB against 360 MB for 200) and would not fit for a crawl's."""
    from boilerclf import batch
    from boilerclf.sources import Record, find_sources

    page = gzip.decompress(NEWS[0].read_bytes())
    written = []

    def records(source, max_bytes=0):
        for i in range(4 * batch.CHUNK):
            if i == 3 * batch.CHUNK:  # the first batch is in the temporary file by now (reading runs a batch ahead)
                written.extend(line for part in tmp_path.glob("out/.*.part") for line in part.read_text().splitlines())
            yield Record(key=f"r{i}", url=f"https://example.org/{i}", html=page)

    monkeypatch.setattr(batch, "records", records)
    (tmp_path / "a.jsonl").write_text("")
    [result] = batch.run(find_sources([tmp_path / "a.jsonl"]), batch.Settings(outdir=tmp_path / "out"))
    assert result.pages == 4 * batch.CHUNK and not result.failures
    assert len(written) >= batch.CHUNK
    assert len((tmp_path / "out" / "a.jsonl").read_text().splitlines()) == 4 * batch.CHUNK
    assert not list(tmp_path.glob("out/.*.part"))


def test_temporary_files_of_stopped_workers_and_killed_runs_are_removed(tmp_path, monkeypatch):
    """A worker stopped mid-archive (Ctrl-C, SIGTERM) or a run killed outright cannot remove the
    temporary file it was streaming the archive's output into: the run, or the next one, does."""
    import boilerclf.batch as batch

    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"url": "https://a.example/", "html": "<p>Hi</p>"}) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".a.jsonl.0123456789ab.part").write_text("half")  # left by a run killed outright
    (out / ".notes.txt.0123456789ab.part").write_text("not ours")
    run = batch.run

    def stopped(sources, *args, **kwargs):
        yield from run(sources[:1], *args, **kwargs)
        (out / ".b.jsonl.ba9876543210.part").write_text("half")  # a worker stopped while writing b
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run", stopped)
    result = invoke("clean", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "-o", out, "-j", "1")
    assert result.exit_code == 130
    # how far it got, and how to go on (it said nothing)
    assert "interrupted: cleaned 1 page from 1 of 2 inputs (0 failed); rerun the same command to go on" \
        in " ".join(result.output.split()), result.output
    assert sorted(p.name for p in out.iterdir()) == [".notes.txt.0123456789ab.part", "a.jsonl", "boilerclf-run.json"]


def test_temporary_files_of_a_killed_overwrite_run_are_removed_on_resuming(tmp_path):
    """A run with --overwrite killed outright while it redid a.jsonl left its temporary file beside
    the old output; resumed without --overwrite, the run passed a.jsonl over and its temporary file
    with it (only those of the inputs to do were looked for), which stayed for good."""
    (tmp_path / "a.jsonl").write_text(json.dumps({"url": "https://a.example/", "html": "<p>Hi</p>"}) + "\n")
    out = tmp_path / "out"
    assert invoke("clean", tmp_path / "a.jsonl", "-o", out, "-j", "1").exit_code == 0
    (out / ".a.jsonl.0123456789ab.part").write_text("half")  # the killed --overwrite run's
    result = invoke("clean", tmp_path / "a.jsonl", "-o", out, "-j", "1")
    assert result.exit_code == 0 and "skipped 1 input already done" in " ".join(result.output.split())
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "boilerclf-run.json"]


def test_a_warc_response_is_decoded_by_its_http_charset(tmp_path):
    """A page that declares no charset is read by the one its HTTP header gives: a short KOI8-R
    page was guessed as Latin ('ðÒÉ×ÅÔ, ÍÉÒ')."""
    text = "Привет, мир. Новости дня."
    with open(tmp_path / "ru.warc", "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=KOI8-R")], protocol="HTTP/1.1")
        payload = io.BytesIO(f"<html><body><p>{text}</p></body></html>".encode("koi8-r"))
        writer.write_record(writer.create_warc_record("https://example.ru/", "response", payload=payload,
                                                      http_headers=headers))
    assert invoke("clean", tmp_path / "ru.warc", "-o", tmp_path / "out", "-j", "1").exit_code == 0
    [record] = jsonl(tmp_path / "out" / "ru.jsonl")
    assert [b["text"] for b in record["blocks"]] == [text]


def test_jsonl_records_are_keyed_by_an_id_of_0_too(tmp_path):
    with open(tmp_path / "dump.jsonl", "w") as f:
        for i in range(2):  # the first record was keyed by its url, the others by their id
            f.write(json.dumps({"id": i, "url": "https://a.example/", "html": "<p>A page of text.</p>"}) + "\n")
        f.write(json.dumps({"id": "", "html": "<p>A page of text.</p>"}) + "\n")
    assert invoke("clean", tmp_path / "dump.jsonl", "-o", tmp_path / "out", "-j", "1").exit_code == 0
    keys = [record["record"] for record in jsonl(tmp_path / "out" / "dump.jsonl")]
    assert keys == ["0", "1", "line 3"]


def test_inputs_with_one_output_are_all_counted_in_one_refusal(tmp_path):
    """a.html and a.htm both give a.txt: the run was refused at the first such pair alone, so a
    corpus with many took a rerun per pair; one refusal counts them and names the first five."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(7):
        for suffix in (".html", ".htm"):
            (src / f"p{i}{suffix}").write_text(f"<p>Page {i}.</p>")
    result = invoke("clean", src, "-o", tmp_path / "out", "-j", "1")
    said = "".join(result.output.split())  # no spaces: rich may fold a long path anywhere
    assert result.exit_code == 2 and "7inputswouldbewrittentoanotherinput'soutput:" in said, result.output
    assert f"{src / 'p0.htm'}and{src / 'p0.html'}to{tmp_path / 'out' / 'p0.txt'};" in said
    assert "p4.htmand" in said and "p5.htmand" not in said and "and2more;dothemseparately" in said
    assert not (tmp_path / "out").exists()


def test_outputs_and_errors_name_their_source_alike(tmp_path, monkeypatch):
    """An output's "source" was the path as given (in/ok.html) and the errors file's the absolute
    path, so the two could not be joined: both are absolute now (a rerun may start elsewhere)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ok.html").write_text("<p>A page of text.</p>")
    (tmp_path / "in" / "empty.html").write_text("")
    (tmp_path / "in" / "dump.jsonl").write_text("".join(json.dumps({"url": f"https://a.example/{i}", "html": html}) + "\n"
                                                        for i, html in enumerate(["<p>A page of text.</p>", ""])))
    assert invoke("clean", "in", "-o", "out", "-f", "jsonl", "-j", "1").exit_code == 1
    given = {name: os.path.abspath(os.path.join("in", name)) for name in ("ok.html", "empty.html", "dump.jsonl")}
    assert json.loads((tmp_path / "out" / "ok.jsonl").read_text())["source"] == given["ok.html"]
    assert json.loads((tmp_path / "out" / "dump.jsonl").read_text())["source"] == given["dump.jsonl"]
    errors = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    assert sorted((e["source"], e["record"]) for e in errors) == sorted(
        [(given["empty.html"], None), (given["dump.jsonl"], "https://a.example/1")])


def test_a_warc_response_without_content_type_is_read_by_its_payload_type_or_start(tmp_path):
    """A response whose HTTP headers have no Content-Type was skipped as non-HTML, though crawls
    hold such pages: the crawler's WARC-Identified-Payload-Type says, else the payload's start."""
    text = "<p>A page of text, served without a content type.</p>"
    records = [  # (payload, WARC-Identified-Payload-Type, cleaned)
        (b"\xef\xbb\xbf \r\n<!DOCTYPE html><html><body>" + text.encode(), None, True),
        (b"<HTML lang=en><body>" + text.encode(), None, True),
        (b"\n<body>" + text.encode(), None, True),
        (b"<!-- a comment first -->" + text.encode(), "text/html", True),
        (b"\x89PNG\r\n\x1a\n" + text.encode(), None, False),
        (b"<header>" + text.encode(), None, False),  # not <head>: a fragment
        (b"<html><body>" + text.encode(), "image/png", False),
    ]
    with open(tmp_path / "crawl.warc.gz", "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for i, (payload, identified, _) in enumerate(records):
            headers = StatusAndHeaders("200 OK", [("Server", "nginx")], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://example.org/{i}", "response", payload=io.BytesIO(payload),
                                               http_headers=headers)
            if identified:
                record.rec_headers.add_header("WARC-Identified-Payload-Type", identified)
            writer.write_record(record)
    result = invoke("clean", tmp_path / "crawl.warc.gz", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0 and "and 3 archive records that are not pages" in " ".join(result.output.split()), result.output
    lines = jsonl(tmp_path / "out" / "crawl.jsonl")
    assert [line["url"] for line in lines] == [f"https://example.org/{i}" for i, r in enumerate(records) if r[2]]
    assert all("served without a content type" in line["text"] for line in lines)


def test_one_archive_is_spread_over_the_workers(tmp_path, monkeypatch):
    """An archive was one task: a crawl's single big WARC ran on one core, whatever --jobs said, and
    the progress bar stood at 0/1 for its whole run. Its records now go out a batch per task, and
    each output line says where its record was in the archive (parts may come back in any order)."""
    from boilerclf import batch
    from boilerclf.sources import find_sources

    pages = [gzip.decompress(NEWS[i % 8].read_bytes()) for i in range(2 * batch.CHUNK + 3)]
    write_warc(tmp_path / "crawl.warc.gz", pages)
    archives = {}
    made = [work for work, _ in batch.tasks(find_sources([tmp_path / "crawl.warc.gz"]), batch.Settings(tmp_path / "x"),
                                            batch.CHUNK, archives)]
    assert made == [batch.label_records] * 3 and archives[0].parts == 3 and archives[0].read
    outputs, workers = {}, workers_asked(monkeypatch)
    for jobs in ("1", "2"):
        result = invoke("clean", tmp_path / "crawl.warc.gz", "-o", tmp_path / jobs, "-j", jobs)
        assert result.exit_code == 0 and f"cleaned {len(pages)} pages" in " ".join(result.output.split())
        outputs[jobs] = sorted(jsonl(tmp_path / jobs / "crawl.jsonl"), key=lambda r: r["position"])
    assert workers == [1, 2]  # one input, but two workers
    assert [r["position"] for r in outputs["1"]] == list(range(1, len(pages) + 1))
    assert [r["url"] for r in outputs["1"]] == [f"https://example.org/{i}" for i in range(len(pages))]
    assert outputs["1"] == outputs["2"]


@pytest.mark.parametrize("closing_fails", [False, True])
def test_a_write_that_fails_mid_archive_fails_it_whole(tmp_path, monkeypatch, closing_fails):
    """A full disk while an archive's output is written: no half output under the final name, no
    temporary file left, the failure reported, and the page files of the run still cleaned. A write
    leaves bytes in the file's buffer, so closing the temporary output fails too (ENOSPC again):
    that second error stopped the whole run with a traceback, no errors file and the inputs after
    the archive not cleaned."""
    import errno

    from boilerclf import batch

    write_warc(tmp_path / "crawl.warc", [gzip.decompress(NEWS[i].read_bytes()) for i in range(batch.CHUNK + 2)])
    shutil.copy(NEWS[0], tmp_path / "page.html.gz")
    opened = batch.atomic_file

    class Full:
        def __init__(self, f):
            self.f, self.writes = f, 0

        def write(self, data):
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

    @contextlib.contextmanager
    def atomic_file(path, **kwargs):
        with opened(path, **kwargs) as f:
            if path.suffix != ".jsonl":
                yield f
                return
            full = Full(f)
            try:
                yield full
            finally:
                if closing_fails and full.writes > 1:  # what closing a file with unflushed bytes raises
                    raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(batch, "atomic_file", atomic_file)
    error = archive_fails_alone(tmp_path, "crawl.warc")
    assert error["source"].endswith("crawl.warc") and "No space left" in error["reason"]


def test_an_archive_that_cannot_be_read_fails_alone(tmp_path, monkeypatch):
    """An archive gone since it was listed (here a broken link), or whose reading fails midway,
    stopped the whole run with a traceback once the command read archives itself: it fails alone,
    whole (no output, so that a rerun tries it again), and the other inputs are cleaned."""
    from boilerclf import batch
    from boilerclf.sources import Record, find_sources

    shutil.copy(NEWS[0], tmp_path / "page.html.gz")
    (tmp_path / "gone.warc.gz").symlink_to(tmp_path / "nowhere.warc.gz")
    error = archive_fails_alone(tmp_path, "gone.warc.gz")
    assert error["source"].endswith("gone.warc.gz") and "No such file" in error["reason"]

    page = gzip.decompress(NEWS[0].read_bytes())

    def records(source, max_bytes=0):  # a read error after two batches are out (a network file system gone away)
        for i in range(2 * batch.CHUNK + 3):
            yield Record(key=f"r{i}", position=i + 1, url=f"https://example.org/{i}", html=page)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(batch, "records", records)
    (tmp_path / "a.jsonl").write_text("")
    counted = []  # what the progress bar hears: the pages of the archive's parts, then taken back
    [result] = batch.run(find_sources([tmp_path / "a.jsonl"]), batch.Settings(outdir=tmp_path / "out2"),
                         on_pages=counted.append)
    assert result.pages == 0 and [f["reason"] for f in result.failures] == ["OSError: [Errno 5] Input/output error"]
    assert counted[0] > 0 and sum(counted) == 0
    assert list((tmp_path / "out2").iterdir()) == []


def test_a_small_archive_starts_no_workers(tmp_path, monkeypatch):
    """--jobs defaults to every core, but a JSONL of two pages makes one task: starting workers for
    it cost a second and a process per core for nothing."""
    (tmp_path / "two.jsonl").write_text("".join(json.dumps({"url": f"https://a.example/{i}", "html": "<p>A page.</p>"})
                                                + "\n" for i in range(2)))
    workers = workers_asked(monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert invoke("clean", tmp_path / "two.jsonl", "-o", tmp_path / "out").exit_code == 0
    assert workers == [1]


def test_jobs_0_starts_a_worker_per_cpu_this_process_may_use(tmp_path, monkeypatch):
    """`--jobs 0` (the default) is every CPU the process may use (its affinity, a container's quota):
    a batch job given 2 CPUs of a 64-CPU host started 64 workers on them."""
    import joblib

    src = news_folder(tmp_path, 4)
    workers = workers_asked(monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert joblib.cpu_count() == 2
    assert invoke("clean", src, "-o", tmp_path / "out", "-j", "0").exit_code == 0
    assert workers == [2]  # not 4, one per page file


def _pool_threads():
    from threadpoolctl import threadpool_info

    return {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()}


def test_workers_share_the_cpus_this_process_may_use_not_the_machine_s(tmp_path, monkeypatch):
    """Workers limit their BLAS and OpenMP threads to their share of the CPUs, as loky does for
    those it starts: of the CPUs this process may use (its affinity, a container's quota, as
    `joblib.cpu_count`), not of all the machine's, which on a big host gave each of a few workers
    of a container or a batch job as many threads as the host has CPUs."""
    import joblib

    src = news_folder(tmp_path, 4)
    usable = joblib.cpu_count()
    monkeypatch.setattr(os, "cpu_count", lambda: 4 * usable)  # a host with more CPUs than this process may use
    configs = []
    real = joblib.parallel_config

    def spied(*args, **kwargs):
        configs.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(joblib, "parallel_config", spied)
    assert invoke("clean", src, "-o", tmp_path / "out", "-j", "2").exit_code == 0
    [config] = configs
    with real(**config):  # the run's workers, or ones started as they were
        threads = joblib.Parallel()(joblib.delayed(_pool_threads)() for _ in range(4))
    assert threads and all(set(pools.values()) == {max(usable // 2, 1)} for pools in threads), threads


def test_a_jsonl_line_nested_too_deep_fails_alone(tmp_path):
    """json.loads raises RecursionError, not ValueError, on a line nested thousands deep: among the
    first lines it stopped the run while inputs were found, later it failed the whole archive."""
    good = json.dumps({"url": "https://a.example/", "html": "<p>A page of text.</p>"}) + "\n"
    (tmp_path / "dump.jsonl").write_text(good + "[" * 100_000 + "]" * 100_000 + "\n" + good)
    result = invoke("clean", tmp_path / "dump.jsonl", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 1
    assert [r["position"] for r in jsonl(tmp_path / "out" / "dump.jsonl")] == [1, 3]
    [error] = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    assert error["record"] == "line 2" and error["position"] == 2 and "not JSON" in error["reason"]


def test_a_warc_record_over_the_size_limit_is_never_held_whole(tmp_path):
    """A crawl's odd huge response (a 30 MB dump served as text/html) was read into memory whole
    before the page limit refused it; it is now read a piece at a time and dropped, and the
    records after it are read as usual."""
    import tracemalloc

    from boilerclf.sources import warc_records

    small = b"<html><body><p>A page of text.</p></body></html>"
    write_warc(tmp_path / "crawl.warc", [small, b"<html><body><p>" + b"x" * 30_000_000 + b"</p>", small], extra=False)
    tracemalloc.start()
    found = list(warc_records(tmp_path / "crawl.warc", max_bytes=1_000_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r.html for r in found] == [small, None, small]
    assert found[1].error == "30,000,019 bytes is over the 1,000,000-byte page limit" and found[1].position == 2
    assert peak < 10_000_000
    result = invoke("clean", tmp_path / "crawl.warc", "-o", tmp_path / "out", "-j", "1", "--max-bytes", "1000000")
    assert result.exit_code == 1 and [r["position"] for r in jsonl(tmp_path / "out" / "crawl.jsonl")] == [1, 3]
    [error] = jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")
    assert "over the 1,000,000-byte page limit" in error["reason"] and error["record"].startswith("<urn:uuid:")


def test_a_warc_without_a_size_limit_is_read_whole(tmp_path):
    """--max-bytes 0 (no limit) made every WARC page an "empty page": the payload was read with
    `read(-1)`, which warcio's readers take for no bytes at all (they read everything on None)."""
    from boilerclf.sources import warc_records

    pages = [gzip.decompress(NEWS[i].read_bytes()) for i in range(2)]
    write_warc(tmp_path / "crawl.warc.gz", pages)
    assert [r.html for r in warc_records(tmp_path / "crawl.warc.gz") if not r.skipped] == pages
    result = invoke("clean", tmp_path / "crawl.warc.gz", "-o", tmp_path / "out", "-j", "1", "--max-bytes", "0")
    assert result.exit_code == 0, result.output
    assert [r["position"] for r in jsonl(tmp_path / "out" / "crawl.jsonl")] == [1, 2]


def test_a_warc_gz_gzipped_whole_is_read_to_its_end(tmp_path):
    """A .warc.gz made by gzipping a .warc (one gzip member, not one per record) gave its first
    record, then "archive unreadable after record 1: ArchiveLoadFailed: non-chunked gzip file"."""
    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:3]]
    write_warc(tmp_path / "crawl.warc", pages)
    (tmp_path / "crawl.warc.gz").write_bytes(gzip.compress((tmp_path / "crawl.warc").read_bytes()))
    (tmp_path / "crawl.warc").unlink()
    result = invoke("clean", tmp_path / "crawl.warc.gz", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    assert [r["position"] for r in jsonl(tmp_path / "out" / "crawl.jsonl")] == [1, 2, 3]
    assert "and 2 archive records that are not pages; 0 failed" in " ".join(result.output.split())


def test_a_warc_resource_record_holding_html_is_a_page(tmp_path):
    """A page archived without HTTP (a `resource` record whose WARC Content-Type is HTML, as warcit
    and uploads to web archives write) was skipped and counted as a record that is not a page."""
    from boilerclf.sources import warc_records

    page = gzip.decompress(NEWS[0].read_bytes())
    with open(tmp_path / "site.warc", "wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for uri, content_type, payload in [("file:///site/index.html", "text/html; charset=utf-8", page),
                                           ("metadata://wget.log", "text/plain", b"wget log\n")]:
            writer.write_record(writer.create_warc_record(uri, "resource", payload=io.BytesIO(payload),
                                                          warc_content_type=content_type))
    found = list(warc_records(tmp_path / "site.warc"))
    assert [(r.url, r.html, r.charset, r.skipped) for r in found] == [
        ("file:///site/index.html", page, "utf-8", False), ("metadata://wget.log", None, None, True)]


def write_responses(path, responses):
    """A WARC of HTML responses: (payload as archived, extra HTTP headers) each."""
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=str(path).endswith(".gz"))
        for i, (payload, headers) in enumerate(responses):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), *headers], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://example.org/{i}", "response",
                                                          payload=io.BytesIO(payload), http_headers=http))


def chunked(body, size=1000):
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def test_warc_payloads_in_the_encodings_crawlers_archive_are_decoded(tmp_path):
    """Responses are archived as servers sent them. A `Transfer-Encoding: Chunked` (HTTP's codings
    are case-insensitive) was not de-chunked: its chunk sizes became text, and a chunk break inside a
    <script> tag showed the script's code as a block; `x-gzip` (gzip's old name) was "binary data";
    `br`, which browser-based crawlers archive most, failed with warcio's brotli reader ("'brotli.
    Decompressor' object has no attribute 'unused_data'", given as "truncated or corrupt")."""
    import brotli

    from boilerclf.sources import warc_records

    page = gzip.decompress(NEWS[0].read_bytes())
    write_responses(tmp_path / "crawl.warc.gz", [
        (page, []),
        (chunked(page), [("Transfer-Encoding", "Chunked")]),
        (gzip.compress(page), [("Content-Encoding", "X-Gzip")]),
        (brotli.compress(page), [("Content-Encoding", "br")]),
        (chunked(brotli.compress(page)), [("Content-Encoding", "br"), ("Transfer-Encoding", "chunked")]),
        (gzip.compress(page), [("Content-Encoding", " gzip, identity")]),
    ])
    found = list(warc_records(tmp_path / "crawl.warc.gz"))
    assert [r.error for r in found] == [None] * 6 and [r.html for r in found] == [page] * 6


def test_a_warc_payload_that_cannot_be_decoded_fails_alone_saying_why(tmp_path, monkeypatch):
    """A gzip payload corrupt midway was cleaned as far as it decoded, as if whole, with exit status 0
    and only warcio's "Error -3 while decompressing data" on stderr; a Content-Encoding that
    cannot be decoded (zstd, or br without the brotli package) was "binary data, not a page (too many
    control bytes)"."""
    import sys

    import brotli

    page = gzip.decompress(NEWS[0].read_bytes())
    body = gzip.compress(page)
    middle = len(body) // 2
    corrupt = body[:middle] + bytes(b ^ 0x55 for b in body[middle:middle + 200]) + body[middle + 200:]
    write_responses(tmp_path / "crawl.warc.gz", [
        (page, []),
        (corrupt, [("Content-Encoding", "gzip")]),
        (b"\x28\xb5\x2f\xfd" + bytes(range(256)), [("Content-Encoding", "zstd")]),
        (brotli.compress(page), [("Content-Encoding", "br")]),
    ])
    monkeypatch.setitem(sys.modules, "brotli", None)  # not installed
    urls, errors = clean_failing_archive(tmp_path / "crawl.warc.gz", tmp_path / "out")
    assert urls == ["https://example.org/0"]
    assert [e["reason"].split(":", 1)[1] for e in errors] == [
        " its gzip payload is corrupt after 58,587 bytes (Error -3 while decompressing data: incorrect data check)",
        " its Content-Encoding is zstd, which boilerclf cannot decode",
        " its Content-Encoding is br (Brotli), which needs the brotli package: pip install brotli"]


def test_a_warc_payload_whose_compressed_stream_stops_short_fails_saying_so(tmp_path):
    """A whole record whose gzip, deflate or br payload stops before its compressed stream ends (cut
    by a server or crawler that did not say so in WARC-Truncated) was cleaned as far as it decoded,
    as if whole, exit status 0: a page without its end. Whole payloads, and an empty one, still read."""
    import zlib

    import brotli

    from boilerclf.sources import warc_records

    page = gzip.decompress(NEWS[0].read_bytes())
    deflate = zlib.compressobj()
    whole = [gzip.compress(page), deflate.compress(page) + deflate.flush(), brotli.compress(page)]
    names = ["gzip", "deflate", "br"]
    write_responses(tmp_path / "crawl.warc.gz",
                    [(body[:len(body) * 2 // 3], [("Content-Encoding", name)]) for body, name in zip(whole, names)]
                    + [(body, [("Content-Encoding", name)]) for body, name in zip(whole, names)]
                    + [(b"", [("Content-Encoding", "gzip")])])
    found = list(warc_records(tmp_path / "crawl.warc.gz"))
    assert [r.error and r.error.split(": ", 1)[1] for r in found[:3]] == [
        f"its {name} payload stops before its compressed stream ends (cut short)" for name in names]
    assert [r.html for r in found[3:6]] == [page] * 3 and found[6].html == b""


def test_a_warc_payload_whose_content_encoding_is_no_coding_is_read_as_it_is(tmp_path):
    """Servers send `Content-Encoding: UTF-8` (a charset), `none` or `binary`, which browsers ignore,
    showing the bytes, and warcio read as no coding: such pages, cleaned before, failed as "its
    Content-Encoding is utf-8, which boilerclf cannot decode"."""
    from boilerclf.sources import warc_records

    page = gzip.decompress(NEWS[0].read_bytes())
    write_responses(tmp_path / "crawl.warc.gz", [(page, [("Content-Encoding", name)]) for name in ("UTF-8", "none", "binary")]
                    + [(gzip.compress(page), [("Content-Encoding", "gzip, utf-8")])])
    found = list(warc_records(tmp_path / "crawl.warc.gz"))
    assert [r.error for r in found] == [None] * 4 and [r.html for r in found] == [page] * 4


def test_a_brotli_payload_is_decoded_a_bounded_piece_at_a_time(tmp_path, monkeypatch):
    """Brotli has no ratio cap (gzip's 1032:1 bounds what warcio's 16 KB reads decode to): a 2 KB
    response decoded to 1 GB in one call, all held (2 GB of memory) before `--max-bytes` could
    count it, and a few KB more would take the machine's. Here 64 MB, from ~100 bytes."""
    import brotli

    from boilerclf.sources import _Brotli, warc_records

    monkeypatch.setattr(_Brotli, "LIMIT", 4 << 20, raising=False)  # 64 MiB: a smaller bomb does here
    page = gzip.decompress(NEWS[0].read_bytes())
    bomb = brotli.compress(b"<html><body>" + b" " * (64 << 20), quality=5)
    assert len(bomb) < 200
    write_responses(tmp_path / "crawl.warc.gz", [(bomb, [("Content-Encoding", "br")]),
                                                 (brotli.compress(page), [("Content-Encoding", "br")])])
    found = list(warc_records(tmp_path / "crawl.warc.gz", max_bytes=20_000_000))
    assert [r.html for r in found] == [None, page]
    assert found[0].error.startswith("record 1: its br payload decodes to over 4,194,304 bytes from ")


def test_a_jsonl_record_of_plain_text_is_read_as_a_text_page(tmp_path):
    """An "html" holding scraped text, no markup (a text dump put in the html field), was parsed as
    HTML: its lines ran into one block, so the newsletter pitch at its end was kept with the article."""
    lines = ["Storm hits the coast", "The storm reached the coast on Monday night, and more than 20,000 homes "
             "lost power.", "Crews worked all night to restore it.", "Subscribe to our newsletter for more news."]
    (tmp_path / "dump.jsonl").write_text(json.dumps({"url": "https://a.example/1", "html": "\n\n".join(lines)}) + "\n")
    assert invoke("clean", tmp_path / "dump.jsonl", "-o", tmp_path / "out", "-j", "1").exit_code == 0
    [record] = jsonl(tmp_path / "out" / "dump.jsonl")
    assert [b["text"] for b in record["blocks"]] == lines


def test_a_jsonl_record_given_as_text_is_a_text_page_whatever_it_holds(tmp_path):
    """A record's "html" is text only when it has no markup, and an extractor's text of an article on
    HTML ("insert a simple <script> tag") has some: its 64 lines ran into 6 blocks, a fifth of it lost.
    A "text" record is read as a .txt page is."""
    article = CORPUS / "newspaper-pages" / "txt" / "sitepoint.com2.txt"
    assert "<script>" in article.read_text()
    shutil.copy(article, tmp_path / "page.txt")
    (tmp_path / "dump.jsonl").write_text(json.dumps({"url": "https://a.example/1", "text": article.read_text()}) + "\n")
    result = invoke("clean", tmp_path / "page.txt", tmp_path / "dump.jsonl", "-o", tmp_path / "out", "-f", "jsonl",
                    "-j", "1")
    assert result.exit_code == 0, result.output
    [page], [record] = jsonl(tmp_path / "out" / "page.jsonl"), jsonl(tmp_path / "out" / "dump.jsonl")
    assert len(record["blocks"]) > 60 and record["blocks"] == page["blocks"]


def test_a_jsonl_line_not_in_utf8_is_decoded_as_a_page_would_be(tmp_path):
    """A scraper's line written in its system's encoding (Python's `open(f, "w")` on Windows: cp1252)
    or with a stray byte failed whole as "not JSON ('utf-8' codec can't decode byte 0xfc …)"."""
    page = gzip.decompress((CORPUS / "trafilatura-eval" / "html" / "galore.de.buch.html.gz").read_bytes()).decode()
    line = json.dumps({"url": "https://galore.de/buch", "html": page}, ensure_ascii=False)
    (tmp_path / "utf8.jsonl").write_bytes(line.encode() + b"\n")
    (tmp_path / "dump.jsonl").write_bytes(line.encode("cp1252") + b"\n"
                                          + line.encode().replace(b"</head>", b"<!-- \xff --></head>", 1) + b"\n")
    result = invoke("clean", tmp_path / "utf8.jsonl", tmp_path / "dump.jsonl", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.output
    [expected] = [r["text"] for r in jsonl(tmp_path / "out" / "utf8.jsonl")]
    assert "ü" in expected and [r["text"] for r in jsonl(tmp_path / "out" / "dump.jsonl")] == [expected] * 2


def test_a_jsonl_without_html_keys_says_which_keys_it_has(tmp_path):
    """A dump keyed `content` or `body` was told only that it had no "html": the errors and the
    warning now name the keys its records have, so the user sees what to rename."""
    page = gzip.decompress(NEWS[0].read_bytes()).decode()
    (tmp_path / "in").mkdir()
    for name in ("named.jsonl", "in/found.jsonl"):
        (tmp_path / name).write_text("".join(json.dumps({"url": f"https://a.example/{i}", "content": page}) + "\n"
                                             for i in range(2)))
    result = invoke("clean", tmp_path / "named.jsonl", tmp_path / "in", "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "found.jsonl passed over: none of its first records has an \"html\" or \"text\" key (their keys: content, " \
        "url)" in text
    assert [e["reason"] for e in jsonl(tmp_path / "out" / "boilerclf-errors.jsonl")] == [
        f"line {n} has no \"html\" or \"text\" string (its keys: content, url)" for n in (1, 2)]


@pytest.mark.parametrize("cut", [10, 60, 200])
def test_a_warc_gz_cut_in_the_header_of_its_last_record_reports_it(tmp_path, cut):
    """A download cut in the first bytes of a record's gzip member gave no record at all, and one
    cut further into its WARC header a record with no type, counted as "not a page": the archive
    was reported whole, its last page silently lost. Padding after the last record is no cut."""
    from boilerclf.sources import warc_records

    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:3]]
    write_warc(tmp_path / "two.warc.gz", pages[:2], extra=False)
    write_warc(tmp_path / "three.warc.gz", pages, extra=False)
    two, three = (tmp_path / "two.warc.gz").read_bytes(), (tmp_path / "three.warc.gz").read_bytes()
    (tmp_path / "cut.warc.gz").write_bytes(three[:len(two) + cut])
    found = list(warc_records(tmp_path / "cut.warc.gz"))
    assert [r.html for r in found[:2]] == pages[:2] and len(found) == 3
    assert found[2].error.startswith(("archive unreadable after record 2:", "record 3 is truncated or corrupt:"))
    (tmp_path / "padded.warc.gz").write_bytes(two + gzip.compress(b"") + b"\r\n")
    assert [r.error for r in warc_records(tmp_path / "padded.warc.gz") if r.error] == []


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cut", [b"WARC/1.0\r\n", b"Content-Length: ", b"HTTP/1.1 200 OK\r\nContent-Ty"])
def test_a_warc_cut_in_the_first_line_or_the_http_header_of_its_last_record_reports_it(tmp_path, gz, cut):
    """Cut after the record's `WARC/1.0` line (no header line yet), in `Content-Length: ` or in the
    HTTP header (no Content-Type yet, so no payload sniffed), the last record was counted as one that
    is not a page, nothing said of the cut or of the page it lost."""
    from boilerclf.sources import warc_records

    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:2]]
    write_warc(tmp_path / "one.warc", pages[:1], extra=False)
    write_warc(tmp_path / "two.warc", pages, extra=False)
    one, two = (tmp_path / "one.warc").read_bytes(), (tmp_path / "two.warc").read_bytes()
    data = two[:two.index(cut, len(one)) + len(cut)]
    if gz:  # a member per record, the last one cut where its text is (all but its 8-byte trailer)
        data = gzip.compress(one) + gzip.compress(data[len(one):])[:-8]
    path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    path.write_bytes(data)
    found = list(warc_records(path))
    assert [r.html for r in found] == [pages[0], None] and not found[1].skipped
    assert "record 2 is truncated or corrupt" in found[1].error


def test_a_warc_record_the_crawler_cut_short_says_so_in_its_output(tmp_path):
    """Crawlers cut responses over their size limit and mark the record `WARC-Truncated: length`
    (Common Crawl's over 1 MiB): such a page, its end missing, was cleaned as if whole, nothing in
    its output telling it from the others. So was a `206 Partial Content` response, a range of the
    page's bytes: it says "partial", unless its Content-Range is the whole page."""
    pages = [gzip.decompress(p.read_bytes()) for p in NEWS[:2]]
    cut, whole = pages[1][:20_000], len(pages[0])
    responses = [("200 OK", [], pages[0], None), ("200 OK", [], cut, "length"),
                 ("206 Partial Content", [("Content-Range", f"bytes 0-19999/{len(pages[1])}")], cut, None),
                 ("206 Partial Content", [("Content-Range", f"bytes 0-{whole - 1}/{whole}")], pages[0], None)]
    with open(tmp_path / "crawl.warc.gz", "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for i, (status, headers, payload, truncated) in enumerate(responses):
            http = StatusAndHeaders(status, [("Content-Type", "text/html"), *headers], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://example.org/{i}", "response", payload=io.BytesIO(payload),
                                               http_headers=http)
            if truncated:
                record.rec_headers.add_header("WARC-Truncated", truncated)
            writer.write_record(record)
    assert invoke("clean", tmp_path / "crawl.warc.gz", "-o", tmp_path / "out", "-j", "1").exit_code == 0
    assert [r.get("truncated") for r in jsonl(tmp_path / "out" / "crawl.jsonl")] == [None, "length", "partial", None]


def clean_killed_after_the_first_input(*args):
    """`boilerclf clean *args` killed outright (SIGKILL) once its first input is done, before the others."""
    import boilerclf

    kill = ("import os, signal, sys; from boilerclf import batch, cli; run = batch.run\n"
            "def killed(sources, *args, **kwargs):\n"
            "    yield from run(sources[:1], *args, **kwargs)\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n"
            "batch.run = killed; sys.argv = ['boilerclf', *sys.argv[1:]]; cli.app()\n")
    killed = subprocess.run([sys.executable, "-c", kill, "clean", *args], capture_output=True,
                            env={**os.environ, "PYTHONPATH": str(Path(boilerclf.__file__).parents[1])})
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def test_a_run_killed_outright_still_lists_the_failures_of_the_archives_it_finished(tmp_path):
    """A run killed outright (SIGKILL, the OOM killer) never wrote the errors file, which it wrote
    only at its end: the archives it finished were skipped by the rerun, as done, and their failed
    records were listed nowhere any more, the rerun saying 0 failed with exit status 0. Failures are
    now added to the file as they come."""
    archive = tmp_path / "scrape.jsonl"
    good = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    archive.write_text("not json\n" + json.dumps({"url": "https://a.example/", "html": good}) + "\n")
    shutil.copy(NEWS[1], tmp_path / "page.html.gz")
    out = tmp_path / "out"
    # the page file, killed before it, has no output yet, and is redone
    clean_killed_after_the_first_input(archive, tmp_path / "page.html.gz", "-o", out, "-j", "1")
    assert (out / "scrape.jsonl").exists()
    result = invoke("clean", archive, tmp_path / "page.html.gz", "-o", out, "-j", "1")
    assert result.exit_code == 1, result.output
    assert "plus 1 earlier failure in archives already done" in " ".join(result.output.split())
    [error] = jsonl(out / "boilerclf-errors.jsonl")
    assert (error["source"], error["position"]) == (str(archive), 1) and "not JSON" in error["reason"]
    assert sorted(p.name for p in out.iterdir()) == ["boilerclf-errors.jsonl", "boilerclf-run.json", "page.txt",
                                                     "scrape.jsonl"]


def test_an_errors_file_that_cannot_be_written_is_reported_in_one_line(tmp_path, monkeypatch):
    """A full disk at the end of a run: writing the errors file raised, and the run ended in a
    traceback, without its summary."""
    import errno

    from boilerclf import batch

    archive = tmp_path / "scrape.jsonl"
    good = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    archive.write_text("not json\n" + json.dumps({"url": "https://a.example/", "html": good}) + "\n")
    written = batch.write_atomic

    def write_atomic(path, data, **kwargs):
        if path.name == batch.ERRORS_FILE:
            raise OSError(errno.ENOSPC, "No space left on device")
        written(path, data, **kwargs)

    monkeypatch.setattr(batch, "write_atomic", write_atomic)
    result = invoke("clean", archive, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    output = " ".join(result.output.split())
    assert "cannot write the errors file: No space left on device" in output
    assert "cleaned 1 page from 1 input" in output and "1 failed" in output


def test_temporary_files_of_the_errors_and_options_files_of_a_killed_run_are_removed(tmp_path):
    """A run killed outright while it wrote the errors file or boilerclf-run.json left their temporary
    files, which no later run removed (only those of the outputs were looked for)."""
    shutil.copy(NEWS[0], tmp_path / "page.html.gz")
    out = tmp_path / "out"
    out.mkdir()
    for name in (".boilerclf-errors.jsonl.0123456789ab.part", ".boilerclf-run.json.0123456789ab.part"):
        (out / name).write_text("half")
    assert invoke("clean", tmp_path / "page.html.gz", "-o", out, "-j", "1").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["boilerclf-run.json", "page.txt"]


def test_an_overwrite_run_stopped_before_redoing_an_archive_keeps_its_earlier_failures(tmp_path, monkeypatch):
    """`--overwrite` stopped (Ctrl-C) before it redid an archive left the archive's old output, so the next
    run skips it as done, but the errors file had dropped its failed records: that run said 0 failed, exit 0."""
    import boilerclf.batch as batch

    archive = tmp_path / "scrape.jsonl"
    good = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    archive.write_text(json.dumps({"url": "https://a.example/", "html": ""}) + "\n"
                       + json.dumps({"url": "https://b.example/", "html": good}) + "\n")
    out = tmp_path / "out"
    assert invoke("clean", archive, "-o", out, "-j", "1").exit_code == 1

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    with monkeypatch.context() as patch:
        patch.setattr(batch, "run", stopped)
        assert invoke("clean", archive, "-o", out, "-j", "1", "--overwrite").exit_code != 0
    rerun = invoke("clean", archive, "-o", out, "-j", "1")
    assert rerun.exit_code == 1, rerun.output
    assert [e["record"] for e in jsonl(out / "boilerclf-errors.jsonl")] == ["https://a.example/"]


def test_an_overwrite_run_killed_after_redoing_an_archive_lists_its_failures_once(tmp_path):
    """The archive's earlier failures stay in the errors file until it is redone (lest the run stop before),
    and those found again are added as they come: killed outright in between, the run left each failure
    twice, and every later run said "plus 2 earlier failures" of one failed record."""
    archive = tmp_path / "scrape.jsonl"
    good = gzip.decompress(NEWS[0].read_bytes()).decode("utf-8", "replace")
    archive.write_text("not json\n" + json.dumps({"url": "https://a.example/", "html": good}) + "\n")
    shutil.copy(NEWS[1], tmp_path / "page.html.gz")
    out = tmp_path / "out"
    assert invoke("clean", archive, tmp_path / "page.html.gz", "-o", out, "-j", "1").exit_code == 1
    clean_killed_after_the_first_input(archive, tmp_path / "page.html.gz", "-o", out, "-j", "1", "--overwrite")
    result = invoke("clean", archive, tmp_path / "page.html.gz", "-o", out, "-j", "1")
    assert result.exit_code == 1, result.output
    assert "plus 1 earlier failure in archives already done" in " ".join(result.output.split())
    assert [e["position"] for e in jsonl(out / "boilerclf-errors.jsonl")] == [1]
