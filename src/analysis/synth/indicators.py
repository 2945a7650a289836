"""Individual performance indicators (IKI) per job family, as written in SKP documents.

Each indicator: name, direction, target range, decimals, and whether it is a
percentage (a realisation above 100% of a percentage is impossible).
"""

from __future__ import annotations

from typing import NamedTuple


class Indicator(NamedTuple):
    name: str
    direction: str  # higher | lower
    lo: float
    hi: float
    decimals: int
    percent: bool = False


POOLS: dict[str, tuple[Indicator, ...]] = {
    "guru": (
        Indicator("Persentase siswa mencapai KKM", "higher", 75, 90, 1, True),
        Indicator("Jumlah perangkat pembelajaran disusun", "higher", 8, 16, 0),
        Indicator("Jumlah jam tatap muka per minggu", "higher", 24, 30, 0),
        Indicator("Persentase kehadiran siswa", "higher", 90, 97, 1, True),
        Indicator("Jumlah siswa dibimbing remedial dan pengayaan", "higher", 10, 40, 0),
        Indicator("Waktu pengembalian hasil penilaian (hari)", "lower", 5, 10, 0),
        Indicator("Jumlah siswa tidak naik kelas", "lower", 2, 6, 0),
    ),
    "kesehatan": (
        Indicator("Jumlah pasien terlayani", "higher", 600, 2400, 0),
        Indicator("Cakupan imunisasi dasar lengkap (%)", "higher", 90, 95, 1, True),
        Indicator("Jumlah kunjungan ibu hamil (K4)", "higher", 100, 300, 0),
        Indicator("Jumlah kegiatan promosi kesehatan", "higher", 12, 36, 0),
        Indicator("Persentase rekam medis lengkap", "higher", 90, 98, 1, True),
        Indicator("Waktu tunggu pelayanan rawat jalan (menit)", "lower", 30, 60, 0),
        Indicator("Angka infeksi terkait pelayanan (%)", "lower", 1.5, 3.0, 2),
    ),
    "administrasi": (
        Indicator("Jumlah naskah dinas diproses", "higher", 300, 1200, 0),
        Indicator("Persentase arsip tertata", "higher", 85, 98, 1, True),
        Indicator("Jumlah layanan administrasi diselesaikan", "higher", 150, 600, 0),
        Indicator("Jumlah laporan kegiatan disusun", "higher", 12, 24, 0),
        Indicator("Persentase data barang milik daerah termutakhir", "higher", 85, 98, 1, True),
        Indicator("Waktu penyelesaian layanan (hari)", "lower", 3, 7, 0),
        Indicator("Waktu pengagendaan surat masuk (jam)", "lower", 4, 24, 0),
    ),
    "keuangan": (
        Indicator("Persentase realisasi anggaran", "higher", 90, 98, 1, True),
        Indicator("Jumlah SPM diterbitkan", "higher", 200, 800, 0),
        Indicator("Jumlah dokumen pertanggungjawaban diverifikasi", "higher", 300, 1200, 0),
        Indicator("Persentase penerimaan pendapatan tercapai", "higher", 90, 100, 1, True),
        Indicator("Jumlah laporan keuangan disusun", "higher", 4, 12, 0),
        Indicator("Waktu penyusunan laporan keuangan (hari)", "lower", 10, 20, 0),
        Indicator("Jumlah temuan administrasi pemeriksaan", "lower", 2, 5, 0),
    ),
    "perencanaan": (
        Indicator("Jumlah dokumen perencanaan disusun", "higher", 3, 8, 0),
        Indicator("Persentase program dimonitor dan dievaluasi", "higher", 85, 100, 1, True),
        Indicator("Jumlah kajian kebijakan diselesaikan", "higher", 2, 6, 0),
        Indicator("Persentase keselarasan Renja dengan RPJMD", "higher", 90, 100, 1, True),
        Indicator("Jumlah rapat koordinasi perencanaan difasilitasi", "higher", 6, 18, 0),
        Indicator("Waktu penyusunan Renja (hari)", "lower", 20, 45, 0),
    ),
    "teknik": (
        Indicator("Panjang jalan dalam kondisi mantap (km)", "higher", 50, 200, 1),
        Indicator("Jumlah paket pekerjaan diawasi", "higher", 5, 20, 0),
        Indicator("Jumlah dokumen perencanaan teknis disusun", "higher", 4, 12, 0),
        Indicator("Persentase sarana prasarana berfungsi baik", "higher", 85, 98, 1, True),
        Indicator("Jumlah rekomendasi teknis diterbitkan", "higher", 20, 80, 0),
        Indicator("Waktu penerbitan rekomendasi teknis (hari)", "lower", 7, 21, 0),
        Indicator("Persentase deviasi progres fisik", "lower", 3, 8, 1),
    ),
    "penyuluhan": (
        Indicator("Jumlah kelompok binaan", "higher", 8, 20, 0),
        Indicator("Jumlah kunjungan penyuluhan", "higher", 48, 96, 0),
        Indicator("Persentase kelompok binaan naik kelas", "higher", 20, 40, 1, True),
        Indicator("Jumlah materi penyuluhan disusun", "higher", 6, 12, 0),
        Indicator("Jumlah peserta pelatihan masyarakat", "higher", 60, 200, 0),
        Indicator("Waktu tindak lanjut aduan kelompok (hari)", "lower", 3, 10, 0),
    ),
    "kependudukan": (
        Indicator("Jumlah dokumen kependudukan diterbitkan", "higher", 1000, 5000, 0),
        Indicator("Persentase perekaman KTP-el", "higher", 95, 99, 1, True),
        Indicator("Persentase akta kelahiran anak terbit", "higher", 85, 95, 1, True),
        Indicator("Jumlah data kependudukan dimutakhirkan", "higher", 2000, 8000, 0),
        Indicator("Waktu penerbitan KTP-el (hari)", "lower", 1, 3, 0),
        Indicator("Waktu penerbitan akta (hari)", "lower", 1, 5, 0),
    ),
    "pemerintahan": (
        Indicator("Jumlah produk hukum daerah difasilitasi", "higher", 6, 20, 0),
        Indicator("Persentase pengaduan masyarakat ditindaklanjuti", "higher", 85, 100, 1, True),
        Indicator("Jumlah rapat koordinasi kewilayahan", "higher", 12, 24, 0),
        Indicator("Jumlah layanan surat keterangan diterbitkan", "higher", 200, 900, 0),
        Indicator("Persentase ketenteraman dan ketertiban terjaga", "higher", 90, 99, 1, True),
        Indicator("Waktu penyelesaian layanan (hari)", "lower", 1, 5, 0),
    ),
    "pengawasan": (
        Indicator("Jumlah penugasan audit diselesaikan", "higher", 6, 15, 0),
        Indicator("Persentase rekomendasi hasil pengawasan ditindaklanjuti", "higher", 75, 95, 1, True),
        Indicator("Jumlah reviu laporan keuangan", "higher", 4, 12, 0),
        Indicator("Jumlah pengaduan diinvestigasi", "higher", 3, 10, 0),
        Indicator("Persentase OPD dengan SPIP level 3", "higher", 60, 90, 1, True),
        Indicator("Waktu penyelesaian laporan hasil pemeriksaan (hari)", "lower", 10, 20, 0),
    ),
    "kepegawaian": (
        Indicator("Jumlah usulan kenaikan pangkat diproses", "higher", 150, 600, 0),
        Indicator("Persentase data SIASN mutakhir", "higher", 90, 99, 1, True),
        Indicator("Jumlah ASN mengikuti pengembangan kompetensi", "higher", 100, 400, 0),
        Indicator("Jumlah dokumen penilaian kinerja diverifikasi", "higher", 500, 2000, 0),
        Indicator("Persentase ASN memenuhi 20 JP", "higher", 70, 95, 1, True),
        Indicator("Waktu penyelesaian layanan kepegawaian (hari)", "lower", 3, 10, 0),
    ),
    "structural": (
        Indicator("Persentase capaian indikator kinerja unit", "higher", 90, 100, 1, True),
        Indicator("Nilai SAKIP unit", "higher", 65, 80, 1),
        Indicator("Persentase realisasi anggaran unit", "higher", 90, 98, 1, True),
        Indicator("Indeks Kepuasan Masyarakat unit", "higher", 78, 88, 2),
        Indicator("Jumlah inovasi pelayanan", "higher", 1, 4, 0),
        Indicator("Jumlah temuan audit belum ditindaklanjuti", "lower", 2, 6, 0),
    ),
}
