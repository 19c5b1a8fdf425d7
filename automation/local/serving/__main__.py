"""``python -m automation.local.serving CONFIG_JSON``: run one model deployment (see runner.py)."""

import os
import sys

from automation.local.serving.runner import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# Skip interpreter finalisation: after mlflow's sqlite store has been used it takes seconds, and a
# stopped deployment has nothing left to clean up (the server is down, the ready file removed).
os._exit(code)
