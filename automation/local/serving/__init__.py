"""The local workspace's model server: one deployment = one process on a loopback port.

Public surface (used by the local API server):

* ``python -m automation.local.serving CONFIG_JSON`` runs a deployment (``runner``; config fields
  in ``config``; the HTTP contract and the response shape in ``app``);
* ``python -m automation.local.serving.worker ...`` is a build: the API server starts it with the
  build's runtime Python, so a model's loading code never runs in the API server (``worker``);
* ``check_model(model_uri, tracking_uri, registry_uri=None) -> dict`` is what the worker calls
  (``check``); ``ModelCheckError`` is what a failed check raises.

Importing this package is cheap: mlflow, pandas and uvicorn are imported only when a model is
loaded or served.
"""

from automation.local.serving.check import check_model
from automation.local.serving.errors import ModelCheckError

__all__ = ["ModelCheckError", "check_model"]
