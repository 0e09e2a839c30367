"""botocore's ``lambda`` service model and the session that loads it: one per process.

The router reads routes, shapes and status codes from the model, the fault plan the errors it
declares per operation, and every client of the package is made from the same session, whose
loader caches the model.
"""

from __future__ import annotations

import os
from functools import cache

import botocore.session
from botocore.model import ServiceModel


@cache
def lambda_model() -> ServiceModel:
    """botocore's ``lambda`` service model, loaded once per process."""
    return botocore_session().get_service_model("lambda")


@cache
def botocore_session() -> botocore.session.Session:
    """The process-wide botocore session whose loader caches the ``lambda`` model.

    Blind to the user's AWS profile and config files: nothing here may depend on, or read, the
    machine's AWS setup. Explicit client arguments override the environment variables."""
    return botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )


__all__ = ["botocore_session", "lambda_model"]
