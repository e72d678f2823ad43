"""Bulk-cleaning figures: --jobs 1 against --jobs 2 throughput, and peak memory (RSS).

Usage: python benchmarks/bulk.py [N_PAGES] [JOBS,...] [warc]   (default 2000 pages, jobs 1,2; copies
corpus pages into a temp folder, or with `warc` into one WARC.gz archive as a crawl gives them;
e.g. `bulk.py 10000 2` for the memory figure on 10,000 pages)
Peak RSS is the largest resident set of the command and all its worker processes (getrusage
of the children: the maximum of any one process, as the kernel reports it).
"""
import gzip
import io
import itertools
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def run(args):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "boilerclf", *args], check=False, capture_output=True)
    return time.perf_counter() - start


def write_warc(path, pages):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for i, page in enumerate(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://example.org/{i}", "response",
                                                          payload=io.BytesIO(page), http_headers=headers))


def main(n=2000, jobs_list=(1, 2), warc=False):
    sources = sorted(CORPUS.glob("*/html/*.html.gz")) + sorted(CORPUS.glob("readability-pages/*/source.html.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        pages = (gzip.decompress(src.read_bytes()) for _, src in zip(range(n), itertools.cycle(sources)))
        if warc:
            write_warc(folder / "crawl.warc.gz", pages)
        for i, page in enumerate([] if warc else pages):
            (folder / f"{i:06d}.html").write_bytes(page)
        timings = {}
        for jobs in jobs_list:
            out = Path(tmp) / f"out{jobs}"
            timings[jobs] = run(["clean", str(folder), "-o", str(out), "-j", str(jobs)])
            print(f"--jobs {jobs}: {n / timings[jobs]:.1f} pages/s ({timings[jobs]:.1f} s for {n} pages)", flush=True)
            shutil.rmtree(out)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if 1 in timings and 2 in timings:
            print(f"--jobs 2 / --jobs 1 throughput: {timings[1] / timings[2]:.2f}x")
        print(f"peak RSS of one process: {peak:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
         tuple(int(j) for j in sys.argv[2].split(",")) if len(sys.argv) > 2 else (1, 2), "warc" in sys.argv[3:])
