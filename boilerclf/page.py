"""Domain types: a `Page` is an ordered list of `Block`s, each getting one `Label`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

Label = Literal["content", "promo", "subscription", "navigation"]
LABELS: tuple[str, ...] = ("content", "promo", "subscription", "navigation")


@dataclass(eq=False)
class Block:
    """One run of visible text and the DOM context the features need.

    `element` is the block-level element that owns the text (None for plain-text
    pages); `label` is a gold label when read from labelled data, a prediction
    after `classify`.
    """

    text: str
    tag: str = "#text"
    depth: int = 0
    link_chars: int = 0
    dom_tokens: tuple[str, ...] = ()
    element: Any = field(default=None, repr=False)
    heading: str = ""  # text of the last heading before the block: "Related stories", "Newsletter"…
    #: [chars, link chars, blocks] inside the owner's parent, grandparent, great-grandparent
    containers: list = field(default_factory=list, repr=False)
    #: the text nodes the block's text came from, as (element, is its tail): what `render_html` removes
    sources: tuple = field(default=(), repr=False)
    index: int = 0
    label: Optional[str] = None
    proba: dict = field(default_factory=dict)
    page: Optional["Page"] = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        """Pickled without its lxml element and text nodes, which cannot be pickled: blocks went to
        no joblib worker (`cross_val_score(..., n_jobs=2)`, `GridSearchCV`) and failed with a
        PicklingError. The features never read them; an unpickled block cannot be rendered."""
        return {**self.__dict__, "element": None, "sources": ()}

    def __copy__(self) -> "Block":  # copy.copy keeps the element, as before (it would go by __getstate__)
        return _shallow_copy(self)

    @property
    def start(self) -> Optional[tuple]:
        """Where the text begins, its first text node (with `sources`): where `render_html` places it among images."""
        return self.sources[0] if self.sources else None

    @property
    def has_dom(self) -> bool:
        return self.tag != "#text"


@dataclass(eq=False)
class Page:
    """A page as blocks; `tree` is the lxml document (None for text pages)."""

    blocks: list[Block]
    source: str = ""
    url: Optional[str] = None
    site: Optional[str] = None  # the cross-validation group; set when reading training data (`dataset`)
    tree: Any = field(default=None, repr=False)
    view_of: Optional["Page"] = field(default=None, repr=False)  # the HTML page a text view was made from

    _total_chars: Optional[int] = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.renumber()

    def renumber(self) -> None:
        """Number the blocks in their order and make them this page's, for a `blocks` list that
        changed since (a caller filtering out short blocks): their old `index` took a neighbour's
        features, or past the list's end an IndexError, and the page's size was its old one."""
        for i, block in enumerate(self.blocks):
            block.index, block.page = i, self
        self._total_chars = None

    def __getstate__(self) -> dict:
        """Pickled without its lxml document, as its blocks are (see `Block.__getstate__`)."""
        return {**self.__dict__, "tree": None}

    def __copy__(self) -> "Page":
        return _shallow_copy(self)

    @property
    def total_chars(self) -> int:
        if self._total_chars is None:
            self._total_chars = sum(len(b.text) for b in self.blocks)
        return self._total_chars


def _shallow_copy(obj):
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


class BoilerclfError(Exception):
    """Base of the library's own errors: every failure on bad input is one of these."""


class InputError(BoilerclfError):
    """A page that cannot be read or decoded (the message says why, in one line)."""


class InputWarning(UserWarning):
    """An input passed over, so that the rest go on: a folder that cannot be read, a JSONL file
    in a folder that holds no pages."""


class ModelError(BoilerclfError):
    """A model file that is missing, corrupt, or made by an incompatible version."""
