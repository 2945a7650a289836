"""Numbers as each language writes them: the one helper for sentences, tables and the brief.

English writes ``1,234.5``; Bahasa Indonesia writes ``1.234,5`` (decimal comma, thousands dot, as in
PUEBI and in every government document). Every number a user reads goes through here: the
translation tables' ``{n:,}`` / ``{share:.1%}`` fields (``i18n.t``), the notebooks' displayed tables
(``pipeline.display``) and the brief (``report.facts``). Files meant for machines (CSV, JSON) keep
plain numbers.
"""

from __future__ import annotations

import math
import numbers
import string

MISSING = "–"  # how a missing number is shown, everywhere


def localize(text: str, lang: str) -> str:
    """A number written the English way (``1,234.5``), in ``lang`` (``1.234,5`` in id)."""
    if lang != "id":
        return text
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA (raises: ambiguous) handled below
    except (TypeError, ValueError):
        return True


def number(value, kind: str = "num", lang: str = "id", digits: int = 1) -> str:
    """A number as ``lang`` writes it. Kinds: ``int``, ``num`` (``digits`` decimals), ``pct`` (a share
    as a percentage), ``signed``, ``signed_pct`` (a change of a share, in percentage points), ``idr``
    (Rupiah in millions or billions, for sentences), ``rupiah`` (whole Rupiah, for tables),
    ``p`` (a p-value: ``< 0.001`` or three significant digits)."""
    if is_missing(value):
        return MISSING
    try:
        if not math.isfinite(float(value)):
            return MISSING
    except (TypeError, ValueError):
        return str(value)
    value = float(value) if not isinstance(value, numbers.Integral) else int(value)
    if kind == "int":
        text = f"{round(value):,}"
    elif kind == "pct":
        text = f"{100 * value:,.{digits}f}%"
    elif kind == "signed_pct":
        text = f"{100 * value:+,.{digits}f} " + ("pp" if lang == "en" else "poin persen")
    elif kind == "signed":
        text = f"{value:+,.{digits}f}"
    elif kind == "idr":
        billions = value / 1e9
        text = (f"Rp {billions:,.{digits}f} " + ("miliar" if lang == "id" else "billion")) if abs(billions) >= 1 \
            else f"Rp {value / 1e6:,.0f} " + ("juta" if lang == "id" else "million")
    elif kind == "rupiah":
        text = f"Rp {round(value):,}"
    elif kind == "p":
        text = "< 0.001" if value < 0.001 else f"{value:.3g}"
    else:
        text = f"{value:,.{digits}f}"
    return localize(_unsigned_zero(text), lang)


def _unsigned_zero(text: str) -> str:
    """"-0.0" (a small negative number rounded to nothing) as "0.0"; "-0.0%" and "-Rp 0 juta" too."""
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        return text[1:]
    return text.replace("Rp -0 ", "Rp 0 ")


class LocalFormatter(string.Formatter):
    """``str.format`` whose numeric fields come out as ``lang`` writes numbers (text fields untouched),
    so that a template's ``{n:,}`` or ``{share:.1%}`` reads ``17.293`` and ``23,7%`` in Indonesian."""

    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(float(value)):
            return MISSING  # NaN or infinity in a sentence: "–", as in the tables
        text = super().format_field(value, format_spec)
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            return localize(_unsigned_zero(text), self.lang)
        return text


def format_text(template: str, lang: str, **fields) -> str:
    """A template filled in with its numbers as ``lang`` writes them."""
    return LocalFormatter(lang).format(template, **fields)
