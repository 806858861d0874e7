"""The scheduler registry: names, and docstrings whose formulas define every symbol they use."""

from __future__ import annotations

import re

import pytest

from sched_cli.registry import ENTRIES, lookup

# Greek letters are symbols; α is the multiplier itself, π the constant.
GREEK = set("βγδεζηθικλμνξρστυφχψω")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_symbol_of_a_formula_is_defined(entry):
    text = " ".join(entry.doc_text.split())
    assert re.search(
        r"where t is the time elapsed in the run|t is the count|s is the count|k is the count|phase k starts", text
    ), entry.name
    formula, _, rest = text.partition("where")
    for letter in sorted(GREEK & set(formula)):
        # Defined in the formula itself (τ = min(1, t / t_max)), in the "where" text or in an
        # argument's description (γ is gamma, ρ the step...).
        defined = re.search(f"{letter}\\S* = ", formula) or letter in rest
        assert defined, f"{entry.name}: {letter} is used in the formula but never said what it is"


def test_multistep_with_warmup_says_what_x_is():
    text = " ".join(lookup("multistep_with_warmup").doc_text.split())
    assert "γ ^ x" in text
    assert "x is the number of milestones reached by t" in text
    assert "γ is gamma" in text and "t is the time elapsed in the run" in text


def test_a_composer_name_loads_no_other_family_and_a_family_name_loads_only_its_own():
    import subprocess
    import sys

    code = (
        "import sys; from sched_cli import registry; registry.lookup('cosine_with_warmup'); "
        "a = sorted(m for m in sys.modules if m.startswith('sched_cli.schedulers.') and m.split('.')[-1] in "
        "('hf', 'timm', 'mmengine')); registry.lookup('hf:cosine'); "
        "b = sorted(m for m in sys.modules if m.startswith('sched_cli.schedulers.') and m.split('.')[-1] in "
        "('hf', 'timm', 'mmengine')); print(a, b)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[] ['sched_cli.schedulers.hf']"
