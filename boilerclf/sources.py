"""Where pages come from: files, folders, glob patterns, stdin lists, WARC archives, JSONL dumps.

A *source* is one input file. Page files (.html, .htm, .xhtml, .txt, optionally .gz) hold one page;
WARC and JSONL files hold many *records*, each a page. Records are read lazily, so an
archive of any size streams through in constant memory.
"""
from __future__ import annotations

import contextlib
import functools
import glob
import gzip
import itertools
import json
import os
import re
import sys
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .load import PAGE_SUFFIXES, TooLarge, decode
from .page import InputError, InputWarning

WARC_SUFFIXES = (".warc", ".warc.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
ARCHIVE_SUFFIXES = WARC_SUFFIXES + JSONL_SUFFIXES
ALL_SUFFIXES = PAGE_SUFFIXES + ARCHIVE_SUFFIXES
MANIFEST = "pages.jsonl"  # a labelled folder's list of pages
ERRORS_FILE = "boilerclf-errors.jsonl"  # what `clean` writes next to its outputs
#: files a folder walk passes over: they sit among pages but hold none
NOT_PAGES = frozenset({MANIFEST, ERRORS_FILE})


def kind_of(path: Path | str) -> str:
    name = str(path).lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return "page"


@dataclass(frozen=True)
class Source:
    path: Path
    relative: Path  # below the folder it was found in: the output mirrors it

    @property
    def root(self) -> Path:
        """The folder the input was found in (the file's own folder for a file named directly)."""
        return Path(*self.path.parts[: len(self.path.parts) - len(self.relative.parts)]) or Path(".")

    @property
    def kind(self) -> str:
        return kind_of(self.path)

    def output(self, outdir: Path, suffix: str) -> Path:
        """The output file: the relative path with its page/archive suffix replaced."""
        name = self.relative.name
        lower = name.lower()
        for known in sorted(ALL_SUFFIXES, key=len, reverse=True):
            if lower.endswith(known):
                name = name[: -len(known)]
                break
        return outdir / self.relative.parent / (name + (".jsonl" if self.kind != "page" else suffix))


def _warn(message: str) -> None:
    warnings.warn(InputWarning(message))


def _is_folder(entry: os.DirEntry | Path) -> bool:
    try:
        return entry.is_dir()  # a symlinked folder too
    except OSError:  # cannot be looked at: taken as a file, whose reading then fails with the reason
        return False


def _is_file(entry: os.DirEntry | Path) -> bool:
    """A file or a link (a broken one fails when read, with its reason); not a fifo or a socket."""
    try:
        return entry.is_file() or entry.is_symlink()
    except OSError:
        return True


def _keys_without_html(path: Path, looked_at: int = 10) -> Optional[str]:
    """A JSONL file whose first records are JSON, none an object with an "html" or "text" key (a corpus's
    metadata, such as snippets.jsonl next to its pages), is no archive: the keys they have, to
    tell the user. None for anything else, which is read as an archive, so that each bad record is
    reported: a crawl dump whose first fetches failed (`"html": null`) still has its good records cleaned."""
    try:
        with _open(path) as stream:
            lines = itertools.islice((line for line in stream if line.strip()), looked_at)
            items = [json.loads(line) for line in lines]
    except (OSError, EOFError, zlib.error, ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return None
    if not items or any(isinstance(item, dict) and PAGE_KEYS & item.keys() for item in items):
        return None
    return _keys({key for item in items if isinstance(item, dict) for key in item})


def _keys(keys: Iterable) -> str:
    """Some keys, for a message (a record of a million keys must not make one a megabyte long)."""
    names = sorted(map(str, keys))
    return ", ".join(names[:12]) + (", …" if len(names) > 12 else "") if names else "none"


def _is_input(path: Path) -> bool:
    name = path.name
    if not name.lower().endswith(ALL_SUFFIXES) or name in NOT_PAGES:
        return False
    keys = _keys_without_html(path) if kind_of(path) == "jsonl" else None
    if keys is not None:
        _warn(f"{path} passed over: none of its first records has an \"html\" or \"text\" key (their keys: {keys}), "
              "so it is not an archive of pages")
        return False
    return True


def walk(folder: Path, outdir: Optional[Path] = None) -> Iterator[Path]:
    """The page and archive files under `folder`, in name order. Symlinked folders are followed,
    as symlinked files are read, when they lead to a folder under `folder`: one that leads out
    (`ln -s / in/root`) would walk the whole machine, and is passed over with an `InputWarning`.
    Each real folder is walked once (a link to an ancestor ends there), and never the output
    folder `outdir`. A folder that cannot be read (no permission, or gone meanwhile) is passed
    over with an `InputWarning` naming it."""
    seen: set[tuple[int, int]] = set()
    if outdir is not None:
        with contextlib.suppress(OSError):
            seen.add(_identity(outdir))
    return _walk(folder, seen, folder)


def _identity(folder: Path) -> tuple[int, int]:
    info = os.stat(folder)
    return info.st_dev, info.st_ino


def _leads_out(entry: os.DirEntry, path: Path, root: Path) -> bool:
    """Whether `entry` is a symlinked folder whose real path is not under `root`'s (with a warning)."""
    if not entry.is_symlink():
        return False
    real = os.path.realpath(path)
    if Path(real).is_relative_to(os.path.realpath(root)):
        return False
    _warn(f"{path} links outside {root} (to {real}): not followed")
    return True


def _walk(folder: Path, seen: set[tuple[int, int]], root: Path) -> Iterator[Path]:
    try:
        identity = _identity(folder)
        if identity in seen:
            return
        seen.add(identity)
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as e:
        _warn(f"cannot read the folder {folder} ({e.strerror or e}): its pages are left out")
        return
    for entry in entries:
        path = folder / entry.name
        if _is_folder(entry):
            if not _leads_out(entry, path, root):
                yield from _walk(path, seen, root)
        elif _is_file(entry) and _is_input(path):
            yield path


def _expand(item: str, outdir: Optional[Path]) -> Iterator[tuple[Path, Path]]:
    path = Path(item)
    if _is_folder(path):
        if outdir is not None and outdir.resolve().is_relative_to(path.resolve()):
            raise InputError(f"the output folder {outdir} is inside the input folder {path}: each run would read "
                             "the last run's outputs as inputs; choose an output folder outside it")
        for found in walk(path, outdir):
            yield found, found.relative_to(path)
    elif _is_file(path):
        yield path, Path(path.name)
    elif glob.has_magic(item):
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            raise InputError(f"no files match {item}")
        # names below the pattern's fixed folder are kept: crawl/**/*.html mirrors crawl's subfolders
        base = Path(*itertools.takewhile(lambda part: not glob.has_magic(part), path.parts))
        for match in map(Path, matches):
            below = match.relative_to(base)
            for found, relative in _expand(str(match), outdir):
                yield found, (below if match.is_dir() else below.parent) / relative
    else:
        raise InputError(f"no such file or folder: {item}" + (" (`-` reads a list of input paths from stdin, "
                                                               "not a page)" if "<" in item else ""))


def _listed(stdin: Iterable[str]) -> list[str]:
    """The paths of a stdin list, one a line. A page piped in is refused: its lines taken as
    paths are nonsense, and its `//` comments walk the whole file system."""
    lines = [line.strip() for line in stdin]
    first = next((line for line in lines if line), "")
    if first.startswith("<") or any("<html" in line.lower() or "<!doctype" in line.lower() for line in lines):
        raise InputError("stdin holds a page, but `-` reads a list of input paths, one a line: pass the page's "
                         "file name instead")
    return [line for line in lines if line]


def find_sources(inputs: Iterable[str | Path], outdir: Optional[Path] = None,
                 missing: Optional[list[str]] = None) -> list[Source]:
    """Every input file: folders are walked, globs expanded, and `-` reads paths from stdin.
    With `outdir` (where outputs go), a folder that contains it is refused, and files inside it
    (a glob or list that matches the last run's outputs) are passed over. With `missing`, the
    paths of a stdin list that do not exist are put there rather than stopping everything (a
    list of a million paths may hold a few stale ones)."""
    items: list[tuple[str, bool]] = []
    for item in map(str, inputs):
        if item == "-":
            items += [(line, True) for line in _listed(sys.stdin)]
        else:
            items.append((item, False))
    sources, seen = [], set()
    skip = outdir.resolve() if outdir is not None else None
    # listed absolute paths (or ones going up) keep their folders below those they all share, as a
    # glob keeps them below its fixed part: `find /crawl -name '*.html'` gives no two index.html;
    # not the last run's outputs, passed over below, lest a rerun's names move and nothing resume
    above = [os.path.dirname(os.path.abspath(item)) for item, listed in items
             if listed and _outside(item) and os.path.lexists(item)
             and not (skip and Path(item).resolve().is_relative_to(skip))]
    base = os.path.commonpath(above) if above else ""
    for item, listed in items:
        if listed and missing is not None and not os.path.lexists(item) and not (
                glob.has_magic(item) and glob.glob(item, recursive=True)):
            missing.append(item)
            continue
        plain = os.path.normpath(item)
        for path, relative in _expand(item, outdir):
            if listed and path == Path(item):  # a listed file keeps its folders, as `find` gives them
                relative = Path(os.path.relpath(os.path.abspath(plain), base)) if _outside(plain) else Path(plain)
            resolved = path.resolve()
            # a list or pattern that matches the last run's outputs: they are no inputs
            if resolved not in seen and not (skip and (listed or glob.has_magic(item)) and resolved.is_relative_to(skip)):
                seen.add(resolved)
                sources.append(Source(path, relative))
    return sources


def _outside(path: str) -> bool:
    """Whether a listed path is absolute or goes up, so that its folders cannot be mirrored as given."""
    return os.path.isabs(path) or os.path.normpath(path).startswith("..")


@dataclass
class Record:
    """One page inside an archive: its key, URL and bytes, or the reason it cannot be read."""

    key: str
    position: int = 0  # its line (JSONL) or record (WARC) number in the archive, from 1
    url: Optional[str] = None
    html: Optional[bytes | str] = None
    error: Optional[str] = None
    skipped: bool = False  # a WARC record that is not an HTML response
    text: bool = False  # a JSONL "text", or "html" without markup: a plain-text page (one paragraph per line)
    #: a WARC record's `WARC-Truncated` (the crawler cut the payload: "length", "time"…), or "partial" for a
    #: `206 Partial Content` response: a page not whole, said so in its output, where it was cleaned as if whole
    truncated: Optional[str] = None
    charset: Optional[str] = None  # a WARC response's HTTP Content-Type charset


def _open(path: Path):
    raw = open(path, "rb")
    return gzip.open(raw) if path.name.lower().endswith(".gz") and kind_of(path) == "jsonl" else raw


def jsonl_records(path: Path) -> Iterator[Record]:
    """Scrapers' JSONL: one `{"url": ..., "html": ...}` (or `"text": ...`) object per line (`id` optional)."""
    with _open(path) as stream:
        n = 0
        try:
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    item = _json_line(line)
                except (ValueError, RecursionError) as e:  # RecursionError: nested deeper than Python's stack
                    yield Record(key=f"line {n}", position=n, error=f"line {n} is not JSON ({e})")
                    continue
                page = _page_of(item)
                if page is None:
                    keys = f" (its keys: {_keys(item)})" if isinstance(item, dict) and not PAGE_KEYS & item.keys() else ""
                    yield Record(key=f"line {n}", position=n, error=f"line {n} has no \"html\" or \"text\" string{keys}")
                    continue
                # an id of 0 is an id (a dump numbered from 0): only a missing or empty one is not
                key = next((str(item[k]) for k in ("id", "url") if item.get(k) not in (None, "")), f"line {n}")
                yield Record(key=key, position=n, url=item.get("url"), html=page[0], text=page[1])
        except (OSError, EOFError, zlib.error) as e:
            yield Record(key=f"line {n + 1}", position=n + 1, error=f"archive unreadable after line {n}: {e}")


#: a tag, an end tag, a comment or a doctype: an "html" without any is scraped text, whose lines parsed as
#: HTML ran into one block (a newsletter pitch at its end kept with the article)
_MARKUP = re.compile(r"<[a-zA-Z!/?]")
PAGE_KEYS = frozenset({"html", "text"})  # what a JSONL record holds its page in


def _page_of(item: object) -> Optional[tuple[str, bool]]:
    """A JSONL record's page and whether it is plain text: its "html" (text if it has no markup), else its
    "text", which is text whatever it holds (an article on HTML that names `<script>` was parsed as HTML)."""
    if not isinstance(item, dict):
        return None
    html, text = item.get("html"), item.get("text")
    if isinstance(html, str):
        return html, bool(html.strip()) and not _MARKUP.search(html)
    return (text, True) if isinstance(text, str) else None


def _json_line(line: bytes):
    """A JSONL line's value. JSON is UTF-8; a line that is not (a scraper's file written in its
    system's encoding, cp1252 on Windows, or one with a stray byte) is decoded as a page's bytes are,
    where it failed whole as "not JSON"."""
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        return json.loads(decode(line))


def warc_records(path: Path, max_bytes: int = 0) -> Iterator[Record]:
    """HTML response records of a WARC or WARC.gz archive, and `resource` records of HTML; other
    records, and responses with an HTTP status other than 2xx (a 404 page, a redirect's stub: no
    page's content), are counted as skipped; a 206's range of a page is read, but marked (see `_partial`).
    A payload over `max_bytes` (0: no limit) is an error record, never held whole in memory. An
    archive cut short is an error, wherever the cut."""
    with open(path, "rb") as stream:
        n = 0
        try:
            iterator = _warc_iterator(stream)
            for n, record in enumerate(iterator, 1):
                key = record.rec_headers.get_header("WARC-Record-ID") or f"record {n}"
                url = record.rec_headers.get_header("WARC-Target-URI")
                length = (record.rec_headers.get_header("Content-Length") or "").strip()
                if not length.isdigit() and (record.rec_headers.protocol or record.rec_headers.headers):
                    # every WARC record has one (a "record" without even a `WARC/1.0` line is blank lines
                    # between gzip members); one cut in its first line or in `Content-Length: ` was skipped
                    yield Record(key=key, position=n, url=url,
                                 error=f"record {n} is truncated or corrupt: its WARC header has no Content-Length "
                                       "(the archive ends inside it?)")
                    continue
                content_type = record.http_headers.get_header("Content-Type", "") if record.http_headers else ""
                if record.rec_type == "response" and url is None:
                    yield Record(key=key, position=n,
                                 error=f"record {n} is a response without the WARC-Target-URI it must have")
                    continue
                status = (record.http_headers.get_statuscode() or "") if record.http_headers else ""
                page = record.rec_type == "response" and status[:1] in ("2", "")
                if record.rec_type == "resource":  # a page archived without HTTP (warcit, uploads): its WARC type says
                    content_type = record.rec_headers.get_header("Content-Type", "")
                    page = "html" in content_type.lower()
                try:
                    html = _html_payload(record, content_type, max_bytes) if page else None
                except (TooLarge, Undecodable) as e:
                    yield Record(key=key, position=n, url=url, error=str(e) if isinstance(e, TooLarge)
                                 else f"record {n}: {e}")
                    continue
                except Exception as e:  # a truncated payload
                    yield Record(key=key, position=n, url=url, error=f"record {n} is truncated or corrupt: {e}")
                    continue
                if html is None:
                    # cut in its HTTP header (no Content-Type yet) or in a payload left unread: no page known,
                    # but no whole record either, where it was counted as "not a page" and the cut went unsaid
                    if short := _short_by(record):
                        yield Record(key=key, position=n, url=url,
                                     error=f"record {n} is truncated or corrupt: the archive ends {short:,} bytes "
                                           "before the record does")
                        continue
                    yield Record(key=key, url=url, skipped=True)
                else:
                    yield Record(key=key, position=n, url=url, html=html, charset=_charset(content_type),
                                 truncated=record.rec_headers.get_header("WARC-Truncated")
                                 or _partial(status, record.http_headers))
            # a .warc.gz cut in the first bytes of a record's gzip member gives warcio no record at all
            left = _left_over(stream, iterator.offset)
            if left:
                yield Record(key=f"record {n + 1}", position=n + 1,
                             error=f"archive unreadable after record {n}: the last {left:,} bytes are no whole "
                                   "record (the archive is cut short?)")
        except Exception as e:  # warcio raises many kinds on a truncated or non-WARC file
            yield Record(key=f"record {n + 1}", position=n + 1,
                         error=f"archive unreadable after record {n}: {type(e).__name__}: {e}")


def _left_over(stream, offset: int) -> int:
    """How many bytes of the archive lie after its last whole record, `offset`; padding (blank
    lines, NUL bytes, an empty gzip member) is none."""
    left = os.fstat(stream.fileno()).st_size - offset
    if left <= 0:
        return 0
    stream.seek(offset)
    tail = stream.read(1 << 16)
    with contextlib.suppress(OSError, EOFError, zlib.error):
        tail = gzip.decompress(tail) if tail.startswith(b"\x1f\x8b") else tail
        if not tail.strip(b"\0\r\n\t "):
            return 0
    return left


_WHOLE_RANGE = re.compile(r"bytes\s+0-(\d+)/(\d+)", re.I)


def _partial(status: str, headers) -> Optional[str]:
    """"partial" for a `206 Partial Content` response: it holds a range of the page's bytes, not the
    page, unless its Content-Range is the whole of it (the answer to a `Range: bytes=0-` request)."""
    if status != "206":
        return None
    whole = _WHOLE_RANGE.fullmatch((headers.get_header("Content-Range") or "").strip())
    return None if whole and int(whole.group(1)) + 1 == int(whole.group(2)) else "partial"


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w:.-]+)", re.I)


def _charset(content_type: str) -> Optional[str]:
    """The charset an HTTP Content-Type declares: a page without its own declaration needs it
    (a short KOI8-R page was guessed as Latin)."""
    found = _CHARSET.search(content_type)
    return found.group(1) if found else None


def _warc_iterator(stream):
    """warcio's iterator, but one that goes on past a response record without a target URI:
    warcio raises AttributeError on it, which lost every record after it."""
    from warcio.archiveiterator import ArchiveIterator

    iterator = ArchiveIterator(stream)
    load = iterator.loader.load_http_headers
    iterator.loader.load_http_headers = lambda rec_type, uri, *rest: load(rec_type, uri or "", *rest)
    # a .warc.gz gzipped whole (`gzip crawl.warc`), not a member per record: warcio reads it on, record
    # after record, then refuses it for lack of the members that replay tools seek to; every record
    # after the first was lost. Read through once, it needs none
    iterator._raise_invalid_gzip_err = lambda: None
    return iterator


class Undecodable(ValueError):
    """A response's payload in a Content-Encoding that cannot be decoded."""


class _Brotli:
    """A brotli decompressor as warcio's readers call one (zlib's `decompress`, `unused_data`,
    `flush`): warcio's own is for brotlipy, and fails on the brotli package ("no attribute
    'unused_data'"), so each `br` response, as browser-based crawlers archive most, failed.

    Bounded: one read may decode to at most `LIMIT` bytes. Brotli has no ratio cap (gzip's is
    1032:1, 16.5 MB from warcio's 16 KB reads): 1.6 KB decode to 1 GB in one call, so a 2 KB record
    took 2 GB of memory before `--max-bytes` could count it (a few KB more, the machine's)."""

    unused_data = b""
    LIMIT = 64 << 20

    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:
            raise Undecodable("its Content-Encoding is br (Brotli), which needs the brotli package: "
                              "pip install brotli") from None
        self._decompressor = brotli.Decompressor()
        self._process = getattr(self._decompressor, "process", None) or self._decompressor.decompress
        self.refused: Optional[str] = None  # why a read was refused (see `_readers`)

    def decompress(self, data: bytes) -> bytes:
        if not hasattr(self._decompressor, "can_accept_more_data"):  # brotli before 1.2: no output limit
            return self._process(data)
        pieces = [self._process(data, output_buffer_limit=1 << 20)]
        size = len(pieces[0])
        while not self._decompressor.can_accept_more_data():  # more output waits
            if size > self.LIMIT:
                self.refused = (f"its br payload decodes to over {self.LIMIT:,} bytes from {len(data):,} "
                                "(a decompression bomb?)")
                raise Undecodable(self.refused)
            pieces.append(self._process(b"", output_buffer_limit=1 << 20))
            size += len(pieces[-1])
            if not pieces[-1]:  # never expected; but no loop without end
                break
        return b"".join(pieces)

    def flush(self) -> bytes:
        return b""

    @property
    def eof(self) -> bool:
        """Whether the stream's end was decoded (zlib's decompressors say so by the same name)."""
        finished = getattr(self._decompressor, "is_finished", None)
        return finished() if finished else True  # brotli before 1.2 cannot tell


@functools.cache
def _readers():
    """warcio's payload readers, with `br` through `_Brotli`, and raising on a payload that stops
    decoding midway, where warcio's printed a line on stderr and gave what it had: a truncated
    page cleaned as whole."""
    from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

    class Decoding(BufferedReader):
        DECOMPRESSORS = {**BufferedReader.DECOMPRESSORS, "br": _Brotli}

        def _decompress(self, data):
            decompressor = self.decompressor
            if decompressor is None or not data or self.num_block_read == 0:
                data = super()._decompress(data)  # the first bytes: if not encoded after all, taken as they are
                if getattr(decompressor, "refused", None):  # but not a bomb's
                    raise Undecodable(decompressor.refused)
                return data
            try:
                return decompressor.decompress(data)
            except Undecodable:
                raise
            except Exception as e:
                raise Undecodable(f"its {self.decomp_type} payload is corrupt after {self.num_read:,} bytes ({e})")

    class Dechunking(ChunkedDataReader, Decoding):
        pass

    return Decoding, Dechunking


_ENCODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br"}  # x-gzip: gzip's old name
#: the other HTTP content codings (IANA's registry): compressed, so a payload in one is no page to read. Any
#: other name is a server's mistake (`Content-Encoding: utf-8`, `none`, `binary`) that browsers ignore,
#: showing the bytes as they are, and so did warcio: such a page failed as undecodable
_UNDECODABLE = frozenset({"zstd", "compress", "x-compress", "aes128gcm", "dcb", "dcz", "exi", "pack200-gzip"})


def _content_stream(record):
    """The response's payload decoded, as warcio's `record.content_stream()` does but for what it
    missed: a `Transfer-Encoding` or `Content-Encoding` in other case or with spaces (HTTP's are
    case-insensitive: a `Chunked` body kept its chunk sizes as text, and a chunk break inside a tag
    showed a script's code), `x-gzip`, `br` (see `_Brotli`), a payload corrupt midway; and a
    Content-Encoding it cannot decode (zstd, compress) is `Undecodable`, not "binary data". A name
    that is no content coding (`utf-8`) is ignored, as browsers do (see `_UNDECODABLE`)."""
    headers = record.http_headers
    if not headers:
        return record.raw_stream
    codings = [c.strip().lower() for c in (headers.get_header("Content-Encoding") or "").split(",")]
    codings = [c for c in codings if c in _ENCODINGS or c in _UNDECODABLE]  # not "identity", nor unknown names
    if any(c in _UNDECODABLE for c in codings) or len(codings) > 1:
        raise Undecodable(f"its Content-Encoding is {', '.join(codings)}, which boilerclf cannot decode")
    encoding = _ENCODINGS[codings[0]] if codings else None
    transfer = [c.strip().lower() for c in (headers.get_header("Transfer-Encoding") or "").split(",")]
    decoding, dechunking = _readers()
    if transfer[-1] == "chunked":
        return dechunking(record.raw_stream, decomp_type=encoding)
    return decoding(record.raw_stream, decomp_type=encoding) if encoding else record.raw_stream


_HTML_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body)[\s>/]", re.I)


def _html_payload(record, content_type: str, max_bytes: int) -> Optional[bytes]:
    """A response's payload if it is HTML, else None. Without an HTTP Content-Type (crawls hold
    such HTML pages), the crawler's WARC-Identified-Payload-Type says, else the payload's start
    (`<!doctype html`, `<html`, `<head` or `<body`, after whitespace or a BOM)."""
    declared = content_type or record.rec_headers.get_header("WARC-Identified-Payload-Type") or ""
    if declared and "html" not in declared.lower():
        return None  # before decoding: an image in an encoding that cannot be decoded is no failure
    stream = _content_stream(record)
    head = b"" if declared else _head(stream)
    if "html" not in declared.lower() and not _HTML_START.match(head):
        return None
    return _payload(record, stream, head, max_bytes)


def _head(stream, size: int = 1024) -> bytes:
    """The first `size` bytes of a stream, whose reads may give fewer (a chunked body's)."""
    head = b""
    while len(head) < size and (part := stream.read(size - len(head))):
        head += part
    return head


def _payload(record, stream, head: bytes, max_bytes: int) -> bytes:
    """The record's decoded payload (`stream`, of which `head` was read); an error if the archive
    ends inside it (warcio returns the bytes it got, so a cut download's last page would be
    cleaned as if whole), or if it is over `max_bytes` (0: no limit): the rest is then read
    a piece at a time and dropped, as a crawl's odd gigabyte response must not fill the memory."""
    data = head + stream.read(max_bytes + 1 - len(head) if max_bytes else None)  # None: all (warcio reads -1 as none)
    size = len(data)
    if max_bytes and size > max_bytes:
        data = b""
        while part := stream.read(1 << 20):
            size += len(part)
    if short := _short_by(record):
        raise EOFError(f"the archive ends {short:,} bytes before the record does")
    if max_bytes and size > max_bytes:
        raise TooLarge(f"{size:,} bytes", max_bytes)
    decompressor = getattr(stream, "decompressor", None)
    if decompressor is not None and stream.num_block_read and not decompressor.eof:
        # the record is whole but its gzip/deflate/br stream stops short (a server or crawler cut it
        # without saying so in WARC-Truncated): the page's end is missing, where it was cleaned as whole
        raise EOFError(f"its {stream.decomp_type} payload stops before its compressed stream ends (cut short)")
    return data


def _short_by(record) -> int:
    """How many bytes of the record the archive lacks (0: none), once the rest of it is read (what
    decoding left, such as a chunked body's trailer, or a skipped payload), a piece at a time."""
    while record.raw_stream.read(1 << 20):
        pass
    return max(getattr(record.raw_stream, "limit", 0), 0)


def records(source: Source, max_bytes: int = 0) -> Iterator[Record]:
    return warc_records(source.path, max_bytes) if source.kind == "warc" else jsonl_records(source.path)
