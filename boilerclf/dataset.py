"""Labelled pages in: walk folders, read `pages.jsonl` manifests, add text-only views.

A manifest line names a page `file` (relative to the manifest) and may give its `url`
and `site`; sites are the groups of cross-validation, so a site never sits in both a
training and a test fold.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from .batch import write_atomic
from .labels import read_labelled
from .page import Block, InputError, Page
from .segment import site_of
from .sources import MANIFEST, find_sources



def page_files(inputs: Iterable[Path | str]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every page file under the inputs, found as `clean` finds its inputs;
    root is the folder it was found in, where its manifest lives."""
    for source in find_sources(inputs):
        if source.kind == "page":
            yield source.path, source.root


#: manifest fields read as text, besides `file`: each a string or null
TEXT_FIELDS = ("url", "site", "language", "corpus")


def read_manifest(root: Path) -> dict[Path, dict]:
    """The entries of the manifest in folder `root`, by resolved page path ({} without one). A page
    listed twice is an error unless both entries say the same: the last silently won."""
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a BOM, as Notepad saves
    except UnicodeDecodeError as e:  # a traceback, else: file names in Latin-1 (über.html)
        raise InputError(f"{path}: not UTF-8 ({e.reason} at byte {e.start}): save the manifest as UTF-8") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    entries: dict[Path, dict] = {}
    lines: dict[Path, int] = {}  # where each page is listed first
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                entry = json.loads(line)
                file = entry["file"]
            except (ValueError, KeyError, TypeError):
                raise InputError(f"{path}:{n}: not a manifest line (JSON with a 'file' key)") from None
            # a number or list here failed later with a traceback (urllib's on a `url`, an unhashable `site`)
            for key in ("file", *TEXT_FIELDS):
                value = entry.get(key)
                if not (isinstance(value, str) or (value is None and key != "file")):
                    raise InputError(f"{path}:{n}: the manifest's '{key}' must be a string"
                                     + ("" if key == "file" else " or null") + f", not {json.dumps(value)}")
            page = (root / file).resolve()
            if page in entries and (differ := _differ(entries[page], entry)):
                raise InputError(f"{path}:{n}: {file} is listed on line {lines[page]} too, with another "
                                 f"{', '.join(differ)}: keep one entry per page")
            entries.setdefault(page, entry)
            lines.setdefault(page, n)
    return entries


def _differ(entry: dict, other: dict) -> list[str]:
    """The fields in which two entries of one page disagree: a missing field is a null one, and
    `file` may be written two ways (`./a.html`)."""
    return sorted(key for key in {*entry, *other} - {"file"} if entry.get(key) != other.get(key))


def text_view(page: Page) -> Page:
    """The page as a scraper's plain-text output would show it: same texts and labels, no DOM."""
    return Page(blocks=[Block(text=b.text, label=b.label) for b in page.blocks], source=page.source + "#text",
                url=page.url, site=page.site, view_of=page)


#: `source` suffix of an extract view; the blocks of residue an extract view keeps on either side, at most
EXTRACT, RESIDUE = "#extract", 3


def extract_view(page: Page) -> Optional[Page]:
    """For every other page (chosen by its text, wherever it is read from), the page as an
    extractor's output shows it (trafilatura, newspaper): its text from the first content block to
    the last, with 0-3 blocks of residue on either side. Trained on whole pages only, whose text ends
    with a footer, the model took such text's last paragraph for navigation (19 of 31 held-out
    newspaper extracts lost it); extracts of every page, not every other, blurred whole pages' cues."""
    content = [i for i, b in enumerate(page.blocks) if b.label == "content"]
    seed = zlib.crc32("\n".join(b.text for b in page.blocks).encode())
    if not content or seed % 2:
        return None
    start = max(content[0] - seed // 2 % (RESIDUE + 1), 0)
    end = content[-1] + 1 + seed // 8 % (RESIDUE + 1)
    return Page(blocks=[Block(text=b.text, label=b.label) for b in page.blocks[start:end]],
                source=page.source + EXTRACT, url=page.url, site=page.site, view_of=page)


def with_text_views(pages: Iterable[Page], text_views: bool = True, extracts: bool = False) -> list[Page]:
    """The pages, each HTML one followed by its text view if `text_views`, and by its extract view
    (every other page) if `extracts` too."""
    return [view for page in pages
            for view in ((page, text_view(page), extract_view(page) if extracts else None)
                         if text_views and page.tree is not None else (page,)) if view is not None]


def read_pages(inputs: Iterable[Path | str], progress: Optional[Callable[[Path], None]] = None) -> list[Page]:
    """Read every labelled page under the inputs, with its site taken from the manifest or URL."""
    return [page for page, _ in labelled_pages(inputs, progress)]


def labelled_pages(inputs: Iterable[Path | str], progress: Optional[Callable[[Path], None]] = None
                   ) -> Iterator[tuple[Page, dict]]:
    """Every labelled page under the inputs and its manifest entry, one at a time. Its site, the
    cross-validation group, is the manifest's, else its URL's registrable domain, else its file name."""
    for path, entry in manifest_entries(inputs):
        page = read_named(path, url=entry.get("url"))
        page.site = entry.get("site") or site_of(page.url) or path.stem.split(".html")[0]
        if progress:
            progress(path)
        yield page, entry


def fingerprint(pages: Iterable[Page]) -> str:
    """A hash of every labelled block's text and label: changes whenever the training data does."""
    digest = hashlib.sha256()
    for page in pages:
        for block in page.blocks:
            digest.update(f"{block.label}\t{block.text}\n".encode())
    return digest.hexdigest()[:16]


def read_named(path: Path, url: Optional[str] = None) -> Page:
    """`read_labelled`, whose errors name the file: in a set of hundreds, the user must find it."""
    try:
        return read_labelled(path, url=url)
    except InputError as e:
        if str(path) in str(e):
            raise
        raise InputError(f"{path}: {e}") from None


def manifest_entries(inputs: Iterable[Path | str]) -> Iterator[tuple[Path, dict]]:
    """(page file, its manifest entry or {}) for every page under the inputs. A page's entry
    comes from the nearest manifest that lists it, in its folder or any folder above it, so a
    set gives the same sites whichever of its folders is named."""
    manifests: dict[Path, dict[Path, dict]] = {}
    for path, _ in page_files(inputs):
        yield path, entry_of(path, manifests)


def entry_of(path: Path, manifests: dict[Path, dict[Path, dict]]) -> dict:
    """A page file's entry in the nearest manifest that lists it ({} if none does); `manifests`
    caches the manifests read, by folder."""
    resolved = path.resolve()
    for folder in resolved.parents:
        if folder not in manifests:
            manifests[folder] = read_manifest(folder)
        if resolved in manifests[folder]:
            return manifests[folder][resolved]
    return {}


def extend_manifest(folder: Path, entries: Iterable[dict]) -> int:
    """Append to `folder`'s manifest the entries (`file` relative to it) of the pages it does not list
    yet, keeping those it lists as they are (a user's edits); returns how many were added."""
    listed = read_manifest(folder)
    new = [entry for entry in entries if (folder / entry["file"]).resolve() not in listed]
    if new:
        path = folder / MANIFEST
        old = path.read_bytes() if path.is_file() else b""
        if old.strip() and not old.endswith(b"\n"):
            old += b"\n"
        write_atomic(path, old + "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in new).encode())
    return len(new)


def stats(inputs: Iterable[Path | str]) -> dict:
    """Counts that say what a labelled set covers: pages, sites (as `train` groups them),
    languages, blocks per label. A page its manifest gives no language is counted in
    `pages_without_language`, not as a language of its own."""
    from collections import Counter

    per_label: Counter = Counter()
    per_language: dict[str, Counter] = {}
    language_pages: Counter = Counter()
    per_corpus: Counter = Counter()
    label_sites: dict[str, set] = {}
    sites, pages, unlabelled = set(), 0, 0
    for page, entry in labelled_pages(inputs):
        language = entry.get("language")
        pages += 1
        sites.add(page.site)
        per_corpus[entry.get("corpus") or "unknown"] += 1  # a null one too, as a null language is none
        unlabelled += sum(b.label is None for b in page.blocks)
        counts = Counter(b.label for b in page.blocks if b.label is not None)
        per_label.update(counts)
        if language:
            language_pages[language] += 1
            per_language.setdefault(language, Counter()).update(counts)
        for label in counts:
            label_sites.setdefault(label, set()).add(page.site)
    return {"pages": pages, "sites": len(sites), "languages": len(per_language),
            "blocks_per_label": dict(per_label), "unlabelled_blocks": unlabelled,
            "sites_per_label": {k: len(v) for k, v in label_sites.items()},
            "pages_per_corpus": dict(per_corpus),
            "pages_per_language": dict(language_pages.most_common()),
            "pages_without_language": pages - sum(language_pages.values()),
            "blocks_per_language": {k: dict(v) for k, v in sorted(per_language.items(), key=lambda kv: -sum(kv[1].values()))}}
