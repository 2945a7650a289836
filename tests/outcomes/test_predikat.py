"""The PermenPANRB 6/2022 predikat matrix and the per-employee outcomes."""

import pandas as pd
import pytest

from analysis.core.ordinal import PREDIKAT_RANK
from analysis.outcomes import predikat

# The matrix as printed in the regulation (domain.md): rows hasil kerja, columns perilaku kerja.
REGULATION = {
    "di_atas": {"di_bawah": "kurang", "sesuai": "baik", "di_atas": "sangat_baik"},
    "sesuai": {"di_bawah": "kurang", "sesuai": "baik", "di_atas": "baik"},
    "di_bawah": {"di_bawah": "sangat_kurang", "sesuai": "butuh_perbaikan", "di_atas": "butuh_perbaikan"},
}


@pytest.mark.parametrize("hasil", list(REGULATION))
@pytest.mark.parametrize("perilaku", ["di_bawah", "sesuai", "di_atas"])
def test_matrix_gives_the_regulations_predikat_for_every_pair(hasil, perilaku):
    got = predikat.predikat(pd.Series([hasil]), pd.Series([perilaku]))
    assert got.iloc[0] == REGULATION[hasil][perilaku]


def test_missing_rating_gives_no_predikat():
    got = predikat.predikat(pd.Series(["di_atas", None]), pd.Series([None, "sesuai"]))
    assert got.isna().all()


def test_behaviour_below_expectation_is_never_better_than_kurang():
    for hasil in REGULATION:
        p = predikat.predikat(pd.Series([hasil]), pd.Series(["di_bawah"])).iloc[0]
        assert PREDIKAT_RANK[p] <= PREDIKAT_RANK["kurang"]


def _tables():
    units = pd.DataFrame({"unit_id": ["U1", "U2"], "unit_name": ["A", "B"], "region": ["Palu", "Alak"]})
    employees = pd.DataFrame({
        "employee_id": ["E1", "E2", "E3", "E4"], "unit_id": ["U1", "U1", "U1", "U2"],
        "position_class": ["administrator", "pelaksana", "pelaksana", "jpt_pratama"],
        "job_family": ["adm"] * 4, "employment_type": ["PNS"] * 4, "gender": ["L", "P", "P", "L"],
    })
    appraisals = pd.DataFrame({
        "employee_id": ["E1", "E2", "E3", "E4"], "period": ["2024"] * 4,
        "rater_id": ["E4", "E1", "E1", None],
        "hasil_kerja": ["sesuai", "di_atas", "di_bawah", "di_atas"],
        "perilaku_kerja": ["sesuai", "di_atas", "sesuai", "sesuai"],
        "predikat_reported": ["baik", "sangat_baik", "baik", None],
    })
    return units, employees, appraisals


def test_outcomes_flag_reported_predikat_that_disagrees_with_the_matrix():
    units, employees, appraisals = _tables()
    out = predikat.appraisal_outcomes(appraisals, employees, units).set_index("employee_id")
    assert out.loc["E3", "predikat"] == "butuh_perbaikan"
    assert bool(out.loc["E3", "reported_mismatch"]) is True
    assert bool(out.loc["E2", "reported_mismatch"]) is False
    assert pd.isna(out.loc["E4", "reported_mismatch"])  # nothing reported, nothing to compare
    assert out.loc["E2", "region"] == "Palu"


def test_reported_crosstab_counts_reported_against_matrix():
    units, employees, appraisals = _tables()
    tab = predikat.reported_mismatches(predikat.appraisal_outcomes(appraisals, employees, units))
    assert tab.loc["baik", "butuh_perbaikan"] == 1
    assert tab.to_numpy().sum() == 3


def test_unit_head_is_found_from_the_appraisal_chain_and_checked_against_org_rating():
    units, employees, appraisals = _tables()
    heads = predikat.unit_heads(appraisals, employees)
    # E1 rates E2, E3 in U1 and is rated by E4 from U2; E4 rates nobody in U2
    assert heads[["employee_id", "unit_id"]].values.tolist() == [["E1", "U1"]]
    out = predikat.appraisal_outcomes(appraisals, employees, units)
    org = pd.DataFrame({"unit_id": ["U1"], "period": ["2024"], "org_predikat": ["istimewa"]})
    check = predikat.head_consistency(out, heads, org)
    assert check.iloc[0]["expected_hasil_kerja"] == "di_atas"
    assert not check.iloc[0]["consistent"]


def test_predikat_distribution_shares_sum_to_one_per_group():
    units, employees, appraisals = _tables()
    dist = predikat.predikat_distribution(predikat.appraisal_outcomes(appraisals, employees, units),
                                           ["period", "region"])
    shares = dist[[c for c in dist if c.startswith("share_")]].sum(axis=1)
    assert shares.round(12).eq(1).all()
    assert dist["n"].sum() == 4
