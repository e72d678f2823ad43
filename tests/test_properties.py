"""Property tests: any bytes and any generated HTML raise only the library's own errors, and
every block's text comes from the page."""
import re

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import boilerclf
from boilerclf.load import decode
from boilerclf.page import BoilerclfError
from boilerclf.render import render
from boilerclf.segment import SKIP_TAGS, is_hidden, segment, strip_invisible

TAGS = ["p", "div", "span", "a", "li", "ul", "h1", "td", "table", "br", "b", "nav", "script", "style", "input",
        "form", "section", "template"]
SPACE = re.compile(r"\s+")


@st.composite
def html_pages(draw):
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 4))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            parts.append(f"<{tag}{draw(st.sampled_from(['', ' hidden', ' class=nav', ' style=display:none']))}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.text(max_size=40)).replace("<", " ").replace("&", " "))
        elif kind == 3:
            parts.append(f"<!-- {draw(st.text(max_size=10))} -->")
        else:
            parts.append("&amp; &lt;")
    return "".join(parts)


def _squash(text):
    """Text without spaces and without the invisible characters segmentation removes (soft hyphens…)."""
    return SPACE.sub("", strip_invisible(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_raise_only_documented_errors(data):
    try:
        segment(data)
    except BoilerclfError:
        pass


MODEL = []


def model():
    if not MODEL:
        MODEL.append(boilerclf.load_model())
    return MODEL[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_pages())
def test_classify_returns_blocks_whose_text_is_in_the_page_and_renders(html):
    try:
        page = model().predict_pages([segment(html)])[0]
    except BoilerclfError:
        return
    for keep in (("content",), ()):  # dropping elements moves their tails: must never fail
        assert isinstance(render(page, "html", keep), str)
    tree = lxml.html.document_fromstring(decode(html)) if decode(html).strip() else None
    for gone in [el for el in tree.iter() if el.tag in SKIP_TAGS or is_hidden(el)] if tree is not None else ():
        if gone.tag in ("source", "track", "embed"):
            gone.drop_tag()  # void: what the parser nested inside them follows them on the page
        else:
            gone.drop_tree()  # script, style, hidden… text is never a block; their tails are
    visible = _squash(tree.text_content()) if tree is not None else ""
    attributes = "".join(v for el in tree.iter() if isinstance(el.tag, str) for v in el.attrib.values()) if tree is not None else ""
    for block in page.blocks:
        assert block.label in boilerclf.LABELS
        assert _squash(block.text) in visible or _squash(block.text) in _squash(attributes)
