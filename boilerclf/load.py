"""Stage 1: bytes in any encoding → text → DOM.

Encodings are decided from the bytes, not trusted from the declaration: a page that is
UTF-8 but for a few bad bytes is UTF-8 whatever it says; otherwise the declared charset (the
page's, then its HTTP header's for an archived response) is tried, then charset-normalizer's
guess leaning to cp1252, then cp1252 (which never fails).
"""
from __future__ import annotations

import bisect
import codecs
import gzip
import re
import zlib
from pathlib import Path
from typing import Optional

import charset_normalizer
from lxml import etree

from .page import InputError

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz", ".xhtml.gz")
TEXT_SUFFIXES = (".txt", ".txt.gz")
PAGE_SUFFIXES = HTML_SUFFIXES + TEXT_SUFFIXES

#: "utf-8-sig", not "utf-8", which keeps the BOM as U+FEFF: stuck to a text page's first label (utf-16/32 drop theirs)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def is_text_path(path: Path | str) -> bool:
    return str(path).lower().endswith(TEXT_SUFFIXES)


class TooLarge(InputError):
    """A page over the size limit (`--max-bytes`)."""

    def __init__(self, what: str, limit: int):
        super().__init__(f"{what} is over the {limit:,}-byte page limit")


def read_bytes(path: Path | str, max_bytes: int = 0) -> bytes:
    """Read a page file, un-gzipping `.gz` files; over `max_bytes` (0: no limit) is an InputError."""
    path = Path(path)
    limit = max_bytes + 1 if max_bytes else -1
    try:
        with (gzip.open if path.suffix.lower() == ".gz" else open)(path, "rb") as f:
            data = f.read(limit)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise InputError(f"{path} is not a valid gzip file: {e}") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    if max_bytes and len(data) > max_bytes:
        raise TooLarge(str(path), max_bytes)
    return data


_MAGIC = ((b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"),
          (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x1f\x8b", "gzip data"),
          (b"RIFF", "a RIFF (WebP/WAV/AVI) file"), (b"\x00\x00\x01\x00", "an icon"), (b"OggS", "an Ogg file"))
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text shows a NUL in every other byte; other text
    (Russian, Japanese) decodes without error and has spaces or line breaks, which bytes of any
    other encoding, read as UTF-16, almost never give (random bytes fail on lone surrogates)."""
    if len(head) < 8:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > len(head) * 0.4 and even < len(head) * 0.05:
        return "utf-16-le"
    if even > len(head) * 0.4 and odd < len(head) * 0.05:
        return "utf-16-be"
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(head, False)
        except UnicodeDecodeError:
            continue
        if sum(map(text.count, " \n\t\u3000")) > max(2, len(text) * 0.01):
            return encoding
    return None


def sniff_binary(data: bytes) -> None:
    """Refuse images, PDFs, archives and other binary data given as a page."""
    head = data[:4096]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"binary data, not a page ({what})")
    # random bytes are ~10% control bytes and not UTF-8; pages in legacy encodings have next to no
    # control bytes, while UTF-8 pages may carry runs of stray ones (up to 10% accepted)
    limit = 0.1 if _mostly_utf8(head, final=len(data) <= len(head)) is not None else 0.02
    if len(_CONTROL.findall(head)) > max(4, len(head) * limit) and not _utf16_without_bom(head):
        raise InputError("binary data, not a page (too many control bytes)")


#: the signatures with at least three ASCII bytes, as text: their other bytes are any non-ASCII
#: character, which is what any decoding makes of them (U+FFFD, "‰" in cp1252, "\x89" in Latin-1)
_TEXT_MAGIC = tuple((magic.decode("latin-1"), what) for magic, what in _MAGIC if sum(b < 0x80 for b in magic) >= 3)


def sniff_binary_text(text: str) -> None:
    """Refuse a PDF, PNG, ZIP… given as a str: bytes that a caller decoded (`requests`' `r.text` of a
    PDF link, a JSONL archive's `html`) were labelled as a page of gibberish, where their bytes are
    refused. Signatures are looked for where they survive any decoding (a JPEG's is all non-ASCII)."""
    for magic, what in _TEXT_MAGIC:
        if len(text) >= len(magic) and all(m == t or (m >= "\x80" and t >= "\x80") for m, t in zip(magic, text)):
            raise InputError(f"binary data, not a page ({what})")
    # the others (a JPEG, gzip) by what decoding makes of their bytes: ~10% control characters and
    # ~40% U+FFFD (UTF-8) or Latin-1 letters; a page with stray control bytes is still mostly markup
    head = text[:4096]
    if len(_TEXT_CONTROL.findall(head)) > max(4, len(head) * 0.02) and len(_UNDECODED.findall(head)) > len(head) * 0.2:
        raise InputError("binary data, not a page (too many control characters)")


_TEXT_CONTROL = re.compile(_CONTROL.pattern.decode("latin-1"))
_UNDECODED = re.compile("[\x80-\xff\ufffd]")  # what decoding makes of non-ASCII bytes that are no text


#: charset-normalizer's names of the encodings browsers decode (WHATWG), less the Mac ones they never guess
_WEB = set("""ascii latin_1 cp1250 cp1251 cp1252 cp1253 cp1254 cp1255 cp1256 cp1257 cp1258 cp874 tis_620 cp866
    koi8_r koi8_u iso8859_2 iso8859_3 iso8859_4 iso8859_5 iso8859_6 iso8859_7 iso8859_8
    iso8859_9 iso8859_10 iso8859_11 iso8859_13 iso8859_14 iso8859_15 iso8859_16 gb2312 gbk gb18030 big5
    big5hkscs euc_jp euc_jis_2004 iso2022_jp shift_jis cp932 euc_kr cp949 utf_8 utf_16_be utf_16_le utf_16""".split())
_AS_BROWSERS = {"iso8859-1": "cp1252", "ascii": "cp1252", "iso8859-9": "cp1254", "gb2312": "gb18030", "gbk": "gb18030"}
#: characters XML forbids (C0 controls, surrogates, U+FFFE/U+FFFF): no page shows them, and lxml
#: parses them into the DOM but refuses them when rendering moves text, so they go at decoding
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def decode(data: bytes | str, charset: Optional[str] = None) -> str:
    """Decode page bytes to text, without the characters XML forbids; never fails on any byte
    string (see `sniff_binary` for refusals). `charset`: the one an HTTP header declared (a WARC
    response's), for a page that declares none itself. A str loses a leading BOM (U+FEFF), as bytes
    do in decoding: else it stuck to a text page's first label (requests' `r.text` keeps it)."""
    text = data.removeprefix("\ufeff") if isinstance(data, str) else _decode_bytes(data, charset)
    if _NOT_XML.search(text) is None:  # nearly every page: one scan
        return text
    # vertical tab and form feed separate words; the others go (a sub without a callback: 20 MB of
    # control characters in ~1.5 s rather than ~5)
    return _NOT_XML.sub("", text.replace("\x0b", " ").replace("\x0c", " "))


def _decode_bytes(data: bytes, charset: Optional[str] = None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    utf16 = _utf16_without_bom(data[:4096])
    if utf16:
        return data.decode(utf16, errors="replace")
    text = _mostly_utf8(data)
    if text is not None:
        return text
    declared = _DECLARED.search(data[:4096])
    # the page's own declaration, then the HTTP header's: browsers take the header first, but a
    # server's default (Apache's ISO-8859-1) is wrong more often than the page's author
    names = [(declared.group(1) or declared.group(2)).decode("ascii", "ignore")] if declared else []
    names = [name for name in names if _ascii_compatible(name)]
    for name in names + ([charset] if charset else []):
        try:  # browsers read pages labelled Latin-1 or ASCII as windows-1252 (WHATWG): their “quotes” and € are cp1252
            return data.decode(_AS_BROWSERS.get(codecs.lookup(name).name, name))
        except (LookupError, UnicodeError):  # UnicodeError: the "undefined" codec, which fails on anything
            pass
    # only encodings browsers decode: charset-normalizer also tries DOS and Mac code pages (cp775,
    # cp852, hp_roman8...) that no web page uses, and that often outscore cp1252 on Western pages
    matches = [m for m in charset_normalizer.from_bytes(data[:200_000]) if _WEB & set(m.could_be_from_charset)]
    if not matches:
        return data.decode("cp1252", errors="replace")
    best = matches[0]
    encoding = next(e for e in best.could_be_from_charset if e in _WEB)
    # cp1252 is the web's usual single-byte encoding and what browsers assume for undeclared
    # Western pages (and for "ascii" or "latin-1"), while charset-normalizer's ranking of the Latin
    # code pages is noisy (French read as cp1250): cp1252 wins unless another is more coherent or
    # clearly less chaotic (Turkish cp1254: ~0.05), but not a reading in no language (coherence 0:
    # an English text's few curly quotes and dashes read as CJK, "that’s" as "that鈥檚")
    if encoding in ("ascii", "latin_1") or any(
            "cp1252" in m.could_be_from_charset and (m.coherence > best.coherence == 0
                                                     or m.chaos <= best.chaos + 0.03 and m.coherence >= best.coherence)
            for m in matches):
        encoding = "cp1252"
    return data.decode(encoding, errors="replace")


def _ascii_compatible(name: str) -> bool:
    """Whether an encoding reads ASCII bytes as ASCII: a page's own declaration, found as ASCII in
    its bytes, cannot name one that does not (UTF-16, UTF-32, EBCDIC), as WHATWG has browsers know."""
    try:
        # bytes.decode, not codecs.decode, which runs bytes-to-bytes codecs (zlib: its own error)
        return b"<meta charset=x>".decode(name) == "<meta charset=x>"
    except (LookupError, UnicodeError, TypeError, ValueError):  # no text encoding, or not one of ASCII (UTF-32)
        return False


def _mostly_utf8(data: bytes, final: bool = True) -> str | None:
    """The text if `data` is UTF-8 with at most a few bad bytes, replaced by U+FFFD as browsers do
    (`final=False`: `data` is the start of a page, and a character it cuts at the end is no error).

    A UTF-8 page with a stray Latin-1 byte has far more valid multi-byte characters than invalid
    sequences; a single-byte page (cp1252, even labelled UTF-8) has the reverse, and stays for
    the guessing below.
    """
    utf8 = codecs.getincrementaldecoder("utf-8")
    try:
        return utf8("strict").decode(data, final)
    except UnicodeDecodeError:
        pass
    text = utf8("replace").decode(data, final)
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # invalid sequences (one U+FFFD each)
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # valid multi-byte characters
    return text if good >= bad and good else None  # a tie: a page with one é and one stray byte is UTF-8


def build_dom(text: str):
    """Parse HTML text into an lxml document; an empty, unparsable or too deep page is an InputError.

    A parser per call: its error log is how libxml2 says it cut a page nested deeper than
    it allows (2,048 levels), which would otherwise lose that text silently, and where it dropped
    a `</br>` or a `</script>` (see `break_end_brs`, `open_raw_text`): only those pages are
    rewritten and parsed again (scanning every page cost ~0.1 ms).
    """
    text = close_noscripts(_XML_DECL.sub("", text, count=1))
    if not text.strip():
        raise InputError("empty page")
    tree, errors = _parse(text)
    if len(errors) >= _MAX_ERRORS or not _REWRITTEN.isdisjoint(errors):
        rewritten = break_end_brs(open_raw_text(text))
        if rewritten != text:
            tree, errors = _parse(rewritten)
    if tree.getnext() is not None:  # rare: only pages with something after `</html>`
        _adopt_after_html(tree)
    _close_void(tree)
    return tree


#: libxml2's words for a `</br>` it dropped, and for the end tag of a `<script/>` or `<style/>` it closed at once
_REWRITTEN = frozenset(f"Unexpected end tag : {tag}" for tag in ("br", "script", "style"))
_MAX_ERRORS = 100  # libxml2 reports no more on a page: past them, those may go unsaid


def _parse(text: str):
    """The document and libxml2's error messages."""
    # etree's parser, not lxml.html's: its elements need no Python class lookup, which cost
    # more than the parse itself on every walk
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        tree = etree.fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise InputError(f"cannot parse HTML: {e}") from None
    if tree is None:
        raise InputError("cannot parse HTML: no elements")
    errors = [entry.message for entry in parser.error_log]
    if any("Excessive depth" in error for error in errors):
        raise InputError("page nested deeper than the 2,048 levels the HTML parser allows")
    return tree, errors


def _adopt_after_html(root) -> None:
    """Move into the body what libxml2 put in further `<html>` roots: it starts a new root for
    anything after `</html>`, which `fromstring` does not return, so the walk never saw it (a page
    ending its head with `</head></html>` lost its whole body). Browsers append all that follows
    `</html>` to the body, ignoring its html, head and body tags but for a later body's attributes
    that the body lacks, as done here."""
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    texts: list[str] = []  # text met since the last element moved, joined once (see `_move_content`)
    extra = root.getnext()
    while extra is not None:
        following = extra.getnext()
        _move_content(extra, body, texts)
        extra = following
    _append_text(body, texts)


def _move_content(source, body, texts: list[str]) -> None:
    """`source`'s text and children, in order, to the end of `body`, a head or body among them unwrapped.
    Text goes to `texts` until the next element moves: added to the same tail one root at a time, it
    was copied again for each (`</html>` and a word, 40,000 times over, took 2.6 s)."""
    texts.append(source.text or "")
    source.text = None
    for child in list(source):
        if child.tag in ("head", "body"):
            if child.tag == "body":  # as browsers do: its class/id are cues of every block inside
                for name, value in child.attrib.items():
                    if name not in body.attrib:
                        body.set(name, value)
            tail, child.tail = child.tail, None
            _move_content(child, body, texts)
            texts.append(tail or "")
            source.remove(child)
        else:
            _append_text(body, texts)
            body.append(child)  # its tail comes along


def _append_text(parent, texts: list[str]) -> None:
    """`texts` joined after `parent`'s last child (or in it, if it has none); `texts` emptied."""
    text = "".join(texts)
    texts.clear()
    if text:
        last = parent[-1] if len(parent) else None
        if last is None:
            parent.text = (parent.text or "") + text
        else:
            last.tail = (last.tail or "") + text


#: a <noscript>'s tags (bounded: a `<noscript` never closed by `>` must not be rescanned to the end each time)
_NOSCRIPT = re.compile(r"<(/?)noscript\b[^>]{0,2000}>", re.I)
_DIV_TABLE = re.compile(r"<(/?)(div|table)\b[^>]*?(/?)>", re.I)  # the last group: `<div/>`, closed by libxml2


def close_noscripts(text: str) -> str:
    """The page with the <div>s and <table>s left open in a <noscript> closed before its end tag.

    libxml2 parses a noscript's markup (a browser running scripts reads it as raw text up to the
    first </noscript>) and lets no </noscript> close an open <div> or <table>: after
    `<noscript><div id="nojs">` the end tag was ignored and the rest of the page nested in the
    noscript, which the segmenter skips (a whole article lost). Closing them, not dropping the
    span, keeps all text should the span start inside a script or a comment; every other
    noscript is left as it is, parsed as before. One pass over the tags: linear in the page.
    """
    pieces, done, start = [], 0, None
    for match in _NOSCRIPT.finditer(text):
        if not match[1]:
            start = match.end() if start is None else start  # a <noscript> inside one is its raw text
            continue
        if start is None:
            continue
        opened: dict[str, list[int]] = {"div": [], "table": []}  # where each open one started, by tag
        for n, (slash, tag, closed) in enumerate(_DIV_TABLE.findall(text, start, match.start())):
            tag = tag.lower()
            if closed:
                continue
            if not slash:
                opened[tag].append(n)
            elif opened[tag]:  # the innermost open one (a list of both searched for it: quadratic)
                opened[tag].pop()
        left = sorted((n, tag) for tag, starts in opened.items() for n in starts)
        if left:  # rare: nearly every page's text stays as it is
            pieces += [text[done:match.start()], *(f"</{tag}>" for _, tag in reversed(left))]
            done = match.start()
        start = None
    return "".join(pieces) + text[done:] if pieces else text


_SELF_CLOSED_RAW = re.compile(r"<(script|style)\b[^<>]*?(/)\s*>", re.I)  # `<script src="a.js"/>`


def open_raw_text(text: str) -> str:
    """The page with the `/` of a self-closed <script/> or <style/> dropped where its `</script>`
    (`</style>`) comes before another such start tag. libxml2 honours the `/` and ends the element
    at once; browsers ignore it and read on as code to the end tag, so the code in between became
    visible text, and blocks. Where another <script> comes first (`<script src="a.js"/>` in XHTML
    habits, then markup) the text in between is left as libxml2 reads it. Linear in the page."""
    found = list(_SELF_CLOSED_RAW.finditer(text))
    if not found:
        return text
    starts = {tag: [m.start() for m in re.finditer(f"<{tag}\\b", text, re.I)] for tag in ("script", "style")}
    ends = {tag: [m.start() for m in re.finditer(f"</{tag}\\s*>", text, re.I)] for tag in ("script", "style")}
    pieces, done = [], 0
    for match in found:
        tag = match[1].lower()
        end = bisect.bisect_left(ends[tag], match.end())
        following = bisect.bisect_left(starts[tag], match.end())
        if end < len(ends[tag]) and (following == len(starts[tag]) or ends[tag][end] < starts[tag][following]):
            pieces += [text[done:match.start(2)]]
            done = match.end(2)
    return "".join(pieces) + text[done:] if pieces else text


_END_BR = re.compile(r"</br\b[^>]*>", re.I)
_RAW = ("script", "style", "textarea", "title", "iframe", "noembed", "noframes", "xmp")  # text up to their end tag
_RAW_OR_COMMENT = re.compile(rf"<!--|<({'|'.join(_RAW)})\b[^>]*>", re.I)
_END_RAW = {name: re.compile(rf"</{name}[\s/>]", re.I) for name in _RAW}


def break_end_brs(text: str) -> str:
    """The page with each `</br>` outside comments and raw text (scripts, styles...) made a `<br>`.

    HTML reads `</br>` as `<br>`; libxml2 dropped it, so the lines on either side became one block,
    their words glued where no space stood between them ("Match</br>Report"). A raw-text start
    tag still self-closed is closed, as libxml2 reads it (`open_raw_text` opened the others).
    `build_dom` asks for this only where libxml2 reported a dropped `</br>` or `</script>`, or
    100 errors (37 of 1,192 corpus pages).
    """
    pieces, pos = [], 0
    # no tag is whole after the last `>`: searching there, each `<script`, `<title`… would be scanned
    # on to the end of the page for a `>` (quadratic: 700 KB of `<title ` took 20 s)
    last = text.rfind(">") + 1
    while (found := _RAW_OR_COMMENT.search(text, pos, last)) is not None:
        pieces.append(_breaks(text[pos:found.start()]))
        if found[1] is None:  # a comment
            close = text.find("-->", found.end())
            pos = len(text) if close < 0 else close + 3
        elif found[0].endswith("/>"):
            pos = found.end()
        else:
            end = _END_RAW[found[1].lower()].search(text, found.end())
            pos = end.end() if end else len(text)
        pieces.append(text[found.start():pos])
    pieces.append(_breaks(text[pos:]))
    return "".join(pieces)


def _breaks(text: str) -> str:
    """`text` with each `</br>` made a `<br>`; linear, as `break_end_brs` (after the last `>`, each
    `</br` would be scanned on to the end for one)."""
    last = text.rfind(">") + 1
    return _END_BR.sub("<br>", text[:last]) + text[last:]


#: void in HTML5 but not to libxml2's HTML4 parser, which nests what follows them inside them
#: (`<picture><source><img></source>`, `<p>a <embed> b</embed></p>`)
_VOID = ("source", "track", "embed", "wbr", "keygen")


def _close_void(tree) -> None:
    """Move what libxml2 put inside a void element back after it, where the page had it: else
    images in `<picture>` and the text after an `<embed>` were dropped with the element."""
    for el in list(tree.iter(*_VOID)):
        children = list(el)
        if not children and not el.text:
            continue
        after = el.tail
        el.tail, el.text = el.text, None
        anchor = el
        for child in children:  # each after the last: constant time, where index/insert walk the siblings
            anchor.addnext(child)
            anchor = child
        anchor.tail = (anchor.tail or "") + (after or "") or None
