"""Tables as a notebook shows them to people: one formatting layer for every displayed table.

A notebook displays ``ctx.show(table)``; the CSV in ``tables/`` keeps its machine-friendly columns.
What a reader sees instead of the raw DataFrame:

- headers labelled in the run's language (``core/columns.yaml``; a column missing there keeps its
  name, and the notebook tests ask for a label of every column the notebooks show);
- counts as whole numbers, shares as percentages, Rupiah with the language's thousands separator,
  p-values as ``< 0,001`` or three significant digits, other numbers to a few decimals, all through
  ``core.numbers`` (decimal comma and thousands dot in Bahasa Indonesia);
- no index; one mark for missing values (``–``);
- rows of groups too small to show (``suppressed``) marked in their first column (``*``, explained in
  a note under the table) instead of a ``suppressed`` column;
- of a pair of columns in both languages (``name_id`` / ``name_en``), the run's language only;
- codes by their labels where the column holds codes of a code list (``columns.yaml``: ``codes``);
- at most ``rows`` rows and the chosen ``columns``, with a note saying how many there are in all and
  where the whole table is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.core.codes import label
from analysis.core.columns import column_codes, column_label
from analysis.core.columns import column_kind as declared_kind
from analysis.core.i18n import t
from analysis.core.numbers import MISSING, number

SUPPRESSED_MARK = "*"
KINDS = ("int", "pct", "rupiah", "p", "num", "num1", "num2", "num3", "bool", "text")


def column_kind(name: str, values: pd.Series) -> str:
    """How a column's values are written: its kind in ``columns.yaml``, else from its name and values."""
    declared = declared_kind(name)
    if declared:
        return declared
    name = str(name)
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if not pd.api.types.is_numeric_dtype(values):
        return "text"
    if name in ("p", "q") or name.startswith("p_") or name.endswith("_p"):
        return "p"
    if name.startswith("share") or name.endswith("_share"):
        return "pct"
    if name.startswith("cost") or name.endswith("_cost") or name in ("budget", "fee"):
        return "rupiah"
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if pd.api.types.is_integer_dtype(values) or (len(finite) and np.allclose(finite, np.round(finite))):
        return "int"
    return "num"


def _decimals(values: pd.Series) -> int:
    """Decimals for a column of measurements: enough for its typical size (3 below 1, 2 below 100)."""
    finite = pd.to_numeric(values, errors="coerce").abs().replace(np.inf, np.nan).dropna()
    typical = float(finite.median()) if len(finite) else 0.0
    return 3 if typical < 1 else (2 if typical < 100 else 1)


def format_cell(value, kind: str, lang: str, decimals: int = 2) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return MISSING
    if kind == "bool":
        return t("display.yes" if bool(value) else "display.no", lang)
    if kind == "text":
        return str(value)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "int":
        return number(value, "int", lang)
    if kind == "pct":
        return number(value, "pct", lang, 1)
    if kind in ("rupiah", "p"):
        return number(value, kind, lang)
    digits = {"num1": 1, "num2": 2, "num3": 3}.get(kind, decimals)
    return number(value, "num", lang, digits)


@dataclass
class ShownTable:
    """A table formatted for reading: HTML in a notebook, aligned text elsewhere."""

    cells: pd.DataFrame  # strings, headers labelled
    numeric: list[str]  # labelled headers of the columns aligned right
    note: str = ""

    def _repr_html_(self) -> str:
        text = [c for c in self.cells.columns if c not in self.numeric]
        # numbers right-aligned and never broken across lines ("Rp" above its amount); text left
        # text from the data (unit names, programmes) is shown as text, never as markup
        styler = (self.cells.style.format(escape="html").format_index(escape="html", axis=1).hide(axis="index")
                  .set_properties(subset=self.numeric, **{"text-align": "right", "white-space": "nowrap"})
                  .set_properties(subset=text, **{"text-align": "left"})
                  .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))
        table = styler.to_html()
        return table + (f'<p style="font-size:90%"><em>{html.escape(self.note)}</em></p>' if self.note else "")

    def __repr__(self) -> str:
        text = self.cells.to_string(index=False) if len(self.cells) else "(–)"
        return text + (f"\n{self.note}" if self.note else "")


def present(table: pd.DataFrame, lang: str, *, columns: list[str] | None = None, rows: int | None = None,
            source: str | None = None) -> ShownTable:
    """``table`` as a reader sees it (the module docstring): ``columns`` to show (default all), at most
    ``rows`` rows; ``source`` names the file with the whole table."""
    df = table.reset_index(drop=True)
    suppressed = df["suppressed"].fillna(False).astype(bool) if "suppressed" in df else None
    df = df.drop(columns=[c for c in ("suppressed",) if c in df])
    dropped = _other_language(df.columns, lang)
    df = df.drop(columns=dropped)
    if columns is not None:  # a column asked for in the other language is shown in the run's
        columns = [re.sub(r"_(id|en)$", f"_{lang}", c) if c in dropped else c for c in columns]
        missing = [c for c in columns if c not in df]
        if missing:
            raise KeyError(f"columns {missing} are not in the table (it has {list(df.columns)})")
        df = df[list(columns)]
    total = len(df)
    if rows is not None:
        df = df.head(rows)
        suppressed = suppressed.head(rows) if suppressed is not None else None
    cells = {}
    numeric = []
    kinds = {col: column_kind(col, df[col]) for col in df.columns}
    # one number of decimals for all the table's measurements, so an estimate and its interval align
    measured = [col for col, kind in kinds.items() if kind == "num"]
    decimals = _decimals(pd.concat([df[c] for c in measured], ignore_index=True)) if measured else 2
    for col in df.columns:
        kind = kinds[col]
        cells[col] = [format_cell(v, kind, lang, decimals) for v in df[col].tolist()]
        if column_codes(col):
            cells[col] = _labelled(cells[col], column_codes(col), df, lang)
        if kind not in ("text", "bool"):
            numeric.append(column_label(col, lang))
    out = pd.DataFrame(cells, columns=list(df.columns))
    notes = []
    if suppressed is not None and suppressed.any() and len(out.columns):
        first = out.columns[0]
        out[first] = [f"{v} {SUPPRESSED_MARK}" if s else v for v, s in zip(out[first], suppressed)]
        notes.append(t("display.suppressed", lang, mark=SUPPRESSED_MARK))
    if total > len(out):
        notes.append(t("display.rows", lang, shown=len(out), total=total, source=source or ""))
    elif source and columns is not None:
        notes.append(t("display.columns", lang, source=source))
    labels = [column_label(c, lang) for c in out.columns]
    # two columns with one label (a table's own choice of names) keep their names beside it
    labels = [f"{lab} ({c})" if labels.count(lab) > 1 else lab for lab, c in zip(labels, out.columns)]
    numeric = [lab for lab, c in zip(labels, out.columns) if column_label(c, lang) in numeric]
    out.columns = labels
    return ShownTable(out, numeric, " ".join(notes))


def _labelled(cells: list[str], codes, df: pd.DataFrame, lang: str) -> list[str]:
    """Codes by their labels: ``codes`` is a code list, a list of them (the first that knows a code), or
    ``@column``, the list named in that column of the same row."""
    if isinstance(codes, str) and codes.startswith("@"):
        lists = [[str(v)] for v in df[codes[1:]]] if codes[1:] in df else [[] for _ in cells]
    else:
        lists = [[codes] if isinstance(codes, str) else list(codes)] * len(cells)
    out = []
    for cell, names in zip(cells, lists):
        found = [label(name, cell, lang) for name in names]
        out.append(next((f for f in found if f != cell), cell))
    return out


def _other_language(columns, lang: str) -> list[str]:
    """Columns in the language the run does not use, where the table has both (``x_id`` and ``x_en``)."""
    names = {str(c) for c in columns}
    other = "en" if lang == "id" else "id"
    return [c for c in columns if re.fullmatch(rf".+_{other}", str(c))
            and re.sub(rf"_{other}$", f"_{lang}", str(c)) in names]
