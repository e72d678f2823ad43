"""Stage 5: a classified page → output: text, HTML with the boilerplate removed, or a JSON record."""
from __future__ import annotations

import json
import re
from html import escape
from itertools import accumulate
from typing import Any, Iterable, Optional, Sequence
from urllib.parse import unquote, urljoin

import lxml.html
from lxml import etree

from .page import LABELS, Block, Page
from .segment import BLOCK_TAGS, SKIP_TAGS, base_url, hidden_elements, html_blocks, is_hidden, shows_nothing, strip_invisible

FORMATS = ("text", "html", "jsonl")
SUFFIX = {"text": ".txt", "html": ".html", "jsonl": ".jsonl"}
_STRIPPED = SKIP_TAGS - {"head", "title", "meta"}  # invisible elements dropped from HTML output
#: ruby readings: in no block's text, but shown above the words they annotate, so kept while those words are
_READINGS = frozenset({"rt", "rp"})
#: skipped by the segmenter but shown: kept in a kept text-less element (an equation in a kept
#: paragraph, a kept <picture>'s or <video>'s sources), dropped elsewhere (an ad's svg)
MEDIA = frozenset({"svg", "math", "video", "audio", "source", "track", "canvas"})
#: elements that show something without text, so that no block holds them: each follows the blocks
#: around it (`judge_textless`)
TEXTLESS = MEDIA | {"img", "picture", "input", "button", "hr", "br", "wbr"}
#: those of them that also stay between kept blocks, being part of an article on their own: its
#: photos, players, equations, rules and breaks. Not svg and canvas: between blocks an svg is an icon
#: (share, arrow) far more often than a chart, and a canvas is blank without the page's scripts; nor
#: form controls, which serve no reader; iframes, objects and embeds always go, as scripts do: they
#: are another page (an ad's, a tracker's), not a part of this one
STANDALONE = frozenset({"img", "picture", "video", "audio", "math", "source", "track", "hr", "br", "wbr"})
#: kept inside a kept block's element only where they stand in its text (a task list's checkboxes), not
#: anywhere below it: a search box or a petition's fields in a page-wide <div> that owns a kept line
FORM_CONTROLS = frozenset({"input", "button"})
_CELLS = frozenset({"td", "th"})  # emptied, never removed, lest the row's other cells shift columns
#: never pruned when empty (see `tidy`); a table's `<col>`s hold its columns' widths and spans
_FRAME = _CELLS | {"col", "colgroup", "html", "head", "body"}
_IN_PAGE_LINKS = etree.XPath("//a/@href[starts-with(normalize-space(.), '#')]")
#: an image's URL; the size may follow the file's name, as in a query ("a.jpg?w=800") or a path ("a.jpg/190x95Crop")
_IMAGE_URL = re.compile(r"^\s*\S+\.(?:jpe?g|png|webp|gif|avif)(?:[/?#]\S*)?\s*$", re.I)
#: a word naming an image and a number after it ("a.jpg 2x"); the look-ahead finds the image once per word,
#: where `\.jpg\S*\s+\d` scanned the rest of the word from each ".jpg" in it: quadratic in a long value
_IMAGE_SRCSET = re.compile(r"(?:^|\s)(?=\S*\.(?:jpe?g|png|webp|gif|avif))\S*\s+\d", re.I)
#: the attributes lazy loaders (lazysizes, jQuery lazyload, WP Rocket) read an image's source from: their
#: URL is the source even without a file name (an image server's "https://cdn/.../resize/840x560/?url=…",
#: "…/images/1227261885862?format=jpg")
_LAZY_SOURCES = frozenset({"data-src", "data-lazy-src", "data-original"})
_URL = re.compile(r"^\s*(?:https?:)?/\S+\s*$", re.I)


def kept_labels(keep: Sequence[str] | str, labels: Sequence[str] = LABELS) -> tuple[str, ...]:
    """`keep` as labels: one label as a str, not the labels it contains ("contentpromo" kept both);
    an unknown one a ValueError (`labels`: those to name, a model's own), as a typo ("Content") rendered
    an empty page without a word; None or bytes a TypeError, not "'NoneType' is not iterable" or
    bytes read as numbers."""
    if isinstance(keep, str):
        keep = [keep]
    if not isinstance(keep, Iterable) or isinstance(keep, (bytes, bytearray)):
        raise TypeError(f"keep takes a label or labels, not {type(keep).__name__}")
    wanted = frozenset(keep)
    unknown = sorted(wanted - set(LABELS) - set(labels), key=str)
    if unknown:
        raise ValueError(f"unknown label(s) in keep: {', '.join(map(repr, unknown))}; the labels are {', '.join(labels)}")
    return tuple(wanted)


def render_text(page: Page, keep: Sequence[str] | str = ("content",)) -> str:
    """The kept blocks' text, one block per line (a `<pre>` on its own lines: see `output_text`)."""
    keep = kept_labels(keep)
    return "".join(output_text(b) + "\n" for b in page.blocks if b.label in keep)


def output_text(block: Block) -> str:
    """A block's text as written out. A whole `<pre>` (code, verse) keeps its line breaks and
    indentation, where the features see its words with the spaces collapsed, as every block's."""
    if block.tag == "pre" and block.element is not None and not _parted(block):
        raw = strip_invisible(etree.tostring(block.element, method="text", encoding="unicode", with_tail=False))
        if " ".join(raw.split()) == block.text:  # the block is the whole <pre>, nothing hidden in it
            lines = [line.rstrip() for line in raw.splitlines()]
            while lines and not lines[-1]:
                lines.pop()
            return "\n".join(lines).lstrip("\n")
    return block.text


def _parted(block: Block) -> bool:
    """Another block of the page comes from the block's element or from inside it (a `<br>` in a
    `<pre>`): told by its neighbours, since a subtree's blocks come one after another, past form
    controls, whose text is an attribute's. Testing each block against its whole `<pre>`'s text
    instead read the `<pre>` once a block: quadratic."""
    page, el = block.page, block.element
    if page is None or page.blocks[block.index:block.index + 1] != [block]:
        return False  # a block on its own: the text decides
    blocks = page.blocks
    for step in (-1, 1):
        i = block.index + step
        while 0 <= i < len(blocks) and blocks[i].tag == "input":
            i += step
        other = blocks[i].element if 0 <= i < len(blocks) else None
        if other is not None and (other is el or el in other.iterancestors()):
            return True
    return False


def drop(*elements) -> None:
    """Remove elements and their content but keep the text that follows each (its tail). A run of
    removed siblings' tails joins the text before the run at once, and whitespace after whitespace
    not at all: moved one by one, that text would grow by a tail per removal, each time copied
    through lxml, quadratic in the run (160,000 empty spans took 14 s)."""
    moved: dict = {}  # (element, is its tail) → the tails that join that text, in page order
    for el in elements:
        parent, previous = el.getparent(), el.getprevious()
        if parent is None:  # emptied out of the tree
            continue
        tails = [el.tail or "", *moved.pop((el, True), ())]
        moved.setdefault((parent, False) if previous is None else (previous, True), []).extend(tails)
        parent.remove(el)
    for (node, tail), texts in moved.items():
        joined = [(node.tail if tail else node.text) or ""]
        for text in texts:
            if text and not (text.isspace() and joined[-1][-1:].isspace()):
                joined.append(text)
        setattr(node, "tail" if tail else "text", "".join(joined) or None)


def empty(el) -> None:
    """Remove an element's content, keeping the element, its attributes and its tail."""
    for child in list(el):
        el.remove(child)  # with its tail
    el.text = None


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


def _strip_scripting(tree) -> None:
    """Scripts go with their elements; inline ones too: `on*` handlers and `javascript:` links; and
    a `<meta http-equiv="refresh">`, which would reload the cleaned page or take it to the live one."""
    for el in tree.iter():
        for name, value in el.items():
            # an SVG animation's `values`: a list, whose every item the animated href takes
            if name.lower().startswith("on") or any(map(_runs_script, value.split(";") if name == "values" else [value])):
                del el.attrib[name]
    drop(*[meta for meta in tree.iter("meta") if (meta.get("http-equiv") or "").strip().lower() == "refresh"])


#: what browsers drop from a URL before reading its scheme: tabs and newlines anywhere, and
#: C0 controls and spaces at its ends
_URL_IGNORED = dict.fromkeys(map(ord, "\t\n\r"))
_URL_ENDS = "".join(map(chr, range(33)))


def _runs_script(value: str) -> bool:
    """A `javascript:` URL as browsers read it, so that `java&#9;script:` is one too (lxml escapes
    the tab in href, not in formaction or an <svg> link's xlink:href, where it runs)."""
    return value.translate(_URL_IGNORED).lstrip(_URL_ENDS).lower().startswith("javascript:")


def show_lazy_images(tree) -> None:
    """Give lazy-loaded images their real source, as readability.js does.

    Such pages name the image in a `data-*` attribute or in a <noscript> copy after a placeholder
    (a data: URI, a blank gif) for a script to swap in; with scripts stripped, the output would
    show the placeholder. So may a <picture>'s <source>, which browsers take before its <img>.
    Only attributes change, so the blocks' text nodes stay where they are.
    """
    for script_less in tree.iter("noscript"):
        images = list(script_less.iter("img"))
        placeholder = script_less.getprevious()
        if len(images) == 1 and placeholder is not None and placeholder.tag == "img" and _lazy(placeholder):
            for name in ("src", "srcset", "sizes"):
                if images[0].get(name):
                    placeholder.set(name, images[0].get(name))
    for img in tree.iter("img", "source"):  # not "//img | //picture/source": libxml2 merges unions in quadratic time
        if (img.tag == "img" or getattr(img.getparent(), "tag", None) == "picture") and _lazy(img):
            for name, value in img.items():
                if name not in ("src", "srcset", "alt"):
                    if _IMAGE_SRCSET.search(value):
                        img.set("srcset", value)
                    elif (_IMAGE_URL.match(value) and ("/" in value or "src" in name)  # not a file's name (a title)
                          or name in _LAZY_SOURCES and _URL.match(value)):
                        img.set("src" if img.tag == "img" else "srcset", value)
            if (img.get("srcset") or "").lstrip().startswith("data:"):  # a placeholder still, shown before `src`
                del img.attrib["srcset"]


def make_urls_absolute(tree, base: Optional[str]) -> None:
    """Resolve the page's relative URLs against `base` (see `segment.base_url`): the output is saved
    elsewhere, where "/static/x.svg" or "../story" find nothing. lxml.html finds the links (href,
    src, inline styles' url(), …; its `iterlinks` reads any element, though a mixin's) but neither
    `srcset` nor `poster`. The `<base href>` goes, lest a relative URL resolve twice and an in-page
    link (`#s2`, kept as it is) lead to the live page. Without a base, only protocol-relative URLs
    change (see `_absolute_url`)."""
    if base:
        for el in tree.iter("base"):
            el.attrib.pop("href", None)
        drop(*[el for el in tree.iter("base") if not el.attrib])
    for el, name, link, pos in lxml.html.HtmlMixin.iterlinks(tree):
        absolute = _absolute_url(link, base) if name else link  # no name: a <style>'s text, gone in `tidy`
        if absolute != link:  # `pos`: where in the value (an inline style's url())
            value = el.get(name)
            el.set(name, value[:pos] + absolute + value[pos + len(link):])
    for el in tree.iter("img", "source", "video"):
        if el.get("srcset"):
            el.set("srcset", _SRCSET_URL.sub(lambda m: m[1] + _absolute_url(m[2], base), el.get("srcset")))
        if el.get("poster"):
            el.set("poster", _absolute_url(el.get("poster"), base))


#: a URL in a srcset ("a.jpg 1x, b.jpg 2x"), as browsers parse one: the non-spaces after its start or
#: a comma, commas in it kept (kinja's ".../c_fill,f_auto,w_80/abc.jpg 80w"), those ending it not
_SRCSET_URL = re.compile(r"((?:^|,)[\s,]*)([^\s,](?:\S*[^\s,])?)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)


def _absolute_url(url: str, base: Optional[str]) -> str:
    """`url` resolved against `base`, but as it is when it has a scheme (https:, data:, mailto:,
    tel:, javascript:), is empty or in-page (`#s2`, kept working: see `_link_targets`), is
    malformed ("//[x"), or is quoted: lxml unquotes a style's `url("x.png")` but not `url( "x.png" )`,
    whose quotes, joined to the base, broke even an absolute URL. Without a base (a page naming no
    URL), a protocol-relative "//host/a.jpg" is taken as https, as `segment.page_url` takes a
    canonical link (opened from a file, it was looked for in file://host/a.jpg); the rest stays."""
    stripped = url.strip()
    if not stripped or stripped[0] in "#'\"" or _SCHEME.match(stripped):
        return url
    if not base:
        return "https:" + stripped if stripped.startswith("//") else url
    try:
        return urljoin(base, stripped)
    except ValueError:
        return url


def _lazy(img) -> bool:
    """A placeholder: no source, an inline one, or a lazy loader's class (a <source>'s source: its srcset)."""
    src = (img.get("src" if img.tag == "img" else "srcset") or "").strip()
    return not src or src.startswith("data:") or "lazy" in (img.get("class") or "").lower()


def render_html(page: Page, keep: Sequence[str] | str = ("content",)) -> str:
    """The page's own HTML with the elements of dropped blocks removed and scripts stripped.

    An element is removed (a table cell emptied) only when no kept block lies inside it; otherwise
    just the dropped block's own text goes (its text nodes: leading text, tails, inline children's
    text), so kept paragraphs keep their structure and the HTML keeps what the text format keeps.
    Text-less elements (images, media, form controls) follow the blocks around them (see
    `judge_textless`), and the containers this leaves empty go (see `tidy`). It edits the page's
    own tree (a copy would cost every page of a bulk run): render a page's HTML once, or segment
    the page again for another `keep`.
    """
    keep = kept_labels(keep)
    if page.tree is None:
        body = "".join(f"<p>{escape(b.text)}</p>\n"
                       for b in page.blocks if b.label in keep)
        return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'
    tree = page.tree
    base = base_url(tree, page.url)  # before `tidy`, which may prune a <base> in the body
    owners = {b.element for b in page.blocks if b.label in keep}
    kept = with_ancestors(owners)  # the kept blocks' elements and everything around them
    dropped = [b for b in page.blocks if b.label not in keep and b.element.getparent() is not None]
    partial = [b for b in dropped if b.element in kept]
    if any(not b.sources for b in page.blocks):  # segmented without `sources`: walk the intact DOM again
        fresh = html_blocks(tree, sources=True)
        if len(fresh) == len(page.blocks):
            for block, again in zip(page.blocks, fresh):
                block.sources = again.sources
    show_lazy_images(tree)
    media, doomed = judge_textless(tree, page.blocks, owners, keep)  # on the intact DOM: in page order
    for block in partial:  # texts first: dropping an element moves its tail, which may be another block's
        for node, tail in block.sources:
            if node is not None:
                setattr(node, "tail" if tail else "text", None)
    going: list = []
    for el in [b.element for b in dropped] + list(doomed):
        if el not in kept and el.getparent() is not None:
            (empty if el.tag in _CELLS or _parts_kept_text(el, owners) else going.append)(el)
            kept.add(el)  # done: never twice
    drop(*going)  # each removed on its own, a small detached tree (see `tidy`)
    tidy(tree, owners, media)
    make_urls_absolute(tree, base)
    declare_utf8(tree)  # written as UTF-8 whatever the page was
    return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>") + "\n"


def _parts_kept_text(el, owners: set) -> bool:
    """A block-level element right inside a kept block's element (an e-mail line between a name and
    a bio): emptied, it still parts the kept texts before and after it, which removing it would glue."""
    return el.tag in BLOCK_TAGS and _in_text_of(el, owners)


def _in_text_of(el, owners: set) -> bool:
    """Whether `el` stands in the text of a kept block: its nearest block-level ancestor owns one."""
    return next((a for a in el.iterancestors() if a.tag in BLOCK_TAGS), None) in owners


def with_ancestors(elements: Iterable) -> set:
    """The elements and all their ancestors, each visited once (a page's blocks share most of theirs)."""
    found: set = set()
    for el in elements:
        while el is not None and el not in found:
            found.add(el)
            el = el.getparent()
    return found


def _block_starts(blocks: Sequence[Block]) -> tuple[dict, dict]:
    """Where each block begins in a walk of the DOM (element → block, one dict each): its first text
    node, at the start of the element whose text it is or at the end of the element whose tail it is;
    a form control's text, which is no text node, at the control."""
    at_start: dict = {}
    at_end: dict = {}
    for block in blocks:
        node, tail = block.start or (None, False)
        (at_end if tail else at_start).setdefault(block.element if node is None else node, block)
    return at_start, at_end


def judge_textless(tree, blocks: Sequence[Block], owners: set, keep: Sequence[str]) -> tuple[set, set]:
    """The text-less elements to keep and those to drop, found in one walk of the intact DOM.

    No block owns an image, so the model never sees it: one inside a kept block's element stays
    (an equation or an icon in a kept paragraph); any other takes the side of the blocks around
    it, as jusText revises a short block by its neighbours (see `_judge`).
    """
    at_start, at_end = _block_starts(blocks)
    textful = with_ancestors(b.element for b in blocks)  # a button with text is a block's, judged by the model
    textless = {el for el in tree.iter(*TEXTLESS) if el not in textful}
    marked = owners | textless | at_start.keys() | at_end.keys()  # the rest of the walk: one set look-up each
    media: set = set()
    doomed: set = set()
    waiting: list = []  # (text-less element, elements around it and the mark before it) after `before`
    before = None  # the last block begun
    inside = 0  # open elements that own a kept block
    depth = low = 0  # open elements; the fewest since the last mark: how many hold both marks
    events = etree.iterwalk(tree, events=("start", "end"))
    for event, el in events:
        if event == "start":
            depth += 1
        else:
            depth -= 1
            if depth < low:
                low = depth
        if el not in marked:
            continue
        end = event == "end"
        if el in owners:
            inside += -1 if end else 1
        elif el in textless and not end:
            events.skip_subtree()  # a <picture>'s or <video>'s sources go with it
            if inside and (el.tag not in FORM_CONTROLS or _in_text_of(el, owners)):
                media.add(el)
            elif el.tag in STANDALONE:
                waiting.append((el, low))
                low = depth
            else:
                doomed.add(el)
        block = (at_end if end else at_start).get(el)
        if block is not None:
            _judge(waiting, before, block, low, keep, media, doomed)
            before, waiting, low = block, [], depth
    _judge(waiting, before, None, low, keep, media, doomed)
    return media, doomed


def _judge(waiting: list, before: Optional[Block], after: Optional[Block], low: int, keep: Sequence[str],
           media: set, doomed: set) -> None:
    """Each element waiting between two blocks follows the nearer one, the one it shares more
    ancestors with: an article's photo between its headline and first paragraph, or between a
    toolbar and its caption, stays; a logo among menu links, an ad between sidebar blocks, the
    first photo of a sidebar after the article go. When both are as near, the one after decides, a
    photo preceding the text it goes with (a lead photo between a share bar and the first paragraph
    stays); at the page's ends, the one there is decides. (`low`: how many elements hold the last
    waiting element and `after`; each waiting one's own: how many hold it and the mark before it.)"""
    holds = [held for _, held in waiting]
    near_before = accumulate(holds, min)
    near_after = reversed(list(accumulate([low, *reversed(holds[1:])], min)))
    for (el, _), *nears in zip(waiting, near_before, near_after):
        sides = [(near, block) for near, block in zip(nears, (before, after)) if block is not None]
        nearest = max(reversed(sides), key=lambda side: side[0], default=None)  # a tie: the one after
        (media if nearest is not None and nearest[1].label in keep else doomed).add(el)


def tidy(tree, owners: set, media: set) -> None:
    """Drop the invisible elements (scripts, styles, hidden ones, media not kept) and the elements
    left with neither text nor a kept block or media element (an emptied menu, an ad's box, a
    sign-up form) in one bottom-up pass, pages having 50,000 elements; then strip inline scripts.

    Never pruned: the page's frame; kept media, even `aria-hidden` ones (see `shows_nothing`), and
    what is in them (an <svg>'s paths) or in <head>; table cells, which go only with their whole
    row, lest the row's other cells shift columns, and the `<col>`s sizing the columns, which go with
    their table; and what
    lies in a kept block's text, where an empty <span> may part two words and an empty <div> two lines;
    and the targets of in-page links (`<a name="s2"></a>` for `href="#s2"`), lest those links dangle.
    """
    hidden = hidden_elements(tree)
    targets = _link_targets(tree)
    gone, whole = _prunable(tree, owners, media, hidden, targets)
    if targets:  # the targets of links that go too (in a dropped menu, hidden, emptied) need not stay
        left = _link_targets(tree, set(gone))
        if left != targets:
            gone, whole = _prunable(tree, owners, media, hidden, left)
    for el in whole:
        _drop_invisible(el, spare_media=el in media)
    going = set(gone)
    outermost = [el for el in gone if el.getparent() is not None and el.getparent() not in going]
    del gone, going  # let go of the others while attached: lxml frees a proxy in a detached
    drop(*outermost)  # subtree only after a search of the subtree for other proxies
    _strip_scripting(tree)


def _prunable(tree, owners: set, media: set, hidden: set, targets: set) -> tuple[list, list]:
    """`tidy`'s walk: the elements to drop, bottom-up, and those to clear but keep whole."""
    gone: list = []
    whole: list = []  # <head> and kept media: cleared of invisible elements, not pruned
    shows: list[Optional[bool]] = [True]  # per open element: it shows something (None: gone as invisible)
    in_kept_text = [False]  # per open block-level element: it owns a kept block
    events = etree.iterwalk(tree, events=("start", "end"))
    for event, el in events:
        tag = el.tag
        if event == "end":
            own = shows.pop()
            if tag in BLOCK_TAGS:
                in_kept_text.pop()
            if own is False and tag not in _FRAME and not in_kept_text[-1]:
                gone.append(el)
            if own or el.tail and not el.tail.isspace():
                shows[-1] = True
            continue
        if tag in BLOCK_TAGS:
            in_kept_text.append(el in owners)
        if (el in hidden and (el not in media or shows_nothing(el))
                or tag in _STRIPPED and el not in media and not (tag in _READINGS and shows[-1])):
            gone.append(el)
            shows.append(None)
        elif el in media or tag == "head":
            whole.append(el)
            shows.append(True)
        else:  # an entity the parser kept (no str tag) is text
            shows.append(bool(el.text and not el.text.isspace() or el in owners or tag.__class__ is not str
                              or targets and (el.get("id") in targets or el.get("name") in targets)))
            continue
        events.skip_subtree()
    return gone, whole


def _link_targets(tree, gone: Optional[set] = None) -> set:
    """The fragments the page's in-page links point to (`#s2`), as written and %-decoded; with
    `gone`, only those of the links that stay (none of them or of their ancestors in `gone`)."""
    fragments = {href.strip()[1:] for href in _IN_PAGE_LINKS(tree) if not gone or not _inside(href.getparent(), gone)}
    return (fragments | {unquote(fragment) for fragment in fragments}) - {""}


def _inside(el, elements: set) -> bool:
    """Whether `el` or an ancestor of it is one of `elements`."""
    return el in elements or any(a in elements for a in el.iterancestors())


def _drop_invisible(root, spare_media: bool) -> None:
    """Drop the invisible elements inside `root` (scripts in an <svg> or in <head>), pruning nothing."""
    for el in list(root.iterdescendants()):
        if el.tag.__class__ is str and el.getparent() is not None and (
                is_hidden(el) or el.tag in _STRIPPED and not (spare_media and el.tag in MEDIA)):
            drop(el)


def page_record(page: Page, keep: Sequence[str] | str = ("content",)) -> dict:
    """One JSON-able record: the kept text, the text of each other label, and every block."""
    keep = kept_labels(keep)
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
