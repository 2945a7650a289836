"""``python -m analysis`` is the ``workbench`` command."""

import sys

from .cli import main

sys.exit(main())
