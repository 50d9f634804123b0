"""Fault injection for the batch handlers, and a driver that runs a whole pipeline at handler level.

Faults reach the handlers the way AWS would deliver them:

- S3 and DynamoDB errors (500 InternalError, 503 SlowDown, throttling, access denied, a vanished key) are
  HTTP responses returned by a `before-send` hook on the moto client, so botocore parses them as it would
  a real answer; network errors (connection refused, connection closed) are raised by the same hook;
- a response stream that breaks mid-body (connection reset, read timeout, a body shorter than its
  Content-Length) is an `after-call` hook replacing the GetObject body;
- CloudWatch and Bedrock are wrapper clients (`CountingCloudWatch`, `FakeBedrock`, `FakeRuntime`) that
  count what was published, created and billed, and raise botocore `ClientError`s on request.

SDK retries are off on these clients (`total_max_attempts` 1), so what heals a fault is the handlers' own
retries (and, when those run out, the state machine's retry of `TransientError`, which `Pipeline` plays).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.response import StreamingBody

from . import support
from .support import ACCOUNT, INPUT, OUTPUT, REGION, WORK

prepare_module = support.handler_module("prepare")
submit_module = support.handler_module("submit")
events_module = support.handler_module("events")
on_demand_module = support.handler_module("on_demand")
collect_module = support.handler_module("collect")

NO_SDK_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
RUN_ID = "r1"
PIPELINE = "FaultPipeline"


def no_sleep(_: float) -> None:
    return None


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION, config=NO_SDK_RETRIES)


# ------------------------------------------------------------------------------------------- injection
class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _error_response(service: str, url: str, code: str, status: int) -> AWSResponse:
    if service == "dynamodb":
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})
        headers = {"Content-Type": "application/x-amz-json-1.0"}
    else:
        body = f"<Error><Code>{code}</Code><Message>injected {code}</Message></Error>"
        headers = {"Content-Type": "application/xml"}
    return AWSResponse(url, status, headers, _Raw(body.encode()))


class BrokenBody:
    """A GetObject body that hands out `after` bytes, then raises `error` (a reset connection)."""

    def __init__(self, body: Any, after: int, error: Exception) -> None:
        self.body, self.after, self.error, self.sent = body, after, error, 0

    def read(self, amt: int | None = None) -> bytes:
        if amt is None or self.sent >= self.after:  # read() of the whole body breaks without data
            raise self.error
        data: bytes = self.body.read(min(amt or self.after, self.after - self.sent))
        self.sent += len(data)
        return data

    def close(self) -> None:
        self.body.close()


STREAM_ERRORS: dict[str, Callable[[], Exception]] = {
    "reset": lambda: ResponseStreamingError(error="Connection broken: ConnectionResetError(104)"),
    "timeout": lambda: ReadTimeoutError(endpoint_url="https://s3.amazonaws.com", error="read timed out"),
}


@dataclass
class Faults:
    """Faults installed on clients; each hits the first `times` requests that match it."""

    hits: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)

    def _budget(self, name: str, times: int, skip: int = 0) -> bool:
        """Whether this matching request gets the fault: the ones after the first `skip`, `times` of them."""
        self.seen[name] += 1
        if self.seen[name] <= skip or self.hits[name] >= times:
            return False
        self.hits[name] += 1
        return True

    def error(
        self,
        aws_client: Any,
        operation: str,
        *,
        code: str = "InternalError",
        status: int = 500,
        times: int = 1,
        where: str = "",
        skip: int = 0,
    ) -> None:
        """Answer `operation` (e.g. "GetObject") with an AWS error when the request URL or body holds `where`
        (the matching requests after the first `skip`, `times` of them)."""
        service = aws_client.meta.service_model.service_name
        name = f"error:{service}:{operation}:{where}:{code}"

        def hook(request: Any, **_: Any) -> AWSResponse | None:
            if _matches(request, where) and self._budget(name, times, skip):
                return _error_response(service, request.url, code, status)
            return None

        aws_client.meta.events.register_first(f"before-send.{_event_service(aws_client)}.{operation}", hook)

    def network(
        self, aws_client: Any, operation: str, *, times: int = 1, where: str = "", closed: bool = False
    ) -> None:
        """Fail `operation` before any answer: connection refused, or closed mid-request."""
        service = aws_client.meta.service_model.service_name
        name = f"network:{service}:{operation}:{where}"

        def hook(request: Any, **_: Any) -> None:
            if _matches(request, where) and self._budget(name, times):
                if closed:
                    raise ConnectionClosedError(endpoint_url=request.url)
                raise EndpointConnectionError(endpoint_url=request.url)

        aws_client.meta.events.register_first(f"before-send.{_event_service(aws_client)}.{operation}", hook)

    def stream(self, s3: Any, *, where: str, kind: str = "reset", times: int = 1, after: int = 7) -> None:
        """Break the body of a GetObject whose key holds `where` after `after` bytes."""
        name = f"stream:{where}:{kind}"

        def remember(params: Any, context: Any, **_: Any) -> None:
            context["fault_url"] = urllib.parse.unquote(params.get("url", ""))

        def hook(parsed: dict[str, Any], context: Any, **_: Any) -> None:
            if where not in context.get("fault_url", "") or "Body" not in parsed:
                return
            if not self._budget(name, times):
                return
            body = parsed["Body"]
            if kind == "short":  # a body that ends early: botocore raises IncompleteReadError
                data = body.read()
                parsed["Body"] = StreamingBody(io.BytesIO(data[:after]), len(data))
            else:
                parsed["Body"] = BrokenBody(body, after, STREAM_ERRORS[kind]())

        s3.meta.events.register("before-call.s3.GetObject", remember)
        s3.meta.events.register("after-call.s3.GetObject", hook)


def _event_service(aws_client: Any) -> str:
    return str(aws_client.meta.service_model.service_id.hyphenize())


def _matches(request: Any, where: str) -> bool:
    if not where:
        return True
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    return where in urllib.parse.unquote(request.url) or where.encode() in body


def client_error(code: str, status: int = 500, operation: str = "Call") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


# ------------------------------------------------------------------------------------ wrapper clients
class CountingCloudWatch:
    """CloudWatch that records every PutMetricData that went through; `fail` raises before the first ones
    (nothing stored), `lost` after them (stored, then the answer is lost on the way back)."""

    def __init__(self, real: Any, fail: Iterable[Exception] = (), lost: Iterable[Exception] = ()) -> None:
        self.real, self.fail, self.lost, self.published = real, list(fail), list(lost), []

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail:
            raise self.fail.pop(0)
        result: dict[str, Any] = self.real.put_metric_data(**kwargs)
        self.published.append([datum["MetricName"] for datum in kwargs["MetricData"]])
        if self.lost:
            raise self.lost.pop(0)
        return result

    def counts(self) -> Counter[str]:
        return Counter(name for call in self.published for name in call)


class FakeBedrock:
    """Bedrock's batch control plane: a job per clientRequestToken, statuses, stops; counts jobs in flight."""

    def __init__(
        self, create_errors: Iterable[Exception] = (), stop_errors: Iterable[Exception] = ()
    ) -> None:
        self.create_errors, self.stop_errors = list(create_errors), list(stop_errors)
        self.jobs: dict[str, str] = {}  # clientRequestToken -> job ARN
        self.status: dict[str, str] = {}
        self.stopped: list[str] = []
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def create_model_invocation_job(self, **request: Any) -> dict[str, Any]:
        with self.lock:
            if self.create_errors:
                raise self.create_errors.pop(0)
            token = request["clientRequestToken"]
            if token not in self.jobs:
                job_id = hashlib.sha256(token.encode()).hexdigest()[:12]
                arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{job_id}"
                self.jobs[token] = arn
                self.status[arn] = "Submitted"
                self.running += 1
                self.peak = max(self.peak, self.running)
            return {"jobArn": self.jobs[token]}

    def end(self, arn: str, status: str = "Completed") -> None:
        with self.lock:
            if self.status.get(arn) not in (
                "Completed",
                "Failed",
                "Stopped",
                "Expired",
                "PartiallyCompleted",
            ):
                self.running -= 1
            self.status[arn] = status

    def get_model_invocation_job(self, *, jobIdentifier: str) -> dict[str, Any]:
        if jobIdentifier not in self.status:
            raise client_error("ResourceNotFoundException", 404, "GetModelInvocationJob")
        return {"status": self.status[jobIdentifier], "jobArn": jobIdentifier}

    def stop_model_invocation_job(self, *, jobIdentifier: str) -> dict[str, Any]:
        if self.stop_errors:
            raise self.stop_errors.pop(0)
        self.stopped.append(jobIdentifier)
        self.end(jobIdentifier, "Stopped")
        return {}


class FakeRuntime:
    """bedrock-runtime InvokeModel: answers with `support.echo_output`; `errors[n]` is raised at call n (0-based,
    counting every call); `billed` counts calls that produced an answer, per model input."""

    def __init__(self, errors: dict[int, Exception] | None = None, broken_bodies: Iterable[int] = ()) -> None:
        self.errors, self.broken = dict(errors or {}), set(broken_bodies)
        self.calls = 0
        self.billed: Counter[str] = Counter()
        self.lock = threading.Lock()

    def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            number, self.calls = self.calls, self.calls + 1
        if number in self.errors:
            raise self.errors[number]
        body = kwargs["body"].decode() if isinstance(kwargs["body"], bytes) else kwargs["body"]
        with self.lock:
            self.billed[body] += 1  # the model ran: this call is paid for, whatever happens to the answer
        data = json.dumps(support.echo_output(json.loads(body))).encode()
        if number in self.broken:
            return {"body": BrokenBody(io.BytesIO(data), 5, STREAM_ERRORS["reset"]())}
        return {"body": StreamingBody(io.BytesIO(data), len(data))}


# ------------------------------------------------------------------------------------------- the oracle
def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def lines_of(records: Iterable[Any]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def expected_ids(inputs: dict[str, bytes]) -> list[str]:
    """The record ids the contract says enter a run over `inputs` (independent of the handlers' code)."""
    accepted = sorted(k for k in inputs if k.lower().endswith((".jsonl", ".jsonl.gz")))
    ids = []
    for index, key in enumerate(accepted):
        data = inputs[key]
        if key.lower().endswith(".gz"):
            data = gzip.decompress(data)
        for number, line in enumerate(data.split(b"\n"), start=1):
            line = line[:-1] if line.endswith(b"\r") else line
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            found = record.get("id", record.get("recordId")) if isinstance(record, dict) else None
            ids.append(found if isinstance(found, str) else f"line-{index}-{number}")
    return ids


# ------------------------------------------------------------------------------------------- the driver
def sm_task(
    call: Callable[[], Any], *, retry: tuple[str, ...] = ("TransientError",), attempts: int = 8
) -> Any:
    """A task as the state machine runs it: errors named in `retry` ("*": any) are retried, `attempts` in all."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if (type(error).__name__ not in retry and "*" not in retry) or attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")


@dataclass
class Run:
    prepared: dict[str, Any]
    jobs: list[dict[str, Any]]
    collected: list[dict[str, Any]]
    results: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    summary: dict[str, Any]


class FakeSfn:
    """Step Functions' SendTaskSuccess: the job result each waiting task received."""

    def __init__(self) -> None:
        self.received: dict[str, dict[str, Any]] = {}

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        if taskToken in self.received:
            raise client_error("TaskDoesNotExist", 400, "SendTaskSuccess")
        self.received[taskToken] = json.loads(output)
        return {}


def job_event(job_arn: str, status: str) -> dict[str, Any]:
    return {
        "source": "aws.bedrock",
        "detail-type": "Batch Inference Job State Change",
        "resources": [job_arn],
        "detail": {"batchJobArn": job_arn, "status": status, "batchJobName": "x"},
    }


slots_module = importlib.import_module("bedrock_batch.submit.slots")
METRIC_NAMES = tuple(name for name, _, _ in collect_module.METRICS)
SUBMIT_RETRY = ("TransientError", "JobSubmissionThrottled", "JobQuotaFull")


class Pipeline:
    """One run through every handler, with the state machine's retries and catches played in Python.

    The handlers get fault-prone clients (`s3`, `dynamodb`, `cloudwatch`, `bedrock`, `runtime`); the test
    itself writes inputs, plays Bedrock's batch jobs and reads results with clean ones (`clean_s3`).
    Hooks: `job_status(shard_id)` (how a job ends), `after_job(shard_id, prefix)` (tamper with its outputs),
    `collect_times` / `on_demand_times` (run a step again: idempotency).
    """

    def __init__(
        self,
        *,
        prepare_env: dict[str, object] | None = None,
        bedrock: FakeBedrock | None = None,
        runtime: FakeRuntime | None = None,
        cloudwatch_fail: Iterable[Exception] = (),
    ) -> None:
        self.clean_s3, self.clean_dynamodb = support.client("s3"), support.client("dynamodb")
        support.create_resources(self.clean_s3, self.clean_dynamodb)
        self.s3, self.dynamodb = client("s3"), client("dynamodb")
        self.cloudwatch = CountingCloudWatch(client("cloudwatch"), cloudwatch_fail)
        self.bedrock, self.runtime, self.sfn = bedrock or FakeBedrock(), runtime or FakeRuntime(), FakeSfn()
        self.faults = Faults()
        self.prepare_env = support.prepare_env(**(prepare_env or {}))
        self.submit_env = support.submit_env()
        self.collect_env = support.collect_env()
        self.job_status: Callable[[str], str] = lambda shard_id: "Completed"
        self.after_job: Callable[[str, str], None] = lambda shard_id, prefix: None
        self.on_demand_env = {"WORK_BUCKET": WORK, "MODEL_ID": support.MODEL_ID, "ON_DEMAND_CONCURRENCY": "2"}
        self.collect_times = 1
        self.on_demand_times = 1
        self.inputs: dict[str, bytes] = {}
        self.tampered: list[str] = []  # record ids whose output lines a test damaged

    def put_inputs(self, inputs: dict[str, bytes]) -> None:
        self.inputs.update(inputs)
        for key, data in inputs.items():
            self.clean_s3.put_object(Bucket=INPUT, Key=f"in/{key}", Body=data)

    def expected_ids(self) -> list[str]:
        return expected_ids(self.inputs)

    # ------------------------------------------------------------------------------------------- steps
    def prepare(self) -> dict[str, Any]:
        event = {"run_id": RUN_ID, "input_bucket": INPUT, "input_prefix": "in/"}
        result: dict[str, Any] = sm_task(
            lambda: prepare_module.prepare(event, s3=self.s3, env=self.prepare_env, sleep=no_sleep)
        )
        return result

    def submit(self, shard: dict[str, Any]) -> dict[str, Any]:
        """SubmitJob with its retries; on a final failure ReleaseSlot and SubmissionFailed's job result."""
        token = f"token-{shard['shard_id']}"
        event = {"task_token": token, "run_id": RUN_ID, "shard": shard}
        try:
            sm_task(
                lambda: submit_module.submit(
                    event, bedrock=self.bedrock, dynamodb=self.dynamodb, env=self.submit_env, sleep=no_sleep
                ),
                retry=SUBMIT_RETRY,
            )
        except Exception as error:
            release = {"action": "release", "run_id": RUN_ID, "shard": shard}
            sm_task(
                lambda: slots_module.release_shard(
                    release, bedrock=self.bedrock, dynamodb=self.dynamodb, env=self.submit_env, sleep=no_sleep
                )
            )
            return {
                "shard_id": shard["shard_id"],
                "job_arn": None,
                "status": "Failed",
                "output_uri": f"s3://{WORK}/runs/{RUN_ID}/outputs/{shard['shard_id']}/",
                "message": json.dumps({"Error": type(error).__name__, "Cause": str(error)}),
            }
        return self.run_job(shard, token)

    def run_job(self, shard: dict[str, Any], token: str) -> dict[str, Any]:
        """Bedrock runs the job (support.run_fake_job), ends it, and its event reaches the events function."""
        shard_id = shard["shard_id"]
        arn = self.bedrock.jobs[support.run_files.job_name(RUN_ID, shard_id)]
        job_id, status = arn.rsplit("/", 1)[-1], self.job_status(shard_id)
        support.run_fake_job(self.clean_s3, RUN_ID, shard_id, status=status, job_id=job_id, message=status)
        self.after_job(shard_id, f"runs/{RUN_ID}/outputs/{shard_id}/{job_id}/")
        self.bedrock.end(arn, status)
        self.deliver(arn, status)
        return self.sfn.received[token]

    def deliver(self, arn: str, status: str) -> None:
        """EventBridge delivers the job's state change; it retries an event whose target raised."""
        env = {"TOKEN_TABLE": support.TABLE, "COORDINATION_TABLE": support.COORDINATION}
        sm_task(
            lambda: events_module.on_event(
                job_event(arn, status), dynamodb=self.dynamodb, sfn=self.sfn, env=env, sleep=no_sleep
            ),
            retry=("*",),  # EventBridge retries a target that failed, whatever the error
            attempts=20,
        )

    def on_demand(self) -> dict[str, Any]:
        env = self.on_demand_env
        result: dict[str, Any] = {}
        for _ in range(self.on_demand_times):
            try:
                result = sm_task(
                    lambda: on_demand_module.on_demand(
                        {"run_id": RUN_ID}, s3=self.s3, runtime=self.runtime, env=env, sleep=no_sleep
                    )
                )
            except Exception as error:  # OnDemandFailed
                result = {
                    "shard_id": "on-demand",
                    "job_arn": None,
                    "status": "Failed",
                    "output_uri": f"s3://{WORK}/runs/{RUN_ID}/outputs/on-demand/",
                    "message": str(error),
                }
        return result

    def collect(self, prepared: dict[str, Any], jobs: list[dict[str, Any]]) -> dict[str, Any]:
        event = {"run_id": RUN_ID, "prepare": prepared, "jobs": jobs, "pipeline": PIPELINE}
        result: dict[str, Any] = sm_task(
            lambda: collect_module.collect(
                event,
                s3=self.s3,
                cloudwatch=self.cloudwatch,
                dynamodb=self.dynamodb,
                env=self.collect_env,
                sleep=no_sleep,
            )
        )
        return result

    def run(self) -> Run:
        prepared = self.prepare()
        jobs = [self.submit(shard) for shard in prepared["shards"]]
        if prepared["small_batch"]["mode"] == "on_demand":
            jobs.append(self.on_demand())
        collected = [self.collect(prepared, jobs) for _ in range(self.collect_times)]
        base = f"results/{RUN_ID}/"
        return Run(
            prepared,
            jobs,
            collected,
            support.read_lines(self.clean_s3, OUTPUT, base + "results.jsonl"),
            support.read_lines(self.clean_s3, OUTPUT, base + "errors.jsonl"),
            support.read_json(self.clean_s3, OUTPUT, base + "summary.json"),
        )

    # ------------------------------------------------------------------------------------------ checks
    def slots_in_flight(self) -> int:
        key = {"pk": {"S": f"quota#{support.MODEL_ID}"}}
        item = self.clean_dynamodb.get_item(TableName=support.COORDINATION, Key=key).get("Item") or {}
        return int(item.get("in_flight", {}).get("N", "0"))

    def check_contract(self, run: Run, ids: list[str] | None = None) -> None:
        """Every record exactly once in results or errors (quarantine included), each metric once, no
        record paid for twice, no job slot left taken, the accounting identity holds."""
        expected = Counter(ids if ids is not None else self.expected_ids())
        got = Counter(line["recordId"] for line in run.results + run.errors)
        assert got == expected, (got - expected, expected - got)
        assert len(run.results) + len(run.errors) == sum(expected.values())
        assert run.summary["accounting"]["holds"] is True
        assert self.cloudwatch.counts() == Counter(dict.fromkeys(METRIC_NAMES, 1)), self.cloudwatch.published
        assert all(count == 1 for count in self.runtime.billed.values()), self.runtime.billed
        assert self.slots_in_flight() == 0
