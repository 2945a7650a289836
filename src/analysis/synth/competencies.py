"""Competency dictionary, standards and assessments with planted gap profiles.

Gap = required level - latest assessed level. Employees of a profile are
assessed 1.0-2.0 levels (steps of 0.5) below the standard on the profile's
competencies and at or above the standard (required + 0..1) on every other
competency; everyone else is at or above the standard everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core import codes

MANAGERIAL = {
    "M.01": ("Integritas", "Integrity"),
    "M.02": ("Kerjasama", "Teamwork"),
    "M.03": ("Komunikasi", "Communication"),
    "M.04": ("Orientasi pada Hasil", "Results orientation"),
    "M.05": ("Pelayanan Publik", "Public service"),
    "M.06": ("Pengembangan Diri dan Orang Lain", "Developing self and others"),
    "M.07": ("Mengelola Perubahan", "Managing change"),
    "M.08": ("Pengambilan Keputusan", "Decision making"),
}
SOCIOCULTURAL = {"SK.01": ("Perekat Bangsa", "National unity")}
TECHNICAL = {
    "guru": (("Pedagogik", "Pedagogy"), ("Penguasaan Materi Pembelajaran", "Subject mastery"),
             ("Penilaian dan Evaluasi Pembelajaran", "Learning assessment and evaluation")),
    "kesehatan": (("Pelayanan Klinis", "Clinical care"), ("Keselamatan Pasien", "Patient safety"),
                  ("Promosi Kesehatan Masyarakat", "Public health promotion")),
    "administrasi": (("Tata Naskah Dinas", "Official correspondence"), ("Pengelolaan Arsip", "Records management"),
                     ("Pelayanan Administrasi Perkantoran", "Office administration services")),
    "keuangan": (("Pengelolaan Keuangan Daerah", "Regional financial management"),
                 ("Akuntansi Pemerintahan", "Government accounting"),
                 ("Pengadaan Barang dan Jasa", "Public procurement")),
    "perencanaan": (("Perencanaan Pembangunan Daerah", "Regional development planning"),
                    ("Analisis Kebijakan", "Policy analysis"), ("Monitoring dan Evaluasi", "Monitoring and evaluation")),
    "teknik": (("Perencanaan Teknis", "Technical design"), ("Pengawasan Konstruksi", "Construction supervision"),
               ("Pengelolaan Sarana dan Prasarana", "Infrastructure management")),
    "penyuluhan": (("Metode Penyuluhan", "Extension methods"), ("Pemberdayaan Masyarakat", "Community empowerment"),
                   ("Pengembangan Kelompok", "Group development")),
    "kependudukan": (("Administrasi Kependudukan", "Population administration"),
                     ("Pengelolaan Data Kependudukan", "Population data management"),
                     ("Pelayanan Pencatatan Sipil", "Civil registration services")),
    "pemerintahan": (("Tata Kelola Pemerintahan", "Governance"),
                     ("Penyusunan Produk Hukum Daerah", "Regional legal drafting"),
                     ("Pelayanan Kewilayahan", "Area-based public services")),
    "pengawasan": (("Audit Intern Pemerintah", "Internal government audit"),
                   ("Reviu Laporan Keuangan", "Financial statement review"),
                   ("Pengawasan Penyelenggaraan Pemerintahan", "Oversight of government affairs")),
    "kepegawaian": (("Manajemen ASN", "Civil service management"),
                    ("Pengembangan Kompetensi", "Competency development"),
                    ("Penilaian Kinerja", "Performance appraisal")),
}
# Required managerial / socio-cultural level per class (domain.md, PermenPANRB 38/2017 [U]).
MANAGERIAL_LEVEL = {
    "jpt_utama": 5, "jpt_madya": 5, "jpt_pratama": 4, "administrator": 3, "pengawas": 2, "pelaksana": 1,
    "ahli_utama": 4, "ahli_madya": 3, "ahli_muda": 2, "ahli_pertama": 1,
    "penyelia": 1, "mahir": 1, "terampil": 1, "pemula": 1,
}
TECHNICAL_LEVEL = {
    "jpt_utama": 3, "jpt_madya": 3, "jpt_pratama": 3, "administrator": 3, "pengawas": 3, "pelaksana": 2,
    "ahli_utama": 4, "ahli_madya": 4, "ahli_muda": 3, "ahli_pertama": 2,
    "penyelia": 3, "mahir": 2, "terampil": 2, "pemula": 1,
}
PROFILES = {
    "P1": ("Komunikasi & Kerjasama", "Communication & Teamwork", ("M.03", "M.02")),
    "P2": ("Orientasi pada Hasil & Pengambilan Keputusan", "Results focus & Decision making", ("M.04", "M.08")),
    "P3": ("Pelayanan Publik & Perekat Bangsa", "Public service & National unity", ("M.05", "SK.01")),
    "P4": ("Mengelola Perubahan & Pengembangan Diri", "Managing change & Developing self and others",
           ("M.07", "M.06")),
    "P5": ("Kompetensi Teknis", "Technical competence", ("T.<job_family>.1", "T.<job_family>.2",
                                                         "T.<job_family>.3")),
}
CORE = list(MANAGERIAL) + list(SOCIOCULTURAL)


def dictionary() -> pd.DataFrame:
    rows = [(c, i, e, "manajerial") for c, (i, e) in MANAGERIAL.items()]
    rows += [(c, i, e, "sosial_kultural") for c, (i, e) in SOCIOCULTURAL.items()]
    for fam, comps in TECHNICAL.items():
        rows += [(f"T.{fam}.{k + 1}", i, e, "teknis") for k, (i, e) in enumerate(comps)]
    return pd.DataFrame(rows, columns=["competency_code", "name_id", "name_en", "kind"])


def standards(present: pd.DataFrame) -> pd.DataFrame:
    """Managerial/SK standard for every class (job family '*'), technical per class x family present."""
    rows = [(cls, "*", code, MANAGERIAL_LEVEL[cls]) for cls in codes.POSITION_CLASSES for code in CORE]
    pairs = present[["position_class", "job_family"]].drop_duplicates()
    pairs = pairs.sort_values(["position_class", "job_family"])
    for cls, fam in pairs.itertuples(index=False):
        rows += [(cls, fam, f"T.{fam}.{k}", TECHNICAL_LEVEL[cls]) for k in (1, 2, 3)]
    return pd.DataFrame(rows, columns=["position_class", "job_family", "competency_code", "required_level"])


@dataclass
class AssessmentResult:
    assessments: pd.DataFrame  # emp, assessed_on, competency_code, level, method
    profile: np.ndarray  # per employee: "P1".."P5" or "none"
    never_assessed: np.ndarray  # bool per employee


def assessments(people: pd.DataFrame, cfg, rng: np.random.Generator) -> AssessmentResult:
    n = len(people)
    cls = people["position_class"].to_numpy()
    fam = people["job_family"].to_numpy()
    hire = people["hire_date"].to_numpy().astype("datetime64[D]")
    r_core = np.array([MANAGERIAL_LEVEL[c] for c in cls])
    r_tech = np.array([TECHNICAL_LEVEL[c] for c in cls])

    start, end = np.datetime64("2024-01-15"), np.datetime64("2025-11-30")
    never = (rng.random(n) < cfg.never_assessed_share) | (hire > end - np.timedelta64(30, "D"))
    span = (end - start).astype(int)
    day = start + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    day = np.maximum(day, hire + np.timedelta64(30, "D"))
    day = np.minimum(day, end)

    # profiles: P1-P4 need a managerial standard of 2 or more, P5 a technical standard of 2 or more
    eligible = np.zeros((n, 5), dtype=bool)
    eligible[:, :4] = (r_core >= 2)[:, None]
    eligible[:, 4] = r_tech >= 2
    eligible &= ~never[:, None]
    any_el = eligible.any(axis=1)
    gets = any_el & (rng.random(n) < cfg.profile_share)
    keys = np.where(eligible, rng.random((n, 5)), -1.0)
    which = keys.argmax(axis=1)
    profile = np.full(n, "none", dtype=object)
    profile[gets] = np.array(list(PROFILES), dtype=object)[which[gets]]

    # levels: 12 competencies per employee (9 core + 3 technical of the family)
    n_comp = len(CORE) + 3
    req = np.concatenate([np.repeat(r_core[:, None], len(CORE), axis=1),
                          np.repeat(r_tech[:, None], 3, axis=1)], axis=1).astype(float)
    in_profile = np.zeros((n, n_comp), dtype=bool)
    for pid, (_, _, comps) in PROFILES.items():
        m = profile == pid
        if pid == "P5":
            in_profile[m, len(CORE):] = True
        else:
            for c in comps:
                in_profile[m, CORE.index(c)] = True
    above = rng.choice([0.0, 0.5, 1.0], size=(n, n_comp), p=[0.45, 0.35, 0.2])
    level = np.minimum(5.0, req + above)
    gap = rng.choice([1.0, 1.5, 2.0], size=(n, n_comp))
    gap = np.minimum(gap, req - 1.0)
    level = np.where(in_profile, req - gap, level)
    assert (level[in_profile] < req[in_profile]).all() and (level >= 1).all()

    observed = ~never[:, None] & (rng.random((n, n_comp)) >= cfg.missing_cell_share)
    senior = np.isin(cls, ("jpt_madya", "jpt_pratama", "administrator", "ahli_madya", "ahli_utama"))
    method = np.where(senior, rng.choice(["assessment_center", "uji_kompetensi"], n, p=[0.7, 0.3]),
                      rng.choice(["uji_kompetensi", "portofolio", "assessment_center"], n, p=[0.5, 0.35, 0.15]))
    # an older assessment for some: one year earlier, lower levels, same competencies
    older_day = day - np.timedelta64(365, "D")
    older = (~never & (rng.random(n) < cfg.older_assessment_share)
             & (older_day >= hire + np.timedelta64(30, "D")))
    drop = rng.choice([0.5, 1.0], size=(n, n_comp), p=[0.6, 0.4])
    older_level = np.maximum(1.0, level - drop)
    older_method = np.where(senior, "assessment_center", rng.choice(["uji_kompetensi", "portofolio"], n))

    comp_codes = np.empty((n, n_comp), dtype=object)
    comp_codes[:, :len(CORE)] = np.array(CORE, dtype=object)[None, :]
    for k in range(3):
        comp_codes[:, len(CORE) + k] = np.char.add(np.char.add("T.", fam.astype(str)), f".{k + 1}")

    frames = []
    for when, lev, meth, who in ((older_day, older_level, older_method, older), (day, level, method, ~never)):
        mask = observed & who[:, None]
        i, j = np.nonzero(mask)
        frames.append(pd.DataFrame({"emp": i, "assessed_on": when[i], "competency_code": comp_codes[i, j],
                                    "level": lev[i, j], "method": meth[i]}))
    out = pd.concat(frames, ignore_index=True).sort_values(["emp", "assessed_on"], kind="stable")
    return AssessmentResult(out.reset_index(drop=True), profile, never)
