"""A/B assignment, the results statistics against hand-computed values, and results from SQL."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from services.recommender.experiments import (
    Experiment,
    ExperimentExists,
    Variant,
    assign,
    create_experiment,
    experiment_results,
)
from services.recommender.stats import compare_proportions, sample_ratio_check

VARIANTS = (
    Variant("control", "popularity", 0.5),
    Variant("als", "als", 0.3),
    Variant("hybrid", "hybrid", 0.2),
)


def test_assignment_is_sticky_and_matches_the_weights_over_100k_users() -> None:
    users = [f"user-{i}" for i in range(100_000)]
    first = [assign(u, "exp-1", VARIANTS).name for u in users]
    assert first == [assign(u, "exp-1", VARIANTS).name for u in users]  # sticky
    shares = Counter(first)
    for variant in VARIANTS:
        # 0.005 is over 3 standard deviations at n = 100,000 for every weight here.
        assert shares[variant.name] / len(users) == pytest.approx(variant.weight, abs=0.005)
    # Another experiment reshuffles users independently of this one.
    other = [assign(u, "exp-2", VARIANTS).name for u in users]
    both = sum(a == "control" and b == "control" for a, b in zip(first, other, strict=True))
    assert both / len(users) == pytest.approx(0.25, abs=0.005)


def test_relative_weights_need_not_sum_to_one() -> None:
    variants = (Variant("a", "popularity", 1), Variant("b", "als", 3))
    shares = Counter(assign(f"u{i}", "w", variants).name for i in range(20_000))
    assert shares["b"] / 20_000 == pytest.approx(0.75, abs=0.015)


def test_two_proportion_test_matches_a_hand_computed_example() -> None:
    # Control 100/1000, treatment 130/1000. By hand: pooled p = 0.115,
    # SE = sqrt(0.115 * 0.885 * 2/1000) = 0.0142671, z = 0.03 / SE = 2.10274,
    # p = 2 * (1 - Phi(2.10274)) = 0.03548; unpooled SE = sqrt(0.09/1000 + 0.1131/1000)
    # = 0.0142513, 95 % CI = 0.03 +/- 1.959964 * SE = (0.002068, 0.057932); relative lift
    # 0.3 with CI (0.02068, 0.57932) (the absolute interval over the control rate 0.1).
    result = compare_proportions(100, 1000, 130, 1000)
    assert result.absolute_lift == pytest.approx(0.03)
    assert result.z == pytest.approx(2.10274, abs=1e-4)
    assert result.p_value == pytest.approx(0.03548, abs=2e-4)
    assert result.absolute_ci == pytest.approx((0.002068, 0.057932), abs=1e-5)
    assert result.relative_lift == pytest.approx(0.3)
    assert result.relative_ci == pytest.approx((0.02068, 0.57932), abs=1e-4)


def test_no_difference_is_not_significant_and_empty_arms_are_not_computed() -> None:
    same = compare_proportions(50, 500, 50, 500)
    assert same.p_value == pytest.approx(1.0)
    assert compare_proportions(0, 0, 5, 100).relative_lift is None


def test_sample_ratio_mismatch_flags_broken_assignment() -> None:
    fine = sample_ratio_check([5040, 4960], [0.5, 0.5])
    assert not fine.mismatch
    # By hand: chi2 = 2 * 300**2 / 5000 = 36.0, p ~ 2e-9.
    broken = sample_ratio_check([5300, 4700], [0.5, 0.5])
    assert broken.chi2 == pytest.approx(36.0)
    assert broken.mismatch and broken.p_value < 1e-8
    assert not sample_ratio_check([3000, 2000], [3, 2]).mismatch


def test_results_count_users_and_join_feedback_to_the_variant(db) -> None:
    experiment = Experiment("exp-sql", "SQL", VARIANTS[:2], "save", "running", None, None)
    with db.connection() as conn:
        create_experiment(conn, experiment)
        with pytest.raises(ExperimentExists):
            create_experiment(conn, experiment)
    plan = {
        # variant: (users exposed, lists per user, users who saved, users who only viewed)
        "control": (40, 2, 4, 10),
        "als": (30, 1, 9, 5),
    }
    with db.connection() as conn:
        for variant, (users, lists, saved, viewed) in plan.items():
            for u in range(users):
                ids = []
                for _ in range(lists):
                    pid = str(uuid.uuid4())
                    ids.append(pid)
                    conn.execute(
                        "INSERT INTO model_predictions (prediction_id, model_name, experiment_id,"
                        " variant, algorithm, user_id, items) VALUES (%s, 'm', 'exp-sql', %s,"
                        " 'x', %s, ARRAY['e1'])",
                        (pid, variant, f"{variant}-{u}"),
                    )
                action = "save" if u < saved else "view" if u < saved + viewed else None
                if action:
                    # Two feedback rows on the user's lists still make one converted user.
                    for pid in ids[:2]:
                        conn.execute(
                            "INSERT INTO ml_feedback (prediction_id, user_id, event_id, action)"
                            " VALUES (%s, %s, 'e1', %s)",
                            (pid, f"{variant}-{u}", action),
                        )
        results = experiment_results(conn, "exp-sql")
    by_name = {v["name"]: v for v in results["variants"]}
    assert (by_name["control"]["exposures"], by_name["control"]["conversions"]) == (40, 4)
    assert (by_name["als"]["exposures"], by_name["als"]["conversions"]) == (30, 9)
    assert by_name["als"]["conversion_rate"] == pytest.approx(0.3)
    expected = compare_proportions(4, 40, 9, 30)
    assert by_name["als"]["p_value"] == pytest.approx(expected.p_value)
    assert by_name["als"]["relative_lift"] == pytest.approx(2.0)  # 0.3 vs 0.1
    # 40 vs 30 users at weights 0.5/0.3 is fine (expected 43.75 / 26.25).
    assert results["sample_ratio"]["mismatch"] is False
