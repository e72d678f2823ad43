"""Score a model on labelled pages it was not trained on: per label, confusion, worst pages."""
from __future__ import annotations

from typing import Sequence

from .dataset import with_text_views
from .model import Model, scores
from .page import InputError, Page


def evaluate(model: Model, pages: Sequence[Page], *, text_views: bool = False, worst: int = 10) -> dict:
    """Predict every page (keeping its gold labels aside) and compare on the labelled blocks."""
    views = with_text_views(pages, text_views)
    gold = [[b.label for b in v.blocks] for v in views]
    model.predict_pages(views)
    truth: list[str] = []
    predicted: list = []
    per_page: list[dict] = []
    for view, labels in zip(views, gold):
        pairs = [(g, b.label) for g, b in zip(labels, view.blocks) if g]
        truth += [g for g, _ in pairs]
        predicted += [p for _, p in pairs]
        if pairs:
            wrong = sum(g != p for g, p in pairs)
            per_page.append({"page": view.source, "blocks": len(pairs), "errors": wrong,
                             "accuracy": round(1 - wrong / len(pairs), 4)})
        for block, label in zip(view.blocks, labels):  # restore the gold labels for the caller
            block.label = label
    if not truth:
        raise InputError("no labelled blocks in these pages: evaluate scores pages with data-label attributes "
                         "(or label<TAB>text lines), such as `boilerclf label` writes and a person corrects")
    result = scores(truth, predicted)
    result["pages"] = len(pages)  # not the text views scored with them
    result["worst_pages"] = sorted(per_page, key=lambda r: (r["accuracy"], -r["blocks"]))[:worst]
    return result
