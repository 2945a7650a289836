"""The named transforms a profile may ask for, and the types a layout's fields are read as.

Profiles are data: they name transforms from ``TRANSFORMS`` (text to text, applied in the order
given) and never hold code. After the profile's value map and transforms, every field is read as its
layout type (``TYPES``): a parser from text cells to typed values that also says which non-empty
cells it could not read, so that the import report can count them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd

from analysis.core import codes
from analysis.core.periods import parse_period
from analysis.data import nip as nips
from analysis.data.parsing import normalise_unicode, parse_date, parse_number


def _each(fn: Callable[[str], str | None]) -> Callable[[pd.Series], pd.Series]:
    """A text transform applied once per distinct text."""
    def apply(values: pd.Series) -> pd.Series:
        present = values.notna()
        if not present.any():
            return values
        mapping = {u: fn(str(u)) for u in pd.unique(values[present])}
        out = values.map(mapping).astype("object")
        return out.where(out.notna() & (out != ""), None)
    return apply


TRANSFORMS: dict[str, Callable[[pd.Series], pd.Series]] = {
    # Excel's text marker, which SIASN and SIMPEG exports leave in front of NIPs
    "strip_apostrophe": _each(lambda t: t.lstrip("'").strip()),
    "digits_only": _each(lambda t: re.sub(r"\D", "", t)),
    "no_spaces": _each(lambda t: re.sub(r"\s", "", t)),
    "collapse_spaces": _each(lambda t: re.sub(r"\s+", " ", t).strip()),
    "upper": _each(str.upper),
    "lower": _each(str.lower),
    "title_case": _each(str.title),
    # "Dinas Kesehatan - Kota X" -> "Dinas Kesehatan"; "III/a - Penata" -> "III/a"
    "before_dash": _each(lambda t: re.split(r"\s+[-\u2013]\s+", t, maxsplit=1)[0].strip()),
}


def value_key(text: object) -> str:
    """How a value map's keys and a cell's text are compared: folded, or as written when folding
    leaves nothing (``-`` stays ``-``)."""
    folded = codes.fold(str(text))
    return folded or str(text).strip()


# --- types ---------------------------------------------------------------------------------------
# Each parser takes text cells (None when empty) and returns (values, failed), where failed marks the
# non-empty cells it could not read. ``formats`` are the profile's date formats.

Parsed = tuple[pd.Series, pd.Series]


def _none(values: pd.Series) -> pd.Series:
    out = values.astype("object")
    return out.where(out.notna(), None)


def parse_text(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    return _none(values), pd.Series(False, index=values.index)


def parse_id(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    return _none(normalise_unicode(values)), pd.Series(False, index=values.index)


def parse_nip(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    cleaned = nips.clean(normalise_unicode(values))
    problem = nips.check(cleaned)
    bad = problem.notna()
    return _none(cleaned.where(~bad, None)), bad


def parse_dates(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    text = _none(values)
    out = parse_date(text, first=formats)  # the profile's formats first: they decide 01-02-2024
    return out, text.notna() & out.isna()


def parse_numbers(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    out = parse_number(_none(values))
    return out, values.notna() & out.isna()


_TRUE = {"1", "true", "ya", "y", "yes", "benar"}
_FALSE = {"0", "false", "tidak", "t", "no", "n", "salah", "bukan"}


def parse_flag(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    """Yes/no; any number other than 0 is yes (``is_skp_plt_plh_pjb`` = 2 is an acting SKP too)."""
    def one(text: str) -> object:
        key = value_key(text)
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        number = parse_number(pd.Series([text])).iloc[0]
        return None if pd.isna(number) else bool(number != 0)

    present = values.notna()
    mapping = {u: one(str(u)) for u in pd.unique(values[present])}
    out = _none(values.map(mapping))
    return out, present & out.isna()


def _code_parser(code_list: str, fallback: Callable[[str], str | None] | None = None):
    def parse(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
        table = codes.aliases(code_list)
        present = values.notna()
        mapping = {}
        for u in pd.unique(values[present]):
            key = codes.fold(str(u))
            mapping[u] = table.get(key) or (fallback(key) if fallback else None)
        out = _none(values.map(mapping))
        return out, present & out.isna()
    return parse


def _rating(key: str) -> str | None:
    # 'DIATAS EKSPEKTASI', 'dibawah_ekspektasi': the e-Kinerja spelling, without the noun
    return codes.aliases("rating").get(re.sub(r"_?ekspektasi$", "", key))


def _employment_type(key: str) -> str | None:
    # SIASN writes 'PNS DAERAH', 'CPNS DAERAH', 'PNS PUSAT DPK', 'PPPK', 'PEGAWAI PEMERINTAH DENGAN
    # PERJANJIAN KERJA': PPPK is told by its words, everything else that says PNS is PNS
    words = set(key.split("_"))
    if words & {"pppk", "p3k", "perjanjian"}:
        return "PPPK"
    if words & {"pns", "cpns", "negeri"}:
        return "PNS"
    return None


def parse_year(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    def one(text: str) -> str | None:
        m = re.fullmatch(r"\s*(\d{4})(?:\.0+)?\s*", text)
        return m.group(1) if m and 1900 <= int(m.group(1)) <= 2200 else None

    present = values.notna()
    mapping = {u: one(str(u)) for u in pd.unique(values[present])}
    out = _none(values.map(mapping))
    return out, present & out.isna()


def quarter_of(value: object) -> str | None:
    """A quarter (``2024Q1``) from a quarter or a month; None for a year, a semester or no period."""
    period = parse_period(value)
    if period is None or period.kind not in ("Q", "M"):
        return None
    return f"{period.year}Q{(period.start_month - 1) // 3 + 1}"


def quarters_of_dates(dates: pd.Series) -> pd.Series:
    ok = dates.notna()
    out = pd.Series(None, index=dates.index, dtype="object")
    out[ok] = dates[ok].dt.year.astype(str) + "Q" + dates[ok].dt.quarter.astype(str)
    return out


def parse_quarter(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    present = values.notna()
    mapping = {u: quarter_of(u) for u in pd.unique(values[present])}
    out = _none(values.map(mapping))
    return out, present & out.isna()


def parse_scale(values: pd.Series, formats: tuple[str, ...] = ()) -> Parsed:
    """An SKM answer, 1 to 4; anything else cannot be read (and is left out of the NRR)."""
    out = parse_number(_none(values))
    out = out.where(out.between(1, 4), np.nan)
    return out, values.notna() & out.isna()


TYPES: dict[str, Callable[..., Parsed]] = {
    "text": parse_text,
    "id": parse_id,
    "nip": parse_nip,
    "date": parse_dates,
    "number": parse_numbers,
    "flag": parse_flag,
    "year": parse_year,
    "quarter": parse_quarter,
    "scale": parse_scale,
    "rating": _code_parser("rating", _rating),
    "predikat": _code_parser("predikat"),
    "gender": _code_parser("gender"),
    "employment_type": _code_parser("employment_type", _employment_type),
    "training_form": _code_parser("training_form"),
}

# what the report calls a cell a type could not read
FAILURE = {
    "nip": "invalid_nip", "date": "unreadable_date", "number": "unreadable_number", "flag": "unmapped_value",
    "year": "unreadable_year", "quarter": "unreadable_period", "scale": "out_of_range",
}


def check_date_format(fmt: str) -> bool:
    """Whether a date format from a profile is one strftime understands and that names a day."""
    try:
        datetime.strptime(datetime(2024, 3, 15).strftime(fmt), fmt)
    except (ValueError, TypeError):
        return False
    return "%d" in fmt or "%j" in fmt
