"""Foundations every layer may use: codes and their labels, periods, params, the translation tables,
privacy (suppression, pseudonyms), ordinal scales, JSON conversion, the results API, the run-folder
layout, the ``Section`` a section builder returns, and the one matplotlib setup. Imports nothing else
of the package.
"""
