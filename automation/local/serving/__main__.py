"""``python -m automation.local.serving CONFIG_JSON``: run one model deployment (see runner.py)."""

import sys

from automation.local.serving.runner import main

sys.exit(main())
