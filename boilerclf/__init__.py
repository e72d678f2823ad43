"""boilerclf: label the text blocks of scraped web pages as content, promo, subscription or navigation."""
from .model import Model, load_model, train
from .page import LABELS, Block, BoilerclfError, InputError, Label, ModelError, Page
from .segment import read_page, segment

__all__ = ["LABELS", "Block", "BoilerclfError", "InputError", "Label", "Model", "ModelError", "Page", "load_model",
           "read_page", "segment", "train"]
__version__ = "0.1.0"
