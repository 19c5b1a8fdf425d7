"""cmlapi, as the cmlops local workspace serves it: the part of Cloudera's API v2 client that scripts use.

Written for cmlops (it is not Cloudera's package): ``default_client()``, ``CMLServiceApi`` with one
method per operation the local workspace serves (the names and argument orders of the generated
client), the request and response models, ``cmlapi.utils.Cursor`` and ``cmlapi.rest.ApiException``.
On a CML workspace, use the workspace's own package (``pip install https://<domain>/api/v2/python.tar.gz``).
"""

from . import models, rest, utils
from .api import CMLServiceApi
from .api_client import ApiClient
from .configuration import Configuration
from .description import API_VERSION
from .models import *  # noqa: F403 (one class per API v2 definition, built from operations.json)
from .rest import ApiException
from .utils import Cursor, default_client

__all__ = [
    "ApiClient",
    "ApiException",
    "CMLServiceApi",
    "Configuration",
    "Cursor",
    "default_client",
    "models",
    "rest",
    "utils",
    *models.__all__,
]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata on first use (importlib.metadata is slow to import)."""
    if name != "__version__":
        raise AttributeError(f"module 'cmlapi' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cmlapi")
    except PackageNotFoundError:
        return API_VERSION
