"""Profiles and rule tables are data: a user's own profile and rules, and clear errors on bad ones."""

from __future__ import annotations

from pathlib import Path

import export_fixtures as fx
import pandas as pd
import pytest

from analysis.imports.jabatan import RulesError, load_rules, position_class
from analysis.imports.profiles import SHIPPED, ProfileError, load_profile
from analysis.imports.run import import_exports

# the worked example of docs/imports.md: a local SIMPEG's training export
LOCAL_SIMPEG = """\
name: simpeg_kota_contoh_pelatihan
layout: training
description: SIMPEG Kota Contoh, menu Riwayat Pelatihan
null_values: ["-", "null"]
date_formats: ["%d.%m.%Y"]
personal: [nama_pegawai]
fields:
  employee_id: {columns: [nip pegawai], transforms: [strip_apostrophe, no_spaces]}
  name: {columns: [judul pelatihan], transforms: [collapse_spaces]}
  form:
    columns: [kategori]
    values: {teknis: pelatihan, daring: e_learning, bimtek: bimtek}
  jp: [jpl]
  start: [mulai]
  end: [selesai]
  provider: {columns: [penyelenggara], transforms: [before_dash]}
"""


def test_a_user_profile_reads_a_local_export(tmp_path):
    profile = tmp_path / "simpeg.yaml"
    profile.write_text(LOCAL_SIMPEG, encoding="utf-8")
    export = tmp_path / "pelatihan.csv"
    export.write_text(
        "Rekap Pelatihan Pegawai\n\n"
        "NIP PEGAWAI;NAMA PEGAWAI;JUDUL PELATIHAN;KATEGORI;JPL;MULAI;SELESAI;PENYELENGGARA\n"
        f"'19850315 201001 2 001;Siti Aminah;Pelatihan   Asesmen;Teknis;24;01.03.2024;03.03.2024;"
        "BPSDM - Provinsi Contoh\n"
        f"{fx.STAF};Rudi Hartono;Kelas Daring Arsip;Daring;-;05.06.2024;-;ANRI\n"
        f"{fx.KASI};Dewi Lestari;Magang Singkat;Lapangan;8;07.07.2024;07.07.2024;Dinas X\n",
        encoding="utf-8")
    siasn = fx.write_siasn(tmp_path / "siasn.csv")
    outcome = import_exports([siasn], tmp_path / "staff")  # employees to check the NIPs against
    assert outcome.tables["employees"]["employee_id"].isin([fx.STAF, fx.KASI]).sum() == 2
    outcome = import_exports([export], tmp_path / "out", profile=profile)
    got = pd.read_csv(tmp_path / "out" / "training_history.csv", dtype=str, keep_default_na=False)
    assert got.to_dict(orient="records") == [
        {"employee_id": "198503152010012001", "start": "2024-03-01", "end": "2024-03-03",
         "name": "Pelatihan Asesmen", "form": "pelatihan", "jp": "24", "provider": "BPSDM"},
        {"employee_id": fx.STAF, "start": "2024-06-05", "end": "", "name": "Kelas Daring Arsip",
         "form": "e_learning", "jp": "", "provider": "ANRI"},
        {"employee_id": fx.KASI, "start": "2024-07-07", "end": "2024-07-07", "name": "Magang Singkat",
         "form": "", "jp": "8", "provider": "Dinas X"},
    ]
    summary = outcome.report.files["pelatihan.csv"]
    assert (summary.profile, summary.header_row) == ("simpeg_kota_contoh_pelatihan", 3)
    assert summary.unmapped == {("KATEGORI", "Lapangan"): 1}
    assert summary.personal_columns == ["NAMA PEGAWAI"]


@pytest.mark.parametrize("text, key", [
    ("name: x\nlayout: training\nfields: {employee_id: [nip], name: [n], start: [s]}\ncolour: red\n", "colour"),
    ("name: x\nlayout: training\nfields: {employee_id: {columns: [nip], transforms: [shout]}, name: [n], "
     "start: [s]}\n", "fields.employee_id.transforms"),
    ("name: x\nlayout: training\nfields: {employee_id: [nip], start: [s]}\n", "fields.name"),
    ("name: x\nlayout: training\nfields: {employee_id: [nip], name: [n], start: [s], salary: [gaji]}\n",
     "fields.salary"),
    ("name: x\nlayout: training\nfields: {employee_id: {columns: [nip], colour: red}, name: [n], start: [s]}\n",
     "fields.employee_id.colour"),
    ("name: x\nlayout: payroll\nfields: {}\n", "layout"),
    ("name: x\nlayout: training\ndate_formats: ['%Q']\nfields: {employee_id: [nip], name: [n], start: [s]}\n",
     "date_formats"),
])
def test_a_bad_profile_is_an_error_naming_the_file_and_key(tmp_path, text, key):
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and f": {key}:" in str(err.value)


def test_every_shipped_profile_loads_and_ships_as_package_data():
    for name in SHIPPED:
        assert load_profile(name).name == name
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"analysis.imports" = ["profiles/*.yaml", "rules/*.yaml"]' in text


def test_rules_classify_and_a_user_file_extends_them(tmp_path):
    rules = load_rules()
    assert position_class("Guru Ahli Muda", "Jabatan Fungsional Tertentu", None, rules) == "ahli_muda"
    assert position_class("Perawat Terampil", "Jabatan Fungsional", None, rules) == "terampil"
    assert position_class("Kepala Bidang Anggaran", "Jabatan Struktural", "III.a", rules) == "administrator"
    assert position_class("Kepala Dinas X", "Struktural", "II.b", rules) == "jpt_pratama"
    assert position_class("Kepala Seksi Y", "Struktural", "Eselon IV.a", rules) == "pengawas"
    assert position_class("Pengadministrasi Umum", "Jabatan Pelaksana", None, rules) == "pelaksana"
    assert position_class("Juru Pantau Satwa", "Jabatan Fungsional Tertentu", None, rules) is None
    mine = tmp_path / "rules.yaml"
    mine.write_text("position_class:\n  structural:\n    juru pantau: pelaksana\n"
                    "job_family:\n  - {family: lingkungan, words: [satwa]}\n", encoding="utf-8")
    extended = load_rules(mine)
    assert position_class("Juru Pantau Satwa", "Jabatan Fungsional Tertentu", None, extended) == "pelaksana"
    src = fx.write_siasn(tmp_path / "siasn.csv")
    outcome = import_exports([src], tmp_path / "out", rules_file=mine)
    staff = outcome.tables["employees"].set_index("employee_id")
    assert staff.loc[fx.UNKNOWN, ["position_class", "job_family"]].tolist() == ["pelaksana", "lingkungan"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("position_class:\n  levels:\n    ahli muda: expert\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"bad.yaml: position_class.levels.ahli muda: 'expert'"):
        load_rules(bad)
