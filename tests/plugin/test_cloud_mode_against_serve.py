"""Cloud mode end to end against ``pytest-durable serve --function``, the flags the docs give
(docs/cassettes.md, "Against pytest-durable serve"); and the error without a region."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

APP = textwrap.dedent(
    """
    from aws_durable_execution_sdk_python import DurableContext, durable_execution
    from aws_durable_execution_sdk_python.config import Duration


    @durable_execution
    def handler(event, context: DurableContext):
        context.wait(Duration.from_hours(2), name="cool-off")
        return context.step(lambda _: event["n"] * 2, name="double")
    """
)

TEST = textwrap.dedent(
    """
    import pytest
    from orders_app import handler


    @pytest.mark.durable_cloud
    @pytest.mark.durable_function("orders")
    def test_orders(durable):
        result = durable.run(handler, {"n": 21})
        assert result.status == "SUCCEEDED"
        assert result.output == 42
        assert result.operation("cool-off").duration.total_seconds() == 7200
        assert durable.mode == "cloud"
    """
)


def _clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("PYTEST_DURABLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def test_cloud_mode_records_against_serve_function(pytester: pytest.Pytester, monkeypatch):
    pytester.makepyfile(orders_app=APP, test_orders=TEST)
    _clean_aws_env(monkeypatch, pytester.path)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_durable.cli",
            "serve",
            "--port",
            "0",
            "--function",
            "orders=orders_app:handler",
        ],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert " on http://127.0.0.1:" in banner, banner + server.stderr.read()  # type: ignore[union-attr]
        url = banner.split(" on ", 1)[1].split()[0]
        # The exports serve prints: dummy credentials (the region is a flag here).
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        result = pytester.runpytest_inprocess(
            "-p",
            "no:cacheprovider",
            "--durable-mode=cloud",
            "--durable-record-mode=all",
            f"--durable-endpoint-url={url}",
            "--durable-region=us-east-1",
        )
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["recorded: *test_orders.yaml"])
        # ... and the recording replays offline, the server gone.
        server.terminate()
        server.wait(timeout=10)
        replayed = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--durable-mode=cloud")
        replayed.assert_outcomes(passed=1)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()


def test_cloud_mode_without_a_region_says_which_flag(pytester: pytest.Pytester, monkeypatch):
    pytester.makepyfile(orders_app=APP, test_orders=TEST)
    _clean_aws_env(monkeypatch, pytester.path)
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--durable-mode=cloud",
        "--durable-record-mode=all",
        "--durable-endpoint-url=http://127.0.0.1:9",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Cloud mode needs an AWS region*--durable-region*"])
    assert "NoRegionError" not in result.stdout.str()
