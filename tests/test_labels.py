"""The labelled-page format: writing labels onto the DOM, serializing, and `label<TAB>text` pages."""
import io

import lxml.html
import pytest

from boilerclf.labels import apply_labels, parse_text_labels, read_labelled, serialize
from boilerclf.page import InputError
from boilerclf.segment import read_page, segment

from .conftest import CORPUS

LATIN1_PAGE = CORPUS / "trafilatura-eval" / "html" / "kyffhaeuser-nachrichten.de-Regen.html.gz"


def reread(page, tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(serialize(page))
    return read_labelled(path)


def test_an_element_with_blocks_of_several_labels_takes_the_one_covering_most_of_its_text(tmp_path):
    page = segment("<p>A long paragraph of the article, with many more words in it<br>Read more: other</p>"
                   "<p>By Jo<br>Home, World, Sport, Business, Opinion, Culture</p><p>Own text</p>")
    wanted = ["content", "promo", "content", "navigation", "content"]
    assert apply_labels(page, wanted) == [1, 2]  # the blocks that did not get the label asked for
    after = reread(page, tmp_path)
    assert [b.label for b in after.blocks] == ["content", "content", "navigation", "navigation", "content"]
    assert [b.text for b in after.blocks] == [b.text for b in page.blocks]


def test_unlabelled_blocks_inside_a_labelled_element_inherit_its_label(tmp_path):
    page = segment("<div>Intro text of the box<p>Child paragraph</p><p>Second child</p></div>")
    assert apply_labels(page, ["promo", None, "content"]) == [1]
    assert [b.label for b in reread(page, tmp_path).blocks] == ["promo", "promo", "content"]


def read_as_other_tools_do(data: bytes) -> str:
    """The page's text as lxml's own parser reads it, trusting the declared charset as browsers do."""
    return " ".join(lxml.html.parse(io.BytesIO(data)).getroot().text_content().split())


def declarations(data: bytes) -> list[str]:
    tree = lxml.html.fromstring(data)
    return [lxml.html.tostring(m, encoding="unicode").strip() for m in tree.iter("meta")
            if m.get("charset") is not None or (m.get("http-equiv") or "").lower() == "content-type"]


@pytest.mark.parametrize("html", [
    '<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><h1>Caf\xe9 cr\xe8me</h1></body></html>',
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head>'
    '<body><p>Caf\xe9 cr\xe8me</p></body></html>',
    '<p>Caf\xe9 cr\xe8me, no head at all</p><p>D\xe9j\xe0 vu</p>',
    '<html><body><p>Before<meta charset="latin1">caf\xe9 after the meta</p></body></html>',
])
def test_serialize_declares_utf8_once_whatever_the_page_declared(html, tmp_path):
    page = segment(html.encode("cp1252"))
    data = serialize(page)
    assert declarations(data) == ['<meta charset="utf-8">']
    assert all(b.text in read_as_other_tools_do(data) for b in page.blocks)
    assert [b.text for b in reread(page, tmp_path).blocks] == [b.text for b in page.blocks]


def test_a_real_latin1_page_is_written_as_declared_utf8(tmp_path):
    page = read_page(LATIN1_PAGE)
    data = serialize(page)
    assert declarations(data) == ['<meta charset="utf-8">']
    accented = [b.text for b in page.blocks if not b.text.isascii()]
    assert len(accented) > 5 and all(text in read_as_other_tools_do(data) for text in accented)
    assert [b.text for b in reread(page, tmp_path).blocks] == [b.text for b in page.blocks]


def test_text_labels_typos_are_errors_and_dash_is_unlabelled():
    page = parse_text_labels("content\tUS envoy presses Russia\n-\tan unlabelled line\n"
                             "promo \tRead more: another story\nno tab here\n", "a.txt")
    assert [(b.label, b.text) for b in page.blocks] == [
        ("content", "US envoy presses Russia"), (None, "an unlabelled line"),
        ("promo", "Read more: another story"), (None, "no tab here")]
    for typo in ("contnet", "Content"):
        with pytest.raises(InputError, match=rf"a\.txt line 2: unknown label '{typo}'"):
            parse_text_labels(f"content\tA title\n{typo}\tA top US envoy today pressed Russia\n", "a.txt")


def test_text_with_tabs_stays_text_in_plain_pages_and_after_a_phrase():
    plain = parse_text_labels("Opening hours\nMonday\t9am to 5pm\n-\tTuesday closed\n", "plain.txt")
    assert [(b.label, b.text) for b in plain.blocks] == [
        (None, "Opening hours"), (None, "Monday 9am to 5pm"), (None, "- Tuesday closed")]  # as predicted
    mixed = parse_text_labels("content\tOpening hours\nOn weekdays\t9am to 5pm\n", "mixed.txt")
    assert [(b.label, b.text) for b in mixed.blocks] == [("content", "Opening hours"), (None, "On weekdays 9am to 5pm")]


def test_a_labelled_text_page_is_read_for_prediction_without_its_labels():
    from boilerclf.segment import segment

    page = segment("content\tA title\n-\tAn unlabelled line\nnavigation\tHome\n", text=True)
    assert [(b.label, b.text) for b in page.blocks] == [(None, "A title"), (None, "An unlabelled line"), (None, "Home")]
    bullets = segment("-\tFirst item\n-\tSecond item\n", text=True)  # a list, no labels
    assert [b.text for b in bullets.blocks] == ["- First item", "- Second item"]


def test_labels_and_prediction_read_a_text_page_alike_whatever_its_lines_without_a_label():
    """One line without a TAB made prediction (and `label`) read the page as plain text, label words and all."""
    pages = {"content\tThe council approved the budget on Tuesday.\nnavigation\tHome\nA line the labeller left bare\n":
             [("content", "The council approved the budget on Tuesday."), ("navigation", "Home"),
              (None, "A line the labeller left bare")],
             "content\tOpening hours\nOn weekdays\t9am to 5pm\n": [("content", "Opening hours"),
                                                                  (None, "On weekdays 9am to 5pm")]}
    for text, labelled in pages.items():
        assert [(b.label, b.text) for b in parse_text_labels(text).blocks] == labelled
        assert [(b.label, b.text) for b in segment(text, text=True).blocks] == [(None, t) for _, t in labelled]
    table = "content\t12\ntotal\t17\n"  # a single word before a TAB: plain text, or a typo where labels are read
    assert [b.text for b in segment(table, text=True).blocks] == ["content 12", "total 17"]
    with pytest.raises(InputError, match="line 2: unknown label 'total'"):
        parse_text_labels(table)


def test_a_labelled_text_page_saved_with_a_bom_and_crlf_is_read_with_its_labels(tmp_path):
    """Notepad's UTF-8 starts the file with a BOM, which stuck to the first label: `train` refused the page
    (unknown label '\\ufeffnavigation') and `predict` read it as plain text, label words and all."""
    path = tmp_path / "notepad.txt"
    path.write_bytes(b"\xef\xbb\xbfnavigation\tSkip to main content\r\ncontent\tUS envoy presses Russia\r\n")
    assert [(b.label, b.text) for b in read_labelled(path).blocks] == [
        ("navigation", "Skip to main content"), ("content", "US envoy presses Russia")]
    assert [b.text for b in read_page(path).blocks] == ["Skip to main content", "US envoy presses Russia"]


def raw_texts(page) -> list[str]:
    return [el.text for el in page.tree.iter("iframe", "noembed", "noframes", "xmp") if el.text]


def test_rewriting_a_page_keeps_the_raw_text_of_its_iframes_and_xmp_as_it_was(tmp_path):
    """libxml2 reads their text raw but escaped it when writing: each `relabel` added an `&amp;`
    (`&lt;noframe&gt;` became `&amp;lt;noframe&amp;gt;`), and an `<xmp>` block's text changed."""
    page = read_page(CORPUS / "newspaper-pages" / "html" / "telegraph.co.uk1.html.gz")
    before = raw_texts(page)
    assert any(text.startswith("<noframe>Twitter: ") for text in before)  # its tweets' fallback text
    assert raw_texts(reread(reread(page, tmp_path), tmp_path)) == before
    xmp = segment("<p>Tom and Jerry</p><xmp>Tom &amp; Jerry <3</xmp>")
    assert [b.text for b in reread(reread(xmp, tmp_path), tmp_path).blocks] == ["Tom and Jerry", "Tom &amp; Jerry <3"]
