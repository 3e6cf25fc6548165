"""A function whose name has an underscore (log_softmax, bce_with_logits) is one word in LaTeX,
in the worksheet's own notation and in the rules SymPy prints (--detail full): never a subscript."""

import re
from pathlib import Path

import pytest

from worksheet import derive, render

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.mark.parametrize("sample, name", [("linear_bce.ws", "bce_with_logits"), ("gelu_mlp.ws", "log_softmax")])
def test_an_underscored_function_name_is_one_word(sample, name):
    trace = derive((SAMPLES / sample).read_text(), filename=str(SAMPLES / sample))
    for fmt in ("md", "tex"):
        text = render(trace, fmt, detail="full")
        escaped = name.replace("_", r"\_")
        assert rf"\operatorname{{{escaped}}}" in text
        head, _, tail = name.partition("_")
        assert not re.search(rf"\b{head}\}}?_\{{", text), f"{name} printed with a subscript in {fmt}"
        assert rf"\operatorname{{{name}}}" not in text  # an unescaped _ in \operatorname is a subscript too
