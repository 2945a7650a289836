"""Stage 3, competency gaps and training (notebook 03): gaps (``gaps``), clusters of gap profiles
(``clusters``), the budgeted workshop plan (``workshops``: options, solve, plan), individual development
plans and the 20 JP rule (``development``), the trainer's workbook (``workbook``), section builders and
figures.
"""
