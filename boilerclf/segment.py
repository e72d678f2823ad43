"""Stage 2: a DOM (or plain text) → an ordered list of `Block`s.

A block is the visible text between two block-level boundaries, owned by the nearest
block-level element. The walk is iterative (lxml's `iterwalk`), so pages nested
thousands of levels deep cannot exhaust Python's stack.
"""
from __future__ import annotations

import re
from typing import Iterator, Optional
from urllib.parse import urlsplit

from courlan import extract_domain
from lxml import etree

from .load import build_dom, decode, is_text_path, read_bytes, sniff_binary
from .page import Block, Page

BLOCK_TAGS = frozenset("""address article aside blockquote body br button caption center dd details dialog
dir div dl dt fieldset figcaption figure footer form frame h1 h2 h3 h4 h5 h6 header hgroup hr html label
legend li main menu nav ol p pre section summary table tbody td tfoot th thead tr ul""".split())
SKIP_TAGS = frozenset("""script style template noscript head title meta link svg math iframe object embed
canvas select option datalist textarea audio video map area source track""".split())
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACE = re.compile(r"\s+")
_READABLE = re.compile(r"\w")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[^\W\d_]+")
MAX_ANCESTORS = 12
CONTAINER_LEVELS = 3  # text totals are kept for the owner's parent, grandparent and great-grandparent
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
#: attributes whose words describe an element's role; `data-label` is deliberately absent.
CUE_ATTRIBUTES = ("class", "id", "role", "itemprop")


def is_hidden(el) -> bool:
    get = el.attrib.get
    return ("hidden" in el.attrib or get("aria-hidden") == "true"
            or (get("type") or "").lower() == "hidden" or bool(_HIDDEN_STYLE.search(get("style") or "")))


def cue_tokens(el) -> list[str]:
    """Lower-case words of an element's class/id/role, split on punctuation and camelCase."""
    words = " ".join(el.attrib.get(a, "") for a in CUE_ATTRIBUTES)
    return [t.lower() for t in _TOKEN.findall(words) if len(t) > 1]


def _form_text(el) -> str:
    """Visible text of a form control that has no text node: button values, placeholders."""
    kind = (el.attrib.get("type") or "text").lower()
    if kind in ("submit", "button", "reset"):
        return el.attrib.get("value", "")
    return el.attrib.get("placeholder", "")


class _Walker:
    """Collects text runs while walking; one instance per page."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.in_link = 0
        # per open element: (element, tag, own cue words, is block-level, [chars, link chars, blocks] inside,
        # the tokens it gives the blocks inside it)
        self.stack: list[tuple] = []
        self.heading = ""

    def add(self, text: Optional[str]) -> None:
        if text:
            self.parts.append(text)
            if self.in_link:
                self.link_chars += len(text.strip())

    def flush(self) -> None:
        text = _SPACE.sub(" ", "".join(self.parts)).strip()
        link_chars, self.parts, self.link_chars = self.link_chars, [], 0
        if not _READABLE.search(text):
            return
        owner = next((entry for entry in reversed(self.stack) if entry[3]), None)
        if owner is None:
            return
        tokens = [f"tag:{owner[1]}"] + [f"self:{t}" for t in owner[2]]
        for entry in self.stack[-MAX_ANCESTORS - 1:-1]:
            tokens += entry[5]
        link_chars = min(link_chars, len(text))
        containers = [entry[4] for entry in self.stack[-CONTAINER_LEVELS - 1:-1]]
        for totals in containers:
            totals[0] += len(text)
            totals[1] += link_chars
            totals[2] += 1
        if owner[1] in HEADINGS:
            self.heading = text
        self.blocks.append(Block(text=text, tag=owner[1], depth=len(self.stack), link_chars=link_chars,
                                 dom_tokens=tuple(dict.fromkeys(tokens)), element=owner[0],
                                 heading=self.heading if owner[1] not in HEADINGS else "",
                                 containers=containers[::-1]))


def _tag(el) -> Optional[str]:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # comment or processing instruction: only its tail is text
    return tag.rsplit("}", 1)[-1].lower()


def html_blocks(tree) -> list[Block]:
    """Segment an lxml document into blocks, in document order."""
    walker = _Walker()
    events = etree.iterwalk(tree, events=("start", "end"))
    for event, el in events:
        tag = _tag(el)
        if event == "start":
            if tag is None:
                continue
            if tag in SKIP_TAGS or is_hidden(el):
                events.skip_subtree()
                if tag in BLOCK_TAGS:  # a hidden block still separates the text around it
                    walker.flush()
                walker.stack.append((el, tag, [], False, [0, 0, 0], []))
                continue
            block = tag in BLOCK_TAGS or tag == "input"
            if block:
                walker.flush()
            cues = cue_tokens(el)
            walker.stack.append((el, tag, cues, block, [0, 0, 0], [f"in:{tag}"] + [f"anc:{t}" for t in cues]))
            if tag == "a":
                walker.in_link += 1
            walker.add(_form_text(el) if tag == "input" else el.text)
        else:
            if tag is not None:
                if walker.stack[-1][3]:
                    walker.flush()
                walker.stack.pop()
                if tag == "a":
                    walker.in_link -= 1
            walker.add(el.tail)
    walker.flush()
    return walker.blocks


def text_lines(text: str) -> Iterator[str]:
    """Plain-text pages: one block per non-empty line (chunks split on single newlines too)."""
    for line in text.splitlines():
        line = _SPACE.sub(" ", line).strip()
        if _READABLE.search(line):
            yield line


def text_blocks(text: str) -> list[Block]:
    return [Block(text=line) for line in text_lines(text)]


def page_url(tree) -> Optional[str]:
    """The page's own URL when it states one (canonical link or og:url)."""
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        found = tree.xpath(xpath)
        if found and str(found[0]).startswith("http"):
            return str(found[0]).strip()
    return None


def site_of(url: Optional[str]) -> Optional[str]:
    """A URL's registrable domain (courlan: `news.bbc.co.uk` → `bbc.co.uk`), the cross-validation
    group, so that a site's subdomains never sit on both sides of a fold."""
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return extract_domain(url) or (host[4:] if host.startswith("www.") else host) or None


def html_page(tree, source: str = "", url: Optional[str] = None) -> Page:
    url = url or page_url(tree)
    return Page(blocks=html_blocks(tree), source=source, url=url, site=site_of(url), tree=tree)


def text_page(text: str, source: str = "", url: Optional[str] = None) -> Page:
    return Page(blocks=text_blocks(text), source=source, url=url, site=site_of(url))


def segment(data: bytes | str, *, text: bool = False, source: str = "", url: Optional[str] = None) -> Page:
    """Decode, build the DOM and segment: the whole front of the pipeline in one call."""
    if isinstance(data, bytes):
        sniff_binary(data)
    decoded = decode(data)
    return text_page(decoded, source, url) if text else html_page(build_dom(decoded), source, url)


def read_page(path, url: Optional[str] = None) -> Page:
    """Read, decode and segment one page file (`.txt` files are plain-text pages)."""
    return segment(read_bytes(path), text=is_text_path(path), source=str(path), url=url)
