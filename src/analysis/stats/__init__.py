"""Estimators that know nothing of ASN: the crossed REML model (``mixed``), reliability (ICC, Krippendorff,
variance components), staggered difference-in-differences (``did``), weighted kappa, multiple testing and
intervals. Column names are arguments; imports only ``core``.
"""
