"""One cloud-mode test's cassette: record the run, or replay it offline, by record mode.

See :mod:`.modes` for what each record mode does. Replaying offline means: the boto3 client
has dummy credentials and reads no AWS configuration, vcrpy answers every request from the
cassette (a request it lacks is an error), polling does not sleep, and every socket connection
is refused (:mod:`.network`). Recording means: the client is a real one (AWS, an endpoint of
your choosing, or the in-process :class:`~.standin.LambdaStandIn`), vcrpy records what it sends
and receives, and when the test passed, the executions it started are read back and written
with the interactions (:class:`~.vcr_bridge.DocumentPersister`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from pytest_durable.cassette.cloud.environment import CloudEnvironment, Polling
from pytest_durable.cassette.cloud.functions import FunctionMap, handler_reference
from pytest_durable.cassette.recording.format import RecordedExecution, read_cassette, recorded_meta
from pytest_durable.cassette.recording.modes import RecordMode
from pytest_durable.cassette.recording.network import block_network
from pytest_durable.cassette.recording.scrub import replace_everywhere
from pytest_durable.cassette.recording.vcr_bridge import (
    DocumentHook,
    DocumentPersister,
    Matcher,
    use_cassette,
)
from pytest_durable.cassette.standin import LambdaStandIn
from pytest_durable.errors import CassetteMissingError, CassetteSourceError, CloudRunError
from pytest_durable.runner.environment import DurableEnvironment
from pytest_durable.transport.http import HttpEndpoint
from pytest_durable.transport.router import botocore_session

#: The endpoint a stand-in recording is written with (its real loopback port changes per run).
STANDIN_ENDPOINT = "http://standin.invalid"
_STANDIN_KEY = "AKIASTANDIN000000000"
_STANDIN_SECRET = "pytest-durable-standin-secret-not-a-credential"
_OFFLINE_KEY = "AKIAOFFLINEREPLAY000"
_OFFLINE_SECRET = "pytest-durable-offline-replay-not-a-credential"


@dataclass
class CloudSettings:
    """Where cloud mode reaches Lambda when it records."""

    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    polling: Polling = field(default_factory=Polling)
    #: Run against an in-process :class:`LambdaStandIn` instead of AWS.
    standin: bool = False


def offline_client(region: str, endpoint: str) -> Any:
    """A ``lambda`` client for replays: dummy credentials, no AWS configuration read."""
    return botocore_session().create_client(
        "lambda",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=_OFFLINE_KEY,
        aws_secret_access_key=_OFFLINE_SECRET,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


class CloudSession:
    """One cloud-mode test: a :class:`CloudEnvironment` that records to or replays from ``path``.

    Use as a context manager. A recording is written when it closes without an exception;
    call :meth:`finish` before (``save=False`` for a failed test) to decide otherwise.
    """

    def __init__(
        self,
        path: Path,
        mode: RecordMode | str = RecordMode.NONE,
        *,
        test_id: str,
        record_command: str,
        functions: FunctionMap | None = None,
        settings: CloudSettings | None = None,
        mask_account: bool = False,
        scrub_hooks: Sequence[DocumentHook] = (),
        matchers: Sequence[Matcher] = (),
        client_factory: Callable[[], tuple[Any, list[str | None]]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.mode = RecordMode(mode)
        self.test_id = test_id
        self.record_command = record_command
        self.functions = functions or FunctionMap()
        self.settings = settings or CloudSettings()
        self.mask_account = mask_account
        self.scrub_hooks = list(scrub_hooks)
        self.matchers = list(matchers)
        self.client_factory = client_factory
        self.replaying = False
        self.environment: CloudEnvironment | None = None
        self.persister: DocumentPersister | None = None
        self._stack = ExitStack()
        self._finished = False

    # ------------------------------------------------------------------ entering

    def __enter__(self) -> CloudEnvironment:
        try:
            return self._enter()
        except BaseException:
            self._stack.close()
            raise

    def _enter(self) -> CloudEnvironment:
        exists = self.path.is_file()
        if self.mode is RecordMode.NONE and not exists:
            raise CassetteMissingError(
                f"No cassette for {self.test_id} at {self.path}, and the record mode is 'none' "
                f"(never touch the network). Record it with:\n    {self.record_command}"
            )
        self.replaying = exists and self.mode.replays_existing
        before_invoke = None
        if self.replaying:
            cassette = read_cassette(self.path)
            if cassette.source != "cloud":
                raise CassetteSourceError(
                    f"{self.path} was recorded from a local run (source: {cassette.source}); it "
                    f"has no HTTP to replay. Record it again in cloud mode (mode all replaces "
                    f"it):\n    {self.record_command.replace('mode=once', 'mode=all')}"
                )
            region = str(cassette.recorded.get("region") or "us-east-1")
            endpoint = str(cassette.recorded.get("endpoint") or STANDIN_ENDPOINT)
            client = offline_client(region, endpoint)
            secrets: list[str | None] = []
            sleep: Callable[[float], None] = _no_sleep
            self._stack.enter_context(block_network())
            recorded_endpoint = endpoint
        else:
            client, secrets, before_invoke, recorded_endpoint = self._live_client()
            sleep = _real_sleep
        meta = recorded_meta(self.test_id, client.meta.region_name, recorded_endpoint)
        self.persister = DocumentPersister(
            source="cloud",
            recorded=meta,
            secrets=secrets,
            mask_account=self.mask_account,
            hooks=[*self._endpoint_rewrite(client, recorded_endpoint), *self.scrub_hooks],
        )
        self.persister.replace_executions = self.mode is RecordMode.ALL
        self._stack.enter_context(
            use_cassette(
                self.path,
                record_mode=self.mode.value,
                persister=self.persister,
                extra_matchers=self.matchers,
            )
        )
        self.environment = CloudEnvironment(
            client,
            functions=self.functions,
            polling=self.settings.polling,
            sleep=sleep,
            before_invoke=before_invoke,
        )
        return self.environment

    def _live_client(self) -> tuple[Any, list[str | None], Any, str]:
        if self.client_factory is not None:
            client, secrets = self.client_factory()
            return client, secrets, None, client.meta.endpoint_url
        region = self.settings.region
        if self.settings.standin:
            environment = self._stack.enter_context(
                DurableEnvironment(region=region or "us-east-1")
            )
            standin = LambdaStandIn(environment)
            endpoint = self._stack.enter_context(HttpEndpoint(standin))
            self._stack.callback(standin.stop)
            session = boto3.session.Session(
                aws_access_key_id=_STANDIN_KEY,
                aws_secret_access_key=_STANDIN_SECRET,
                region_name=region or "us-east-1",
            )
            client = session.client("lambda", endpoint_url=endpoint.url, config=_client_config())
            return client, [_STANDIN_KEY, _STANDIN_SECRET], standin.register, STANDIN_ENDPOINT
        session = boto3.session.Session(profile_name=self.settings.profile, region_name=region)
        if session.region_name is None:
            # botocore would say only "You must specify a region."
            raise CloudRunError(
                "Cloud mode needs an AWS region and none is configured: pass --durable-region "
                "(e.g. --durable-region us-east-1), or set AWS_REGION, or use a profile with a "
                "region. Against `pytest-durable serve --function ...`, use the region it "
                "printed (us-east-1 unless given --region)."
            )
        client = session.client(
            "lambda", endpoint_url=self.settings.endpoint_url, config=_client_config()
        )
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        secrets = [frozen.access_key, frozen.secret_key, frozen.token] if frozen else []
        return client, secrets, None, client.meta.endpoint_url

    @staticmethod
    def _endpoint_rewrite(client: Any, recorded_endpoint: str) -> list[DocumentHook]:
        actual = str(client.meta.endpoint_url)
        if actual == recorded_endpoint:
            return []

        def rewrite(document: dict[str, Any], path: Path) -> None:
            document["interactions"] = replace_everywhere(
                document["interactions"], actual, recorded_endpoint
            )

        return [rewrite]

    # ------------------------------------------------------------------ leaving

    def finish(self, *, save: bool = True) -> None:
        """Decide what is written when the session closes: this run's executions (fetched now,
        through the recorded client) if ``save``, nothing otherwise."""
        self._finished = True
        if self.persister is None or self.environment is None:
            return
        self.persister.enabled = save and not self.replaying
        if self.persister.enabled:
            self.persister.executions = recorded_executions(self.environment)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.persister is not None and exc_type is not None:
            self.persister.enabled = False
        elif not self._finished:
            self.finish(save=True)
        self._stack.close()

    @property
    def written(self) -> list[Path]:
        return list(self.persister.written) if self.persister is not None else []


def recorded_executions(environment: CloudEnvironment) -> list[RecordedExecution]:
    """Every execution the environment started, as it stands now."""
    recorded = []
    for execution in environment.executions:
        result = execution.result()
        state = execution.last_state
        assert state is not None
        recorded.append(
            RecordedExecution.from_result(
                result,
                state.operations.values(),
                function_name=execution.invoked.function_name,
                input_payload=execution.invoked.input_payload,
                handler=handler_reference(execution.invoked.handler),
            )
        )
    return recorded


def _client_config() -> Config:
    return Config(retries={"mode": "standard", "total_max_attempts": 3})


def _no_sleep(_seconds: float) -> None:
    """Replays do not wait: the recorded answers come in the recorded order."""


def _real_sleep(seconds: float) -> None:
    import time  # noqa: PLC0415 - time.sleep is never patched

    time.sleep(seconds)
