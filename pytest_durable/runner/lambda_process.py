"""Run a handler in a separate Python process per invocation, reaching the service over HTTP.

The child process is what Lambda's runtime would be: it imports ``module:function``, reads the
invocation envelope, calls the handler and reports its output. The SDK inside it is configured
only by the environment, exactly as in Lambda: ``AWS_ENDPOINT_URL_LAMBDA`` points at the
loopback endpoint, with dummy credentials and region. Run as
``python -m pytest_durable.runner.lambda_process module:function IN OUT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from pytest_durable.errors import HandlerProcessCrash
from pytest_durable.parsing import resolve_reference, split_reference
from pytest_durable.transport.http import endpoint_environment

_CRASH_KEY = "__pytest_durable_crash__"


class SubprocessHandler:
    """A handler callable that runs ``module:function`` in a fresh Python process each time.

    Pass it to ``DurableEnvironment.run`` like any handler, with ``endpoint_url`` from
    ``env.http_endpoint().url``.
    """

    def __init__(
        self,
        target: str,
        *,
        endpoint_url: str,
        region: str = "us-east-1",
        python: str = sys.executable,
        extra_env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        _, function = split_reference(target, example="orders:handler")
        self.target = target
        self.__name__ = function
        self._endpoint_url = endpoint_url
        self._region = region
        self._python = python
        self._extra_env = dict(extra_env or {})
        self._cwd = cwd
        self._timeout = timeout_seconds

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        env = {
            **os.environ,
            # Endpoint, dummy credentials, region, and NO_PROXY for the loopback host: with
            # HTTP_PROXY set (as in many CI setups) the SDK would send checkpoints to the proxy.
            **endpoint_environment(self._endpoint_url, self._region),
            "AWS_LAMBDA_FUNCTION_NAME": getattr(context, "function_name", self.__name__),
            "_X_AMZN_REQUEST_ID": getattr(context, "aws_request_id", ""),
            **self._extra_env,
        }
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
            if name not in self._extra_env:
                env.pop(name, None)
        with tempfile.TemporaryDirectory(prefix="pytest-durable-") as scratch:
            event_path = Path(scratch, "event.json")
            output_path = Path(scratch, "output.json")
            event_path.write_text(json.dumps(event))
            completed = subprocess.run(
                [self._python, "-m", __name__, self.target, str(event_path), str(output_path)],
                env=env,
                cwd=self._cwd,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
            if not output_path.exists():
                raise HandlerProcessCrash(
                    "Runtime.ExitError",
                    f"the handler process exited with status {completed.returncode}",
                    completed.stderr[-4000:],
                )
            output = json.loads(output_path.read_text())
        if isinstance(output, dict) and _CRASH_KEY in output:
            crash = output[_CRASH_KEY]
            raise HandlerProcessCrash(crash["type"], crash["message"], crash["stack"])
        return output


def _child_main(target: str, event_path: str, output_path: str) -> int:
    sys.path.insert(0, os.getcwd())
    try:
        handler = resolve_reference(target)
        event = json.loads(Path(event_path).read_text())
        context = _ChildContext()
        output: Any = handler(event, context)
        status = 0
    except BaseException as error:
        output = {
            _CRASH_KEY: {
                "type": "Runtime.ExitError"
                if isinstance(error, SystemExit)
                else type(error).__name__,
                "message": str(error),
                "stack": "".join(traceback.format_exception(error)),
            }
        }
        status = 1
    Path(output_path).write_text(json.dumps(output))
    return status


class _ChildContext:
    """The Lambda context in the child: what the runtime would provide, from the environment."""

    def __init__(self) -> None:
        self.aws_request_id = os.environ.get("_X_AMZN_REQUEST_ID", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.invoked_function_arn = ""
        self.memory_limit_in_mb = "128"
        self.log_group_name = None
        self.log_stream_name = None
        self.tenant_id = None
        self.client_context = None
        self.identity = None

    def get_remaining_time_in_millis(self) -> int:
        return 900_000

    def log(self, msg: str) -> None:
        sys.stdout.write(msg)


if __name__ == "__main__":
    sys.exit(_child_main(*sys.argv[1:4]))
