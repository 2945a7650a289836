"""Each layout imported from exports with their quirks, checked cell by cell against the contract tables."""

from __future__ import annotations

from pathlib import Path

import export_fixtures as fx
import pandas as pd
import pytest

from analysis.imports.run import import_exports


def read(folder: Path, table: str) -> list[dict]:
    df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    return df.to_dict(orient="records")


def report(folder: Path) -> list[tuple]:
    df = pd.read_csv(folder / "import_report.csv", dtype=str, keep_default_na=False)
    return [tuple(r) for r in df[["file", "row", "column", "problem", "value"]].itertuples(index=False)]


def employee(nip, unit, pc, family, kind, gender, birth, hire, grade, education):
    return {"employee_id": nip, "unit_id": unit, "position_class": pc, "job_family": family,
            "employment_type": kind, "gender": gender, "birth_date": birth, "hire_date": hire, "grade": grade,
            "education": education}


SIASN_EMPLOYEES = [
    employee(fx.GURU, "U-SD1", "ahli_muda", "pendidikan", "PNS", "P", "1985-03-15", "2010-12-01", "III/c",
             "S-1/Sarjana"),
    employee(fx.PERAWAT, "U-PKM2", "terampil", "kesehatan", "PNS", "L", "1990-01-20", "2015-03-01", "III/b",
             "Diploma III"),
    employee(fx.KADIS, "U-DIK", "jpt_pratama", "pemerintahan", "PNS", "L", "1970-02-10", "1995-03-01", "IV/c", "S-2"),
    employee(fx.KASI, "U-DIK", "pengawas", "administrasi", "PNS", "P", "1980-07-07", "2005-01-01", "III/d",
             "S-1/Sarjana"),
    employee(fx.STAF, "U-DIK", "pelaksana", "administrasi", "PNS", "L", "1992-12-12", "2019-03-01", "II/a", "SLTA"),
    employee(fx.PPPK, "U-SD1", "ahli_pertama", "pendidikan", "PPPK", "P", "1995-05-05", "2022-12-01", "IX",
             "S-1/Sarjana"),
    employee(fx.VOLCANO, "U-KES", "ahli_pertama", "lainnya", "PNS", "L", "1986-01-01", "2011-01-01", "III/a",
             "S-1/Sarjana"),
]


def test_siasn_export_gives_employees_and_units(tmp_path):
    src = fx.write_siasn(tmp_path / "export_data_asn.csv")
    outcome = import_exports([src], tmp_path / "out")
    out = tmp_path / "out"
    assert read(out, "employees") == SIASN_EMPLOYEES
    region = "Pemerintah Kota Contoh"  # no --region, no region column: the agency the export names
    assert read(out, "units") == [
        {"unit_id": "U-SD1", "unit_name": "SD Negeri 1 Contoh", "region": region},
        {"unit_id": "U-PKM2", "unit_name": "Puskesmas Dua", "region": region},
        {"unit_id": "U-DIK", "unit_name": "Dinas Pendidikan", "region": region},
        {"unit_id": "U-KES", "unit_name": "Dinas Kesehatan", "region": region},
    ]
    assert read(out, "unit_hierarchy") == [
        {"unit_id": "U-SD1", "parent_unit_id": "U-DIK", "parent_unit_name": "Dinas Pendidikan"},
        {"unit_id": "U-PKM2", "parent_unit_id": "U-KES", "parent_unit_name": "Dinas Kesehatan"},
    ]
    assert report(out) == [("export_data_asn.csv", "8", "jabatan_nama", "unknown_position_class",
                            "Juru Pantau Satwa")]
    summary = outcome.report.files["export_data_asn.csv"]
    assert (summary.profile, summary.rows_read, summary.rows_used) == ("siasn_data_asn", 8, 7)
    assert summary.set_aside == {"unknown_position_class": 1}
    assert summary.unmapped[("jabatan_nama -> job family (lainnya)", "Pengamat Gunung Api Ahli Pertama")] == 1
    assert "agama_nama" in summary.ignored_columns
    assert {"nama", "gelar_depan", "gelar_belakang"} <= set(summary.personal_columns)
    # names are read only to be dropped: no file written holds one
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "Siti Aminah" not in text and "Joko Susilo" not in text, path.name


def test_siasn_upper_case_layout_without_unit_codes(tmp_path):
    src = fx.write_siasn_upper(tmp_path / "DATA ASN.csv")
    import_exports([src], tmp_path / "out", region="Kota Contoh")
    out = tmp_path / "out"
    assert read(out, "employees") == [
        employee(fx.GURU, "SD_NEGERI_1_CONTOH", "ahli_muda", "pendidikan", "PNS", "P", "1985-03-15", "", "III/c",
                 "S-1"),
        employee(fx.KADIS, "DINAS_PENDIDIKAN", "jpt_pratama", "pemerintahan", "PNS", "L", "1970-02-10", "", "IV/c",
                 "S-2"),
    ]
    assert read(out, "units") == [
        {"unit_id": "SD_NEGERI_1_CONTOH", "unit_name": "SD Negeri 1 Contoh", "region": "Kota Contoh"},
        {"unit_id": "DINAS_PENDIDIKAN", "unit_name": "Dinas Pendidikan", "region": "Kota Contoh"},
    ]
    assert read(out, "unit_hierarchy") == [
        {"unit_id": "SD_NEGERI_1_CONTOH", "parent_unit_id": "DINAS_PENDIDIKAN", "parent_unit_name": "Dinas Pendidikan"}]


APPRAISALS = [
    # sorted by NIP as written
    {"employee_id": fx.KASI, "period": "2024", "rater_id": fx.KADIS, "hasil_kerja": "di_atas",
     "perilaku_kerja": "di_atas", "predikat_reported": "sangat_baik"},
    {"employee_id": fx.ANALIS, "period": "2024", "rater_id": fx.KADIS, "hasil_kerja": "sesuai",
     "perilaku_kerja": "di_atas", "predikat_reported": "baik"},
    {"employee_id": fx.GURU, "period": "2024", "rater_id": fx.KASI, "hasil_kerja": "di_atas",
     "perilaku_kerja": "sesuai", "predikat_reported": "sangat_baik"},
    # mutasi: the SKP ending 2024-12-31 counts, not the one ending 2024-06-30 (di_bawah, sangat_kurang)
    {"employee_id": fx.PERAWAT, "period": "2024", "rater_id": fx.KASI, "hasil_kerja": "sesuai",
     "perilaku_kerja": "sesuai", "predikat_reported": "baik"},
    # codes 1 / 3, predikat '-': kept, predikat empty
    {"employee_id": fx.STAF, "period": "2024", "rater_id": fx.KASI, "hasil_kerja": "di_atas",
     "perilaku_kerja": "di_bawah", "predikat_reported": ""},
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_ekinerja_report_with_siasn(tmp_path, fmt):
    src = tmp_path / "in"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    skp = fx.write_ekinerja_xlsx(src / "penilaian.xlsx") if fmt == "xlsx" else fx.write_ekinerja_csv(
        src / "penilaian.csv")
    outcome = import_exports([src], tmp_path / "out")
    out = tmp_path / "out"
    assert read(out, "appraisals") == APPRAISALS
    # e-Kinerja adds the employee and the unit only it knows (class and family from skp_jabatan)
    assert read(out, "employees") == SIASN_EMPLOYEES + [
        employee(fx.ANALIS, "U-BAP", "ahli_muda", "pemerintahan", "PNS", "L", "1984-04-04", "", "III/d", "")]
    assert read(out, "units")[-1] == {"unit_id": "U-BAP", "unit_name": "Bappeda", "region": "Pemerintah Kota Contoh"}
    first = 9 if fmt == "xlsx" else 2  # the header is on row 8 of the workbook, under the title block
    assert [r for r in report(out) if r[0] == skp.name] == [
        (skp.name, str(first + 2), "periode_akhir_skp", "superseded_by_later_skp", "2024-06-30"),
        (skp.name, str(first + 4), "is_skp_plt_plh_pjb", "acting_skp_plt_plh", "Plt. Kepala Bidang SD"),
        (skp.name, str(first + 6), "hasil_kerja", "not_yet_assessed", ""),
        (skp.name, str(first + 8), "nip", "employee_not_imported", fx.UNKNOWN),
    ]
    summary = outcome.report.files[skp.name]
    assert summary.header_row == first - 1
    assert (summary.rows_read, summary.rows_used) == (9, 5)
    assert summary.set_aside == {"superseded_by_later_skp": 1, "acting_skp_plt_plh": 1, "not_yet_assessed": 1,
                                 "employee_not_imported": 1}
    assert summary.personal_columns == ["nama", "pegawai_atasan_nama"]
    for path in out.iterdir():
        assert "Dewi Lestari" not in path.read_text(encoding="utf-8")


def test_ekinerja_alone_gives_every_required_table(tmp_path):
    skp = fx.write_ekinerja_xlsx(tmp_path / "penilaian.xlsx")
    import_exports([skp], tmp_path / "out", region="Kota Contoh")
    out = tmp_path / "out"
    staff = {r["employee_id"]: r for r in read(out, "employees")}
    # the raters are not appraised in this report, so only the appraised are employees
    assert sorted(staff) == sorted([fx.KASI, fx.ANALIS, fx.GURU, fx.PERAWAT, fx.STAF])
    assert staff[fx.PERAWAT] == employee(fx.PERAWAT, "U-PKM2", "terampil", "kesehatan", "PNS", "L", "1990-01-20",
                                         "", "III/c", "")
    assert staff[fx.KASI]["position_class"] == "pengawas"
    assert staff[fx.STAF]["position_class"] == "pelaksana"
    assert {r["region"] for r in read(out, "units")} == {"Kota Contoh"}  # --region wins over the title's instansi


def test_training_history_from_siasn_kursus_and_simpeg_diklat(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    fx.write_kursus(src / "riwayat_kursus.csv")
    fx.write_simpeg_diklat(src / "riwayat_diklat.csv")
    outcome = import_exports([src], tmp_path / "out")
    out = tmp_path / "out"

    def row(nip, start, end, name, form, jp, provider):
        return {"employee_id": nip, "start": start, "end": end, "name": name, "form": form, "jp": jp,
                "provider": provider}

    assert read(out, "training_history") == [
        row(fx.KASI, "2024-05-06", "2024-08-30", "Pelatihan Kepemimpinan Pengawas", "pelatihan", "120",
            "BPSDM Provinsi"),
        row(fx.STAF, "2024-09-02", "2024-09-03", "Bimbingan Teknis Persuratan", "bimtek", "16", "BKPSDM"),
        row(fx.GURU, "2024-02-03", "2024-02-06", "Pelatihan Kurikulum Merdeka", "pelatihan", "32", "BPSDM Provinsi"),
        row(fx.GURU, "2024-05-10", "2024-05-10", "Webinar Literasi Digital", "seminar", "2", "Kominfo"),
        row(fx.PERAWAT, "2024-03-01", "", "Kursus Triase", "e_learning", "20", ""),
        # a form no map knows: empty, counted
        row(fx.PERAWAT, "2024-04-01", "2024-04-03", "Pelatihan Kegawatdaruratan", "", "24", "RSUD"),
    ]
    assert [r for r in report(out) if r[0] == "riwayat_kursus.csv"] == [
        ("riwayat_kursus.csv", "5", "jenisKursusNama", "unmapped_value", "Pelatihan Jarak Menengah"),
        ("riwayat_kursus.csv", "6", "namaKursus", "duplicate_training", "Pelatihan Kurikulum Merdeka"),
        ("riwayat_kursus.csv", "7", "tanggalKursus", "unreadable_date", "tanggal tidak ada"),
    ]
    kursus = outcome.report.files["riwayat_kursus.csv"]
    assert kursus.unmapped == {("jenisKursusNama", "Pelatihan Jarak Menengah"): 1}
    assert kursus.ignored_columns == ["id"]
    assert outcome.report.files["riwayat_diklat.csv"].profile == "siasn_riwayat_diklat"


def test_skm_respondents_give_ikm_per_unit_and_quarter(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    fx.write_skm(src / "skm_2024.csv")
    outcome = import_exports([src], tmp_path / "out")
    got = pd.read_csv(tmp_path / "out" / "service_outcomes.csv", dtype={"unit_id": str, "period": str})
    # 25 x the mean of the nine NRRs; Puskesmas Dua Q1: NRRs 3.5,3.5,3,3,3.5,3.5,3.5,3,3.5 -> 25 x 30/9
    assert got["unit_id"].tolist() == ["U-PKM2", "U-PKM2", "U-SD1"]
    assert got["period"].tolist() == ["2024Q1", "2024Q2", "2024Q1"]
    assert got["ikm"].round(4).tolist() == [round(25 * 30 / 9, 4), 100.0, round(25 * 24 / 9, 4)]
    assert got["iku_attainment"].isna().all()
    assert ("skm_2024.csv", "6", "Unit Layanan", "unknown_unit", "Kantor Tidak Dikenal") in report(tmp_path / "out")
    summary = outcome.report.files["skm_2024.csv"]
    assert summary.personal_columns == ["Nama Responden"]
    assert "Jenis Kelamin" in summary.ignored_columns


def test_skm_unit_and_period_from_the_file_name(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    fx.write_siasn(src / "siasn.csv")
    (src / "skm_U-PKM2_2024Q3.csv").write_text("No;U1;U2;U3;U4;U5;U6;U7;U8;U9\n1;4;4;4;4;4;4;4;4;4\n"
                                               "2;2;2;2;2;2;2;2;2;2\n", encoding="utf-8")
    import_exports([src], tmp_path / "out")
    assert read(tmp_path / "out", "service_outcomes") == [
        {"unit_id": "U-PKM2", "period": "2024Q3", "ikm": "75", "iku_attainment": ""}]
