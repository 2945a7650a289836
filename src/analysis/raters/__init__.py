"""Stage 2, rater bias (notebook 02): the rater model of the 360 feedback (``spec``), lenient, severe,
central-tendency and halo flags (``flags``), sources (``sources``), fairness (``fairness``), outcomes with
rater effects removed (``adjusted``), the section builders and figures.
"""
