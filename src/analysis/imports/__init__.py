"""Imports of the agency's own exports (e-Kinerja, SIASN, training history, SKM) into the data contract."""
