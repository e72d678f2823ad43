"""Side-by-side main-text benchmark: boilerclf against trafilatura, readability-lxml, jusText,
resiliparse and boilerpy3, on the same held-out pages, in one run.

1. corpus/trafilatura-eval: the `with` snippets must be kept, the `without` snippets dropped;
   precision, recall and F1 counted as trafilatura's own evaluation counts them (a snippet is
   found when it is a substring of the output; both in Unicode NFC, so that a page writing a
   letter as one code point and a snippet writing it as two still match).
2. corpus/readability-pages: token-level precision, recall and F1 of the extracted text against
   the text of expected.html (mean over pages).
3. milliseconds per page for each system.

Only pages whose site is absent from training_data/ count; the script says how many remain.
Usage: pip install '.[bench]'; python benchmarks/compare.py [--limit N] [--model M]
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
WORD = re.compile(r"\w+")


def site(url):
    from boilerclf.segment import site_of

    return site_of(url) if url and url.startswith("http") else None


def training_sites():
    entries = [json.loads(line) for line in (ROOT / "training_data" / "pages.jsonl").open()]
    return {e["site"] for e in entries}, {e["source"] for e in entries}


def systems(model_path):
    import justext
    import trafilatura
    from boilerpy3 import extractors
    from readability import Document
    from resiliparse.extract.html2text import extract_plain_text

    from boilerclf import load_model

    model = load_model(model_path)
    stoplist = frozenset().union(*(justext.get_stoplist(lang) for lang in justext.get_stoplists()))
    article = extractors.ArticleExtractor()

    def readability(html):
        return lxml.html.fromstring(Document(html).summary()).text_content()

    def jt(html):
        return "\n".join(p.text for p in justext.justext(html.encode(), stoplist, encoding="utf-8")
                         if not p.is_boilerplate)

    return {
        "boilerclf": model.clean,
        "trafilatura": lambda html: trafilatura.extract(html) or "",
        "readability-lxml": readability,
        "jusText": jt,
        "resiliparse": lambda html: extract_plain_text(html, main_content=True),
        "boilerpy3": quiet(article.get_content),
    }


def quiet(fn):
    """`fn` with its own prints to stderr silenced: boilerpy3 prints a warning and a traceback for
    many pages it recovers from or fails on (a failure counts as empty output, see `run`)."""
    def call(html):
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return fn(html)
    return call


def run(fn, html):
    try:
        return fn(html) or ""
    except Exception:  # a crash counts as empty output, as in trafilatura's evaluation
        return ""


def snippet_pages(sites, sources, limit):
    from boilerclf.load import decode

    rows = [json.loads(line) for line in (CORPUS / "trafilatura-eval" / "snippets.jsonl").open()]
    kept = []
    for row in rows:
        path = CORPUS / "trafilatura-eval" / "html" / row["file"]
        if site(row["url"]) in sites or f"corpus/trafilatura-eval/html/{row['file']}" in sources or not path.exists():
            continue
        kept.append((row, decode(gzip.decompress(path.read_bytes()))))
    return kept[:limit] if limit else kept, len(rows)


def readability_pages(sites, sources, limit):
    from boilerclf.load import decode
    from boilerclf.segment import page_url

    kept, total = [], 0
    for folder in sorted(p for p in (CORPUS / "readability-pages").iterdir() if p.is_dir()):
        total += 1
        html = decode(gzip.decompress((folder / "source.html.gz").read_bytes()))
        try:
            url = page_url(lxml.html.document_fromstring(html))
        except Exception:
            url = None
        if f"corpus/readability-pages/{folder.name}/source.html.gz" in sources or (url and site(url) in sites):
            continue
        expected = lxml.html.fromstring(gzip.decompress((folder / "expected.html.gz").read_bytes())).text_content()
        kept.append((folder.name, html, expected))
    return kept[:limit] if limit else kept, total


def normal(text):
    return " ".join(unicodedata.normalize("NFC", text).split())


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="at most N pages per corpus")
    parser.add_argument("--model", default=None, help="boilerclf model (default: the shipped one)")
    args = parser.parse_args()
    sites, sources = training_sites()
    fns = systems(args.model)
    snippets, n_snip = snippet_pages(sites, sources, args.limit)
    readable, n_read = readability_pages(sites, sources, args.limit)
    print(f"held-out pages (site not in training_data): trafilatura-eval {len(snippets)} of {n_snip} "
          f"with snippets, readability-pages {len(readable)} of {n_read}")
    header = f"{'system':18s} | {'snippets P':>10s} {'R':>6s} {'F1':>6s} | {'readability P':>13s} {'R':>6s} {'F1':>6s} | ms/page"
    print(header)
    print("-" * len(header))
    results = {}
    for name, fn in fns.items():
        counts = Counter()
        elapsed, pages = 0.0, 0
        for row, html in snippets:
            start = time.perf_counter()
            out = run(fn, html)
            elapsed += time.perf_counter() - start
            pages += 1
            out = normal(out)
            for s in row["with"]:
                counts["tp" if normal(s) in out else "fn"] += 1
            for s in row["without"]:
                counts["fp" if normal(s) in out else "tn"] += 1
        sp, sr, sf = prf(counts["tp"], counts["fp"], counts["fn"])
        per_page = []
        for _, html, expected in readable:
            start = time.perf_counter()
            out = run(fn, html)
            elapsed += time.perf_counter() - start
            pages += 1
            got, want = Counter(WORD.findall(normal(out).lower())), Counter(WORD.findall(normal(expected).lower()))
            overlap = sum((got & want).values())
            per_page.append(prf(overlap, sum(got.values()) - overlap, sum(want.values()) - overlap))
        rp, rr, rf = (sum(x[i] for x in per_page) / max(len(per_page), 1) for i in range(3))
        ms = elapsed / max(pages, 1) * 1000
        results[name] = dict(snippets=dict(p=sp, r=sr, f1=sf), readability=dict(p=rp, r=rr, f1=rf), ms_per_page=ms)
        print(f"{name:18s} | {sp:10.3f} {sr:6.3f} {sf:6.3f} | {rp:13.3f} {rr:6.3f} {rf:6.3f} | {ms:7.1f}", flush=True)
    return results


if __name__ == "__main__":
    main()
