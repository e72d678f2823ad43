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
import lxml.html
from lxml import etree

from .page import InputError

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")
TEXT_SUFFIXES = (".txt", ".txt.gz")
PAGE_SUFFIXES = HTML_SUFFIXES + TEXT_SUFFIXES

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)


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


def decode(data: bytes | str) -> str:
    """Decode page bytes to text; never fails on any byte string."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").replace("\x00", "")
    try:
        return data.decode("utf-8").replace("\x00", "")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(data[:4096])
    if declared:
        name = (declared.group(1) or declared.group(2)).decode("ascii", "ignore")
        try:
            return data.decode(name).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            pass
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    encoding = best.encoding if best else "cp1252"
    return data.decode(encoding, errors="replace").replace("\x00", "")


def build_dom(text: str):
    """Parse HTML text into an lxml document; an empty or unparsable page is an InputError."""
    text = _XML_DECL.sub("", text, count=1)
    if not text.strip():
        raise InputError("empty page")
    try:
        return lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as e:
        raise InputError(f"cannot parse HTML: {e}") from None
