"""Exports as the agencies' systems write them, built by the tests with their quirks.

A small regional government ("Kota Contoh"): a SIASN Data ASN export ('|'-separated, NIPs with
Excel's apostrophe, the text ``null`` for empty, dates DD-MM-YYYY, M/F), an e-Kinerja Laporan
Penilaian SKP (xlsx with its title block, or ';'-separated CSV; mutasi, an acting SKP, rating codes,
'-' predikat, a row not yet assessed), training history (SIASN kursus, SIMPEG riwayat_diklat) and SKM
respondent sheets. Every NIP is valid: birth date, appointment, sex digit and serial agree with the
other columns. Names are made up and only there to be dropped.
"""

from __future__ import annotations

from pathlib import Path

# NIP: birth yyyymmdd + appointment yyyymm + sex (1 male, 2 female) + serial
GURU = "198503152010012001"        # female, Guru Ahli Muda
PERAWAT = "199001202015031002"     # male, Perawat Terampil, moved unit in 2024 (mutasi)
KADIS = "197002101995031001"       # male, Kepala Dinas Pendidikan, eselon II.a: the raters' rater
KASI = "198007072005012003"        # female, Kepala Seksi, eselon IV.a
STAF = "199212122019031004"        # male, Pengadministrasi Umum (pelaksana)
PPPK = "199505052022122005"        # female, PPPK Guru Ahli Pertama
UNKNOWN = "198811112012121006"     # male, a jabatan no rule knows: set aside
VOLCANO = "198601012011011007"     # male, Pengamat Gunung Api Ahli Pertama: class known, family not
ANALIS = "198404042009041008"      # male, only in e-Kinerja: Analis Kebijakan Ahli Muda

SIASN_COLUMNS = (
    "pns_id|nip_baru|nip_lama|nama|gelar_depan|gelar_belakang|tempat_lahir_id|tempat_lahir_nama|tanggal_lahir|"
    "jenis_kelamin|agama_id|agama_nama|jenis_pegawai_id|jenis_pegawai_nama|kedudukan_hukum_id|kedudukan_hukum_nama|"
    "gol_awal_id|gol_akhir_id|gol_akhir_nama|tmt_golongan|tmt_cpns|tmt_pns|eselon_id|eselon_nama|jenis_jabatan_id|"
    "jenis_jabatan_nama|jabatan_id|jabatan_nama|tmt_jabatan|tingkat_pendidikan_id|tingkat_pendidikan_nama|"
    "pendidikan_nama|unor_id|unor_nama|unor_induk_id|unor_induk_nama|instansi_induk_id|instansi_induk_nama|"
    "instansi_kerja_id|instansi_kerja_nama|satuan_kerja_induk_id|satuan_kerja_induk_nama|satuan_kerja_kerja_id|"
    "satuan_kerja_kerja_nama|lokasi_kerja_nama|is_valid_nik"
)


def _siasn_row(pns_id, nip, name, birth, sex, jenis_id, jenis, kh_id, kh, gol, tmt_cpns, eselon, jj, jabatan,
               pendidikan, unor_id, unor, induk_id, induk):
    return "|".join([
        pns_id, f"'{nip}", "null", name, "null", "S.Pd", "T1", "Kota Contoh", birth, sex, "1", "Islam",
        jenis_id, jenis, kh_id, kh, "31", gol[0], gol[1], "01-04-2020", tmt_cpns, "null", eselon[0], eselon[1],
        jj[0], jj[1], "J1", jabatan, "01-01-2021", "40", pendidikan, "null", unor_id, unor, induk_id, induk,
        "I1", "Pemerintah Kota Contoh", "I1", "Pemerintah Kota Contoh", "S1", "null", "S1", "null", "Kota Contoh",
        "1",
    ])


STRUKTURAL = ("1", "Jabatan Struktural")
FUNGSIONAL = ("2", "Jabatan Fungsional Tertentu")
PELAKSANA = ("4", "Jabatan Pelaksana")
NO_ESELON = ("null", "null")

SIASN_ROWS = [
    _siasn_row("p1", GURU, "Siti Aminah", "15-03-1985", "F", "1", "PNS DAERAH", "01", "Aktif", ("33", "III/c"),
               "01-12-2010", NO_ESELON, FUNGSIONAL, "Guru Ahli Muda", "S-1/Sarjana", "U-SD1",
               "SD Negeri 1 Contoh", "U-DIK", "Dinas Pendidikan"),
    _siasn_row("p2", PERAWAT, "Budi Santoso", "20-01-1990", "M", "1", "PNS DAERAH", "01", "Aktif", ("32", "III/b"),
               "01-03-2015", NO_ESELON, FUNGSIONAL, "Perawat Terampil", "Diploma III", "U-PKM2",
               "Puskesmas Dua", "U-KES", "Dinas Kesehatan"),
    _siasn_row("p3", KADIS, "Ahmad Yani", "10-02-1970", "M", "1", "PNS DAERAH", "01", "Aktif", ("42", "IV/c"),
               "01-03-1995", ("21", "II.a"), STRUKTURAL, "Kepala Dinas Pendidikan", "S-2", "U-DIK",
               "Dinas Pendidikan", "null", "null"),
    _siasn_row("p4", KASI, "Dewi Lestari", "07-07-1980", "F", "1", "PNS DAERAH", "01", "Aktif", ("34", "III/d"),
               "01-01-2005", ("41", "IV.a"), STRUKTURAL, "Kepala Seksi Kurikulum", "S-1/Sarjana", "U-DIK",
               "Dinas Pendidikan", "null", "null"),
    _siasn_row("p5", STAF, "Rudi Hartono", "12-12-1992", "M", "1", "PNS DAERAH", "01", "Aktif", ("21", "II/a"),
               "01-03-2019", NO_ESELON, PELAKSANA, "Pengadministrasi Umum", "SLTA", "U-DIK",
               "Dinas Pendidikan", "null", "null"),
    _siasn_row("p6", PPPK, "Rina Wati", "05-05-1995", "F", "8", "PPPK", "71", "PPPK Aktif", ("null", "IX"),
               "01-12-2022", NO_ESELON, FUNGSIONAL, "Guru Ahli Pertama", "S-1/Sarjana", "U-SD1",
               "SD Negeri 1 Contoh", "U-DIK", "Dinas Pendidikan"),
    _siasn_row("p7", UNKNOWN, "Joko Susilo", "11-11-1988", "M", "1", "PNS DAERAH", "01", "Aktif", ("31", "III/a"),
               "01-12-2012", NO_ESELON, FUNGSIONAL, "Juru Pantau Satwa", "S-1/Sarjana", "U-KES",
               "Dinas Kesehatan", "null", "null"),
    _siasn_row("p8", VOLCANO, "Agus Salim", "01-01-1986", "M", "1", "PNS DAERAH", "01", "Aktif", ("31", "III/a"),
               "01-01-2011", NO_ESELON, FUNGSIONAL, "Pengamat Gunung Api Ahli Pertama", "S-1/Sarjana", "U-KES",
               "Dinas Kesehatan", "null", "null"),
]


def write_siasn(path: Path) -> Path:
    path.write_text("\n".join([SIASN_COLUMNS, *SIASN_ROWS]) + "\n", encoding="utf-8")
    return path


def write_siasn_upper(path: Path) -> Path:
    """The short SIASN layout: upper-case headers with spaces, ';', no unit code."""
    lines = [
        "NAMA;NIP;GELAR DEPAN;GELAR BELAKANG;TANGGAL LAHIR;JENIS KELAMIN;JENIS PEGAWAI;GOLONGAN;JENIS JABATAN;"
        "NAMA JABATAN;ESELON;PENDIDIKAN;NAMA UNOR;UNOR INDUK",
        f"Siti Aminah;'{GURU};null;S.Pd;15-03-1985;F;PNS;III/c;Jabatan Fungsional;Guru Ahli Muda;null;S-1;"
        "SD Negeri 1 Contoh;Dinas Pendidikan",
        f"Ahmad Yani;'{KADIS};Drs.;M.Si;10-02-1970;M;PNS;IV/c;Jabatan Struktural;Kepala Dinas Pendidikan;II.a;S-2;"
        "Dinas Pendidikan;null",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EKINERJA_COLUMNS = [
    "jenis", "id", "nip", "nama", "periode_awal_skp", "periode_akhir_skp", "skp_unor_id", "skp_unor",
    "skp_unor_induk", "skp_jabatan", "skp_jenis_jabatan", "is_skp_plt_plh_pjb", "hasil_kerja", "perilaku_kerja",
    "hasil_akhir", "pegawai_atasan_id", "pegawai_atasan_nip", "pegawai_atasan_nama", "pegawai_atasan_unor_id",
    "pegawai_atasan_unor", "pegawai_atasan_jabatan", "pegawai_atasan_golru", "waktu_dinilai", "pegawai_penilai_id",
    "tahun_skp", "skp_id", "periode_id", "skp_penilaian_id", "golru", "jenis_pegawai",
]


def _skp(i, nip, name, start, end, unor_id, unor, induk, jabatan, jenis_jabatan, acting, hk, pk, ha, rater,
         rater_name, gol="III/c", jenis_pegawai="PNS"):
    return ["SKP", f"id{i}", nip, name, start, end, unor_id, unor, induk, jabatan, jenis_jabatan, acting, hk, pk, ha,
            f"a{i}", rater, rater_name, "U-DIK", "Dinas Pendidikan", "Kepala Dinas", "IV/c",
            "2025-01-10 09:00:00", f"p{i}", "2024", f"skp{i}", "2024", f"pn{i}", gol, jenis_pegawai]


EKINERJA_ROWS = [
    # 1: counts
    _skp(1, GURU, "Siti Aminah", "2024-01-01", "2024-12-31", "U-SD1", "SD Negeri 1 Contoh", "Dinas Pendidikan",
         "Guru Ahli Muda", "JABATAN FUNGSIONAL", "0", "DIATAS EKSPEKTASI", "SESUAI EKSPEKTASI", "SANGAT BAIK",
         KASI, "Dewi Lestari"),
    # 2, 3: mutasi; the later SKP (row 3 of the data, unit U-PKM2) counts, although it comes first
    _skp(2, PERAWAT, "Budi Santoso", "2024-07-01", "2024-12-31", "U-PKM2", "Puskesmas Dua", "Dinas Kesehatan",
         "Perawat Terampil", "JABATAN FUNGSIONAL", "0", "sesuai ekspektasi", "Sesuai Ekspektasi", "BAIK",
         KASI, "Dewi Lestari"),
    _skp(3, PERAWAT, "Budi Santoso", "2024-01-01", "2024-06-30", "U-PKM1", "Puskesmas Satu", "Dinas Kesehatan",
         "Perawat Terampil", "JABATAN FUNGSIONAL", "0", "DIBAWAH EKSPEKTASI", "DIBAWAH EKSPEKTASI",
         "SANGAT KURANG", KASI, "Dewi Lestari"),
    # 4, 5: the head of section's own SKP counts; her acting SKP (Plt.) is set aside
    _skp(4, KASI, "Dewi Lestari", "2024-01-01", "2024-12-31", "U-DIK", "Dinas Pendidikan", "Pemerintah Kota Contoh",
         "Kepala Seksi Kurikulum", "JABATAN STRUKTURAL", "0", "DIATAS EKSPEKTASI", "DIATAS EKSPEKTASI",
         "SANGAT BAIK", KADIS, "Ahmad Yani", gol="III/d"),
    _skp(5, KASI, "Dewi Lestari", "2024-03-01", "2024-12-31", "U-DIK", "Dinas Pendidikan", "Pemerintah Kota Contoh",
         "Plt. Kepala Bidang SD", "JABATAN STRUKTURAL", "1", "SESUAI EKSPEKTASI", "SESUAI EKSPEKTASI", "BAIK",
         KADIS, "Ahmad Yani", gol="III/d"),
    # 6: rating codes (1 = di atas, 3 = di bawah), predikat not given yet
    _skp(6, STAF, "Rudi Hartono", "2024-01-01", "2024-12-31", "U-DIK", "Dinas Pendidikan", "Pemerintah Kota Contoh",
         "Pengadministrasi Umum", "JABATAN PELAKSANA", "0", "1", "3", "-", KASI, "Dewi Lestari", gol="II/a"),
    # 7: not yet assessed
    _skp(7, PPPK, "Rina Wati", "2024-01-01", "2024-12-31", "U-SD1", "SD Negeri 1 Contoh", "Dinas Pendidikan",
         "Guru Ahli Pertama", "JABATAN FUNGSIONAL", "0", "", "", "-", KASI, "Dewi Lestari", gol="IX",
         jenis_pegawai="PPPK"),
    # 8: an employee only e-Kinerja knows, in a unit only e-Kinerja knows
    _skp(8, ANALIS, "Hendra Gunawan", "2024-01-01", "2024-12-31", "U-BAP", "Bappeda", "Pemerintah Kota Contoh",
         "Analis Kebijakan Ahli Muda", "JABATAN FUNGSIONAL", "0", "SESUAI EKSPEKTASI", "DIATAS EKSPEKTASI", "BAIK",
         KADIS, "Ahmad Yani", gol="III/d"),
    # 9: the employee SIASN could not class: the appraisal is set aside with them
    _skp(9, UNKNOWN, "Joko Susilo", "2024-01-01", "2024-12-31", "U-KES", "Dinas Kesehatan", "Pemerintah Kota Contoh",
         "Juru Pantau Satwa", "JABATAN FUNGSIONAL", "0", "SESUAI EKSPEKTASI", "SESUAI EKSPEKTASI", "BAIK",
         KASI, "Dewi Lestari"),
]

TITLE = ["LAPORAN PENILAIAN SKP TAHUN 2024", "Instansi Pemerintah Kota Contoh", "Dicetak pada 15-01-2025 10:00"]


def write_ekinerja_xlsx(path: Path, rows=None, header_row: int = 8) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Laporan"
    for i, text in enumerate(TITLE, start=1):
        ws.cell(i, 1, text)
    for j, name in enumerate(EKINERJA_COLUMNS, start=1):
        ws.cell(header_row, j, name)
    for i, row in enumerate(EKINERJA_ROWS if rows is None else rows, start=header_row + 1):
        for j, value in enumerate(row, start=1):
            if value != "":
                ws.cell(i, j, value)
    wb.save(path)
    return path


def write_ekinerja_csv(path: Path, rows=None) -> Path:
    lines = [";".join(EKINERJA_COLUMNS)] + [";".join(r) for r in (EKINERJA_ROWS if rows is None else rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_kursus(path: Path) -> Path:
    """SIASN riwayat kursus, flattened (camelCase headers, ',')."""
    lines = [
        "id,nipBaru,namaKursus,jenisKursusNama,jumlahJam,tanggalKursus,tanggalSelesaiKursus,institusiPenyelenggara",
        f"k1,'{GURU},Pelatihan Kurikulum Merdeka,Diklat Teknis,32,03-02-2024,06-02-2024,BPSDM Provinsi",
        f"k2,'{GURU},Webinar Literasi Digital,Seminar,2,10-05-2024,10-05-2024,Kominfo",
        f"k3,'{PERAWAT},Kursus Triase,E-Learning,20,01-03-2024,null,null",
        f"k4,'{PERAWAT},Pelatihan Kegawatdaruratan,Pelatihan Jarak Menengah,24,01-04-2024,03-04-2024,RSUD",
        f"k5,'{GURU},Pelatihan Kurikulum Merdeka,Diklat Teknis,32,03-02-2024,06-02-2024,BPSDM Provinsi",
        f"k6,'{STAF},Kursus Arsip,Kursus,null,tanggal tidak ada,null,ANRI",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_simpeg_diklat(path: Path) -> Path:
    """SIMPEG riwayat_diklat (snake_case headers, ';')."""
    lines = [
        "nip_baru;nama_diklat;jenis_diklat;durasi_jam;tanggal_mulai;tanggal_selesai;institusi_penyelenggara",
        f"{KASI};Pelatihan Kepemimpinan Pengawas;Diklat Kepemimpinan;120;2024-05-06;2024-08-30;BPSDM Provinsi",
        f"{STAF};Bimbingan Teknis Persuratan;Bimbingan Teknis;16;2024-09-02;2024-09-03;BKPSDM",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SKM_HEADER = "No,Tanggal,Unit Layanan,Jenis Kelamin,Nama Responden,U1,U2,U3,U4,U5,U6,U7,U8,U9"


def write_skm(path: Path) -> Path:
    """Respondents of two units over two quarters; unit by name, as the survey form writes it."""
    lines = [SKM_HEADER,
             "1,05-01-2024,Puskesmas Dua,L,Anon A,4,4,3,3,4,4,4,3,4",
             "2,20-02-2024,Puskesmas Dua,P,Anon B,3,3,3,3,3,3,3,3,3",
             "3,15-04-2024,Puskesmas Dua,P,Anon C,4,4,4,4,4,4,4,4,4",
             "4,10-01-2024,SD NEGERI 1 CONTOH,L,Anon D,2,3,3,2,3,3,3,2,3",
             "5,11-01-2024,Kantor Tidak Dikenal,L,Anon E,4,4,4,4,4,4,4,4,4"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
