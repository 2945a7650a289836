"""Privacy: keyed pseudonyms for lists that name people, suppression of small groups.

Pseudonyms are HMAC-SHA256 of the NIP under a secret key kept outside the
outputs (``privacy.key_file``), so the same person gets the same pseudonym in
every run while nobody without the key can recover the NIP, nor check a guess.
Circulated tables blank every count and share of a group smaller than the
minimum cell size (primary suppression) and say so in a ``suppressed`` column.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

RESTRICTED_LABEL = "TERBATAS / RESTRICTED"
RESTRICTED_NOTICE = """TERBATAS / RESTRICTED

Berkas dalam folder ini menyebut orang perorangan (dengan pseudonim, atau dengan NIP bila
pseudonimisasi dimatikan). Hanya untuk pejabat yang berwenang; jangan diedarkan.

The files in this folder name individual people (by pseudonym, or by NIP when pseudonymisation
is switched off). For authorised officials only; do not circulate.
"""


def load_key(path: Path | str, create: bool = True) -> bytes:
    """The pseudonym key; created (random, owner-only permissions) if it does not exist."""
    path = Path(path)
    env = os.environ.get("WORKBENCH_PSEUDONYM_KEY")
    if env:
        return env.encode()
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"pseudonym key {path} not found")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def pseudonymise(ids: pd.Series, key: bytes, prefix: str = "ASN") -> pd.Series:
    """Stable pseudonym of each id (None stays None)."""
    uniques = pd.unique(ids.dropna())
    mapping = {
        u: f"{prefix}-{hmac.new(key, str(u).encode(), hashlib.sha256).hexdigest()[:12].upper()}"
        for u in uniques
    }
    return ids.map(mapping).astype("object").where(ids.notna(), None)


def suppress(table: pd.DataFrame, min_cell: int, n_col: str = "n",
             value_cols: list[str] | None = None) -> pd.DataFrame:
    """Blank the values of rows whose group is smaller than ``min_cell``.

    ``value_cols`` defaults to every column starting with ``n_`` or ``share_``
    and the group size itself. Adds a boolean ``suppressed`` column.
    """
    out = table.copy()
    if n_col not in out:  # an empty table, or one without group sizes: nothing to suppress
        out["suppressed"] = False
        return out
    cols = value_cols or [c for c in out.columns if c.startswith(("n_", "share_"))] + [n_col]
    small = out[n_col].fillna(0).astype(float) < min_cell
    for c in cols:
        if c in out:
            out[c] = out[c].astype("float64" if out[c].dtype.kind in "fiub" or str(out[c].dtype) in
                                   ("Int64", "Float64", "boolean") else "object")
            out.loc[small, c] = np.nan
    out["suppressed"] = small.to_numpy()
    return out


def suppress_counts(table: pd.DataFrame, min_cell: int, value_cols: list[str] | None = None) -> pd.DataFrame:
    """Blank the cells of a table of counts of people that are above 0 and below ``min_cell``."""
    out = table.copy()
    cols = value_cols or [c for c in out.columns if pd.api.types.is_numeric_dtype(out[c])
                          and not pd.api.types.is_bool_dtype(out[c])]
    for c in cols:
        v = pd.to_numeric(out[c], errors="coerce").astype("float64")
        out[c] = v.where(~((v > 0) & (v < min_cell)))
    return out


def mark_restricted(table: pd.DataFrame) -> pd.DataFrame:
    """Add the restricted marking as the first column of a list that names people."""
    out = table.copy()
    out.insert(0, "classification", RESTRICTED_LABEL)
    return out
