"""Pseudonyms and small-cell suppression."""

import pandas as pd

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


def test_suppress_blanks_values_of_small_groups_only():
    t = pd.DataFrame({"unit": ["a", "b"], "n": [3, 12], "n_baik": [2, 9], "share_baik": [0.67, 0.75]})
    s = privacy.suppress(t, min_cell=5)
    assert s.loc[0, ["n", "n_baik", "share_baik"]].isna().all()
    assert s.loc[1, "n_baik"] == 9 and s["suppressed"].tolist() == [True, False]


def test_suppress_counts_blanks_small_nonzero_cells():
    t = pd.DataFrame({"row": ["x", "y"], "a": [0, 3], "b": [7, 12]})
    s = privacy.suppress_counts(t, min_cell=5)
    assert s.loc[0, "a"] == 0 and pd.isna(s.loc[1, "a"]) and s.loc[1, "b"] == 12
