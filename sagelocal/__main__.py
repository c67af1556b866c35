"""`python -m sagelocal` is the `sagelocal` command."""

import sys

from sagelocal.cli import main

sys.exit(main())
