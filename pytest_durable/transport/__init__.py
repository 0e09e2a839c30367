"""The service behind botocore: one router, served in-process (and over loopback HTTP)."""

from pytest_durable.transport.inprocess import make_client
from pytest_durable.transport.router import DURABLE_OPERATIONS, HttpResponse, Router

__all__ = ["DURABLE_OPERATIONS", "HttpResponse", "Router", "make_client"]
