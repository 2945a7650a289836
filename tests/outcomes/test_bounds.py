"""SE MenPANRB 3/2023 distribution bounds: every rule on its edge cases, and properties."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.codes import PREDIKAT
from analysis.outcomes import bounds


def unit(org: str, n_id: str = "U1", **counts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outcomes of one unit with the given predikat counts, and its org rating."""
    rows = [p for p in PREDIKAT for _ in range(counts.get(p, 0))]
    out = pd.DataFrame({"unit_id": n_id, "period": "2024", "employee_id": [f"E{i}" for i in range(len(rows))],
                        "predikat": rows})
    org_r = pd.DataFrame({"unit_id": [n_id], "period": ["2024"], "org_predikat": [org]})
    return out, org_r


def shortfalls(org: str, **counts) -> dict[str, int]:
    out, org_r = unit(org, **counts)
    _, unit_bounds = bounds.check_distribution(out, org_r)
    return dict(zip(unit_bounds["bound"], unit_bounds["shortfall"].astype(int)))


@pytest.mark.parametrize("sb, expected", [(7, 0), (8, 1), (10, 3)])
def test_istimewa_allows_at_most_70_percent_sangat_baik(sb, expected):
    assert shortfalls("istimewa", sangat_baik=sb, baik=10 - sb) == {"max_sangat_baik_70": expected}


def test_istimewa_limit_rounds_down_in_small_units():
    # 70% of 3 is 2.1 people: at most 2
    assert shortfalls("istimewa", sangat_baik=2, baik=1)["max_sangat_baik_70"] == 0
    assert shortfalls("istimewa", sangat_baik=3)["max_sangat_baik_70"] == 1


@pytest.mark.parametrize("counts, expected", [
    (dict(sangat_baik=2, baik=7, butuh_perbaikan=1), {"max_baik_70": 0, "min_bp_or_kurang_1": 0}),
    (dict(sangat_baik=2, baik=7, kurang=1), {"max_baik_70": 0, "min_bp_or_kurang_1": 0}),
    (dict(sangat_baik=2, baik=8), {"max_baik_70": 1, "min_bp_or_kurang_1": 1}),
    (dict(sangat_baik=3, baik=7), {"max_baik_70": 0, "min_bp_or_kurang_1": 1}),
    (dict(baik=9, sangat_kurang=1), {"max_baik_70": 2, "min_bp_or_kurang_1": 1}),
])
def test_baik_bounds(counts, expected):
    assert shortfalls("baik", **counts) == expected


@pytest.mark.parametrize("counts, expected", [
    # 60% of 5 is exactly 3: floating point would make it 3.0000000000000004 and demand 4
    (dict(butuh_perbaikan=3, baik=2), {"min_butuh_perbaikan_60": 0, "max_sangat_baik_10": 0}),
    (dict(butuh_perbaikan=2, baik=3), {"min_butuh_perbaikan_60": 1, "max_sangat_baik_10": 0}),
    (dict(butuh_perbaikan=6, baik=3, sangat_baik=1), {"min_butuh_perbaikan_60": 0, "max_sangat_baik_10": 0}),
    (dict(butuh_perbaikan=6, baik=2, sangat_baik=2), {"min_butuh_perbaikan_60": 0, "max_sangat_baik_10": 1}),
    # 10% of 9 is 0.9 people: no Sangat Baik at all is allowed
    (dict(butuh_perbaikan=6, baik=2, sangat_baik=1), {"min_butuh_perbaikan_60": 0, "max_sangat_baik_10": 1}),
])
def test_butuh_perbaikan_bounds(counts, expected):
    assert shortfalls("butuh_perbaikan", **counts) == expected


@pytest.mark.parametrize("counts, expected", [
    (dict(kurang=6, butuh_perbaikan=1, baik=2, sangat_baik=1),
     {"min_kurang_60": 0, "min_butuh_perbaikan_10": 0, "max_sangat_baik_10": 0}),
    (dict(kurang=5, baik=5), {"min_kurang_60": 1, "min_butuh_perbaikan_10": 1, "max_sangat_baik_10": 0}),
    (dict(kurang=6, butuh_perbaikan=1, sangat_baik=3),
     {"min_kurang_60": 0, "min_butuh_perbaikan_10": 0, "max_sangat_baik_10": 2}),
    # at least 10% of 11 is 1.1 people: 2 are needed
    (dict(kurang=7, butuh_perbaikan=1, baik=3), {"min_kurang_60": 0, "min_butuh_perbaikan_10": 1,
                                                 "max_sangat_baik_10": 0}),
])
def test_kurang_bounds(counts, expected):
    assert shortfalls("kurang", **counts) == expected


@pytest.mark.parametrize("counts, expected", [
    (dict(sangat_kurang=6, kurang=1, baik=3), {"min_sangat_kurang_60": 0, "min_kurang_or_bp_10": 0,
                                               "max_sangat_baik_0": 0}),
    (dict(sangat_kurang=6, butuh_perbaikan=1, baik=3), {"min_sangat_kurang_60": 0, "min_kurang_or_bp_10": 0,
                                                        "max_sangat_baik_0": 0}),
    (dict(sangat_kurang=6, baik=3, sangat_baik=1), {"min_sangat_kurang_60": 0, "min_kurang_or_bp_10": 1,
                                                    "max_sangat_baik_0": 1}),
    (dict(sangat_kurang=5, kurang=5), {"min_sangat_kurang_60": 1, "min_kurang_or_bp_10": 0,
                                       "max_sangat_baik_0": 0}),
])
def test_sangat_kurang_bounds(counts, expected):
    assert shortfalls("sangat_kurang", **counts) == expected


def test_compliance_table_names_violations_and_leaves_inapplicable_bounds_empty():
    a, oa = unit("baik", "U1", sangat_baik=1, baik=9)
    b, ob = unit("istimewa", "U2", sangat_baik=5, baik=5)
    c, _ = unit("baik", "U3", baik=5)  # no org rating
    comp, _ = bounds.check_distribution(pd.concat([a, b, c]), pd.concat([oa, ob]))
    comp = comp.set_index("unit_id")
    assert comp.loc["U1", "compliant"] == False  # noqa: E712 (pandas boolean NA-aware)
    assert comp.loc["U1", "violated_bounds"] == "max_baik_70;min_bp_or_kurang_1"
    assert comp.loc["U1", "shortfall_max_baik_70"] == 2
    assert pd.isna(comp.loc["U1", "shortfall_max_sangat_baik_70"])
    assert comp.loc["U2", "compliant"] == True  # noqa: E712
    assert pd.isna(comp.loc["U3", "compliant"]) and comp.loc["U3", "violated_bounds"] == ""
    for col in ("unit_id", "period", "org_predikat", "compliant"):
        assert col in comp.reset_index().columns


def test_summary_counts_checked_and_non_compliant_unit_periods():
    a, oa = unit("baik", "U1", sangat_baik=1, baik=9)
    b, ob = unit("istimewa", "U2", sangat_baik=5, baik=5)
    comp, _ = bounds.check_distribution(pd.concat([a, b]), pd.concat([oa, ob]))
    s = bounds.compliance_summary(comp).iloc[0]
    assert (s["unit_periods"], s["checked"], s["non_compliant"], s["people_to_move"]) == (2, 2, 1, 2)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 200), data=st.data())
def test_shortfall_is_zero_exactly_when_the_exact_share_condition_holds(n, data):
    bound = data.draw(st.sampled_from([b for bs in bounds.RULES.values() for b in bs]))
    count = data.draw(st.integers(0, n))
    short = int(bound.shortfall(np.array([count]), np.array([n]))[0])
    if bound.count is not None:
        holds = count >= bound.count
    elif bound.kind == "max":
        holds = Fraction(count, n) <= Fraction(bound.percent, 100)
    else:
        holds = Fraction(count, n) >= Fraction(bound.percent, 100)
    assert (short == 0) == holds
    # moving exactly `short` people in (or out) makes the bound hold, and one fewer does not
    moved = count + short if bound.kind == "min" else count - short
    assert int(bound.shortfall(np.array([moved]), np.array([n]))[0]) == 0
    if short > 0:
        almost = moved - 1 if bound.kind == "min" else moved + 1
        assert int(bound.shortfall(np.array([almost]), np.array([n]))[0]) == 1
