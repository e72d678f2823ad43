"""The labelled-page format: `data-label` attributes on HTML elements, `label<TAB>text` for text.

A block takes the label of its nearest labelled ancestor-or-self, so one attribute on a
`<nav>` labels the whole menu and an attribute inside it overrides. Labels live only here:
the segmenter never reads `data-label`, so the features cannot see it.
"""
from __future__ import annotations

import gzip
import re
import uuid
from pathlib import Path
from typing import Iterable, Optional, Sequence

import lxml.html

from .batch import write_atomic
from .load import decode, is_text_path, read_bytes
from .page import LABELS, Block, InputError, Page
from .render import declare_utf8
from .segment import segment, text_blocks

ATTRIBUTE = "data-label"


def element_label(element, page: Optional[Page] = None) -> Optional[str]:
    for el in (element, *element.iterancestors()):
        label = el.attrib.get(ATTRIBUTE) if isinstance(el.tag, str) else None
        if label:
            if label not in LABELS:
                raise InputError(_not_a_label(el, label, page))
            return label
    return None


def _not_a_label(element, value: str, page: Optional[Page]) -> str:
    """Where the bad `data-label` is; and, on a page with no label at all, that it came with the
    page (sites use the attribute for their own ends: "Anzeige"), not from a typo of the user's."""
    name = page.source if page is not None and page.source else "the page"
    where = f"<{element.tag}>" + (f" on line {element.sourceline}" if element.sourceline else "")
    tree = page.tree if page is not None else None
    if tree is not None and not any(found in LABELS for found in tree.xpath(f"//@{ATTRIBUTE}")):
        return (f"{name}: the data-label=\"{value}\" of {where} came with the page (the site uses the attribute for "
                f"its own purposes): the page has no labels yet. Start labelling it with `boilerclf label {name} -o "
                "FOLDER`, which overwrites such attributes, then show and relabel the copy it writes")
    return f"{name}: unknown label {value!r} in the data-label of {where} (expected one of {', '.join(LABELS)})"


def read_html_labels(page: Page) -> Page:
    for block in page.blocks:
        block.label = element_label(block.element, page)
    return page


UNLABELLED = "-"  # the label field of an unlabelled line in a text page, as `serialize` writes it
_MARKERS = (*LABELS, UNLABELLED)
_WORD = re.compile(r"\S+")


def parse_text_labels(text: str, source: str = "") -> Page:
    """A labelled text page: `label<TAB>text` per line, `-<TAB>text` or a line without a TAB unlabelled
    (see `labelled_lines`); plain text has all its lines unlabelled."""
    lines = labelled_lines(text, source, strict=True) or [(None, line) for line in text.splitlines()]
    return Page(blocks=_blocks(lines), source=source)


def labelled_lines(text: str, source: str = "", strict: bool = False) -> Optional[list[tuple[Optional[str], str]]]:
    """Each line's (label, text) if `text` is a labelled page, None if it is plain text: the one rule
    of `show` and `train` and of the commands that read a page without its labels.

    A page is labelled when a line starts with a label and a TAB (not `-` alone: a plain list's
    bullets) and every other line with a TAB starts with `-`, a label, or a phrase, which is text
    (`Opening hours<TAB>9-5`); a line without a TAB is unlabelled text. A single other word before
    a TAB (`Monday<TAB>9-5`) makes the page plain text or, `strict`, where labels are read, is a
    typo (`contnet`, `Content`): an error rather than a page silently unlabelled.
    """
    lines = [line.partition("\t") for line in text.splitlines()]
    if not any(tab and head.strip() in LABELS for head, tab, _ in lines):
        return None
    found: list[tuple[Optional[str], str]] = []
    for number, (head, tab, rest) in enumerate(lines, 1):
        field = head.strip()
        if tab and field in _MARKERS:
            found.append((None if field == UNLABELLED else field, rest))
        elif tab and _WORD.fullmatch(field):
            if not strict:
                return None
            raise InputError(f"{source or 'text page'} line {number}: unknown label {field!r} before the tab "
                             f"(expected one of {', '.join(LABELS)}, or {UNLABELLED} for an unlabelled line)")
        else:
            found.append((None, head + tab + rest))
    return found


def _blocks(lines: Iterable[tuple[Optional[str], str]]) -> list[Block]:
    blocks = []
    for label, line in lines:
        for block in text_blocks(line):  # not `segment`: a line's text that starts `promo<TAB>` is no label
            block.label = label
            blocks.append(block)
    return blocks


def unlabelled_blocks(text: str) -> Optional[list[Block]]:
    """The blocks of a labelled text page (see `labelled_lines`) without their labels, so that the
    features never see them; None for plain text."""
    lines = labelled_lines(text)
    return None if lines is None else _blocks((None, line) for _, line in lines)


def read_labelled(path: Path | str, url: Optional[str] = None) -> Page:
    """Read a labelled page (HTML with `data-label`, or `label<TAB>text` lines)."""
    data = read_bytes(path)
    if is_text_path(path):
        page = parse_text_labels(decode(data), str(path))
        page.url = url
        return page
    return read_html_labels(segment(data, source=str(path), url=url))


def apply_labels(page: Page, labels: Sequence[Optional[str]]) -> list[int]:
    """Set `data-label` on the elements that own the blocks, and each block's label to what it now reads.

    An element can own several blocks (text split by `<br>`, an inline promo in a paragraph)
    but hold one label: the one covering most of its characters, so that a short aside does
    not relabel the paragraph around it. Returns the indices of the blocks that ended with
    another label than asked: those outvoted in their element, and unlabelled (None) blocks
    that now inherit a label from an element around them.
    """
    if page.tree is None:
        for block, label in zip(page.blocks, labels):
            block.label = label
        return []
    chars: dict = {}
    for block, label in zip(page.blocks, labels):
        if label:
            counts = chars.setdefault(block.element, {})
            counts[label] = counts.get(label, 0) + len(block.text)
    for element, counts in chars.items():
        element.set(ATTRIBUTE, max(counts, key=counts.__getitem__))  # a tie: the first block's label
    read_html_labels(page)
    return [b.index for b, label in zip(page.blocks, labels) if b.label != label]


def clear_labels(page: Page) -> None:
    """Remove every `data-label` of an HTML page, before it is labelled anew: a site's own ("Anzeige") stayed
    on elements that own no block, and showed through where a user later took a label off (an error)."""
    if page.tree is not None:
        for element in page.tree.xpath(f"//*[@{ATTRIBUTE}]"):
            del element.attrib[ATTRIBUTE]


def serialize(page: Page) -> bytes:
    """A labelled page as bytes: UTF-8 HTML for DOM pages, `label<TAB>text` lines otherwise."""
    if page.tree is None:
        return "".join(f"{b.label or UNLABELLED}\t{b.text}\n" for b in page.blocks).encode()
    declare_utf8(page.tree)
    return to_html(page.tree).encode()


#: elements whose text libxml2 reads raw (markup and entities as they stand) but escapes when it writes
#: it, unlike a script's or a style's
RAW_TEXT = ("iframe", "noembed", "noframes", "xmp")


def to_html(tree) -> str:
    """The page as HTML, raw-text elements' text written as it was read: escaped, each `relabel`
    added an `&amp;` (`&amp;amp;lt;`…) and changed the text of an `<xmp>` or `<noembed>` block."""
    token = uuid.uuid4().hex
    raw = {f"{token}n{i}n": el for i, el in enumerate(tree.iter(*RAW_TEXT))
           if el.text and not len(el) and f"</{el.tag}" not in el.text.lower()}  # else it would end early
    texts = {mark: el.text for mark, el in raw.items()}
    for mark, el in raw.items():
        el.text = mark
    try:
        html = lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    finally:
        for mark, el in raw.items():
            el.text = texts[mark]
    for mark, text in texts.items():
        html = html.replace(mark, text, 1)
    return html


def write_labelled(path: Path, page: Page, *, through_links: bool = False) -> None:
    """Write a labelled page whole or not at all; a `.gz` path is gzipped, as `read_labelled` expects.
    `through_links`: a page edited in place, whose symlink is written through (see `write_atomic`)."""
    data = serialize(page)
    if path.suffix.lower() == ".gz":
        data = gzip.compress(data, mtime=0)
    write_atomic(path, data, through_links=through_links)
