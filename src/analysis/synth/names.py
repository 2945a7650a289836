"""Indonesian personal names with academic titles (gelar), as they appear in HR exports."""

from __future__ import annotations

import numpy as np

MALE = (
    "Ahmad", "Muhammad", "Agus", "Budi", "Dedi", "Eko", "Hendra", "Irwan", "Joko", "Rudi", "Slamet",
    "Bambang", "Arif", "Fajar", "Hadi", "Rizky", "Andi", "Yusuf", "Hasan", "Ilham", "Rahmat", "Syahrul",
    "Taufik", "Wahyu", "Yohanes", "Petrus", "Markus", "Stefanus", "I Made", "I Wayan", "I Ketut",
    "I Nyoman", "Gede", "Lalu", "La Ode", "Daeng", "Sutrisno", "Suparman", "Heru", "Dimas", "Aditya",
    "Bayu", "Gilang", "Reza", "Firman", "Nur", "Abdul", "Muhamad", "Imam", "Saiful", "Hamzah", "Anton",
    "Frans", "Yosef", "Paulus", "Daniel", "Ridwan", "Zainal", "Darmawan", "Asep", "Ujang", "Cecep",
)
FEMALE = (
    "Siti", "Sri", "Dewi", "Ratna", "Nur", "Ani", "Yuni", "Endang", "Lestari", "Wulan", "Rina", "Dian",
    "Fitri", "Indah", "Maya", "Nurul", "Putri", "Rahmawati", "Sari", "Tri", "Wahyuni", "Yanti", "Ayu",
    "Kartika", "Lia", "Mega", "Novi", "Eka", "Fatimah", "Aisyah", "Halimah", "Maria", "Theresia",
    "Elisabeth", "Agnes", "Ni Made", "Ni Wayan", "Ni Ketut", "Ni Luh", "Desak", "Baiq", "Wa Ode",
    "Andi", "Rosmawati", "Hasnah", "Suryani", "Nining", "Neneng", "Euis", "Cucu", "Tuti", "Kurniasih",
    "Melati", "Anggraini", "Oktaviani", "Permata", "Yohana", "Marlina", "Herlina", "Jumiati",
)
SECOND = (
    "Rahman", "Hidayat", "Saputra", "Wijaya", "Santoso", "Kurniawan", "Setiawan", "Pratama", "Nugroho",
    "Gunawan", "Hakim", "Syahputra", "Harahap", "Nasution", "Siregar", "Lubis", "Simanjuntak", "Sitompul",
    "Pasaribu", "Tambunan", "Manurung", "Lamba", "Lamadjido", "Tandiari", "Pakaya", "Rumengan", "Lumban",
    "Wenas", "Mokoginta", "Paputungan", "Daeng Mangawing", "Pattiasina", "Latuconsina", "Lenggu", "Ndoen",
    "Fanggidae", "Manafe", "Bria", "Suryadi", "Susanti", "Handayani", "Purnamasari", "Rahayu", "Wulandari",
    "Maharani", "Permatasari", "Astuti", "Hartati", "Mulyani", "Lestari", "Suherman", "Firmansyah",
    "Ramadhan", "Maulana", "Hasanuddin", "Syamsuddin", "Tahir", "Lamuru", "Tombolotutu", "Daud", "Yusran",
    "Arifin", "Nurdin", "Hamid", "Baso", "Sulaiman", "Kadir", "Muis", "Hasyim", "Anwar", "Zulkarnain",
    "Hutapea", "Sinaga", "Panjaitan", "Ginting", "Sembiring", "Tarigan", "Purba", "Damanik",
)
# S1 titles by job family
S1_TITLE = {
    "guru": ("S.Pd.",), "kesehatan": ("S.Kep., Ns.", "S.K.M.", "S.Farm., Apt.", "S.Gz."),
    "administrasi": ("S.Sos.", "S.AP.", "S.Kom.", "S.H."), "keuangan": ("S.E.", "S.Ak."),
    "perencanaan": ("S.E.", "S.P.W.K.", "S.Si."), "teknik": ("S.T.", "S.Kom."),
    "penyuluhan": ("S.P.", "S.Pt.", "S.Sos."), "kependudukan": ("S.Sos.", "S.Kom."),
    "pemerintahan": ("S.IP.", "S.H.", "S.Sos.", "S.STP."), "pengawasan": ("S.E.", "S.Ak.", "S.H."),
    "kepegawaian": ("S.AP.", "S.Psi.", "S.H."),
}
S2_TITLE = {"guru": ("M.Pd.",), "kesehatan": ("M.Kes.", "M.K.M."), "keuangan": ("M.Ak.", "M.M."),
            "teknik": ("M.T.",), "pemerintahan": ("M.Si.", "M.AP."), "other": ("M.Si.", "M.M.", "M.AP.")}
D3_TITLE = {"kesehatan": ("A.Md.Kep.", "A.Md.Keb.", "A.Md.Farm.", "A.Md.Kes."), "keuangan": ("A.Md.Ak.",),
            "other": ("A.Md.",)}


def _choose(rng: np.random.Generator, options: tuple[str, ...], k: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), k)]


def make_names(gender: np.ndarray, education: np.ndarray, family: np.ndarray, position_class: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Full names such as "Siti Rahmawati, S.Pd." or "dr. Andi Pakaya, M.Kes."."""
    n = len(gender)
    female = gender == "P"
    first = np.where(female, _choose(rng, FEMALE, n), _choose(rng, MALE, n))
    second = _choose(rng, SECOND, n)
    third = _choose(rng, SECOND, n)
    n_parts = rng.choice([1, 2, 3], size=n, p=[0.12, 0.68, 0.20])
    name = first.copy()
    name[n_parts >= 2] = name[n_parts >= 2] + " " + second[n_parts >= 2]
    both = n_parts == 3
    name[both] = name[both] + " " + np.where(third[both] == second[both], "Putra", third[both])

    suffix = np.full(n, "", dtype=object)
    prefix = np.full(n, "", dtype=object)
    for f in np.unique(family):
        m = family == f
        for edu, table in (("S1", S1_TITLE), ("S2", S2_TITLE), ("S3", S2_TITLE), ("D3", D3_TITLE)):
            mm = m & (education == edu)
            k = int(mm.sum())
            if not k:
                continue
            options = table.get(f, table.get("other", ("S.Sos.",)))
            suffix[mm] = _choose(rng, options, k)
    # midwives (A.Md.Keb.) are women
    keb = (suffix == "A.Md.Keb.") & ~female
    suffix[keb] = "A.Md.Kep."
    # doctors: part of the expert health workers
    doctor = (family == "kesehatan") & np.isin(position_class, ("ahli_pertama", "ahli_muda", "ahli_madya",
                                                                 "ahli_utama", "jpt_pratama"))
    doctor &= rng.random(n) < 0.45
    prefix[doctor] = "dr. "
    suffix[doctor & (education == "S1")] = ""
    prefix[education == "S3"] = "Dr. " + prefix[education == "S3"]
    out = prefix + name
    has = suffix != ""
    out[has] = out[has] + ", " + suffix[has]
    return out
