"""Milliseconds per page: lxml parsing alone, boilerclf (default model) and trafilatura.extract.

Usage: python benchmarks/speed.py [N_PAGES]   (pages from ../shared/corpus, same pages for all)
"""
import gzip
import os
import sys
import tempfile
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


def stages(model, data):
    """Milliseconds per page spent in each stage of the pipeline (process CPU time)."""
    from boilerclf.load import build_dom, decode
    from boilerclf.render import render_text
    from boilerclf.segment import html_page

    spent = dict.fromkeys(("decode", "parse", "segment", "features", "classify", "render"), 0.0)

    def timed(name, fn, *args):
        start = time.process_time()
        result = fn(*args)
        spent[name] += time.process_time() - start
        return result

    for raw in data:
        page = timed("segment", html_page, timed("parse", build_dom, timed("decode", decode, raw)))
        timed("features", model.features.transform, page.blocks)
        timed("classify", model.predict_pages, [page])
        timed("render", render_text, page)
    spent["classify"] -= spent["features"]  # predict_pages computes the features again
    return {name: seconds / len(data) * 1000 for name, seconds in spent.items()}


def long_attribute_ms():
    """`--format html` searches a lazy image's attributes for its source: linear in their length."""
    from boilerclf.load import build_dom
    from boilerclf.render import show_lazy_images

    urls = ",".join(f'"https://cdn.example.com/photos/{i}.jpg"' for i in range(6000))
    tree = build_dom(f"<html><body><img class='lazyload' data-gallery='[{urls}]'></body></html>")
    start = time.perf_counter()
    show_lazy_images(tree)
    return (time.perf_counter() - start) * 1000


def main(n=200):
    import trafilatura

    start = time.perf_counter()
    from boilerclf import load_model  # and scikit-learn, once per process

    import_s = time.perf_counter() - start
    loads = {}
    with tempfile.TemporaryDirectory() as cache:  # empty: the first load reads the file with skops
        os.environ["BOILERCLF_CACHE"] = cache
        for name in ("first (skops)", "from the cache", "again"):
            start = time.perf_counter()
            model = load_model()
            loads[name] = time.perf_counter() - start
    data = pages(n)
    model.clean(data[0])  # warm-up
    rows = {
        "lxml parse": per_page(lambda raw: lxml.html.document_fromstring(raw), data),
        "boilerclf clean": per_page(model.clean, data),
        "trafilatura.extract": per_page(trafilatura.extract, data),
    }
    print(f"{len(data)} pages; importing boilerclf and scikit-learn {import_s:.2f} s, then model load: "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in loads.items()))
    for name, ms in rows.items():
        print(f"{name:22s} {ms:7.2f} ms/page")
    print("boilerclf stages (CPU ms/page): " + ", ".join(f"{k} {v:.2f}" for k, v in stages(model, data).items()))
    print(f"lazy-image search of a 250 kB attribute of 6,000 URLs: {long_attribute_ms():.1f} ms "
          "(a quadratic pattern took 6,000 ms)")
    print(f"boilerclf / trafilatura = {rows['boilerclf clean'] / rows['trafilatura.extract']:.2f}; "
          f"boilerclf / lxml = {rows['boilerclf clean'] / rows['lxml parse']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
