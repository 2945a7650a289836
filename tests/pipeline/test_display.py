"""The formatting layer of the tables the notebooks show (pipeline.display)."""

import re

import numpy as np
import pandas as pd
import pytest

from analysis.core.columns import column_table
from analysis.core.i18n import LANGUAGES
from analysis.pipeline.display import SUPPRESSED_MARK, column_kind, present


def _table():
    return pd.DataFrame({
        "region": ["Alak", "Andir", "Palu"],
        "n": [5439.0, 3.0, np.nan],
        "share_gap": [0.236808, np.nan, 0.5],
        "cost": [2.201872e09, 1.5e6, np.nan],
        "p": [7.100830e-07, 0.04131, pd.NA],
        "estimate": [-0.0172077, 0.013, -0.0068],
        "name_id": ["Akuntansi", "Pengadaan", "Audit"],
        "name_en": ["Accounting", "Procurement", "Audit"],
        "predikat": ["sangat_baik", "baik", "kurang"],
        "suppressed": [False, True, False],
    }, index=[90, 338, 4206])


def _text(shown) -> str:
    return repr(shown) + shown._repr_html_()


def test_indonesian_table_reads_as_people_write_it():
    shown = present(_table(), "id")
    cells = shown.cells
    assert list(cells.columns) == ["Wilayah", "Jumlah (n)", "% dengan kesenjangan", "Biaya", "p", "Estimasi", "Nama",
                                   "Predikat"]
    assert cells["Jumlah (n)"].tolist() == ["5.439", "3", "–"]
    assert cells["% dengan kesenjangan"].tolist() == ["23,7%", "–", "50,0%"]
    assert cells["Biaya"].tolist() == ["Rp 2.201.872.000", "Rp 1.500.000", "–"]
    assert cells["p"].tolist() == ["< 0,001", "0,0413", "–"]
    assert cells["Estimasi"].tolist() == ["-0,017", "0,013", "-0,007"]
    assert cells["Nama"].tolist() == ["Akuntansi", "Pengadaan", "Audit"]  # the run's language only
    assert cells["Predikat"].tolist() == ["Sangat Baik", "Baik", "Kurang/Misconduct"]  # codes by their labels
    # no index, no suppressed column: a mark on the row, explained under the table
    assert cells["Wilayah"].tolist() == ["Alak", f"Andir {SUPPRESSED_MARK}", "Palu"]
    text = _text(shown)
    assert "4206" not in text and "suppressed" not in text and "<NA>" not in text and "NaN" not in text
    assert "ukuran sel minimum" in shown.note
    assert not re.search(r"\d\.\d{6}|e\+0|e-0", text)


def test_english_table_keeps_english_numbers_and_names():
    shown = present(_table(), "en", columns=["region", "name_id", "cost"])
    assert list(shown.cells.columns) == ["Region", "Name", "Cost"]  # name_id asked, name_en shown in English
    assert shown.cells["Name"].tolist() == ["Accounting", "Procurement", "Audit"]
    assert shown.cells["Cost"].tolist()[0] == "Rp 2,201,872,000"


def test_trimmed_tables_say_how_much_is_left_out_and_where_it_is():
    shown = present(_table(), "en", rows=2, source="tables/x.csv")
    assert len(shown.cells) == 2
    assert "2 of 3 rows" in shown.note and "tables/x.csv" in shown.note
    with pytest.raises(KeyError, match="not in the table"):
        present(_table(), "en", columns=["nothing"])


def test_kinds_follow_the_table_of_columns_then_the_values():
    assert column_kind("share_gap", pd.Series([0.1])) == "pct"
    assert column_kind("whatever", pd.Series([1.0, 2.0])) == "int"  # whole numbers stored as floats
    assert column_kind("whatever", pd.Series([1.5])) == "num"
    assert column_kind("p_value", pd.Series([0.5])) == "p"
    assert column_kind("flagged", pd.Series([True])) == "bool"
    assert present(pd.DataFrame({"flag": [True, False]}), "id").cells.iloc[:, 0].tolist() == ["ya", "tidak"]


def test_every_column_label_is_in_both_languages_with_a_known_kind():
    from analysis.pipeline.display import KINDS

    for name, entry in column_table().items():
        assert all(entry.get(lang) for lang in LANGUAGES), name
        assert entry.get("kind") in (None, *KINDS), name


def test_columns_sharing_a_label_stay_apart():
    shown = present(pd.DataFrame({"time": ["2025Q1"], "period": ["2025"], "n": [3]}), "en")
    assert list(shown.cells.columns) == ["Period (time)", "Period (period)", "Number (n)"]
    assert shown.numeric == ["Number (n)"]
    assert "<table" in shown._repr_html_()


def test_codes_are_shown_by_their_labels_even_when_a_row_names_their_list():
    diffs = pd.DataFrame({"outcome": ["rating_score", "ikm"], "factor": ["gender", "position_class"],
                          "level": ["P", "ahli_madya"], "reference": ["L", "pelaksana"], "estimate": [-0.017, 0.004]})
    cells = present(diffs, "id").cells
    assert cells["Ukuran"].tolist() == ["Penilaian atasan (1–3)", "Indeks Kepuasan Masyarakat (IKM)"]
    assert cells["Faktor"].tolist() == ["Jenis kelamin", "Kelas jabatan"]
    assert cells["Kelompok"].tolist() == ["Perempuan", "Ahli Madya"]
    assert cells["Acuan"].tolist() == ["Laki-laki", "Pelaksana"]


def test_an_estimate_and_its_interval_have_the_same_decimals():
    cells = present(pd.DataFrame({"estimate": [1.91, 0.61], "ci_low": [1.067, -0.643], "ci_high": [2.75, 1.86]}),
                    "en").cells
    widths = {len(v.split(".")[1]) for col in cells for v in cells[col]}
    assert widths == {2}


def test_text_from_the_data_is_never_live_html():
    shown = present(pd.DataFrame({"unit_name": ["<img src=x onerror=alert(1)>"], "<b>col</b>": [1]}), "en")
    html = shown._repr_html_()
    assert "<img" not in html and "<b>col" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
