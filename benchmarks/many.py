"""Seconds for `Model.classify_many` with n_jobs 1 and 2, cold (first call: the workers start)
and warm (the worker pool reused), on the same corpus pages.

Usage: python benchmarks/many.py [N_PAGES ...]   (default: 200 640; pages from ../shared/corpus)
"""
import gzip
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pages(n):
    files = sorted(CORPUS.glob("trafilatura-eval/html/*.html.gz"))[:n]
    return [gzip.decompress(f.read_bytes()) for f in files]


def seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(sizes):
    from boilerclf import load_model

    model = load_model()
    for n in sizes:
        data = pages(n)
        cold = seconds(lambda: model.classify_many(data, n_jobs=2))
        one = seconds(lambda: model.classify_many(data, n_jobs=1))
        warm = seconds(lambda: model.classify_many(data, n_jobs=2))
        print(f"{len(data)} pages: n_jobs=1 {one:.1f} s | n_jobs=2 {warm:.1f} s warm ({one / warm:.2f}x), "
              f"{cold:.1f} s on the first call", flush=True)


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [200, 640])
