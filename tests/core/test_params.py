"""Params files: defaults, scenarios, and errors that name the key; hostile files refused quickly."""

import os
import time

import pytest

from analysis.core.params import Params, ParamsError, load_params
from conftest import ROOT


def test_default_yaml_states_every_model_default():
    dumped = load_params(ROOT / "params" / "default.yaml").dump()
    model = Params(name="default").dump()
    # the key file is the one exception: written relative to params/, read back as an absolute path
    assert dumped["privacy"].pop("key_file") == str(ROOT / ".workbench" / "pseudonym.key")
    assert model["privacy"].pop("key_file") == ".workbench/pseudonym.key"
    assert dumped == model


def test_every_committed_params_file_is_valid():
    for path in (ROOT / "params").glob("*.yaml"):
        load_params(path)


def test_scenario_extends_default_and_overrides_nested_keys():
    p = load_params(ROOT / "params" / "english_strict.yaml")
    assert p.language == "en" and p.privacy.min_cell == 10
    assert p.privacy.pseudonymise is True  # kept from default.yaml
    assert p.name == "english_strict"


def write(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, key", [
    ("foo: 1\n", "foo"),
    ("privacy: {min_sell: 5}\n", "privacy.min_sell"),
    ("alpha: 0.9\n", "alpha"),
    ("alpha: high\n", "alpha"),
    ("language: fr\n", "language"),
    ("privacy: {min_cell: 0}\n", "privacy.min_cell"),
    ("appraisal: {weights: {skp: 0.8, behaviour: 0.3}}\n", "appraisal.weights"),
    ("appraisal: {achievement_cap: 0.5}\n", "appraisal.achievement_cap"),
    ("appraisal: {bands: {sangat_baik: 80, baik: 90, cukup: 70, kurang: 50}}\n", "appraisal.bands"),
    ("clustering: {k_min: 6, k_max: 3}\n", "clustering"),
    ("periods: [2024, 'last year']\n", "periods"),
    ("jp_table: {webinar: 2}\n", "jp_table"),
    ("required_levels: {pelaksana: 7}\n", "required_levels"),
])
def test_bad_value_is_an_error_naming_the_key(tmp_path, text, key):
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, text))
    assert key in [k for k, _ in err.value.problems]
    assert f": {key}: " in str(err.value)


def test_broken_yaml_and_missing_file_are_reported_not_raised_raw(tmp_path):
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(write(tmp_path, "alpha: [0.1\n"))
    with pytest.raises(ParamsError, match="file not found"):
        load_params(tmp_path / "nope.yaml")


def test_extends_loop_is_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ParamsError, match="loop"):
        load_params(tmp_path / "a.yaml")


def test_periods_are_normalised():
    assert Params(periods=[2024, "2025 Q1"]).periods == ["2024", "2025Q1"]


# --- hostile and careless files --------------------------------------------------------------------

BOMB = "".join(f"{name}: &{name} [{','.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
               for prev, name in zip([None, *"abcdefgh"], "abcdefghi")) + "periods: *i\n"


def test_alias_bomb_is_refused_at_once_with_one_line_naming_the_file(tmp_path):
    path = write(tmp_path, BOMB)
    assert len(BOMB) < 400  # 9**9 = 387 million strings once expanded
    t0 = time.perf_counter()
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert time.perf_counter() - t0 < 1
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{path}: ") and "aliases" in text


@pytest.mark.parametrize("text", ["a: &x 1\nfdr: 0.05\n", "fdr: &f 0.05\nalpha: *f\n"])
def test_any_anchor_or_alias_is_refused(tmp_path, text):
    with pytest.raises(ParamsError, match="anchors and aliases"):
        load_params(write(tmp_path, text))


def test_error_quotes_a_long_bad_value_cut_short(tmp_path):
    text = "periods: ['" + "x" * 100_000 + "']\nlanguage: '" + "y" * 100_000 + "'\nfoo" + "z" * 1000 + ": 1\n"
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, text))
    assert {k for k, _ in err.value.problems} >= {"periods", "language"}
    for line in str(err.value).splitlines():
        assert len(line) < 400, line
    assert "…" in str(err.value)


def test_a_value_that_is_not_a_period_is_quoted_short():
    with pytest.raises(Exception) as err:
        Params(periods=[[["2024"] * 1000] * 1000])
    assert len(str(err.value)) < 2000


@pytest.mark.parametrize("text, key, lines", [
    ("fdr: 0.05\nalpha: 0.05\nfdr: 0.45\n", "fdr", "lines 1 and 3"),
    ("privacy:\n  min_cell: 5\n  min_cell: 6\n", "privacy.min_cell", "lines 2 and 3"),
    ("fdr: 0.05\n'fdr': 0.45\n", "fdr", "lines 1 and 2"),
])
def test_a_key_given_twice_is_an_error_naming_key_and_lines(tmp_path, text, key, lines):
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, text))
    assert [k for k, _ in err.value.problems] == [key]
    assert lines in str(err.value)


@pytest.mark.parametrize("content, says", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
    (b"name: a\x07b\n", "not valid YAML"),
    (b"periods: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    (b"1: 2\n", "not a key"),
    (b"extends: [a, b]\n", "extends"),
])
def test_binary_or_garbled_files_are_errors_naming_the_file(tmp_path, content, says):
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}: ") and says in str(err.value)
    assert "\n" not in str(err.value)


def test_a_file_too_big_to_be_params_is_refused_unread(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("# padding\n" * 200_000)
    with pytest.raises(ParamsError, match="at most"):
        load_params(path)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes("\ufefffdr: 0.05\n".encode("utf-8"))
    assert load_params(path).fdr == 0.05


@pytest.mark.parametrize("value", ["1.0e+30", "4294967296", "-1", "1.5", "true", "'7'"])
def test_seed_is_a_whole_number_below_2_to_the_32(tmp_path, value):
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, f"seed: {value}\n"))
    assert [k for k, _ in err.value.problems] == ["seed"]


def test_largest_seed_is_accepted(tmp_path):
    assert load_params(write(tmp_path, "seed: 4294967295\n")).seed == 2**32 - 1


@pytest.mark.parametrize("text, key", [
    ("kernel: 'asn workbench'\n", "kernel"),
    ("kernel: ''\n", "kernel"),
    ("privacy: {key_file: ''}\n", "privacy.key_file"),
])
def test_kernel_and_key_file_must_be_usable_names(tmp_path, text, key):
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, text))
    assert key in [k for k, _ in err.value.problems]


# --- where the key file is -------------------------------------------------------------------------

def test_relative_key_file_is_relative_to_the_params_file_not_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "s.yaml"
    path.write_text("privacy: {key_file: keys/k.key}\n")
    for cwd in (tmp_path, tmp_path / "scenarios"):
        monkeypatch.chdir(cwd)
        assert load_params(path).privacy.key_file == str(tmp_path / "scenarios" / "keys" / "k.key")


def test_key_file_is_relative_to_the_file_that_sets_it(tmp_path, monkeypatch):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "b.yaml").write_text("privacy: {key_file: k.key, min_cell: 7}\n")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "s.yaml").write_text("extends: ../base/b.yaml\nfdr: 0.05\n")
    monkeypatch.chdir(tmp_path)
    p = load_params(tmp_path / "s" / "s.yaml")
    assert p.privacy.key_file == str(tmp_path / "base" / "k.key") and p.privacy.min_cell == 7


def test_absolute_key_file_and_defaults(tmp_path, monkeypatch):
    key = tmp_path / "abs.key"
    assert load_params(write(tmp_path, f"privacy: {{key_file: {key}}}\n")).privacy.key_file == str(key)
    monkeypatch.chdir(tmp_path)
    assert load_params().privacy.key_file == str(tmp_path / ".workbench" / "pseudonym.key")


def test_key_left_where_the_old_rule_found_it_is_an_error_not_a_new_key(tmp_path, monkeypatch):
    """Relative key paths used to be taken from the current folder: a key there, and none where the
    params file's folder now says, would silently give every person a new pseudonym."""
    (tmp_path / "params").mkdir()
    path = tmp_path / "params" / "p.yaml"
    path.write_text("privacy: {key_file: .workbench/pseudonym.key}\n")
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".workbench" / "pseudonym.key").write_text("0" * 64)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert err.value.problems[0][0] == "privacy.key_file" and "absolute" in str(err.value)
    os.chdir(tmp_path / "params")  # from elsewhere there is no old key to confuse: fine
    assert load_params(path).privacy.key_file == str(tmp_path / "params" / ".workbench" / "pseudonym.key")
