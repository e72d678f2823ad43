"""Milliseconds per page: lxml parsing alone, boilerclf (default model) and trafilatura.extract.

Usage: python benchmarks/speed.py [N_PAGES]   (pages from ../shared/corpus, same pages for all)
"""
import gzip
import sys
import time
from pathlib import Path

import lxml.html

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pages(n):
    files = sorted(CORPUS.glob("trafilatura-eval/html/*.html.gz"))[:n]
    return [gzip.decompress(f.read_bytes()) for f in files]


def per_page(fn, data):
    start = time.perf_counter()
    for raw in data:
        fn(raw)
    return (time.perf_counter() - start) / len(data) * 1000


def main(n=200):
    import trafilatura

    from boilerclf import load_model

    start = time.perf_counter()
    model = load_model()
    load_s = time.perf_counter() - start
    data = pages(n)
    model.clean(data[0])  # warm-up
    rows = {
        "lxml parse": per_page(lambda raw: lxml.html.document_fromstring(raw), data),
        "boilerclf clean": per_page(model.clean, data),
        "trafilatura.extract": per_page(trafilatura.extract, data),
    }
    print(f"{len(data)} pages; model load {load_s:.2f} s")
    for name, ms in rows.items():
        print(f"{name:22s} {ms:7.2f} ms/page")
    print(f"boilerclf / trafilatura = {rows['boilerclf clean'] / rows['trafilatura.extract']:.2f}; "
          f"boilerclf / lxml = {rows['boilerclf clean'] / rows['lxml parse']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
