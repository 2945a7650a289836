"""Stage 5, the policy brief (notebook 05): facts looked up by results key (``facts``), the stated rules
and their thresholds (``recommendations``), the brief itself (``brief``) and its template.
"""
