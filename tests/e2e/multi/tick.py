"""The scheduled job of the multi-resource spec: a run that only says when it ran."""

import datetime

print("scheduled run at", datetime.datetime.now(datetime.timezone.utc).isoformat(), flush=True)
