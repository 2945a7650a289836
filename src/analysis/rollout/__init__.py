"""Stage 4, rollout evaluation (notebook 04): the panels of service outcomes and of the units' appraisal
outcomes (``panels``), the section builders (``sections``) over ``stats.did``, and figures.
"""
