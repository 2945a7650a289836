"""A generated regional government written out as its systems would export it, and imported back.

The generator's employees, units and appraisals become a SIASN "Export Data ASN" ('|', NIPs with
Excel's apostrophe, ``null``, DD-MM-YYYY dates, M/F, jabatan names) and an e-Kinerja "Laporan
Penilaian SKP" (';', upper-case rating labels, '-' where no predikat was reported), each region
an instansi of its own, both recognised by their headers. The import must give back the same
employees and appraisals cell by cell, and the planted reported-predikat mismatches must be found through it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.validation import load_dataset
from analysis.imports.run import import_exports
from analysis.outcomes.predikat import appraisal_outcomes

LEVEL = {"ahli_utama": "Ahli Utama", "ahli_madya": "Ahli Madya", "ahli_muda": "Ahli Muda",
         "ahli_pertama": "Ahli Pertama", "penyelia": "Penyelia", "mahir": "Mahir", "terampil": "Terampil",
         "pemula": "Pemula"}
ESELON = {"jpt_utama": "I.a", "jpt_madya": "I.b", "jpt_pratama": "II.a", "administrator": "III.a",
          "pengawas": "IV.a"}
RATING = {"di_atas": "DIATAS EKSPEKTASI", "sesuai": "SESUAI EKSPEKTASI", "di_bawah": "DIBAWAH EKSPEKTASI"}

def _jabatan(position_class: str) -> tuple[str, str, str]:
    """(jenis jabatan, jabatan name, eselon) that say the position class as exports do."""
    if position_class in ESELON:
        return "Jabatan Struktural", "Kepala Bidang Umum", ESELON[position_class]
    if position_class in LEVEL:
        return "Jabatan Fungsional Tertentu", f"Analis Kebijakan {LEVEL[position_class]}", "null"
    return "Jabatan Pelaksana", "Pengadministrasi Umum", "null"


def _siasn(employees: pd.DataFrame, units: pd.DataFrame) -> str:
    unit = units.set_index("unit_id")
    lines = ["pns_id|nip_baru|nama|tanggal_lahir|jenis_kelamin|jenis_pegawai_nama|kedudukan_hukum_id|eselon_nama|"
             "jenis_jabatan_nama|jabatan_nama|unor_id|unor_nama|instansi_kerja_nama"]
    for i, e in enumerate(employees.itertuples(index=False)):
        jenis, jabatan, eselon = _jabatan(e.position_class)
        pppk = e.employment_type == "PPPK"
        lines.append("|".join([
            f"p{i}", f"'{e.employee_id}", "Nama Dibuang", pd.Timestamp(e.birth_date).strftime("%d-%m-%Y"),
            "M" if e.gender == "L" else "F", "PPPK" if pppk else "PNS DAERAH", "71" if pppk else "01", eselon,
            jenis, jabatan, e.unit_id, unit.at[e.unit_id, "unit_name"], unit.at[e.unit_id, "region"]]))
    return "\n".join(lines) + "\n"


def _ekinerja(appraisals: pd.DataFrame, employees: pd.DataFrame) -> str:
    unit_of = employees.set_index("employee_id")["unit_id"]
    lines = ["nip;nama;periode_awal_skp;periode_akhir_skp;skp_unor_id;is_skp_plt_plh_pjb;hasil_kerja;perilaku_kerja;"
             "hasil_akhir;pegawai_atasan_nip;tahun_skp;jenis_pegawai"]
    for a in appraisals.itertuples(index=False):
        reported = a.predikat_reported
        lines.append(";".join([
            a.employee_id, "Nama Dibuang", f"{a.period}-01-01", f"{a.period}-12-31", unit_of.get(a.employee_id, "U-X"),
            "0", RATING[a.hasil_kerja], RATING[a.perilaku_kerja],
            "-" if reported is None or pd.isna(reported) else str(reported).replace("_", " ").upper(),
            a.rater_id, str(a.period), "PNS"]))
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_exports_of_a_generated_government_import_back_and_keep_their_planted_findings(small_sample, tmp_path):
    tables, truth, _ = small_sample
    employees, units, appraisals = tables["employees"], tables["units"], tables["appraisals"]
    src = tmp_path / "exports"
    src.mkdir()
    (src / "data_asn.csv").write_text(_siasn(employees, units), encoding="utf-8")
    (src / "laporan_penilaian_skp.csv").write_text(_ekinerja(appraisals, employees), encoding="utf-8")
    out = tmp_path / "dataset"
    import_exports([src], out)  # both layouts recognised by their headers
    ds = load_dataset(out)
    assert ds.report.ok, ds.report.summary()
    got = ds.tables

    # employees, cell by cell (names dropped; the contract's columns the exports carry)
    cols = ["employee_id", "unit_id", "position_class", "employment_type", "gender", "birth_date"]
    want = employees[cols].sort_values("employee_id").reset_index(drop=True)
    have = got["employees"][cols].sort_values("employee_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(have.astype(str), want.astype(str))
    assert "name" not in got["employees"] or got["employees"]["name"].isna().all()

    # appraisals: the same rows (the validated tables have already set aside those of staff no longer in
    # the master; any left would be set aside by the import too)
    known = appraisals["employee_id"].isin(set(employees["employee_id"]))
    acols = ["employee_id", "period", "rater_id", "hasil_kerja", "perilaku_kerja", "predikat_reported"]
    want = appraisals.loc[known, acols].astype(str).sort_values(["employee_id", "period"]).reset_index(drop=True)
    have = got["appraisals"][acols].astype(str).sort_values(["employee_id", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(have, want)

    # the planted mismatches between reported and matrix predikat are found through the import
    out_imported = appraisal_outcomes(got["appraisals"], got["employees"], got["units"])
    hit = out_imported[out_imported["reported_mismatch"].fillna(False).astype(bool)]
    found = set(zip(hit["employee_id"], hit["period"].astype(str)))
    planted = {(m["employee_id"], m["period"]) for m in truth["reported_mismatches"]
               if m["employee_id"] in set(employees["employee_id"])}
    assert planted and planted <= found
    # and each unit's region came through its instansi
    assert set(got["units"]["region"]) == set(units["region"])
