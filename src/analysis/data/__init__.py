"""The data contract and the way in: the contract (``contract``), reading exports (``reading``), parsing
cells (``parsing``), NIPs (``nip``), checks (``schemas``), the problem report (``problems``) and
``validation.load_dataset``. Imports only ``core``.
"""
