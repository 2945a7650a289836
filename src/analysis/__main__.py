"""``python -m analysis`` is the ``workbench`` command."""

import sys

from analysis.cli import main

sys.exit(main())
