"""Stage 2: a DOM (or plain text) → an ordered list of `Block`s.

A block is the visible text between two block-level boundaries, owned by the nearest
block-level element. The walk is iterative (lxml's `iterwalk`), so pages nested
thousands of levels deep cannot exhaust Python's stack.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional
from urllib.parse import urljoin, urlsplit

from courlan import extract_domain
from lxml import etree

from .load import build_dom, decode, is_text_path, read_bytes, sniff_binary, sniff_binary_text
from .page import Block, Page

BLOCK_TAGS = frozenset("""address article aside blockquote body br button caption center dd details dialog
dir div dl dt fieldset figcaption figure footer form frame h1 h2 h3 h4 h5 h6 header hgroup hr html label
legend li main menu nav ol p pre section summary table tbody td tfoot th thead tr ul""".split())
#: elements whose text is no block's: invisible, or (`rt`, `rp`) the readings set above words in ruby
#: annotation, which glued into the words they annotate ("子こどもへの体罰たいばつ"), as trafilatura drops them
SKIP_TAGS = frozenset("""script style template noscript head title meta link svg math iframe object embed
canvas select option datalist textarea audio video map area source track rt rp""".split())
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACE = re.compile(r"\s+")
_READABLE = re.compile(r"\w")
#: characters that never show and never separate words: soft hyphens (in German news text
#: mid-word: "Genesenen\u00adnachweise" would match no search), BOMs, word joiners, zero-width
#: spaces (where a page allows a line break: "Stansall/\u200bAFP", "+49 69 630\u200b2-309"), the
#: invisible math operators, and the bidi marks, embeddings and isolates ("Weitere \u2068Artikel\u2069"),
#: which set the direction text is shown in, not what it says. Not the zero-width (non-)joiners,
#: which change how Persian, Indic scripts and emoji are written.
_INVISIBLE = re.compile("[\u00ad\ufeff\u2060\u200b\u200e\u200f\u202a-\u202e\u2061-\u2064\u2066-\u2069]")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[^\W\d_]+")
MAX_ANCESTORS = 12
CONTAINER_LEVELS = 3  # text totals are kept for the owner's parent, grandparent and great-grandparent
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def is_hidden(el) -> bool:
    return el.get("aria-hidden") == "true" or shows_nothing(el)


def shows_nothing(el) -> bool:
    """Hidden from sight, where `aria-hidden` hides from screen readers only: its text is left out of
    the blocks all the same (mostly icons' names and copies of text shown elsewhere), but an image so
    marked is seen (Wikipedia's equations, whose MathML for screen readers is the hidden part)."""
    get = el.get
    return (get("hidden") is not None or (get("type") or "").lower() == "hidden"
            or bool(_HIDDEN_STYLE.search(get("style") or "")))


_CUE_CACHE: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _cues(key: tuple) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the tokens an element gives a block it owns, those it gives the blocks inside it) for (tag,
    class, id, role, itemprop: the attributes whose words say what it is; not `data-label`, the training
    label), memoised: templates repeat the same few class names thousands of times."""
    found = _CUE_CACHE.get(key)
    if found is None:
        words = tuple(t.lower() for t in _TOKEN.findall(" ".join(v for v in key[1:] if v)) if len(t) > 1)
        found = ((f"tag:{key[0]}", *dict.fromkeys(f"self:{t}" for t in words)),
                 (f"in:{key[0]}", *(f"anc:{t}" for t in words)))
        if len(_CUE_CACHE) > 20_000:  # bounded (~10 MB): a crawl of millions of sites must not grow it forever
            _CUE_CACHE.clear()
        _CUE_CACHE[key] = found
    return found


def _around(stack: list[tuple]) -> tuple[str, ...]:
    """The tokens that the open elements below the innermost (MAX_ANCESTORS of them) give a block, each
    once; kept on the element below the innermost, for the blocks after it (a list's items) to share."""
    if len(stack) < 2:
        return ()
    kept = stack[-2][6]
    if kept[0] is None:
        kept[0] = tuple(dict.fromkeys(t for entry in stack[-MAX_ANCESTORS - 1:-1] for t in entry[5]))
    return kept[0]


def strip_invisible(text: str) -> str:
    """`text` without the invisible characters (none in ASCII text, which is not searched)."""
    return text if text.isascii() else _INVISIBLE.sub("", text)


def _form_text(el) -> str:
    """Visible text of a form control that has no text node: button values, placeholders."""
    kind = (el.get("type") or "text").lower()
    if kind in ("submit", "button", "reset"):
        return el.get("value", "")
    return el.get("placeholder", "")


_HIDING_ATTRIBUTES = etree.XPath("//@hidden|//@aria-hidden|//@type|//@style")


def hidden_elements(tree) -> set:
    """The elements hidden by an attribute, found by one XPath query rather than four lookups
    on every element (lxml hands back the same proxy objects during the walk); the query asks
    for the attributes, which libxml2 finds in half the time it takes to test every element."""
    owners = {attribute.getparent() for attribute in _HIDING_ATTRIBUTES(tree)}
    return {el for el in owners if is_hidden(el)}


@dataclass(slots=True)
class _State:
    link_chars: int = 0  # linked characters in the open block
    links: list = field(default_factory=list)  # the open <a> elements, innermost last
    readable: bool = False  # the open block has more than whitespace
    heading: str = ""  # the last heading's text


def html_blocks(tree, sources: bool = False) -> list[Block]:
    """Segment an lxml document into blocks, in document order.

    One function with local state, because it runs once per element of every page: each
    open element is (element, tag, the tokens it gives a block it owns, is block-level, [chars,
    link chars, blocks] inside it, the tokens it gives the blocks inside it, [`_around`'s tokens]).
    """
    blocks: list[Block] = []
    parts: list[str] = []
    nodes: list[tuple] = []  # with `sources`: where each part lives, (element, is its tail), for --format html
    stack: list[tuple] = []
    state = _State()
    hidden = hidden_elements(tree)

    def flush() -> None:
        readable = state.readable
        link_chars = state.link_chars
        text = " ".join(strip_invisible("".join(parts)).split()) if readable else ""
        found = tuple(nodes)
        parts.clear()
        nodes.clear()
        state.link_chars, state.readable = 0, False
        if not readable or not _READABLE.search(text):
            return
        owner = next((entry for entry in reversed(stack) if entry[3]), None)
        if owner is None:
            return
        tag = owner[1]
        link_chars = min(link_chars, len(text))
        containers = [entry[4] for entry in stack[-CONTAINER_LEVELS - 1:-1]]
        for totals in containers:
            totals[0] += len(text)
            totals[1] += link_chars
            totals[2] += 1
        is_heading = tag in HEADINGS
        if is_heading:
            state.heading = text
        blocks.append(Block(text=text, tag=tag, depth=len(stack), link_chars=link_chars,
                            dom_tokens=owner[2] + _around(stack), element=owner[0],
                            heading="" if is_heading else state.heading, containers=containers[::-1],
                            sources=found))

    def add(text: Optional[str], el, tail: bool) -> None:
        if text:
            parts.append(text)
            if sources:  # not by default: holding every text's element costs the walk ~1/2 more (GC)
                nodes.append((el, tail))
            if not state.readable and not text.isspace():
                state.readable = True
            if state.links:
                state.link_chars += len(text.strip())

    events = etree.iterwalk(tree, events=("start", "end"))
    for event, el in events:
        tag = el.tag
        if tag.__class__ is not str:
            tag = None  # an entity or a comment the parser kept: only its tail is text
        elif "}" in tag:
            tag = tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            if tag is None:
                continue
            if tag in SKIP_TAGS or el in hidden:
                events.skip_subtree()
                if tag in BLOCK_TAGS and parts:  # a hidden block still separates the text around it
                    flush()
                stack.append((el, tag, (), False, [0, 0, 0], (), [None]))
                continue
            block = tag in BLOCK_TAGS or tag == "input"
            if block and parts:
                flush()
            get = el.get  # four calls rather than a map over the names: a third less time, on every element
            own, tokens = _cues((tag, get("class"), get("id"), get("role"), get("itemprop")))
            stack.append((el, tag, own, block, [0, 0, 0], tokens, [None]))
            if tag == "a":
                state.links.append(el)
            if tag == "input":
                add(_form_text(el), None, False)  # an attribute's text: no text node to remove
            else:
                add(el.text, el, False)
        else:
            if tag is not None:
                if stack[-1][3] and parts:
                    flush()
                stack.pop()
                if state.links and state.links[-1] is el:  # not a hidden one: its subtree was skipped
                    state.links.pop()
            add(el.tail, el, True)
    if parts:
        flush()
    return blocks


def text_lines(text: str) -> Iterator[str]:
    """Plain-text pages: one block per non-empty line (chunks split on single newlines too)."""
    for line in text.splitlines():
        line = _SPACE.sub(" ", strip_invisible(line)).strip()
        if _READABLE.search(line):
            yield line


def text_blocks(text: str) -> list[Block]:
    return [Block(text=line) for line in text_lines(text)]


_CANONICAL = (etree.XPath("//link[contains(concat(' ', normalize-space(translate(@rel, 'CANOIL', 'canoil')), ' '),"
                          " ' canonical ')]/@href"),
              etree.XPath("//meta[@property='og:url']/@content"))
_BASE = etree.XPath("//base/@href")


def page_url(tree) -> Optional[str]:
    """The page's own URL when it states one (canonical link or og:url), made absolute against
    `<base href>` (a protocol-relative `//host/path` is taken as https)."""
    base = next((str(b).strip() for b in _BASE(tree) if _absolute(str(b).strip())), None)
    for found in (found for query in _CANONICAL for found in query(tree)):
        url = str(found).strip()
        if not url or url.startswith("#"):  # a template's empty canonical: not the base's URL
            continue
        if url.startswith("//"):
            url = "https:" + url
        elif base and not _absolute(url):
            url = urljoin(base, url)
        if _absolute(url):
            return url
    return None


def base_url(tree, url: Optional[str]) -> Optional[str]:
    """What the page's relative URLs resolve against, as in a browser: its first `<base href>` made
    absolute against the page's `url` (a relative one, such as "/", is common), else `url`; without
    a known page URL (`url`, see `page_url`), an absolute `<base href>` alone (TYPO3 and Joomla sites
    name one, and often no canonical URL). None when neither is an http(s) URL."""
    href = next((str(b).strip() for b in _BASE(tree)), None)
    if not url:
        return href if href and _absolute(href) else None
    try:
        base = url if href is None else urljoin(url, href)
    except ValueError:  # a malformed one ("http://[x"), which browsers pass over too
        base = url
    return base if _absolute(base) else url if _absolute(url) else None


def _absolute(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def site_of(url: Optional[str]) -> Optional[str]:
    """A URL's registrable domain (courlan: `news.bbc.co.uk` → `bbc.co.uk`), the cross-validation
    group, so that a site's subdomains never sit on both sides of a fold."""
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return extract_domain(url) or (host[4:] if host.startswith("www.") else host) or None


def html_page(tree, source: str = "", url: Optional[str] = None, sources: bool = False) -> Page:
    url = url or page_url(tree)
    return Page(blocks=html_blocks(tree, sources), source=source, url=url, tree=tree)


def text_page(text: str, source: str = "", url: Optional[str] = None) -> Page:
    """A plain-text page; one labelled as `boilerclf label` writes it is read without its labels."""
    from .labels import unlabelled_blocks  # labels imports this module

    blocks = unlabelled_blocks(text)
    return Page(blocks=text_blocks(text) if blocks is None else blocks, source=source, url=url)


def segment(data: bytes | str, *, text: bool = False, source: str = "", url: Optional[str] = None,
            sources: bool = False, charset: Optional[str] = None) -> Page:
    """Decode, build the DOM and segment: the whole front of the pipeline in one call. With
    `sources`, each block records the text nodes it came from (see `render.render_html`);
    `charset`: the HTTP header's, for an archived response (see `load.decode`)."""
    if not isinstance(data, (bytes, str)):
        raise TypeError(f"a page is bytes or str, not {type(data).__name__}")
    if isinstance(data, bytes):
        sniff_binary(data)
    else:
        sniff_binary_text(data)
    decoded = decode(data, charset)
    return text_page(decoded, source, url) if text else html_page(build_dom(decoded), source, url, sources)


def read_page(path, url: Optional[str] = None) -> Page:
    """Read, decode and segment one page file (`.txt` files are plain-text pages)."""
    return segment(read_bytes(path), text=is_text_path(path), source=str(path), url=url)
