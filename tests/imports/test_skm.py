"""SKM respondent sheets to the IKM per unit and quarter (PermenPANRB 14/2017) and to service_outcomes rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.core import ikm
from analysis.data.validation import load_dataset
from analysis.imports import skm
from corpus.builders import base_tables, write_dataset

U = list(ikm.UNSUR)


def respondents(unit, period, answers):
    df = pd.DataFrame(answers, columns=U, dtype=float)
    df.insert(0, "period", period)
    df.insert(0, "unit_id", unit)
    return df


# The hand-worked example (the same arithmetic as tests/core/test_ikm.py):
#   r1: 4 4 3 3 4 4 3 3 4
#   r2: 3 4 3 2 4 3 3 3 4
#   r3: 4 3 3 3 3 4 4 3 3
#   r4: 3 3 2 .  4 3 4 2 3       (. = no answer to u4: left out of u4's NRR, not a zero)
# NRR u1..u9 = 3.50 3.50 2.75 2.6667 3.75 3.50 3.50 2.75 3.50 (u4 = 8/3: three answers)
# sum = 29.41667 ; x 1/9 = 3.268519 ; x 25 = 81.713 -> 81.71, band B (76.61-88.30)
WORKED = [
    [4, 4, 3, 3, 4, 4, 3, 3, 4],
    [3, 4, 3, 2, 4, 3, 3, 3, 4],
    [4, 3, 3, 3, 3, 4, 4, 3, 3],
    [3, 3, 2, np.nan, 4, 3, 4, 2, 3],
]


def test_hand_worked_unit_quarter():
    table = skm.ikm_table(respondents("U01", "2024Q1", WORKED), min_respondents=4)
    assert list(table.columns) == ["unit_id", "period", "respondents", *[f"nrr_{u}" for u in U], "ikm", "band",
                                   "min_respondents", "below_min_respondents"]
    row = table.iloc[0]
    assert row["respondents"] == 4
    assert [row[f"nrr_{u}"] for u in U] == pytest.approx([3.5, 3.5, 2.75, 8 / 3, 3.75, 3.5, 3.5, 2.75, 3.5])
    assert row["ikm"] == pytest.approx(25 * (29 + 5 / 12) / 9) and round(row["ikm"], 2) == 81.71
    assert row["band"] == "B" and not row["below_min_respondents"]


def test_one_row_per_unit_and_quarter_sorted():
    fours, ones = [[4] * 9] * 3, [[1] * 9] * 2
    data = pd.concat([
        respondents("U02", "2024Q2", fours), respondents("U01", "2024Q4", ones),
        respondents("U02", "2024Q1", ones), respondents("U01", "2024Q2", WORKED),
    ], ignore_index=True)
    table = skm.ikm_table(data, min_respondents=1)
    assert table[["unit_id", "period"]].values.tolist() == [
        ["U01", "2024Q2"], ["U01", "2024Q4"], ["U02", "2024Q1"], ["U02", "2024Q2"]]
    assert table["respondents"].tolist() == [4, 2, 2, 3]
    assert table["ikm"].tolist() == pytest.approx([25 * (29 + 5 / 12) / 9, 25.0, 25.0, 100.0])
    assert table["band"].tolist() == ["B", "D", "D", "A"]
    assert table["respondents"].dtype.kind == "i" and table["below_min_respondents"].dtype == bool


def test_units_below_the_minimum_are_marked_not_dropped():
    data = pd.concat([respondents("U01", "2024Q1", [[3] * 9] * 5),
                      respondents("U02", "2024Q1", [[3] * 9] * 2)], ignore_index=True)
    table = skm.ikm_table(data, min_respondents=ikm.krejcie_morgan(5))  # a population of 5 needs 5
    assert table["below_min_respondents"].tolist() == [False, True]
    assert table["ikm"].tolist() == [75.0, 75.0]  # kept and computed
    default = skm.ikm_table(data)  # the default: 384, the sample for a population of a million or more
    assert default["below_min_respondents"].all() and len(default) == 2


def test_the_minimum_follows_each_units_population_from_params():
    data = pd.concat([respondents("U01", "2024Q1", [[3] * 9] * 5),
                      respondents("U02", "2024Q1", [[3] * 9] * 5)], ignore_index=True)
    minimum = skm.minimum_respondents({"U01": 5, "U02": 100})  # 5 -> 5, 100 -> 80 (Krejcie & Morgan)
    assert minimum == {"U01": 5, "U02": 80}
    table = skm.ikm_table(data, min_respondents=minimum)
    assert table["min_respondents"].tolist() == [5, 80]
    assert table["below_min_respondents"].tolist() == [False, True]
    assert skm.minimum_respondents(1_000) == 278 and skm.minimum_respondents(None) is None
    named = skm.ikm_table(data, min_respondents={"U01": 5})  # a unit not named: the default, 384
    assert named["min_respondents"].tolist() == [5, ikm.DEFAULT_MIN_RESPONDENTS]


def test_blank_answers_and_blank_respondents():
    data = respondents("U01", "2024Q1", [[4] * 9, [2] * 9, [np.nan] * 9])  # the last answered nothing
    data.loc[1, "u3"] = np.nan  # a blank answer: left out of u3's NRR
    row = skm.ikm_table(data, min_respondents=2).iloc[0]
    assert row["respondents"] == 2
    assert row["nrr_u3"] == 4.0 and row["nrr_u1"] == 3.0
    # u3 = 4, the eight others 3: 25 x (4 + 8 x 3) / 9
    assert row["ikm"] == pytest.approx(25 * 28 / 9)


def test_an_unsur_nobody_answered_leaves_no_ikm_but_keeps_the_row():
    data = respondents("U01", "2024Q1", [[3] * 8 + [np.nan]] * 3)
    row = skm.ikm_table(data, min_respondents=1).iloc[0]
    assert math.isnan(row["nrr_u9"]) and math.isnan(row["ikm"]) and row["band"] is None
    assert row["respondents"] == 3 and row["nrr_u1"] == 3.0


def test_answers_off_the_scale_or_missing_columns_are_refused():
    bad = respondents("U01", "2024Q1", [[5] + [3] * 8])
    with pytest.raises(ValueError, match="1-4 scale"):
        skm.ikm_table(bad)
    with pytest.raises(ValueError, match="u9"):
        skm.ikm_table(respondents("U01", "2024Q1", [[3] * 9]).drop(columns="u9"))


def test_no_respondents_gives_an_empty_table_with_the_columns():
    table = skm.ikm_table(respondents("U01", "2024Q1", [[np.nan] * 9]))
    assert table.empty and list(table.columns) == skm.TABLE_COLUMNS


def test_service_outcomes_rows_validate_with_warnings_only(tmp_path):
    data = pd.concat([respondents("U01", "2024Q1", WORKED), respondents("U02", "2024Q1", [[3] * 8 + [np.nan]]),
                      respondents("U03", "2024Q2", [[4] * 9])], ignore_index=True)
    rows = skm.service_outcomes_rows(skm.ikm_table(data, min_respondents=1))
    assert list(rows.columns) == ["unit_id", "period", "ikm", "iku_attainment"]
    assert rows["iku_attainment"].isna().all() and rows["ikm"].notna().tolist() == [True, False, True]
    tables = base_tables()
    tables["service_outcomes"] = rows.astype(object).where(rows.notna(), "")
    ds = load_dataset(write_dataset(tmp_path, tables))
    report = ds.report.to_frame()
    so = report[report["table"] == "service_outcomes"]
    assert ds.ok and set(so["severity"]) == {"warning"} and set(so["check"]) == {"missing_value"}
    # an empty iku on every row, an empty ikm where the IKM could not be computed: rows kept
    assert (so["column"] == "iku_attainment").sum() == 3 and (so["column"] == "ikm").sum() == 1
    typed = ds.tables["service_outcomes"]
    assert len(typed) == 3 and typed["ikm"].iloc[0] == pytest.approx(rows["ikm"].iloc[0])


def test_notebook_04_bands_the_imported_ikm_the_same_way():
    from analysis.rollout.sections import ikm_quality_section

    data = pd.concat([respondents("U01", "2024Q4", WORKED), respondents("U02", "2024Q4", [[4] * 9] * 2),
                      respondents("U03", "2024Q4", [[2] * 9] * 2), respondents("U01", "2024Q3", [[1] * 9])],
                     ignore_index=True)
    table = skm.ikm_table(data, min_respondents=1)
    section = ikm_quality_section(skm.service_outcomes_rows(table))
    k = section.key_figures
    latest = table[table["period"] == "2024Q4"]
    assert k["period"] == "2024Q4" and k["units"] == 3
    assert k["units_by_band"] == {"A": 1, "B": 1, "C": 0, "D": 1}  # 100 A, 81.71 B, 50 D
    assert k["mean_ikm"] == pytest.approx(latest["ikm"].mean()) and k["band"] == ikm.band(latest["ikm"].mean())
    assert section.data["by_period"]["period"].tolist() == ["2024Q3", "2024Q4"]
    assert ikm_quality_section(None).status.startswith("skipped")
