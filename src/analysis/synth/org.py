"""People and the supervision hierarchy of the synthetic government.

Each unit is staffed by a template for its kind (a dinas: head, sekretaris and
kabid, kasubbag/kasi, functional staff and pelaksana; a school: a principal,
teachers, deputy heads in big schools and administrative staff; …). Every
employee except the sekda has one supervisor, who is their appraisal rater.
Unit heads are rated from outside their unit: OPD heads by the sekda or an
asisten, camat by an asisten, lurah by their camat, school principals by a
kabid/kasi of Dinas Pendidikan (or the head of a UPTD Pendidikan), puskesmas
heads by a kabid/kasi of Dinas Kesehatan, UPTD heads by a kabid of their dinas.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data import nip as nipmod

from .units import BADAN, DINAS, INSPEKTORAT, SETDA, plan_units

REF_YEAR = 2025
SENIOR = ("ahli_muda", "ahli_madya", "penyelia", "mahir")

# PNS class mixes of functional staff per job family.
PNS_MIX = {
    "guru": {"ahli_pertama": 0.30, "ahli_muda": 0.35, "ahli_madya": 0.35},
    "kesehatan": {"ahli_pertama": 0.18, "ahli_muda": 0.12, "ahli_madya": 0.04, "terampil": 0.30,
                  "mahir": 0.22, "penyelia": 0.12, "pemula": 0.02},
    "kesehatan_rsud": {"ahli_pertama": 0.22, "ahli_muda": 0.17, "ahli_madya": 0.08, "ahli_utama": 0.01,
                       "terampil": 0.22, "mahir": 0.18, "penyelia": 0.12},
    "other": {"ahli_pertama": 0.30, "ahli_muda": 0.28, "ahli_madya": 0.10, "ahli_utama": 0.01,
              "terampil": 0.15, "mahir": 0.10, "penyelia": 0.05, "pemula": 0.01},
}
PPPK_SHARE = {"guru": 0.42, "kesehatan": 0.22, "other": 0.10, "pelaksana": 0.06}
PPPK_MIX = {
    "guru": {"ahli_pertama": 1.0},
    "kesehatan": {"terampil": 0.55, "ahli_pertama": 0.45},
    "other": {"ahli_pertama": 0.6, "terampil": 0.4},
}
PELAKSANA_FAMILIES = {"administrasi": 0.6, "keuangan": 0.15}  # plus the unit's main family 0.25

# (youngest, oldest age in the reference year, minimum years of service) per class.
AGE = {
    "pelaksana": (21, 58, 0), "pemula": (21, 40, 0), "terampil": (23, 58, 1), "mahir": (28, 58, 4),
    "penyelia": (35, 58, 10), "ahli_pertama": (23, 50, 0), "ahli_muda": (30, 58, 4),
    "ahli_madya": (38, 58, 10), "ahli_utama": (50, 58, 20), "pengawas": (32, 58, 6),
    "administrator": (38, 58, 10), "jpt_pratama": (42, 58, 15), "jpt_madya": (50, 58, 22),
}
PNS_GRADES = ("II/a", "II/b", "II/c", "II/d", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b", "IV/c", "IV/d")
GRADE_RANGE = {  # (lowest, highest) index into PNS_GRADES
    "pelaksana": (0, 7), "pemula": (0, 1), "terampil": (2, 3), "mahir": (4, 5), "penyelia": (6, 7),
    "ahli_pertama": (4, 5), "ahli_muda": (6, 7), "ahli_madya": (8, 10), "ahli_utama": (11, 11),
    "pengawas": (5, 7), "administrator": (7, 9), "jpt_pratama": (9, 11), "jpt_madya": (11, 11),
}
ENTRY_GRADE = {"SMA": 0, "D3": 2, "S1": 4, "S2": 5, "S3": 6}
PPPK_GRADE = {"pemula": "V", "terampil": "VII", "mahir": "VIII", "ahli_pertama": "IX",
              "ahli_muda": "X", "ahli_madya": "XI"}
PPPK_PELAKSANA_GRADE = {"SMA": "V", "D3": "VII", "S1": "IX", "S2": "IX"}
EDUCATION = {
    "pelaksana": {"SMA": 0.45, "D3": 0.25, "S1": 0.30},
    "pemula": {"SMA": 1.0},
    "terampil": {"D3": 0.9, "SMA": 0.1},
    "mahir": {"D3": 0.6, "S1": 0.4},
    "penyelia": {"D3": 0.4, "S1": 0.6},
    "ahli_pertama": {"S1": 0.9, "S2": 0.1},
    "ahli_muda": {"S1": 0.7, "S2": 0.3},
    "ahli_madya": {"S1": 0.5, "S2": 0.48, "S3": 0.02},
    "ahli_utama": {"S2": 0.7, "S3": 0.3},
    "pengawas": {"S1": 0.75, "S2": 0.2, "D3": 0.05},
    "administrator": {"S1": 0.45, "S2": 0.55},
    "jpt_pratama": {"S2": 0.85, "S3": 0.15},
    "jpt_madya": {"S2": 0.6, "S3": 0.4},
}
# Probability that an employee is female, by job family (functional/pelaksana) or class (structural).
FEMALE = {"guru": 0.70, "kesehatan": 0.76, "other": 0.45,
          "jpt_madya": 0.25, "jpt_pratama": 0.28, "administrator": 0.35, "pengawas": 0.45}


@dataclass
class Org:
    units: pd.DataFrame  # plan_units() columns
    people: pd.DataFrame  # one row per employee, internal columns (see build)
    sup: dict[str, np.ndarray]  # period -> supervisor row (-1 = none) per employee
    present: dict[str, np.ndarray]  # period -> appraised in that period (hired by 30 September)
    sekda: int


def _pick(rng: np.random.Generator, mix: dict[str, float], k: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=k, p=p / p.sum())]


class _Staff:
    """Accumulates employees unit by unit: class, family, employment type, role, local supervisor."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.cls: list = []
        self.fam: list = []
        self.emp: list = []
        self.role: list = []
        self.sup: list = []  # global row, -1 = external (filled later), -2 = nobody (sekda)
        self.unit: list = []
        self.post: list = []

    def add(self, unit: int, cls, fam, emp, role: str, post: str, k: int | None = None) -> list[int]:
        """Add one person (scalars) or k people (arrays); returns their rows."""
        if k is None:
            cls, fam, emp, k = [cls], [fam], [emp], 1
        start = len(self.cls)
        self.cls.extend(cls)
        self.fam.extend(fam)
        self.emp.extend(emp)
        self.role.extend([role] * k)
        self.sup.extend([-1] * k)
        self.unit.extend([unit] * k)
        self.post.extend([post] * k)
        return list(range(start, start + k))

    def functional(self, unit: int, families: dict[str, float], k: int, mix_name: str | None = None,
                   post: str = "staf fungsional") -> list[int]:
        if k <= 0:
            return []
        rng = self.rng
        fam = _pick(rng, families, k)
        cls = np.empty(k, dtype=object)
        emp = np.full(k, "PNS", dtype=object)
        for f in np.unique(fam):
            m = fam == f
            base = f if f in ("guru", "kesehatan") else "other"
            pppk = rng.random(int(m.sum())) < PPPK_SHARE[base]
            mix = PNS_MIX[mix_name if mix_name else base]
            c = _pick(rng, mix, int(m.sum()))
            c[pppk] = _pick(rng, PPPK_MIX[base], int(pppk.sum()))
            cls[m] = c
            e = emp[m]
            e[pppk] = "PPPK"
            emp[m] = e
        return self.add(unit, list(cls), list(fam), list(emp), "staff", post, k)

    def pelaksana(self, unit: int, main_family: str, k: int, post: str = "pelaksana") -> list[int]:
        if k <= 0:
            return []
        mix = dict(PELAKSANA_FAMILIES)
        mix[main_family] = mix.get(main_family, 0) + 0.25
        fam = _pick(self.rng, mix, k)
        emp = np.where(self.rng.random(k) < PPPK_SHARE["pelaksana"], "PPPK", "PNS")
        return self.add(unit, ["pelaksana"] * k, list(fam), list(emp), "staff", post, k)

    def make_leaders(self, rows: list[int], k: int, post: str) -> list[int]:
        """Turn k of the given staff into team leaders (ketua tim), preferring senior PNS."""
        if k <= 0 or not rows:
            return []
        senior = [r for r in rows if self.cls[r] in SENIOR and self.emp[r] == "PNS"]
        taken = set(senior)
        others = [r for r in rows if r not in taken]
        self.rng.shuffle(senior)
        self.rng.shuffle(others)
        chosen = (senior + others)[:k]
        for r in chosen:
            if self.cls[r] not in SENIOR or self.emp[r] != "PNS":
                self.cls[r] = "ahli_muda"
                self.emp[r] = "PNS"
            self.role[r] = "leader"
            self.post[r] = post
        return chosen

    def split(self, members: list[int], leaders: list[int]) -> None:
        """Share members among leaders in teams of slightly unequal size."""
        if not members:
            return
        m = np.array(members)
        self.rng.shuffle(m)
        w = self.rng.uniform(0.7, 1.3, len(leaders))
        cuts = np.round(np.cumsum(w) / w.sum() * len(m)).astype(int)
        start = 0
        for leader, cut in zip(leaders, cuts):
            for r in m[start:cut]:
                self.sup[r] = leader
            start = cut

    def link(self, rows: list[int], leaders: list[int]) -> None:
        """Round-robin: row i reports to leaders[i % len(leaders)]."""
        for i, r in enumerate(rows):
            self.sup[r] = leaders[i % len(leaders)]


def _without(rows: list[int], drop: list[int]) -> list[int]:
    gone = set(drop)
    return [r for r in rows if r not in gone]


def _staff_unit(s: _Staff, u: int, kind: str, n: int, agency, main: str, struct_family: str) -> dict:
    """Staff one unit of headcount n; returns the rows of its head and of its rater pools."""
    rng = s.rng
    out: dict = {"head": None, "admins": [], "pengawas": [], "asisten": []}
    if kind == "sekolah_sd" or kind == "sekolah_smp":
        head = s.add(u, "ahli_madya", "guru", "PNS", "head", "kepala sekolah")[0]
        tu = 1 if n < 18 else 2 if n < 30 else 3
        n_wk = 0 if n <= 22 else 1 if n <= 32 else 2
        teachers = s.functional(u, {"guru": 1.0}, n - 1 - tu, post="guru")
        wk = s.make_leaders(teachers, n_wk, "wakil kepala sekolah")
        for r in wk:
            s.cls[r] = "ahli_madya" if rng.random() < 0.5 else "ahli_muda"
        admin = s.pelaksana(u, "administrasi", tu, post="tenaga administrasi sekolah")
        rest = _without(teachers, wk)
        s.link(wk + admin, [head])
        s.split(rest, [head] + wk)
        out["head"] = head
        return out
    if kind == "puskesmas":
        head = s.add(u, "ahli_muda" if rng.random() < 0.6 else "ahli_madya", "kesehatan", "PNS", "head",
                     "kepala puskesmas")[0]
        k_tu = 1 if n >= 25 else 0
        tu = s.add(u, "pengawas", "administrasi", "PNS", "leader", "kasubbag tata usaha") if k_tu else []
        n_adm = max(1, round(0.12 * n))
        admin = s.pelaksana(u, "administrasi", n_adm)
        health = s.functional(u, {"kesehatan": 1.0}, n - 1 - k_tu - n_adm, post="tenaga kesehatan")
        n_lead = max(1, round(len(health) / 12)) if len(health) > 15 else 0
        leads = s.make_leaders(health, n_lead, "ketua tim")
        rest = _without(health, leads)
        s.link(tu + leads, [head])
        s.split(admin, tu or [head])
        s.split(rest, leads + [head])
        out["head"] = head
        return out
    if kind == "rsud":
        head = s.add(u, "jpt_pratama", "kesehatan", "PNS", "head", "direktur")[0]
        a = int(np.clip(round(n / 80), 2, 5))
        admins = [s.add(u, "administrator", "kesehatan" if rng.random() < 0.6 else "administrasi", "PNS",
                        "leader", "wakil direktur/kepala bidang")[0] for _ in range(a)]
        p = int(np.clip(round(n / 45), 2, 10))
        peng = [s.add(u, "pengawas", "administrasi" if rng.random() < 0.5 else "kesehatan", "PNS", "leader",
                      "kepala seksi/subbagian")[0] for _ in range(p)]
        n_pel = round(0.17 * n)
        pel = s.pelaksana(u, "administrasi", n_pel)
        health = s.functional(u, {"kesehatan": 1.0}, n - 1 - a - p - n_pel, mix_name="kesehatan_rsud",
                              post="tenaga kesehatan")
        leads = s.make_leaders(health, max(1, round(len(health) / 13)), "kepala ruangan")
        rest = _without(health, leads)
        s.link(admins, [head])
        s.link(peng, admins)
        s.link(leads, admins)
        s.split(pel, peng)
        s.split(rest, leads)
        out.update(head=head, admins=admins, pengawas=peng)
        return out
    if kind == "setda":
        head = s.add(u, "jpt_madya", "pemerintahan", "PNS", "head", "sekretaris daerah")[0]
        s.sup[head] = -2
        asisten = [s.add(u, "jpt_pratama", f, "PNS", "leader", "asisten")[0]
                   for f in ("pemerintahan", "perencanaan", "administrasi")]
        staf_ahli = [s.add(u, "jpt_pratama", "pemerintahan", "PNS", "leader", "staf ahli")[0]
                     for _ in range(2 if n >= 80 else 0)]
        k = int(np.clip(round(n / 14), 3, 9))
        kabag = [s.add(u, "administrator", _pick(rng, SETDA.families, 1)[0], "PNS", "leader", "kepala bagian")[0]
                 for _ in range(k)]
        p = int(np.clip(round(n / 8), 3, 18))
        kasub = [s.add(u, "pengawas", s.fam[kabag[i % k]], "PNS", "leader", "kepala subbagian")[0]
                 for i in range(p)]
        rest_n = n - 1 - 3 - len(staf_ahli) - k - p
        n_pel = round(0.6 * rest_n)
        staff = s.pelaksana(u, "pemerintahan", n_pel) + s.functional(u, SETDA.families, rest_n - n_pel)
        s.link(asisten + staf_ahli, [head])
        s.link(kabag, asisten)
        s.link(kasub, kabag)
        s.split(staff, kasub + kabag)
        out.update(head=head, asisten=asisten, admins=kabag, pengawas=kasub)
        return out
    if kind == "kecamatan":
        head = s.add(u, "administrator", "pemerintahan", "PNS", "head", "camat")[0]
        sek = s.add(u, "administrator", "pemerintahan", "PNS", "leader", "sekretaris camat")
        kasi = [s.add(u, "pengawas", "pemerintahan" if rng.random() < 0.7 else "kependudukan", "PNS", "leader",
                      "kepala seksi")[0] for _ in range(int(np.clip(round((n - 2) / 9), 2, 4)))]
        kasub = s.add(u, "pengawas", "administrasi", "PNS", "leader", "kepala subbagian")
        rest_n = n - 2 - len(kasi) - 1
        n_pel = round(0.75 * rest_n)
        staff = s.pelaksana(u, "pemerintahan", n_pel) + s.functional(
            u, {"pemerintahan": 2, "administrasi": 1, "kependudukan": 1}, rest_n - n_pel)
        s.link(sek + kasi, [head])
        s.link(kasub, sek)
        s.split(staff, kasi + kasub + sek)
        out["head"] = head
        return out
    if kind == "kelurahan":
        head = s.add(u, "pengawas", "pemerintahan", "PNS", "head", "lurah")[0]
        n_pel = max(1, round(0.85 * (n - 1)))
        staff = s.pelaksana(u, "pemerintahan", n_pel) + s.functional(
            u, {"pemerintahan": 2, "penyuluhan": 1}, n - 1 - n_pel)
        s.link(staff, [head])
        out["head"] = head
        return out
    if kind == "uptd":
        head = s.add(u, "pengawas", struct_family, "PNS", "head", "kepala UPTD")[0]
        n_pel = round(0.4 * (n - 1))
        staff = s.pelaksana(u, main, n_pel) + s.functional(u, agency.families, n - 1 - n_pel)
        leads = s.make_leaders(staff[n_pel:] or staff, 1 if n > 25 else 0, "ketua tim")
        rest = _without(staff, leads)
        s.link(leads, [head])
        s.split(rest, [head] + leads)
        out["head"] = head
        return out
    # dinas, badan, inspektorat
    head = s.add(u, "jpt_pratama", struct_family, "PNS", "head", "kepala")[0]
    a = int(np.clip(round(n / 35) + 1, 2, 6))
    admins = [s.add(u, "administrator", "administrasi" if i == 0 else struct_family, "PNS", "leader",
                    "sekretaris" if i == 0 else "kepala bidang")[0] for i in range(a)]
    p = int(np.clip(round(n / 14), 2, 12))
    peng = [s.add(u, "pengawas", "keuangan" if i == 1 else "administrasi" if i == 0 else struct_family, "PNS",
                  "leader", "kepala subbagian/seksi")[0] for i in range(p)]
    rest_n = n - 1 - a - p
    n_pel = round(0.45 * rest_n)
    pel = s.pelaksana(u, main, n_pel)
    func = s.functional(u, agency.families, rest_n - n_pel)
    need = int(np.ceil(len(pel + func) / 16)) - p
    leads = s.make_leaders(func, max(0, need), "ketua tim")
    madya = [r for r in _without(func, leads) if s.cls[r] == "ahli_madya"]
    direct = madya[: max(0, 4 - a)]  # senior functional officials reporting to the head
    rest = _without(pel + func, leads + direct)
    s.link(admins + direct, [head])
    s.link(peng, admins)
    s.link(leads, admins[1:] or admins)
    s.split(rest, peng + leads + admins)
    out.update(head=head, admins=admins, pengawas=peng)
    return out


def _assign_least_loaded(ratees: list[int], pool: list[int], load: dict[int, int], sup: np.ndarray,
                         rng: np.random.Generator) -> None:
    """Give each ratee the pool member with the fewest direct reports so far."""
    if not ratees:
        return
    if not pool:
        raise ValueError("no rater available for unit heads")
    heap = [(load.get(p, 0), float(rng.random()), p) for p in pool]
    heapq.heapify(heap)
    for r in ratees:
        n, tie, p = heapq.heappop(heap)
        sup[r] = p
        load[p] = n + 1
        heapq.heappush(heap, (n + 1, tie, p))


def _demographics(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(people)
    cls = people["position_class"].to_numpy()
    fam = people["job_family"].to_numpy()
    emp = people["employment_type"].to_numpy()
    role = people["role"].to_numpy()
    pppk = emp == "PPPK"

    # gender
    base = np.where(np.isin(fam, ("guru", "kesehatan")), fam, "other")
    p_f = np.array([FEMALE[b] for b in base])
    for c in ("jpt_madya", "jpt_pratama", "administrator", "pengawas"):
        p_f[cls == c] = FEMALE[c]
    p_f[(role == "head") & (fam == "guru")] = 0.5
    female = rng.random(n) < p_f

    # age, appointment
    lo = np.array([AGE[c][0] for c in cls])
    hi = np.array([AGE[c][1] for c in cls])
    ten = np.array([AGE[c][2] for c in cls])
    age = lo + np.floor(rng.beta(1.6, 1.6, n) * (hi - lo + 1)).astype(int)
    age = np.minimum(age, hi)
    birth_year = REF_YEAR - age
    a0_max = np.minimum(35, age - ten)
    a0 = 20 + np.floor(rng.random(n) * (a0_max - 20 + 1)).astype(int)
    appt_year = birth_year + a0
    # PPPK: appointed 2019-2024, aged 20-35 at appointment
    k = int(pppk.sum())
    py = rng.choice(np.arange(2019, 2025), size=k, p=[0.05, 0.05, 0.25, 0.25, 0.2, 0.2])
    pa0 = rng.integers(20, 36, size=k)
    appt_year[pppk] = py
    birth_year[pppk] = py - pa0
    appt_month = rng.integers(1, 13, size=n)
    # CPNS/PPPK cohorts tend to start early in the year
    early = rng.random(n) < 0.5
    appt_month[early] = rng.choice([1, 2, 3, 4], size=int(early.sum()))

    # education
    edu = np.empty(n, dtype=object)
    for c in np.unique(cls):
        m = cls == c
        edu[m] = _pick(rng, EDUCATION[c], int(m.sum()))
    teacher = (fam == "guru") & np.isin(cls, ("ahli_pertama", "ahli_muda", "ahli_madya"))
    edu[teacher] = np.where(rng.random(int(teacher.sum())) < 0.85, "S1", "S2")
    edu[(fam == "kesehatan") & (cls == "terampil")] = "D3"

    out = people.copy()
    out["female"] = female
    out["birth_year"] = birth_year
    out["appt_year"] = appt_year
    out["appt_month"] = appt_month
    out["education"] = edu
    return out


def _ensure_appraised(people: pd.DataFrame, periods: list[str], rng: np.random.Generator) -> None:
    """Every unit has at least five employees appraised in every period (hired by 30 Sept)."""
    first = int(periods[0])
    hired_by = people["appt_year"] * 100 + people["appt_month"]
    ok = hired_by <= first * 100 + 9
    counts = ok.groupby(people["unit"]).sum()
    for u in counts.index[counts < 5]:
        need = 5 - int(counts[u])
        rows = people.index[(people["unit"] == u) & ~ok]
        for r in rows[:need]:
            year = int(rng.integers(first - 4, first))
            people.at[r, "appt_year"] = year
            people.at[r, "appt_month"] = int(rng.integers(1, 10))
            if people.at[r, "employment_type"] == "PPPK":
                year = max(year, 2019)
                people.at[r, "appt_year"] = year
            by = int(people.at[r, "birth_year"])
            if year - by < 20:
                people.at[r, "birth_year"] = year - 20 - int(rng.integers(0, 5))


def _grades(people: pd.DataFrame) -> np.ndarray:
    cls = people["position_class"].to_numpy()
    edu = people["education"].to_numpy()
    emp = people["employment_type"].to_numpy()
    tenure = REF_YEAR - people["appt_year"].to_numpy()
    entry = np.array([ENTRY_GRADE[e] for e in edu])
    lo = np.array([GRADE_RANGE[c][0] for c in cls])
    hi = np.array([GRADE_RANGE[c][1] for c in cls])
    idx = np.clip(entry + tenure // 4, lo, hi)
    grade = np.array(PNS_GRADES, dtype=object)[idx]
    pppk = emp == "PPPK"
    grade[pppk] = [PPPK_PELAKSANA_GRADE[e] if c == "pelaksana" else PPPK_GRADE[c]
                   for c, e in zip(cls[pppk], edu[pppk])]
    return grade


def build(n_employees: int, periods: list[str], move_rate: float, rng: np.random.Generator) -> Org:
    """Units, employees (without names) and supervisors per period."""
    units = plan_units(n_employees, rng)
    s = _Staff(rng)
    info: list[dict] = []
    for row in units.itertuples(index=False):
        kind = row.kind
        agency = None
        if row.unit_type == "dinas":
            agency = DINAS[row.agency]
        elif row.unit_type == "badan":
            agency = BADAN[row.agency]
        elif row.unit_type == "inspektorat":
            agency = INSPEKTORAT
        elif row.unit_type == "setda":
            agency = SETDA
        struct = agency.struct_family if agency else "pemerintahan"
        main = max(agency.families, key=agency.families.get) if agency else "administrasi"
        key = {"sd": "sekolah_sd", "smp": "sekolah_smp"}.get(kind, kind)
        info.append(_staff_unit(s, row.row, key, int(row.size), agency, main, struct))

    people = pd.DataFrame({
        "unit": np.array(s.unit), "position_class": np.array(s.cls, dtype=object),
        "job_family": np.array(s.fam, dtype=object), "employment_type": np.array(s.emp, dtype=object),
        "role": np.array(s.role, dtype=object), "post": np.array(s.post, dtype=object),
    })
    sup = np.array(s.sup, dtype=np.int64)
    n = len(people)
    assert n == n_employees, (n, n_employees)

    # --- raters of unit heads (from outside the unit) --------------------------------
    utype = units["unit_type"].to_numpy()
    ukind = units["kind"].to_numpy()
    load = dict(zip(*np.unique(sup[sup >= 0], return_counts=True)))
    load = {int(k): int(v) for k, v in load.items()}
    setda_info = info[0]
    sekda = setda_info["head"]
    asisten = setda_info["asisten"]
    heads = {i: inf["head"] for i, inf in enumerate(info)}
    # OPD heads: the sekda takes up to ~20 direct reports, the asisten the rest
    opd = [heads[i] for i in range(len(units)) if utype[i] in ("inspektorat", "rsud", "dinas", "badan")
           and ukind[i] != "uptd"]
    room = max(0, 20 - load.get(sekda, 0))
    for r in opd[:room]:
        sup[r] = sekda
    load[sekda] = load.get(sekda, 0) + len(opd[:room])
    _assign_least_loaded(opd[room:], asisten, load, sup, rng)
    # camat: asisten pemerintahan first, then the least loaded of the others
    camat = [heads[i] for i in range(len(units)) if utype[i] == "kecamatan"]
    first = camat[: max(0, 25 - load.get(asisten[0], 0))]
    for r in first:
        sup[r] = asisten[0]
    load[asisten[0]] = load.get(asisten[0], 0) + len(first)
    _assign_least_loaded(camat[len(first):], [sekda] + asisten, load, sup, rng)
    # lurah: camat of the parent kecamatan
    for i in range(len(units)):
        if utype[i] == "kelurahan":
            sup[heads[i]] = heads[int(units.at[i, "parent"])]
    # pools in Dinas Pendidikan / Dinas Kesehatan and their UPTD
    def pool(short: str, include_uptd: bool) -> list[int]:
        out: list[int] = []
        for i in range(len(units)):
            if utype[i] == "dinas" and DINAS[units.at[i, "agency"]].short == short:
                if ukind[i] == "uptd":
                    if include_uptd:
                        out.append(info[i]["head"])
                else:
                    out += info[i]["admins"][1:] + info[i]["pengawas"][2:]
        return out
    schools = [heads[i] for i in rng.permutation(len(units)) if utype[i] == "sekolah"]
    _assign_least_loaded(schools, pool("Pendidikan", True), load, sup, rng)
    pkm = [heads[i] for i in rng.permutation(len(units)) if utype[i] == "puskesmas"]
    _assign_least_loaded(pkm, pool("Kesehatan", False), load, sup, rng)
    for i in range(len(units)):
        if ukind[i] == "uptd":
            parent = info[int(units.at[i, "parent"])]
            _assign_least_loaded([heads[i]], parent["admins"][1:] + parent["pengawas"][2:] or parent["admins"],
                                 load, sup, rng)
    assert (sup[np.arange(n) != sekda] >= 0).all()
    sup[sekda] = -1

    people = _demographics(people, rng)
    _ensure_appraised(people, periods, rng)
    people["grade"] = _grades(people)
    birth = (pd.to_datetime(pd.DataFrame({"year": people["birth_year"], "month": 1, "day": 1}))
             + pd.to_timedelta(rng.integers(0, 365, n), unit="D"))
    people["birth_date"] = birth.to_numpy().astype("datetime64[D]")
    people["hire_date"] = pd.to_datetime(pd.DataFrame(
        {"year": people["appt_year"], "month": people["appt_month"], "day": 1})).to_numpy().astype("datetime64[D]")
    people["gender"] = np.where(people["female"], "P", "L")
    sex = np.where(people["female"], 2, 1)
    key = pd.Series(people["birth_date"].astype(str) + "|" + people["appt_year"].astype(str) + "|"
                    + people["appt_month"].astype(str) + "|" + sex.astype(str))
    seq = key.groupby(key).cumcount().to_numpy() + 1
    people["employee_id"] = nipmod.make(people["birth_date"].to_numpy(), people["appt_year"].to_numpy(),
                                        people["appt_month"].to_numpy(), sex, seq)
    people["unit_id"] = units["unit_id"].to_numpy()[people["unit"].to_numpy()]

    # --- supervisors per period: ~move_rate of staff change team leader each year -------
    sups = {periods[0]: sup}
    role = people["role"].to_numpy()
    unit = people["unit"].to_numpy()
    in_unit = (sup >= 0) & (unit[np.maximum(sup, 0)] == unit)
    staff = (role == "staff") & in_unit
    leaders = np.unique(sup[staff])
    lead_unit = unit[leaders]
    order = np.argsort(lead_unit, kind="stable")
    leaders, lead_unit = leaders[order], lead_unit[order]
    n_units = len(units)
    cnt = np.bincount(lead_unit, minlength=n_units)
    off = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    movable = staff & (cnt[unit] >= 2)
    current = sup.copy()
    for p in periods[1:]:
        move = movable & (rng.random(n) < move_rate)
        idx = np.flatnonzero(move)
        u = unit[idx]
        k = np.floor(rng.random(len(idx)) * (cnt[u] - 1)).astype(int)
        cand = leaders[off[u] + k]
        last = leaders[off[u] + cnt[u] - 1]
        cand = np.where(cand == current[idx], last, cand)
        current = current.copy()
        current[idx] = cand
        sups[p] = current

    hire = people["hire_date"].to_numpy()
    present = {p: hire <= np.datetime64(f"{p}-09-30") for p in periods}
    for p in periods:  # a supervisor is always in post when rating
        s_p = sups[p]
        assert present[p][s_p[present[p] & (s_p >= 0)]].all()
    return Org(units=units, people=people, sup=sups, present=present, sekda=sekda)
