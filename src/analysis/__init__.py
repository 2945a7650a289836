"""ASN appraisal and training-needs workbench: the analysis package."""

__version__ = "0.1.0"
