"""Pseudonyms and small-cell suppression; the pseudonym key."""

import hashlib
import threading

import pandas as pd
import pytest

from analysis.core import privacy


def test_pseudonyms_are_stable_keyed_and_hide_the_nip():
    nips = pd.Series(["198503152010011001", "198703222011012002", None, "198503152010011001"])
    a = privacy.pseudonymise(nips, b"key-one")
    assert a.iloc[0] == a.iloc[3] and a.iloc[0] != a.iloc[1] and a.iloc[2] is None
    assert a.iloc[0] == privacy.pseudonymise(nips, b"key-one").iloc[0]
    assert a.iloc[0] != privacy.pseudonymise(nips, b"key-two").iloc[0]
    assert not any("1985" in str(x) for x in a)


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_PSEUDONYM_KEY", raising=False)
    path = tmp_path / "k" / "pseudonym.key"
    k1 = privacy.load_key(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert privacy.load_key(path) == k1 and len(k1) == 64


# --- the pseudonym key: how it is read, how strong it must be, what is recorded ------------------

STRONG_HEX = hashlib.sha256(b"a test key").hexdigest()  # 64 hex digits: 32 bytes, as generated


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)


def key_file(tmp_path, content: bytes, mode: int = 0o600):
    path = tmp_path / "k.key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_generated_key_is_accepted_and_used_as_written(tmp_path, no_env_key):
    path = tmp_path / "new" / "k.key"
    k = privacy.load_key(path)
    assert privacy.key_strength(k) == 32 and k == path.read_bytes().strip()
    # the HMAC key is the file's text, as before: existing keys keep giving the same pseudonyms
    assert privacy.load_key(key_file(tmp_path, STRONG_HEX.encode() + b"\n")) == STRONG_HEX.encode()
    assert not list(path.parent.glob(".*.tmp"))


@pytest.mark.parametrize("content, says", [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b"test-key", "8 byte"),
    (STRONG_HEX[:62].encode(), "31 byte"),  # hex: two digits a byte
    (b"0" * 64, "not a random key"),
    (b"ab" * 40, "not a random key"),
])
def test_weak_key_file_is_refused(tmp_path, no_env_key, content, says):
    with pytest.raises(privacy.PseudonymKeyError) as err:
        privacy.load_key(key_file(tmp_path, content))
    assert says in str(err.value) and "k.key" in str(err.value) and "\n" not in str(err.value)


def test_key_strength_counts_hex_digits_as_half_a_byte_and_anything_else_as_a_byte(tmp_path, no_env_key):
    assert privacy.key_strength(b"ab" * 32) == 32 and privacy.key_strength(b"g" * 32) == 32
    raw = hashlib.sha256(b"raw").digest() + hashlib.sha256(b"more").digest()[:2]  # 34 raw bytes
    assert privacy.load_key(key_file(tmp_path, raw)) == raw.strip()
    passphrase = "kunci rahasia BKPSDM yang panjang sekali 2026!".encode()
    assert privacy.load_key(key_file(tmp_path, passphrase)) == passphrase


def test_environment_key_must_meet_the_same_rule(tmp_path, monkeypatch):
    path = tmp_path / "unused.key"
    monkeypatch.setenv(privacy.KEY_ENV, "test-key")
    with pytest.raises(privacy.PseudonymKeyError, match=privacy.KEY_ENV):
        privacy.load_key(path)
    monkeypatch.setenv(privacy.KEY_ENV, f" {STRONG_HEX}\n")
    assert privacy.load_key(path) == STRONG_HEX.encode() and not path.exists()
    monkeypatch.setenv(privacy.KEY_ENV, "  ")  # blank: as if unset, the file is used
    assert privacy.load_key(path) == path.read_bytes().strip()


def test_unreadable_key_is_an_error_not_a_traceback(tmp_path, no_env_key):
    (tmp_path / "dir.key").mkdir()
    with pytest.raises(privacy.PseudonymKeyError, match="folder"):
        privacy.load_key(tmp_path / "dir.key")
    with pytest.raises(privacy.PseudonymKeyError, match="not found"):
        privacy.load_key(tmp_path / "none.key", create=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(privacy.PseudonymKeyError, match="cannot be read or created"):
        privacy.load_key(tmp_path / "file" / "k.key")


def test_key_readable_by_others_is_warned_about(tmp_path, no_env_key):
    warnings = []
    privacy.load_key(key_file(tmp_path, STRONG_HEX.encode(), 0o644), warn=warnings.append)
    assert len(warnings) == 1 and "chmod 600" in warnings[0] and "0644" in warnings[0]
    warnings.clear()
    privacy.load_key(key_file(tmp_path, STRONG_HEX.encode(), 0o600), warn=warnings.append)
    assert warnings == []


def test_fingerprint_tells_keys_apart_and_gives_nothing_away():
    a, b = STRONG_HEX.encode(), hashlib.sha256(b"another").hexdigest().encode()
    fa = privacy.key_fingerprint(a)
    assert fa == privacy.key_fingerprint(a) and fa != privacy.key_fingerprint(b)
    assert len(fa) == 16 and int(fa, 16) >= 0
    assert fa not in a.decode() and fa not in hashlib.sha256(a).hexdigest()
    # no pseudonym of any id starts with it: it is not the HMAC of an id
    assert fa.upper() not in privacy.pseudonymise(pd.Series(["", "0", "fingerprint"]), a).str.cat()


def test_runs_creating_the_key_at_once_agree_on_it(tmp_path, no_env_key):
    path = tmp_path / "k.key"
    barrier, keys = threading.Barrier(8), []

    def first_use():
        barrier.wait()
        keys.append(privacy.load_key(path))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and keys[0] == path.read_bytes()
    assert (path.stat().st_mode & 0o777) == 0o600
