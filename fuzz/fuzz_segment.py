"""Coverage-guided fuzzing of the loader and segmenter with atheris.

    pip install atheris
    python fuzz/fuzz_segment.py -max_total_time=60 fuzz/corpus

Any exception other than boilerclf's own `BoilerclfError` is a crash; atheris saves the input
as crash-*, which then becomes a regression test in tests/test_hostile.py.
"""
import sys

import atheris
import charset_normalizer  # noqa: F401  heavy dependencies load uninstrumented: only boilerclf is traced
import lxml.html  # noqa: F401
import sklearn.linear_model  # noqa: F401

with atheris.instrument_imports(include=["boilerclf"]):
    from boilerclf.page import BoilerclfError
    from boilerclf.segment import segment


def test_one_input(data: bytes) -> None:
    try:
        page = segment(data)
    except BoilerclfError:
        return
    for block in page.blocks:
        assert block.text and block.text == block.text.strip()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
