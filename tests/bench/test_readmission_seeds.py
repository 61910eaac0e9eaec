"""bench/readmission_seeds.py: seed lists parse as written; the summary is the seeds' figures."""

from __future__ import annotations

import pytest

from bench.readmission_seeds import parse_seeds, summary


def test_seed_lists_take_ranges_and_single_seeds_in_order() -> None:
    assert parse_seeds("1-3,42") == [1, 2, 3, 42]
    assert parse_seeds("7") == [7]
    with pytest.raises(SystemExit, match="names no seed"):
        parse_seeds("5-1")


def test_summary_reports_mean_spread_choice_and_the_target_count() -> None:
    rows = [
        {"test_roc_auc": auc, "chosen": chosen, "families": {"logreg": 0.6, "lightgbm": auc}}
        for auc, chosen in ((0.66, "lightgbm"), (0.68, "lightgbm"), (0.70, "logreg"))
    ]
    out = summary(rows, target=0.68)
    assert out["mean"] == 0.68 and out["sd"] == 0.02
    assert out["standard_error_of_mean"] == round(0.02 / 3**0.5, 4)
    assert (out["min"], out["max"]) == (0.66, 0.70)
    assert out["chosen"] == {"logreg": 1, "lightgbm": 2}
    assert out["family_means"] == {"logreg": 0.6, "lightgbm": 0.68}
    assert out["seeds_at_or_above_0.68"] == 2
    assert "seeds_at_or_above_0.68" not in summary(rows, target=None)
