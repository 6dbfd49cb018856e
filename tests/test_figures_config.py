"""config/figures.yml: every figure or table without a counterpart in R1023460 says why it exists."""

from pathlib import Path

import yaml

FIGURES = Path(__file__).resolve().parent.parent / "config" / "figures.yml"


def test_every_new_figure_has_a_reason():
    figures = yaml.safe_load(FIGURES.read_text(encoding="utf-8"))["figures"]
    new = {label: spec for label, spec in figures.items() if spec.get("relation") == "ny"}
    assert new, "expected some figures of this edition without a counterpart"
    for label, spec in new.items():
        assert "original" not in spec, label
        assert len(str(spec.get("note") or "").split()) >= 5, f"{label}: «ny» needs a reason (note)"
    for label, spec in figures.items():
        if spec.get("relation") == "erstatter":
            assert spec.get("original") and spec.get("note"), f"{label}: «erstatter» needs original and note"
