"""Committed notebooks: no outputs, a parameters cell, no analysis logic, listed as steps."""

import ast

import nbformat
import pytest

from analysis.pipeline.steps import STEPS
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_step_has_its_notebook_and_every_notebook_is_a_step():
    assert sorted(p.name for p in NOTEBOOKS) == sorted(s.notebook for s in STEPS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.get('id')} has outputs"
            assert cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_parameters_cell_with_run_dir(path):
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "run_dir" in params[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_hold_calls_not_analysis_logic(path):
    """No function or class definitions, loops or arithmetic on data in notebook cells."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.While)), cell.source
            assert not isinstance(node, (ast.ListComp, ast.DictComp, ast.GeneratorExp)), cell.source
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Compare):
                raise AssertionError(f"filtering data in a notebook cell: {cell.source}")
