"""Privacy: keyed pseudonyms for lists that name people, suppression of small groups.

Pseudonyms are HMAC-SHA256 of the NIP under a secret key kept outside the
outputs (``privacy.key_file``), so the same person gets the same pseudonym in
every run while nobody without the key can recover the NIP, nor check a guess.
Small cells of circulated tables are protected by ``core.disclosure`` (one policy).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

RESTRICTED_LABEL = "TERBATAS / RESTRICTED"
RESTRICTED_NOTICE = """TERBATAS / RESTRICTED

Berkas dalam folder ini menyebut orang perorangan (dengan pseudonim, atau dengan NIP bila
pseudonimisasi dimatikan). Hanya untuk pejabat yang berwenang; jangan diedarkan.

The files in this folder name individual people (by pseudonym, or by NIP when pseudonymisation
is switched off). For authorised officials only; do not circulate.
"""


KEY_ENV = "WORKBENCH_PSEUDONYM_KEY"  # a key given in the environment instead of a file
MIN_KEY_BYTES = 32  # a key must hold at least this many random bytes (the generated key holds 32)
MIN_KEY_SYMBOLS = 8  # and be made of at least this many different characters (not 000… or abab…)
_FINGERPRINT_LABEL = b"asn-workbench pseudonym key fingerprint v1"


class PseudonymKeyError(ValueError):
    """The pseudonym key is missing, unreadable or too weak to protect the NIPs."""


def key_strength(key: bytes) -> int:
    """The random bytes a key holds: a key written in hexadecimal digits (0-9, a-f, as generated) holds
    one byte per two digits; any other key (text or raw bytes) is counted one byte per byte."""
    if key and all(c in b"0123456789abcdefABCDEF" for c in key):
        return len(key) // 2
    return len(key)


def check_key(key: bytes, where: str) -> bytes:
    """``key`` if it is strong enough to key the pseudonyms, else a PseudonymKeyError naming ``where``.

    The key is the file's (or variable's) bytes with surrounding whitespace removed, used as they
    are as the HMAC key: it must hold at least ``MIN_KEY_BYTES`` random bytes (``key_strength``: 64
    hex digits, or 32 bytes of anything else) and use at least ``MIN_KEY_SYMBOLS`` different
    characters. Without a strong key anyone can recompute a pseudonym from a guessed NIP."""
    if not key:
        raise PseudonymKeyError(f"{where} is empty: a pseudonym key must hold at least {MIN_KEY_BYTES} "
                                "random bytes (delete it to have a new one generated)")
    strength = key_strength(key)
    if strength < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"{where} holds {strength} byte(s) of key; a pseudonym key needs at least {MIN_KEY_BYTES} random "
            f"bytes ({2 * MIN_KEY_BYTES} hex digits, as `python -c \"import secrets; "
            f"print(secrets.token_hex({MIN_KEY_BYTES}))\"` prints)")
    if len(set(key)) < MIN_KEY_SYMBOLS:
        raise PseudonymKeyError(f"{where} repeats {len(set(key))} character(s): it is not a random key")
    return key


def key_fingerprint(key: bytes) -> str:
    """16 hex digits that change when the key changes: SHA-256 of the HMAC of a fixed label under the
    key. Safe to record: it says nothing about the key or about any pseudonym."""
    mac = hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).digest()
    return hashlib.sha256(mac).hexdigest()[:16]


def key_file_warning(path: Path | str) -> str | None:
    """A warning when users other than the owner may read the key file (None when only the owner can)."""
    try:
        mode = Path(path).stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077:
        return (f"the pseudonym key {path} can be read by other users (permissions {mode:04o}); "
                f"make it private: chmod 600 {path}")
    return None


def _create_key(path: Path) -> None:
    """Write a new random key to ``path`` (owner-only), atomically: a run that reads the path at the
    same time finds either no key or the whole key; if another run created one first, it is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # new, so owner-only whatever was there
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(MIN_KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if the key exists: never replaces one
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(tmp.read_text())
    finally:
        tmp.unlink(missing_ok=True)


def load_key(path: Path | str, create: bool = True, warn=None) -> bytes:
    """The pseudonym key, checked by ``check_key``; created (random, owner-only) if it does not exist.

    ``WORKBENCH_PSEUDONYM_KEY``, when set and not blank, is the key instead of the file (same rule).
    ``warn(message)`` is told when the key file can be read by other users. Every problem is a
    ``PseudonymKeyError`` with a one-line message."""
    path = Path(path)
    env = os.environ.get(KEY_ENV)
    if env and env.strip():
        return check_key(env.strip().encode("utf-8"), f"the key in {KEY_ENV}")
    try:
        if not path.exists():
            if not create:
                raise PseudonymKeyError(f"pseudonym key {path} not found")
            _create_key(path)
        raw = path.read_bytes()
    except IsADirectoryError:
        raise PseudonymKeyError(f"the pseudonym key {path} is a folder, not a file") from None
    except OSError as exc:
        raise PseudonymKeyError(f"the pseudonym key {path} cannot be read or created: "
                                f"{exc.strerror or exc}") from None
    key = check_key(raw.strip(), f"the pseudonym key {path}")
    message = key_file_warning(path)
    if message and warn is not None:
        warn(message)
    return key


def pseudonymise(ids: pd.Series, key: bytes, prefix: str = "ASN") -> pd.Series:
    """Stable pseudonym of each id (None stays None)."""
    uniques = pd.unique(ids.dropna())
    mapping = {
        u: f"{prefix}-{hmac.new(key, str(u).encode(), hashlib.sha256).hexdigest()[:12].upper()}"
        for u in uniques
    }
    return ids.map(mapping).astype("object").where(ids.notna(), None)


def mark_restricted(table: pd.DataFrame) -> pd.DataFrame:
    """Add the restricted marking as the first column of a list that names people."""
    out = table.copy()
    out.insert(0, "classification", RESTRICTED_LABEL)
    return out
