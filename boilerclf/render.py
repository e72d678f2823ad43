"""Stage 5: a classified page → output: text, HTML with the boilerplate removed, or a JSON record."""
from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Optional, Sequence

import lxml.html
from lxml import etree

from .page import LABELS, Page
from .segment import SKIP_TAGS, html_blocks, is_hidden

FORMATS = ("text", "html", "jsonl")
SUFFIX = {"text": ".txt", "html": ".html", "jsonl": ".jsonl"}
_STRIPPED = SKIP_TAGS - {"head", "title", "meta"}  # invisible elements dropped from HTML output
#: kept inside a kept block's element (an equation or a figure in a kept paragraph), dropped elsewhere (ads)
MEDIA = frozenset({"svg", "math", "video", "audio", "source", "track", "canvas"})


def render_text(page: Page, keep: Sequence[str] = ("content",)) -> str:
    """The kept blocks' text, one block per line."""
    return "".join(b.text + "\n" for b in page.blocks if b.label in keep)


def drop(el) -> None:
    """Remove an element and its content but keep the text that follows it (its tail)."""
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def declare_utf8(tree) -> None:
    """Make `<meta charset="utf-8">` the page's only charset declaration, first in a `<head>` (added
    if missing): browsers and editors trust the declaration, and an old one would show mojibake.
    Neither `<head>` nor `<meta>` ever holds a block, so the page's blocks stay the same."""
    for meta in list(tree.iter("meta")):
        if meta.get("charset") is not None or (meta.get("http-equiv") or "").strip().lower() == "content-type":
            drop(meta)
    head = tree.find("head")
    if head is None:
        head = etree.Element("head")
        tree.insert(0, head)
    head.insert(0, etree.Element("meta", charset="utf-8"))


def _strip_scripting(el) -> None:
    """Scripts go with their elements; inline ones too: `on*` handlers and `javascript:` links."""
    for name, value in el.attrib.items():
        if name.lower().startswith("on") or value.strip().lower().startswith("javascript:"):
            del el.attrib[name]


def render_html(page: Page, keep: Sequence[str] = ("content",)) -> str:
    """The page's own HTML with the elements of dropped blocks removed and scripts stripped.

    An element is removed only when no kept block lies inside it; otherwise just the dropped
    block's own text goes (its text nodes: leading text, tails, inline children's text), so
    kept paragraphs keep their structure and the HTML keeps what the text format keeps.
    """
    if page.tree is None:
        body = "".join(f"<p>{escape(b.text)}</p>\n"
                       for b in page.blocks if b.label in keep)
        return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'
    tree = page.tree
    owners = {b.element for b in page.blocks if b.label in keep}
    kept = set(owners)  # the kept blocks' elements and everything around them
    for el in owners:
        kept.update(el.iterancestors())
    dropped = [b for b in page.blocks if b.label not in keep and b.element.getparent() is not None]
    partial = [b for b in dropped if b.element in kept]
    found = [b.sources for b in page.blocks]
    if any(not b.sources for b in partial):  # segmented without `sources`: walk the intact DOM again
        fresh = html_blocks(tree, sources=True)
        found = [b.sources for b in fresh] if len(fresh) == len(page.blocks) else [()] * len(page.blocks)
    for block in partial:  # texts first: dropping an element moves its tail, which may be another block's
        for node, tail in found[block.index]:
            if node is not None:
                setattr(node, "tail" if tail else "text", None)
    for block in dropped:
        el = block.element
        if el not in kept and el.getparent() is not None:
            drop(el)
            kept.add(el)  # already gone: never drop twice
    for el in list(tree.iter()):
        if not isinstance(el.tag, str):
            continue
        hidden = is_hidden(el)
        kept_media = not hidden and el.tag in MEDIA and any(a in owners for a in el.iterancestors())
        if (el.tag in _STRIPPED or hidden) and el.getparent() is not None and not kept_media:
            drop(el)
        else:
            _strip_scripting(el)
    declare_utf8(tree)  # written as UTF-8 whatever the page was
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>") + "\n"


def page_record(page: Page, keep: Sequence[str] = ("content",)) -> dict:
    """One JSON-able record: the kept text, the text of each other label, and every block."""
    record: dict = {"source": page.source, "url": page.url, "text": render_text(page, keep)}
    for label in LABELS:
        if label not in keep:
            record[label] = render_text(page, (label,))
    record["blocks"] = [{"index": b.index, "label": b.label, "proba": b.proba, "text": b.text} for b in page.blocks]
    return record


def render(page: Page, fmt: str, keep: Sequence[str] = ("content",)) -> str:
    if fmt == "text":
        return render_text(page, keep)
    if fmt == "html":
        return render_html(page, keep)
    return to_json(page_record(page, keep)) + "\n"


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def to_json(value: Any, indent: Optional[int] = None) -> str:
    """JSON that encodes as valid UTF-8, for everything boilerclf writes: a lone surrogate (a file
    name that is not UTF-8, as Python decodes it) becomes a `\\udcXX` escape, which `json.loads`
    turns back into the same str, and `os.fsencode` that into the name's bytes."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
