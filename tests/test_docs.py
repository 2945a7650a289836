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
        key = field.alias or key  # as a params file writes it (``import``, not ``imports``)
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


def test_architecture_doc_names_every_package_and_every_path_it_cites_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "src" / "analysis"
    for sub in sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists()):
        assert f"`{sub}/`" in text, f"docs/architecture.md does not describe {sub}/"
    for cited in set(re.findall(r"`((?:core|data|stats|synth|outcomes|raters|training|rollout|report|pipeline)"
                                r"/[\w/.]*)`", text)):
        assert (package / cited).exists(), f"docs/architecture.md cites {cited}, which does not exist"
    from test_architecture import LAYERS  # the doc's table and the enforced layers agree

    for layer, names in enumerate(LAYERS):
        for name in names - {"__init__", "__main__", "cli"}:
            assert f"| {layer - 1} | `{name}/`" in text, f"{name} is at layer {layer - 1} in the layering test"


def test_no_document_or_test_depends_on_a_path_outside_the_repository():
    outside = re.compile(r"/work/shared|\.\./shared")
    for path in [*ROOT.glob("docs/*.md"), ROOT / "README.md", *ROOT.glob("tests/**/*.py"), *ROOT.glob("src/**/*.py")]:
        if path.name == "test_docs.py":
            continue
        assert not outside.search(path.read_text(encoding="utf-8")), f"{path} refers to a path outside the repository"
