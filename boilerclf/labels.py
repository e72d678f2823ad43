"""The labelled-page format: `data-label` attributes on HTML elements, `label<TAB>text` for text.

A block takes the label of its nearest labelled ancestor-or-self, so one attribute on a
`<nav>` labels the whole menu and an attribute inside it overrides. Labels live only here:
the segmenter never reads `data-label`, so the features cannot see it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

import lxml.html
from lxml import etree

from .load import decode, is_text_path, read_bytes
from .page import LABELS, Block, InputError, Page
from .segment import segment

ATTRIBUTE = "data-label"


def element_label(element) -> Optional[str]:
    for el in (element, *element.iterancestors()):
        label = el.attrib.get(ATTRIBUTE) if isinstance(el.tag, str) else None
        if label:
            if label not in LABELS:
                raise InputError(f"unknown label {label!r} (expected one of {', '.join(LABELS)})")
            return label
    return None


def read_html_labels(page: Page) -> Page:
    for block in page.blocks:
        block.label = element_label(block.element)
    return page


def parse_text_labels(text: str, source: str = "") -> Page:
    """A labelled text page: `label<TAB>text` per line; a line without a known label is unlabelled."""
    blocks = []
    for line in text.splitlines():
        head, tab, rest = line.partition("\t")
        labelled = tab and head.strip() in LABELS
        page = segment(rest if labelled else line, text=True)
        for block in page.blocks:
            block.label = head.strip() if labelled else None
            blocks.append(block)
    return Page(blocks=blocks, source=source)


def read_labelled(path: Path | str, url: Optional[str] = None) -> Page:
    """Read a labelled page (HTML with `data-label`, or `label<TAB>text` lines)."""
    data = read_bytes(path)
    if is_text_path(path):
        page = parse_text_labels(decode(data), str(path))
        page.url = url
        return page
    return read_html_labels(segment(data, source=str(path), url=url))


def apply_labels(page: Page, labels: Iterable[Optional[str]]) -> None:
    """Set each block's label as `data-label` on the element that owns it."""
    for block, label in zip(page.blocks, labels):
        block.label = label
        if label and block.element is not None:
            block.element.set(ATTRIBUTE, label)


def serialize(page: Page) -> bytes:
    """A labelled page as bytes: UTF-8 HTML for DOM pages, `label<TAB>text` lines otherwise."""
    if page.tree is None:
        return "".join(f"{b.label or '-'}\t{b.text}\n" for b in page.blocks).encode()
    head = page.tree.find("head")
    if head is not None and not head.xpath("meta[@charset]"):
        head.insert(0, etree.Element("meta", charset="utf-8"))
    return lxml.html.tostring(page.tree, encoding="utf-8", doctype="<!DOCTYPE html>")


def blocks_with_labels(pages: Iterable[Page]) -> tuple[list[Block], list[str], int]:
    """The labelled blocks of pages, their labels, and how many blocks had no label."""
    blocks, labels, unlabelled = [], [], 0
    for page in pages:
        for block in page.blocks:
            if block.label:
                blocks.append(block)
                labels.append(block.label)
            else:
                unlabelled += 1
    return blocks, labels, unlabelled
