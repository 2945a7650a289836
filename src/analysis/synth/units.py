"""The units of a synthetic regional government: how many of each kind, names, sizes.

A kabupaten/kota of about 6,000 employees has one Sekretariat Daerah, one
Inspektorat, ~15 dinas, ~6 badan, one RSUD, ~10 kecamatan, ~25 kelurahan,
~25 puskesmas and ~140 schools (SD and SMP). Unit counts scale with the number
of employees; the central agencies saturate at the real list of agencies and
the extra central staff go to UPTD branches (``UPTD Pendidikan Wilayah …``),
as in large governments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REGIONS = ("Alak", "Palu", "Rakumpit", "Andir", "Polonia")


@dataclass(frozen=True)
class Agency:
    name: str
    short: str
    struct_family: str  # job family of its structural officials
    families: dict[str, float]  # job families of its functional staff, with weights
    size: tuple[int, int]  # typical headcount range at ~6,000 employees
    service: bool = False  # a front-office service unit (processing_days is reported)


DINAS = (
    Agency("Dinas Pendidikan", "Pendidikan", "administrasi",
           {"perencanaan": 2, "administrasi": 3, "keuangan": 1, "kepegawaian": 1}, (110, 200)),
    Agency("Dinas Kesehatan", "Kesehatan", "kesehatan",
           {"kesehatan": 6, "perencanaan": 1, "administrasi": 1}, (80, 160)),
    Agency("Dinas Pekerjaan Umum dan Penataan Ruang", "Pekerjaan Umum", "teknik",
           {"teknik": 5, "perencanaan": 1}, (60, 130)),
    Agency("Dinas Kependudukan dan Pencatatan Sipil", "Kependudukan", "kependudukan",
           {"kependudukan": 5, "administrasi": 1}, (35, 80), service=True),
    Agency("Dinas Sosial", "Sosial", "penyuluhan", {"penyuluhan": 3, "administrasi": 1}, (30, 70)),
    Agency("Dinas Pertanian", "Pertanian", "penyuluhan", {"penyuluhan": 5, "teknik": 1}, (40, 110)),
    Agency("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "Perizinan", "administrasi",
           {"administrasi": 3, "teknik": 1, "perencanaan": 1}, (30, 60), service=True),
    Agency("Dinas Perhubungan", "Perhubungan", "teknik", {"teknik": 4, "administrasi": 1}, (35, 90),
           service=True),
    Agency("Dinas Lingkungan Hidup", "Lingkungan Hidup", "teknik",
           {"teknik": 2, "penyuluhan": 2, "pengawasan": 1}, (35, 100)),
    Agency("Dinas Komunikasi dan Informatika", "Kominfo", "teknik", {"teknik": 3, "administrasi": 1}, (30, 60)),
    Agency("Dinas Pengendalian Penduduk dan Keluarga Berencana", "Keluarga Berencana", "penyuluhan",
           {"penyuluhan": 5, "kependudukan": 1}, (30, 80)),
    Agency("Dinas Perumahan dan Kawasan Permukiman", "Perumahan", "teknik",
           {"teknik": 4, "perencanaan": 1}, (30, 60)),
    Agency("Dinas Tenaga Kerja", "Tenaga Kerja", "penyuluhan",
           {"penyuluhan": 2, "administrasi": 2, "pengawasan": 1}, (30, 60)),
    Agency("Dinas Koperasi dan Usaha Mikro", "Koperasi", "penyuluhan",
           {"penyuluhan": 3, "keuangan": 1}, (30, 60)),
    Agency("Satuan Polisi Pamong Praja", "Satpol PP", "pemerintahan",
           {"pemerintahan": 4, "administrasi": 1}, (40, 120)),
    Agency("Dinas Pemberdayaan Perempuan dan Perlindungan Anak", "PPPA", "penyuluhan",
           {"penyuluhan": 3, "administrasi": 1}, (30, 55)),
    Agency("Dinas Perpustakaan dan Kearsipan", "Kearsipan", "administrasi", {"administrasi": 4}, (30, 50)),
    Agency("Dinas Perindustrian dan Perdagangan", "Perdagangan", "penyuluhan",
           {"penyuluhan": 2, "administrasi": 1, "pengawasan": 1}, (30, 60)),
    Agency("Dinas Pariwisata dan Kebudayaan", "Pariwisata", "perencanaan",
           {"perencanaan": 2, "penyuluhan": 2}, (30, 55)),
    Agency("Dinas Ketahanan Pangan", "Ketahanan Pangan", "penyuluhan", {"penyuluhan": 4}, (30, 55)),
    Agency("Dinas Perikanan", "Perikanan", "penyuluhan", {"penyuluhan": 4, "teknik": 1}, (30, 60)),
    Agency("Dinas Pemadam Kebakaran dan Penyelamatan", "Damkar", "teknik",
           {"teknik": 3, "pemerintahan": 1}, (40, 100)),
    Agency("Dinas Pemberdayaan Masyarakat dan Desa", "PMD", "pemerintahan",
           {"pemerintahan": 3, "penyuluhan": 2}, (30, 55)),
    Agency("Dinas Pemuda dan Olahraga", "Pemuda dan Olahraga", "administrasi",
           {"penyuluhan": 2, "administrasi": 2}, (30, 50)),
)
BADAN = (
    Agency("Badan Kepegawaian dan Pengembangan SDM", "BKPSDM", "kepegawaian",
           {"kepegawaian": 5, "administrasi": 1}, (35, 80)),
    Agency("Badan Pengelolaan Keuangan dan Aset Daerah", "BPKAD", "keuangan",
           {"keuangan": 5, "administrasi": 1}, (50, 110)),
    Agency("Badan Perencanaan Pembangunan, Riset dan Inovasi Daerah", "Bapperida", "perencanaan",
           {"perencanaan": 5}, (40, 80)),
    Agency("Badan Pendapatan Daerah", "Bapenda", "keuangan", {"keuangan": 4, "administrasi": 1}, (40, 90),
           service=True),
    Agency("Badan Penanggulangan Bencana Daerah", "BPBD", "teknik",
           {"teknik": 2, "pemerintahan": 2}, (30, 60)),
    Agency("Badan Kesatuan Bangsa dan Politik", "Kesbangpol", "pemerintahan", {"pemerintahan": 3}, (30, 45)),
)
INSPEKTORAT = Agency("Inspektorat Daerah", "Inspektorat", "pengawasan", {"pengawasan": 6, "administrasi": 1},
                     (30, 60))
SETDA = Agency("Sekretariat Daerah", "Setda", "pemerintahan",
               {"pemerintahan": 3, "administrasi": 2, "keuangan": 1, "perencanaan": 1, "kepegawaian": 1},
               (60, 150))
# Parents of UPTD branches (short name -> weight) when central staff outgrow the agencies.
UPTD_PARENTS = {
    "Pendidikan": 0.36, "Pertanian": 0.12, "Pekerjaan Umum": 0.10, "Kesehatan": 0.08,
    "Keluarga Berencana": 0.08, "Lingkungan Hidup": 0.07, "Sosial": 0.05, "Perhubungan": 0.05,
    "Kependudukan": 0.05, "Damkar": 0.04,
}

# Share of all employees by unit type (schools take the rest, ~48%).
SHARES = {
    "setda": 0.017, "inspektorat": 0.007, "dinas": 0.15, "badan": 0.05, "rsud": 0.06,
    "kecamatan": 0.04, "kelurahan": 0.04, "puskesmas": 0.16,
}
TYPICAL = {"dinas": 60, "badan": 50, "rsud": 350, "kecamatan": 24, "kelurahan": 10.5,
           "puskesmas": 40, "sekolah": 21, "uptd": 27}
MIN_SIZE = {"setda": 20, "inspektorat": 8, "dinas": 10, "badan": 10, "rsud": 40, "kecamatan": 10,
            "kelurahan": 6, "puskesmas": 10, "sekolah": 8, "uptd": 8}
RANGES = {"rsud": (200, 500), "kecamatan": (15, 35), "kelurahan": (6, 15), "puskesmas": (20, 60),
          "sd": (10, 24), "smp": (20, 40), "uptd": (15, 40)}

_DIRECTIONS = ("Barat", "Timur", "Utara", "Selatan", "Tengah")
_PREFIX_JOINED = ("Suka", "Sido", "Mekar", "Sindang", "Karya")
_PREFIX_SPACED = ("Tanjung", "Bukit", "Sungai", "Kampung", "Batu", "Pasir", "Talang", "Karang",
                  "Lembah", "Padang", "Bumi", "Tanah", "Kota", "Pulau", "Lere")
_SUFFIX = ("Maju", "Jaya", "Makmur", "Indah", "Baru", "Raya", "Sari", "Mulya", "Damai", "Harapan",
           "Permai", "Asri", "Lestari", "Mekar", "Rejo", "Agung", "Mas", "Merah", "Tinggi", "Rata")
_LOCAL = ("Besusu", "Kamonji", "Siranindi", "Tondo", "Talise", "Tatura", "Birobuli", "Lolu", "Kawatuna",
          "Baiya", "Pantoloan", "Duyu", "Balaroa", "Donggala Kodi", "Buluri", "Watusampu", "Petobo",
          "Nunu", "Ujuna", "Kabonena", "Cigadung", "Ciumbuleuit", "Sekeloa", "Lebak Siliwangi",
          "Sei Sikambing", "Tanjung Rejo", "Babura", "Petisah", "Oebobo", "Fatululi", "Kayu Putih",
          "Oesapa", "Lasiana", "Naikoten", "Bakunase", "Kuanino", "Fontein", "Nefonaek")


def place_names(rng: np.random.Generator) -> list[str]:
    """A shuffled, duplicate-free list of village-like place names (kelurahan, UPTD areas)."""
    stems = [p + s.lower() for p in _PREFIX_JOINED for s in _SUFFIX]
    stems += [f"{p} {s}" for p in _PREFIX_SPACED for s in _SUFFIX]
    stems = list(dict.fromkeys(stems))
    rng.shuffle(stems)
    local = list(_LOCAL)
    rng.shuffle(local)
    return local + stems


def _endless(names: list[str]):
    """The names, then the names again with II, III, … appended."""
    yield from names
    k = 2
    while True:
        numeral = {2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII", 9: "IX"}.get(k, str(k))
        for name in names:
            yield f"{name} {numeral}"
        k += 1


def _allocate(total: int, raw: np.ndarray, minimum: int) -> np.ndarray:
    """Integer sizes summing to ``total``, proportional to ``raw``, each at least ``minimum``."""
    raw = np.asarray(raw, dtype=float)
    if len(raw) == 0:
        return np.zeros(0, dtype=int)
    x = raw / raw.sum() * total
    size = np.maximum(np.floor(x).astype(int), minimum)
    frac = x - np.floor(x)
    diff = total - int(size.sum())
    while diff != 0:
        if diff > 0:
            order = np.argsort(-frac, kind="stable")[:diff]
            size[order] += 1
            diff = total - int(size.sum())
            frac = np.zeros_like(frac)
        else:
            room = np.flatnonzero(size > minimum)
            if len(room) == 0:
                raise ValueError("too few employees for the units' minimum sizes")
            order = room[np.argsort(-size[room], kind="stable")][:-diff]
            size[order] -= 1
            diff = total - int(size.sum())
    return size


def plan_units(n_employees: int, rng: np.random.Generator) -> pd.DataFrame:
    """One row per unit: unit_id, unit_name, region, unit_type and internal planning columns.

    Internal columns: ``size`` (headcount), ``kind`` (sd, smp, uptd or the unit type),
    ``agency`` (index into DINAS/BADAN, -1 otherwise), ``parent`` (row of the parent unit:
    kecamatan of a kelurahan, dinas of a UPTD; -1 otherwise), ``service``.
    """
    n = int(n_employees)
    rows: list[dict] = []
    places = _endless(place_names(rng))

    def add(utype, kind, name, region, size_raw, agency=-1, parent=-1, service=False):
        rows.append(dict(unit_type=utype, kind=kind, unit_name=name, region=region, raw=float(size_raw),
                         agency=agency, parent=parent, service=service))
        return len(rows) - 1

    def region():
        return REGIONS[int(rng.integers(len(REGIONS)))]

    # --- central agencies --------------------------------------------------------
    h_setda = int(np.clip(round(SHARES["setda"] * n), MIN_SIZE["setda"], 250))
    h_insp = int(np.clip(round(SHARES["inspektorat"] * n), MIN_SIZE["inspektorat"], 80))
    n_badan = int(np.clip(round(SHARES["badan"] * n / TYPICAL["badan"]), 2, len(BADAN)))
    badan_raw = np.array([rng.uniform(*BADAN[i].size) for i in range(n_badan)])
    h_badan = int(max(min(round(SHARES["badan"] * n), badan_raw.sum() * 1.3), n_badan * MIN_SIZE["badan"]))
    central = round((SHARES["setda"] + SHARES["inspektorat"] + SHARES["dinas"] + SHARES["badan"]) * n)
    h_dinas = central - h_setda - h_insp - h_badan
    n_dinas = int(np.clip(round(h_dinas / TYPICAL["dinas"]), 4, len(DINAS)))
    h_dinas = max(h_dinas, n_dinas * MIN_SIZE["dinas"])
    dinas_raw = np.array([rng.uniform(*DINAS[i].size) for i in range(n_dinas)])
    overflow = h_dinas / n_dinas > 1.4 * dinas_raw.mean()
    if overflow:  # agencies full: they take the top of their range, UPTD branches the rest
        dinas_raw = np.array([rng.uniform(sum(DINAS[i].size) / 2, DINAS[i].size[1]) for i in range(n_dinas)])
        h_uptd = h_dinas - int(dinas_raw.round().sum())
        h_dinas -= h_uptd
    else:
        h_uptd = 0

    setda = add("setda", "setda", SETDA.name, region(), h_setda)
    insp = add("inspektorat", "inspektorat", INSPEKTORAT.name, region(), h_insp)
    dinas_rows = [add("dinas", "dinas", DINAS[i].name, region(), dinas_raw[i], agency=i, service=DINAS[i].service)
                  for i in range(n_dinas)]
    [add("badan", "badan", BADAN[i].name, region(), badan_raw[i], agency=i, service=BADAN[i].service)
                  for i in range(n_badan)]

    # --- hospitals, kecamatan, kelurahan, puskesmas --------------------------------
    n_rsud = max(1, round(SHARES["rsud"] * n / TYPICAL["rsud"]))
    used: set[str] = set()
    for k in range(n_rsud):
        r = region()
        name = next(x for x in (f"RSUD {r}", f"RSUD Pratama {r}", f"RSUD Pratama {r} {k + 1}") if x not in used)
        used.add(name)
        add("rsud", "rsud", name, r, rng.uniform(*RANGES["rsud"]))

    n_kec = max(2, round(SHARES["kecamatan"] * n / TYPICAL["kecamatan"]))
    kec_regions = [REGIONS[i % len(REGIONS)] for i in rng.permutation(max(n_kec, len(REGIONS)))[:n_kec]]
    per_region: dict[str, int] = {}
    kec_rows = []
    for r in kec_regions:
        k = per_region.get(r, 0)
        per_region[r] = k + 1
        name = f"{r} {_DIRECTIONS[k]}" if k < len(_DIRECTIONS) else next(places)
        kec_rows.append(add("kecamatan", "kecamatan", f"Kecamatan {name}", r,
                            rng.uniform(*RANGES["kecamatan"]), service=True))
    n_kel = max(3, round(SHARES["kelurahan"] * n / TYPICAL["kelurahan"]))
    kel_parent = np.concatenate([np.arange(n_kec), rng.integers(0, n_kec, max(0, n_kel - n_kec))])[:n_kel]
    for p in kel_parent:
        kr = kec_rows[int(p)]
        add("kelurahan", "kelurahan", f"Kelurahan {next(places)}", rows[kr]["region"],
            rng.uniform(*RANGES["kelurahan"]), parent=kr, service=True)
    n_pkm = max(2, round(SHARES["puskesmas"] * n / TYPICAL["puskesmas"]))
    pkm_names = [rows[k]["unit_name"].replace("Kecamatan ", "") for k in kec_rows]
    for k in range(n_pkm):
        if k < n_kec:
            kr = kec_rows[k]
            name, r = pkm_names[k], rows[kr]["region"]
        else:
            kr = kec_rows[int(rng.integers(n_kec))]
            name, r = next(places), rows[kr]["region"]
        add("puskesmas", "puskesmas", f"Puskesmas {name}", r, rng.uniform(*RANGES["puskesmas"]))

    # --- UPTD branches of dinas (large governments only) ----------------------------
    if h_uptd > 0:
        present = {DINAS[i].short: dinas_rows[i] for i in range(n_dinas)}
        parents = [s for s in UPTD_PARENTS if s in present]
        w = np.array([UPTD_PARENTS[s] for s in parents])
        n_uptd = max(1, round(h_uptd / TYPICAL["uptd"]))
        picks = rng.choice(len(parents), size=n_uptd, p=w / w.sum())
        for j in picks:
            parent = present[parents[j]]
            r = region()
            add("dinas", "uptd", f"UPTD {parents[j]} Wilayah {next(places)}", r,
                rng.uniform(*RANGES["uptd"]), agency=rows[parent]["agency"], parent=parent)

    # --- schools take the rest ---------------------------------------------------
    fixed = h_setda + h_insp + h_dinas + h_badan + h_uptd
    h_rsud = max(round(SHARES["rsud"] * n), n_rsud * MIN_SIZE["rsud"])
    h_kec = max(round(SHARES["kecamatan"] * n), n_kec * MIN_SIZE["kecamatan"])
    h_kel = max(round(SHARES["kelurahan"] * n), n_kel * MIN_SIZE["kelurahan"])
    h_pkm = max(round(SHARES["puskesmas"] * n), n_pkm * MIN_SIZE["puskesmas"])
    h_school = n - fixed - h_rsud - h_kec - h_kel - h_pkm
    if h_school < 4 * MIN_SIZE["sekolah"]:
        raise ValueError(f"{n} employees are too few for a regional government")
    n_school = max(4, round(h_school / TYPICAL["sekolah"]))
    counters: dict[tuple[str, str], int] = {}
    for _ in range(n_school):
        kind = "sd" if rng.random() < 0.7 else "smp"
        r = region()
        k = counters.get((kind, r), 0) + 1
        counters[(kind, r)] = k
        add("sekolah", kind, f"{'SD' if kind == 'sd' else 'SMP'} Negeri {k} {r}", r, rng.uniform(*RANGES[kind]))

    units = pd.DataFrame(rows)
    units["unit_id"] = [f"U{i + 1:04d}" for i in range(len(units))]
    # headcount per type: allocate each type's total over its units
    size = np.zeros(len(units), dtype=int)
    totals = {"setda": h_setda, "inspektorat": h_insp, "badan": h_badan, "rsud": h_rsud, "kecamatan": h_kec,
              "kelurahan": h_kel, "puskesmas": h_pkm, "sekolah": h_school}
    kinds = units["kind"].to_numpy()
    types = units["unit_type"].to_numpy()
    for t, total in totals.items():
        m = (types == t) & (kinds != "uptd")
        size[m] = _allocate(total, units.loc[m, "raw"].to_numpy(), MIN_SIZE[t])
    m = kinds == "dinas"
    size[m] = _allocate(h_dinas, units.loc[m, "raw"].to_numpy(), MIN_SIZE["dinas"])
    m = kinds == "uptd"
    if m.any():
        size[m] = _allocate(h_uptd, units.loc[m, "raw"].to_numpy(), MIN_SIZE["uptd"])
    units["size"] = size
    assert int(size.sum()) == n, (int(size.sum()), n)
    units["row"] = np.arange(len(units))
    del units["raw"]
    assert setda == 0 and insp == 1
    return units[["unit_id", "unit_name", "region", "unit_type", "kind", "size", "agency", "parent",
                  "service", "row"]]
