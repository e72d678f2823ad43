"""boilerclf: label the text blocks of scraped web pages as content, promo, subscription or navigation."""
import importlib
import pkgutil
from typing import TYPE_CHECKING

from .page import LABELS, Block, BoilerclfError, InputError, Label, ModelError, Page
from .segment import read_page, segment

if TYPE_CHECKING:  # type checkers see the real names; at run time they come from `__getattr__`
    from .model import Model, load_model, train

__all__ = ["LABELS", "Block", "BoilerclfError", "InputError", "Label", "Model", "ModelError", "Page", "load_model",
           "read_page", "segment", "train"]
__version__ = "0.1.0"
_LAZY = ("Model", "load_model", "train")
# less the names bound above: `boilerclf.segment` is the function, not its module
_SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")) - set(globals())


def __getattr__(name: str):
    """`Model`, `load_model` and `train` are imported on first use: their module imports
    scikit-learn (~1.5 s), which commands such as `boilerclf show` never need. So are the
    submodules, so that `boilerclf.model.training_set(...)` works after `import boilerclf`."""
    if name in _LAZY:
        from . import model

        return getattr(model, name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The lazy names too, for tab completion; not the submodules, which `inspect.getmembers`
    and `help(boilerclf)` would then import, scikit-learn and the CLI with them."""
    return sorted({*globals(), *_LAZY})
