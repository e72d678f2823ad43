"""Stage 1: bytes in any encoding → text → DOM.

Encodings are decided from the bytes, not trusted from the declaration: a page that
decodes as strict UTF-8 is UTF-8 whatever it says; otherwise the declared charset is
tried, then charset-normalizer's guess, then cp1252 (which never fails).
"""
from __future__ import annotations

import codecs
import gzip
import re
import zlib
from pathlib import Path

import charset_normalizer
from lxml import etree

from .page import InputError

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")
TEXT_SUFFIXES = (".txt", ".txt.gz")
PAGE_SUFFIXES = HTML_SUFFIXES + TEXT_SUFFIXES

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def is_text_path(path: Path | str) -> bool:
    return str(path).lower().endswith(TEXT_SUFFIXES)


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
        raise InputError(f"{path} is over the {max_bytes:,}-byte page limit")
    return data


_MAGIC = ((b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"),
          (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"), (b"\x1f\x8b", "gzip data"),
          (b"RIFF", "a RIFF (WebP/WAV/AVI) file"), (b"\x00\x00\x01\x00", "an icon"), (b"OggS", "an Ogg file"))
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM shows as a NUL in every other byte."""
    if len(head) >= 8:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) * 0.4 and even < len(head) * 0.05:
            return "utf-16-le"
        if even > len(head) * 0.4 and odd < len(head) * 0.05:
            return "utf-16-be"
    return None


def sniff_binary(data: bytes) -> None:
    """Refuse images, PDFs, archives and other binary data given as a page."""
    head = data[:4096]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"binary data, not a page ({what})")
    if head and len(_CONTROL.findall(head)) > len(head) * 0.1 and not _utf16_without_bom(head):
        raise InputError("binary data, not a page (too many control bytes)")


#: characters XML forbids (C0 controls, surrogates, U+FFFE/U+FFFF): no page shows them, and lxml
#: parses them into the DOM but refuses them when rendering moves text, so they go at decoding
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def decode(data: bytes | str) -> str:
    """Decode page bytes to text, without the characters XML forbids; never fails on any byte
    string (see `sniff_binary` for refusals)."""
    text = data if isinstance(data, str) else _decode_bytes(data)
    if _NOT_XML.search(text) is None:  # nearly every page: one scan
        return text
    # vertical tab and form feed separate words; the others go (a sub without a callback: 20 MB of
    # control characters in ~1.5 s rather than ~5)
    return _NOT_XML.sub("", text.replace("\x0b", " ").replace("\x0c", " "))


def _decode_bytes(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    utf16 = _utf16_without_bom(data[:4096])
    if utf16:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(data[:4096])
    if declared:
        name = (declared.group(1) or declared.group(2)).decode("ascii", "ignore")
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    matches = list(charset_normalizer.from_bytes(data[:200_000]))
    encoding = matches[0].encoding if matches else "cp1252"
    # On ties (common for short pages) prefer cp1252: the web's usual single-byte encoding,
    # and what browsers assume for pages mislabelled as UTF-8 or Latin-1.
    if any(m.encoding == "cp1252" and m.chaos <= matches[0].chaos and m.coherence >= matches[0].coherence
           for m in matches):
        encoding = "cp1252"
    return data.decode(encoding, errors="replace")


def build_dom(text: str):
    """Parse HTML text into an lxml document; an empty, unparsable or too deep page is an InputError.

    A parser per call: its error log is how libxml2 says it cut a page nested deeper than
    it allows (2,048 levels), which would otherwise lose that text silently.
    """
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        raise InputError("empty page")
    # etree's parser, not lxml.html's: its elements need no Python class lookup, which cost
    # more than the parse itself on every walk
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        tree = etree.fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise InputError(f"cannot parse HTML: {e}") from None
    if tree is None:
        raise InputError("cannot parse HTML: no elements")
    if any("Excessive depth" in entry.message for entry in parser.error_log):
        raise InputError("page nested deeper than the 2,048 levels the HTML parser allows")
    return tree
