"""Params files: defaults, scenarios, and errors that name the key."""


import pytest

from analysis.core.params import Params, ParamsError, load_params
from conftest import ROOT


def test_default_yaml_states_every_model_default():
    dumped = load_params(ROOT / "params" / "default.yaml").dump()
    assert dumped == Params(name="default").dump()


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
