"""Reading an execution's history the way a user of the real service does: through boto3.

``ExecutionResult.history`` is the service's own record; ``fetch_history`` goes through a real
botocore ``lambda`` client (``durable.client``), its serializer and parser, following
``NextMarker`` page by page, so a test can check the API a dashboard or script would use.
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
    events: list[dict[str, Any]] = []
    marker: str | None = None
    while True:
        request: dict[str, Any] = {
            "DurableExecutionArn": arn,
            "IncludeExecutionData": include_execution_data,
            "ReverseOrder": reverse_order,
        }
        if page_size is not None:
            request["MaxItems"] = page_size
        if marker:
            request["Marker"] = marker
        page = client.get_durable_execution_history(**request)
        events += page.get("Events", [])
        marker = page.get("NextMarker")
        if not marker:
            return events
