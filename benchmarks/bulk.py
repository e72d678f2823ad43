"""Bulk-cleaning figures: --jobs 1 against --jobs 2 throughput, and peak memory (RSS).

Usage: python benchmarks/bulk.py [N_PAGES] [JOBS,...] [warc] [--repeat=K]   (default 2000 pages, jobs 1,2;
copies corpus pages into a temp folder, or with `warc` into one WARC.gz archive as a crawl gives them;
e.g. `bulk.py 10000 2` for the memory figure on 10,000 pages; `--repeat=5` runs five rounds of every
--jobs in turn and gives the median --jobs 2 / --jobs 1 ratio, steadier than one round)
Memory is sampled over the command and every process it starts (its workers fork from a
forkserver, which the command never waits for, so getrusage of the children misses them): the peak
resident set (RSS) of the largest single process, twice a second, and the peak of the whole tree's
proportional set (PSS: a page shared by n processes counts 1/n in each, so the sum is what they
take together), every 2.5 s, as reading it costs CPU that the workers would miss.
"""
import contextlib
import gzip
import io
import itertools
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def run(args):
    """Wall seconds of `boilerclf *args`, and the peak RSS of one process and PSS of all, in MB."""
    import psutil

    start = time.perf_counter()
    command = subprocess.Popen([sys.executable, "-m", "boilerclf", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    peaks = [0.0, 0.0]

    def sample():
        # the command and what it started (the forkserver, the workers forked from it); the RSS twice a
        # second, the PSS (read from each process's smaps: ~15 ms of CPU a time, 3 % of a core at that
        # rate, which slowed --jobs 2 on two cores and no other run) every fifth time
        for tick in itertools.count():
            if command.poll() is not None:
                break
            rss, pss = 0, 0.0
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(command.pid)
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        rss = max(rss, proc.memory_info().rss)
                        pss += proc.memory_full_info().pss if tick % 5 == 0 else 0
            peaks[:] = max(peaks[0], rss / 2**20), max(peaks[1], pss / 2**20)
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    if command.wait() not in (0, 1):  # 1: some pages failed, as any crawl has; else the figures would mean nothing
        sys.exit(f"`boilerclf {' '.join(args)}` exited with {command.returncode}: rerun it to see why")
    elapsed = time.perf_counter() - start
    sampler.join()
    return elapsed, peaks


def write_warc(path, pages):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for i, page in enumerate(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://example.org/{i}", "response",
                                                          payload=io.BytesIO(page), http_headers=headers))


def main(n=2000, jobs_list=(1, 2), warc=False, repeat=1):
    import statistics

    sources = sorted(CORPUS.glob("*/html/*.html.gz")) + sorted(CORPUS.glob("readability-pages/*/source.html.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        pages = (gzip.decompress(src.read_bytes()) for _, src in zip(range(n), itertools.cycle(sources)))
        if warc:
            write_warc(folder / "crawl.warc.gz", pages)
        for i, page in enumerate([] if warc else pages):
            (folder / f"{i:06d}.html").write_bytes(page)
        ratios = []
        for _ in range(repeat):  # rounds of every --jobs in turn: the machine's speed drifts by ~10 %
            timings = {}
            for jobs in jobs_list:
                out = Path(tmp) / f"out{jobs}"
                timings[jobs], (rss, pss) = run(["clean", str(folder), "-o", str(out), "-j", str(jobs)])
                print(f"--jobs {jobs}: {n / timings[jobs]:.1f} pages/s ({timings[jobs]:.1f} s for {n} pages); peak RSS "
                      f"of one process {rss:.0f} MB, of all together (PSS) {pss:.0f} MB", flush=True)
                shutil.rmtree(out)
            if 1 in timings and 2 in timings:
                ratios.append(timings[1] / timings[2])
                print(f"--jobs 2 / --jobs 1 throughput: {ratios[-1]:.2f}x", flush=True)
        if len(ratios) > 1:
            print(f"over {len(ratios)} rounds: median {statistics.median(ratios):.2f}x, "
                  f"{min(ratios):.2f}-{max(ratios):.2f}x")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--repeat=")]
    rounds = [int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--repeat=")]
    main(int(args[0]) if args else 2000, tuple(int(j) for j in args[1].split(",")) if len(args) > 1 else (1, 2),
         "warc" in args[2:], rounds[-1] if rounds else 1)
