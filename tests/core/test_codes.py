"""Code lists: folding, display labels and aliases, competency codes."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core import codes
from analysis.core.codes import (
    CODE_LISTS,
    aliases,
    competency_kind_of,
    fold,
    label,
    labels,
    normalise,
    normalise_competency_code,
    normalise_key,
)


@pytest.mark.parametrize("text,key", [
    ("Di Atas Ekspektasi", "di_atas_ekspektasi"), ("Kurang/Misconduct", "kurang_misconduct"),
    ("  JPT  Pratama ", "jpt_pratama"), ("Laki-laki", "laki_laki"), ("José Ñoño", "jose_nono"),
    ("e-Learning", "e_learning"), ("\u00a0Guru\u00a0", "guru"), ("", ""), ("---", ""), ("A1 / b2", "a1_b2"),
])
def test_fold(text, key):
    assert fold(text) == key


NORMALISE_CASES = [
    ("rating", ["Di Atas Ekspektasi", "sesuai", "DI BAWAH EKSPEKTASI", "Above expectations", "di-atas",
                "Sesuai Ekspektasi", "dibawah"],
     ["di_atas", "sesuai", "di_bawah", "di_atas", "di_atas", "sesuai", "di_bawah"]),
    ("predikat", ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang", "Poor/Misconduct",
                  "kurang", "Very good"],
     ["sangat_baik", "baik", "butuh_perbaikan", "kurang", "sangat_kurang", "kurang", "kurang", "sangat_baik"]),
    ("org_predikat", ["Istimewa", "Kurang", "Outstanding"], ["istimewa", "kurang", "istimewa"]),
    ("position_class", ["JPT Pratama", "jpt madya", "Ahli Pertama", "PELAKSANA", "Senior executive (pratama)"],
     ["jpt_pratama", "jpt_madya", "ahli_pertama", "pelaksana", "jpt_pratama"]),
    ("gender", ["Laki-laki", "PEREMPUAN", "l", "p", "Pria", "Wanita", "Male", "F"], list("LPLPLPLP")),
    ("employment_type", ["pns", "PPPK", "cpns", "P3K"], ["PNS", "PPPK", "PNS", "PPPK"]),
    ("aspect", ["Berorientasi Pelayanan", "akuntabel", "KOLABORATIF", "Service orientation"],
     ["berorientasi_pelayanan", "akuntabel", "kolaboratif", "berorientasi_pelayanan"]),
    ("rater_role", ["Diri sendiri", "Atasan", "Atasan Langsung", "Rekan kerja", "Bawahan", "Self", "Peer"],
     ["self", "supervisor", "supervisor", "peer", "subordinate", "self", "peer"]),
    ("competency_kind", ["Manajerial", "Sosial kultural", "Teknis", "technical"],
     ["manajerial", "sosial_kultural", "teknis", "teknis"]),
    ("direction", ["Makin tinggi makin baik", "lower is better", "max", "min"],
     ["higher", "lower", "higher", "lower"]),
    ("training_mode", ["Klasikal", "Non-klasikal", "Classroom"], ["klasikal", "nonklasikal", "klasikal"]),
    ("training_form", ["E-Learning", "Bimbingan Teknis", "Seminar/konferensi", "Diklat", "Lokakarya", "Magang"],
     ["e_learning", "bimtek", "seminar", "pelatihan", "workshop", "magang"]),
]


@pytest.mark.parametrize("code_list,texts,expected", NORMALISE_CASES, ids=[c[0] for c in NORMALISE_CASES])
def test_normalise_labels_and_aliases(code_list, texts, expected):
    assert normalise(pd.Series(texts, dtype="object"), code_list).tolist() == expected


def test_normalise_unknown_and_missing():
    s = pd.Series(["Luar Biasa", None, "sesuai", ""], index=[4, 5, 6, 7], dtype="object")
    got = normalise(s, "rating")
    assert got.tolist() == [None, None, "sesuai", None]
    assert list(got.index) == [4, 5, 6, 7] and got.dtype == object


def test_every_code_has_both_labels_and_every_label_maps_back():
    table = labels()
    for code_list, code_values in CODE_LISTS.items():
        assert code_list in table, code_list
        for code in code_values:
            assert set(table[code_list][code]) == {"id", "en"}, (code_list, code)
            for text in table[code_list][code].values():
                assert aliases(code_list)[fold(text)] == code, (code_list, code, text)
        # no stray labels for codes that are not in the list
        assert set(table[code_list]) == set(code_values)


def test_aliases_point_at_real_codes():
    for code_list, code_values in CODE_LISTS.items():
        assert set(aliases(code_list).values()) <= set(code_values), code_list


def test_label():
    assert label("rating", "di_atas") == "Di Atas Ekspektasi"
    assert label("rating", "di_atas", "en") == "Above expectations"
    assert label("predikat", "kurang") == "Kurang/Misconduct"
    assert label("rating", "nope") == "nope"


def test_training_forms_belong_to_a_mode():
    assert set(codes.TRAINING_FORMS.values()) == set(codes.TRAINING_MODES)


def test_normalise_key():
    s = pd.Series(["Guru ", "Tenaga Kesehatan", "ADMINISTRASI", None, "---"], dtype="object")
    assert normalise_key(s).tolist() == ["guru", "tenaga_kesehatan", "administrasi", None, None]


COMPETENCY_CASES = [
    ("M.01", "M.01"), ("m1", "M.01"), ("M.1", "M.01"), ("M01", "M.01"), ("m.08", "M.08"), ("M 2", "M.02"),
    (" M.03 ", "M.03"), ("M.001", "M.01"), ("SK.01", "SK.01"), ("sk1", "SK.01"), ("Sk.1", "SK.01"),
    ("T.guru.1", "T.guru.1"), ("T.Guru.1", "T.guru.1"), ("t.guru.01", "T.guru.1"),
    ("T.Kesehatan Masyarakat.2", "T.kesehatan_masyarakat.2"),
    # agency codes in neither shape are kept as written
    ("AGENCY-7", "AGENCY-7"), ("K.01", "K.01"),
]


@pytest.mark.parametrize("text,canonical", COMPETENCY_CASES, ids=[c[0] for c in COMPETENCY_CASES])
def test_competency_code_canonical_forms(text, canonical):
    assert normalise_competency_code(pd.Series([text], dtype="object")).tolist() == [canonical]


def test_competency_codes_keep_missing_and_index():
    got = normalise_competency_code(pd.Series(["m1", None], index=[3, 9], dtype="object"))
    assert got.tolist() == ["M.01", None] and list(got.index) == [3, 9]


@pytest.mark.parametrize("code,kind", [
    ("M.01", "manajerial"), ("M.08", "manajerial"), ("SK.01", "sosial_kultural"),
    ("T.guru.1", "teknis"), ("AGENCY-7", None),
])
def test_competency_kind_of(code, kind):
    assert competency_kind_of(code) == kind
    assert competency_kind_of(normalise_competency_code(pd.Series([code])).iloc[0]) == kind
