"""The wiring: the steps (``steps``), the runner (``run``), what a notebook sees of its run
(``context``), results files (``results``) and the manifest (``manifest``).
"""
