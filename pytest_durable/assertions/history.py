"""Reading an execution's history the way a user of the real service does: through boto3.

``ExecutionResult.history`` is the service's own record; ``fetch_history`` goes through a real
botocore ``lambda`` client (``durable.client``), its serializer and parser, and botocore's own
paginator for the API (the model's ``paginators-1.json``: ``Marker`` in, ``NextMarker`` out,
``MaxItems`` as the page size), so a test can check the API a dashboard or script would use.
Cloud mode and the production replay read histories with it too.
"""

from __future__ import annotations

from typing import Any


def fetch_history(
    client: Any,
    arn: str,
    *,
    include_execution_data: bool = True,
    reverse_order: bool = False,
    page_size: int | None = None,
) -> list[dict[str, Any]]:
    """Every event of ``GetDurableExecutionHistory``, all pages. Payloads are included by
    default (``IncludeExecutionData``), as the conformance histories show them."""
    paginator = client.get_paginator("get_durable_execution_history")
    request: dict[str, Any] = {
        "DurableExecutionArn": arn,
        "IncludeExecutionData": include_execution_data,
    }
    if reverse_order:  # only when asked: recorded cassettes match requests by their query
        request["ReverseOrder"] = True
    if page_size is not None:
        request["PaginationConfig"] = {"PageSize": page_size}
    pages = paginator.paginate(**request)
    events: list[dict[str, Any]] = []
    for page in pages:
        events += page.get("Events", [])
    return events
