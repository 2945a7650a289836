"""Code lists of the data contract and their normalisation.

Codes are lower-case snake case in data (``di_atas``, ``sangat_baik``…).
Real exports carry display labels instead ("Di Atas Ekspektasi",
"Kurang/Misconduct", "JPT Pratama"): every label of ``labels.yaml`` in either
language, plus the aliases below, is accepted and mapped to its code.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import pandas as pd
import yaml

RATINGS = ("di_atas", "sesuai", "di_bawah")
PREDIKAT = ("sangat_baik", "baik", "butuh_perbaikan", "kurang", "sangat_kurang")
ORG_PREDIKAT = ("istimewa", "baik", "butuh_perbaikan", "kurang", "sangat_kurang")
PP30_BANDS = ("sangat_baik", "baik", "cukup", "kurang", "sangat_kurang")
ASPECTS = (
    "berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis",
    "loyal", "adaptif", "kolaboratif",
)
RATER_ROLES = ("self", "supervisor", "peer", "subordinate")
POSITION_CLASSES = (
    "jpt_utama", "jpt_madya", "jpt_pratama", "administrator", "pengawas",
    "pelaksana", "ahli_utama", "ahli_madya", "ahli_muda", "ahli_pertama",
    "penyelia", "mahir", "terampil", "pemula",
)
STRUCTURAL_CLASSES = ("jpt_utama", "jpt_madya", "jpt_pratama", "administrator", "pengawas")
EMPLOYMENT_TYPES = ("PNS", "PPPK")
GENDERS = ("L", "P")
COMPETENCY_KINDS = ("manajerial", "sosial_kultural", "teknis")
DIRECTIONS = ("higher", "lower")
TRAINING_MODES = ("klasikal", "nonklasikal")
# LAN 10/2018: each form of development belongs to one mode.
TRAINING_FORMS = {
    "pelatihan": "klasikal", "seminar": "klasikal", "workshop": "klasikal",
    "kursus": "klasikal", "bimtek": "klasikal", "sosialisasi": "klasikal",
    "coaching": "nonklasikal", "mentoring": "nonklasikal", "e_learning": "nonklasikal",
    "pjj": "nonklasikal", "detasering": "nonklasikal", "patok_banding": "nonklasikal",
    "pertukaran": "nonklasikal", "belajar_mandiri": "nonklasikal",
    "komunitas_belajar": "nonklasikal", "bimbingan_kerja": "nonklasikal",
    "magang": "nonklasikal",
}
MANAGERIAL_COMPETENCIES = tuple(f"M.{i:02d}" for i in range(1, 9))
SOCIOCULTURAL_COMPETENCIES = ("SK.01",)

CODE_LISTS: dict[str, tuple[str, ...]] = {
    "rating": RATINGS,
    "predikat": PREDIKAT,
    "org_predikat": ORG_PREDIKAT,
    "pp30_band": PP30_BANDS,
    "aspect": ASPECTS,
    "rater_role": RATER_ROLES,
    "position_class": POSITION_CLASSES,
    "employment_type": EMPLOYMENT_TYPES,
    "gender": GENDERS,
    "competency_kind": COMPETENCY_KINDS,
    "direction": DIRECTIONS,
    "training_mode": TRAINING_MODES,
    "training_form": tuple(TRAINING_FORMS),
}

# Aliases seen in exports beyond the display labels (keys are already folded).
_EXTRA_ALIASES: dict[str, dict[str, str]] = {
    "rating": {
        "diatas": "di_atas", "atas": "di_atas", "above": "di_atas",
        "sesuai_ekspektasi": "sesuai", "meets": "sesuai",
        "dibawah": "di_bawah", "bawah": "di_bawah", "below": "di_bawah",
    },
    "predikat": {
        "kurang": "kurang", "misconduct": "kurang", "kurang_misconduct": "kurang",
        "poor": "kurang",
    },
    "rater_role": {
        "diri": "self", "diri_sendiri": "self", "sendiri": "self",
        "atasan": "supervisor", "atasan_langsung": "supervisor", "manager": "supervisor",
        "rekan": "peer", "rekan_kerja": "peer", "sejawat": "peer", "colleague": "peer",
        "bawahan": "subordinate", "direct_report": "subordinate",
    },
    "employment_type": {"pns": "PNS", "pppk": "PPPK", "cpns": "PNS", "p3k": "PPPK"},
    "gender": {
        "l": "L", "p": "P", "laki_laki": "L", "lakilaki": "L", "pria": "L",
        "perempuan": "P", "wanita": "P", "m": "L", "male": "L", "f": "P", "female": "P",
    },
    "competency_kind": {"managerial": "manajerial", "sosiokultural": "sosial_kultural",
                        "socio_cultural": "sosial_kultural", "technical": "teknis"},
    "direction": {
        "max": "higher", "maks": "higher", "naik": "higher", "tinggi": "higher",
        "lebih_tinggi_lebih_baik": "higher", "higher_is_better": "higher",
        "min": "lower", "turun": "lower", "rendah": "lower",
        "lebih_rendah_lebih_baik": "lower", "lower_is_better": "lower",
    },
    "training_mode": {"classroom": "klasikal", "non_klasikal": "nonklasikal",
                      "non_classroom": "nonklasikal"},
    "training_form": {
        "diklat": "pelatihan", "training": "pelatihan", "konferensi": "seminar",
        "lokakarya": "workshop", "bimbingan_teknis": "bimtek", "elearning": "e_learning",
        "pelatihan_jarak_jauh": "pjj", "distance_learning": "pjj",
        "secondment": "detasering", "benchmarking": "patok_banding",
        "pertukaran_pns": "pertukaran", "self_study": "belajar_mandiri",
        "community_of_practice": "komunitas_belajar",
        "bimbingan_di_tempat_kerja": "bimbingan_kerja", "on_the_job": "bimbingan_kerja",
        "praktik_kerja": "magang", "internship": "magang",
    },
}


def fold(value: str) -> str:
    """Fold a label to a comparison key: ASCII, lower case, words joined by '_'."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, dict[str, str]]]:
    """The translation table of code labels: ``labels()[list][code][lang]``."""
    text = resources.files("analysis.core").joinpath("labels.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def label(code_list: str, code: str, lang: str = "id") -> str:
    """Display label of a code in a language ('id' or 'en'); the code itself if unknown."""
    return labels().get(code_list, {}).get(code, {}).get(lang, code)


@lru_cache(maxsize=None)
def aliases(code_list: str) -> dict[str, str]:
    """Folded alias -> code, for every code, display label and known alias."""
    table: dict[str, str] = {}
    for code in CODE_LISTS[code_list]:
        table[fold(code)] = code
        for text in labels().get(code_list, {}).get(code, {}).values():
            table.setdefault(fold(text), code)
    table.update(_EXTRA_ALIASES.get(code_list, {}))
    return table


def normalise(values: pd.Series, code_list: str) -> pd.Series:
    """Map labels to codes; values that match no code become <NA> (missing stays missing)."""
    table = aliases(code_list)
    uniques = pd.unique(values.dropna())
    mapping = {u: table.get(fold(u)) for u in uniques}
    return _none_for_missing(values.map(mapping))


def normalise_key(values: pd.Series) -> pd.Series:
    """Free-text category (job family, scheme…) as a folded snake-case key."""
    uniques = pd.unique(values.dropna())
    mapping = {u: fold(u) or None for u in uniques}
    return _none_for_missing(values.map(mapping))


def _none_for_missing(values: pd.Series) -> pd.Series:
    """Object column with None (not NaN) wherever a value is missing or matched nothing."""
    out = values.astype("object")
    return out.where(out.notna(), None)


_COMPETENCY = re.compile(r"^(M|SK)\.?\s*0*(\d{1,2})$", re.IGNORECASE)
_TECHNICAL = re.compile(r"^T\.([^.]+)\.(\d+)$", re.IGNORECASE)


def normalise_competency_code(values: pd.Series) -> pd.Series:
    """Canonical competency codes: 'm1' -> 'M.01', 'sk.1' -> 'SK.01', 'T.Guru.1' -> 'T.guru.1'.

    Codes in neither shape are returned unchanged (an agency may use its own).
    """
    def one(code: str) -> str:
        text = str(code).strip()
        m = _COMPETENCY.match(text)
        if m:
            return f"{m.group(1).upper()}.{int(m.group(2)):02d}"
        t = _TECHNICAL.match(text)
        if t:
            return f"T.{fold(t.group(1))}.{int(t.group(2))}"
        return text

    uniques = pd.unique(values.dropna())
    mapping = {u: one(u) for u in uniques}
    return _none_for_missing(values.map(mapping))


def competency_kind_of(code: str) -> str | None:
    """The kind implied by a competency code's prefix, None for agency-specific codes."""
    if code.startswith("M."):
        return "manajerial"
    if code.startswith("SK."):
        return "sosial_kultural"
    if code.startswith("T."):
        return "teknis"
    return None
