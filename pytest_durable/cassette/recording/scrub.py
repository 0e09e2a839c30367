"""What never reaches a cassette: credentials, signatures, session headers; and the account id on
request.

Headers are kept by allowlist, not removed by blocklist: a header this module does not know (a
new SigV4 variant, a proxy's session header) is dropped, so nothing secret can slip through
because it was not foreseen. The last line of defence is :func:`find_secrets`, which searches
the finished document for the very credential values the client signed with; a cassette that
contains one is never written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Request headers a replay needs or a reader wants; every other header is dropped (Authorization,
#: X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-SHA256, amz-sdk-invocation-id, User-Agent ...).
REQUEST_HEADERS = frozenset(
    {
        "content-type",
        "x-amz-invocation-type",
        "x-amz-durable-execution-name",
        "x-amz-log-type",
        "x-amz-tenant-id",
        "x-amz-client-context",
    }
)
#: Response headers botocore parses into the result (the Invoke output members, the error code).
RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "x-amz-durable-execution-arn",
        "x-amz-executed-version",
        "x-amz-function-error",
        "x-amz-log-result",
        "x-amzn-errortype",
    }
)
#: Body members that differ on every call by design: botocore fills ``ClientToken`` (an
#: idempotency token) with a fresh UUID.
VOLATILE_BODY_MEMBERS = ("ClientToken",)

MASKED_ACCOUNT = "000000000000"
_ACCOUNT_IN_ARN = re.compile(r"arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def keep_headers(headers: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    return {name: value for name, value in headers.items() if name.lower() in allowed}


def without_volatile_members(body: bytes | str | None) -> bytes | str | None:
    """The body with ``ClientToken`` removed, if it is a JSON object carrying one."""
    if not body:
        return body
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not any(member in text for member in VOLATILE_BODY_MEMBERS):
        return body
    try:
        document = json.loads(text)
    except ValueError:
        return body
    if not isinstance(document, dict):
        return body
    for member in VOLATILE_BODY_MEMBERS:
        document.pop(member, None)
    # botocore's rest-json serializer writes json.dumps defaults; keep that form.
    cleaned = json.dumps(document)
    return cleaned.encode() if isinstance(body, bytes) else cleaned


def accounts_in(value: Any) -> set[str]:
    """Every AWS account id that appears inside an ARN anywhere in ``value``."""
    found: set[str] = set()
    for text in _strings(value):
        found.update(_ACCOUNT_IN_ARN.findall(text))
        found.update(_ACCOUNT_IN_ARN.findall(text.replace("%3A", ":")))
    return found


def replace_everywhere(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string, key and value, at any depth."""
    if not old:
        return value
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, bytes):
        return value.replace(old.encode(), new.encode())
    if isinstance(value, Mapping):
        return {
            replace_everywhere(k, old, new): replace_everywhere(v, old, new)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [replace_everywhere(item, old, new) for item in value]
    return value


def mask_accounts(document: Any, accounts: Iterable[str], mask: str = MASKED_ACCOUNT) -> Any:
    """The document with each account id replaced by ``mask`` (same length, so ARNs keep the
    model's pattern and nothing else shifts)."""
    for account in sorted(set(accounts)):
        if account != mask:
            document = replace_everywhere(document, account, mask)
    return document


def find_secrets(text: str, secrets: Iterable[str | None]) -> list[str]:
    """The secrets (shown abbreviated) that occur in ``text``. Values shorter than 8 characters
    are not searched: they would match by accident and are not real credentials."""
    leaked = []
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in text:
            leaked.append(secret[:4] + "..." + f"({len(secret)} characters)")
    for marker in ("AWS4-HMAC-SHA256", "Signature="):
        if marker in text:
            leaked.append(marker)
    return leaked


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
