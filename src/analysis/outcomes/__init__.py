"""Stage 1, appraisal outcomes (notebook 01): predikat from the PermenPANRB 6/2022 matrix (``predikat``),
the SE 3/2023 distribution bounds (``bounds``), the PP 30/2019 numeric scheme (``pp30``), agreement
between schemes (``agreement``), movement across periods (``movement``), the section builders
(``sections``) and figures.
"""
