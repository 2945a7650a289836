"""Movement between predikat across periods."""

import pandas as pd

from analysis.outcomes import movement


def test_transitions_follow_employees_appraised_in_both_periods():
    out = pd.DataFrame({
        "employee_id": ["A", "B", "C", "A", "B", "D"],
        "period": ["2023", "2023", "2023", "2024", "2024", "2024"],
        "predikat": ["baik", "baik", "sangat_baik", "sangat_baik", "butuh_perbaikan", "baik"],
    })
    tr = movement.transitions(out)
    assert tr["n"].sum() == 2  # C left, D joined
    m = movement.movement_summary(tr).iloc[0]
    assert (m["n"], m["n_up"], m["n_down"]) == (2, 1, 1)
    mat = movement.transition_matrix(tr, "2023", "2024")
    assert mat.loc["baik", "sangat_baik"] == 1 and mat.to_numpy().sum() == 2
