"""The documentation keeps up with the code."""

import re

from analysis.core.params import Params
from analysis.data.contract import TABLES
from conftest import ROOT


def test_data_format_documents_every_table_and_column():
    text = (ROOT / "docs" / "data-format.md").read_text()
    for name, table in TABLES.items():
        assert f"### `{name}`" in text, name
        section = text.split(f"### `{name}`", 1)[1].split("### ", 1)[0]
        for col in table.columns:
            assert f"| `{col.name}` |" in section, f"{name}.{col.name}"


def test_parameters_doc_names_every_params_key():
    text = (ROOT / "docs" / "parameters.md").read_text()
    for key, field in Params.model_fields.items():
        sub = getattr(field.annotation, "model_fields", None)
        if sub:
            for subkey in sub:
                assert re.search(rf"`{key}\.{subkey}`|`{subkey}`", text), f"{key}.{subkey}"
        else:
            assert f"`{key}`" in text, key


def test_readme_shows_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
