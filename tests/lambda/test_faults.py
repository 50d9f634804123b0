"""Fault injection against the batch handlers: one whole run per fault, the contract checked after each.

After every fault (tests/lambda/faults.py explains how each kind is injected), `Pipeline.check_contract`
asserts: every record id that entered is exactly once in results.jsonl or errors.jsonl (the quarantine
included), the accounting identity holds, each metric was published once, no on-demand record was paid for
twice and no job slot of the shared quota is left taken. Cases that deliberately break one of these (a
metric refused for good, a job that cannot be stopped) say which and check the rest.

Classes: s3-error (5xx/throttling answers healed by the handlers' retries), s3-persistent (retries run out:
`TransientError`, retried by the state machine), s3-network, stream (a body broken mid-read), output
(malformed job output lines), manifest, input (names, gzip, line endings, unreadable objects), idempotency
(a step run twice), bedrock (batch control plane and InvokeModel), dynamodb (token, quota, markers).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from . import support
from .faults import (
    FakeBedrock,
    FakeRuntime,
    Pipeline,
    Run,
    client_error,
    expected_ids,
    gz,
    lines_of,
)

SHARD0 = "shard-00000"
STANDARD_RECORDS: list[Any] = [{"id": f"r{i:02d}", "prompt": f"prompt {i % 9}"} for i in range(12)]
STANDARD = {"a.jsonl": lines_of([*STANDARD_RECORDS, b'{"id": "bad", "prompt": '])}
BATCH_ENV = {"MAX_RECORDS_PER_JOB": 5}  # 9 distinct records: two shards
ON_DEMAND_ENV = {"MIN_RECORDS_PER_JOB": 100}  # below the minimum: on-demand InvokeModel


@dataclass(frozen=True)
class Case:
    klass: str
    name: str
    setup: Callable[[Pipeline], None] = lambda p: None
    inputs: dict[str, bytes] | None = None
    prepare_env: dict[str, object] | None = None
    bedrock: Callable[[], FakeBedrock] = FakeBedrock
    runtime: Callable[[], FakeRuntime] = FakeRuntime
    cloudwatch_fail: tuple[Exception, ...] = ()
    check: Callable[[Pipeline, Run], None] = lambda p, run: None
    contract: bool = True  # False: the case checks the contract itself (it breaks one clause on purpose)


CASES: list[Case] = []


def case(klass: str, name: str, **kwargs: Any) -> None:
    CASES.append(Case(klass, name, **kwargs))


# ------------------------------------------------------------------------------------------ helpers
def rewrite(p: Pipeline, key: str, change: Callable[[bytes], bytes | None]) -> None:
    """Replace an object of the work bucket with `change(its bytes)` (None deletes it)."""
    data = p.clean_s3.get_object(Bucket=support.WORK, Key=key)["Body"].read()
    new = change(data)
    if new is None:
        p.clean_s3.delete_object(Bucket=support.WORK, Key=key)
    else:
        p.clean_s3.put_object(Bucket=support.WORK, Key=key, Body=new)


def on_outputs(change: Callable[[Pipeline, list[bytes]], list[bytes]]) -> Callable[[Pipeline], None]:
    """Tamper with the output lines of shard-00000's job (after Bedrock wrote them, before collect)."""

    def setup(p: Pipeline) -> None:
        def after(shard_id: str, prefix: str) -> None:
            if shard_id == SHARD0:
                key = prefix + "records.jsonl.out"
                rewrite(p, key, lambda data: b"\n".join(change(p, data.splitlines())) + b"\n")

        p.after_job = after

    return setup


def on_manifest(change: Callable[[bytes], bytes | None]) -> Callable[[Pipeline], None]:
    def setup(p: Pipeline) -> None:
        def after(shard_id: str, prefix: str) -> None:
            if shard_id == SHARD0:
                rewrite(p, prefix + "manifest.json.out", change)

        p.after_job = after

    return setup


def replace(n: int, new: Callable[[bytes, str], bytes]) -> Callable[[Pipeline, list[bytes]], list[bytes]]:
    """Replace the n-th output line with `new(line, its record id)`; the id goes to `p.tampered`."""

    def change(p: Pipeline, lines: list[bytes]) -> list[bytes]:
        record_id = json.loads(lines[n])["recordId"]
        p.tampered.append(record_id)
        return [*lines[:n], new(lines[n], record_id), *lines[n + 1 :]]

    return change


def added(*extra: bytes) -> Callable[[Pipeline, list[bytes]], list[bytes]]:
    return lambda p, lines: [*lines, *extra]


def error_of(run: Run, record_id: str) -> dict[str, Any]:
    return next(e for e in run.errors if e["recordId"] == record_id)


def warned(text: str) -> Callable[[Pipeline, Run], None]:
    def check(p: Pipeline, run: Run) -> None:
        assert any(text in warning for warning in run.summary["warnings"]), run.summary["warnings"]
        assert any(text in warning for warning in run.collected[-1]["warnings"])

    return check


def priced(p: Pipeline, run: Run) -> None:
    """Tokens (and so the cost) were found even though a manifest was not usable."""
    assert run.summary["tokens"]["input"] > 0 and run.summary["cost_usd"]["actual"] > 0


def both(*checks: Callable[[Pipeline, Run], None]) -> Callable[[Pipeline, Run], None]:
    def check(p: Pipeline, run: Run) -> None:
        for one in checks:
            one(p, run)

    return check


def hit(name_part: str, times: int | None = None) -> Callable[[Pipeline, Run], None]:
    """The fault was really injected (`times` times when given)."""

    def check(p: Pipeline, run: Run) -> None:
        count = sum(n for name, n in p.faults.hits.items() if name_part in name)
        assert count == times if times is not None else count > 0, dict(p.faults.hits)

    return check


# ------------------------------------------------------------------------ s3-error: healed in the handler
for operation, where, code, status, times in [
    ("ListObjectsV2", "prefix=in/", "InternalError", 500, 2),
    ("GetObject", "in/a.jsonl", "SlowDown", 503, 2),
    ("PutObject", "runs/r1/quarantine.jsonl", "InternalError", 500, 3),
    ("PutObject", "runs/r1/refused.jsonl", "ServiceUnavailable", 503, 1),
    ("PutObject", f"runs/r1/shards/{SHARD0}/", "InternalError", 500, 2),
    ("GetObject", f"runs/r1/shards/{SHARD0}/", "InternalError", 500, 2),
    ("GetObject", "records.jsonl.out", "SlowDown", 503, 3),
    ("GetObject", "manifest.json.out", "InternalError", 500, 1),
    ("ListObjectsV2", "prefix=runs/r1/outputs/", "InternalError", 500, 2),
    ("GetObject", "runs/r1/duplicates.jsonl", "InternalError", 500, 1),
    ("GetObject", "runs/r1/quarantine.jsonl", "ServiceUnavailable", 503, 2),
    ("GetObject", "runs/r1/refused.jsonl", "InternalError", 500, 1),
    ("PutObject", "results/r1/results.jsonl", "SlowDown", 503, 2),
    ("PutObject", "results/r1/summary.json", "InternalError", 500, 1),
]:
    case(
        "s3-error",
        f"{operation} {where} {code} x{times}",
        setup=lambda p, o=operation, w=where, c=code, s=status, t=times: p.faults.error(
            p.s3, o, code=c, status=s, times=t, where=w
        ),
        prepare_env=BATCH_ENV,
        check=hit(f"{operation}:{where}", times),
    )
for operation, where in [
    ("GetObject", "runs/r1/on-demand/records.jsonl"),
    ("PutObject", "outputs/on-demand/records.jsonl.out"),
    ("PutObject", "on-demand/done/"),
    ("ListObjectsV2", "prefix=runs/r1/on-demand/done/"),
]:
    case(
        "s3-error",
        f"on_demand {operation} {where}",
        setup=lambda p, o=operation, w=where: p.faults.error(p.s3, o, times=2, where=w),
        prepare_env=ON_DEMAND_ENV,
        check=hit(f"{operation}:{where}", 2),
    )


def multipart(p: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 512 bytes, so collect's results go up as a multipart upload."""
    monkeypatch.setattr(support.run_files, "MIN_PART_SIZE", 512)
    monkeypatch.setattr(support.run_files, "DEFAULT_PART_SIZE", 512)
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 256)


for operation, code in [
    ("CreateMultipartUpload", "InternalError"),
    ("UploadPart", "SlowDown"),
    ("CompleteMultipartUpload", "InternalError"),
]:
    case(
        "s3-error",
        f"multipart {operation} {code}",
        setup=lambda p, o=operation, c=code: p.faults.error(p.s3, o, code=c, status=503, times=2),
        prepare_env={**BATCH_ENV, "multipart": True},
        check=hit(operation, 2),
    )


# ------------------------------------------------------------------- s3-network: no answer at all
for operation, where, closed in [
    ("GetObject", "in/a.jsonl", False),
    ("PutObject", "results/r1/errors.jsonl", True),
    ("ListObjectsV2", "prefix=runs/r1/outputs/", False),
    ("PutObject", "runs/r1/duplicates.jsonl", True),
]:
    case(
        "s3-network",
        f"{operation} {where} {'closed' if closed else 'refused'}",
        setup=lambda p, o=operation, w=where, c=closed: p.faults.network(p.s3, o, times=2, where=w, closed=c),
        prepare_env=BATCH_ENV,
        check=hit(f"network:s3:{operation}:{where}", 2),
    )


# ------------------------------------------- s3-persistent: handler retries run out, the state machine retries
for operation, where, times, env in [
    ("GetObject", "in/a.jsonl", 6, BATCH_ENV),
    ("PutObject", "results/r1/results.jsonl", 5, BATCH_ENV),
    ("ListObjectsV2", "prefix=runs/r1/outputs/", 9, BATCH_ENV),
    ("PutObject", "outputs/on-demand/records.jsonl.out", 5, ON_DEMAND_ENV),
    ("PutObject", "runs/r1/duplicates.jsonl", 5, BATCH_ENV),
]:
    case(
        "s3-persistent",
        f"{operation} {where} x{times}",
        setup=lambda p, o=operation, w=where, t=times: p.faults.error(
            p.s3, o, code="ServiceUnavailable", status=503, times=t, where=w
        ),
        prepare_env=env,
        check=hit(f"{operation}:{where}", times),
    )


# ------------------------------------------------------------------------- stream: a body broken mid-read
for where, kind, times, inputs in [
    ("in/a.jsonl", "reset", 1, None),
    ("in/a.jsonl", "timeout", 2, None),
    ("in/a.jsonl", "short", 1, None),
    ("in/a.jsonl", "reset", 4, None),
    ("in/a.jsonl", "reset", 9, None),  # more breaks than the reader resumes: prepare retried as a whole
    ("in/b.jsonl.gz", "reset", 2, {"b.jsonl.gz": gz(STANDARD["a.jsonl"])}),
    (f"runs/r1/shards/{SHARD0}/", "reset", 1, None),
    ("records.jsonl.out", "timeout", 2, None),
    ("manifest.json.out", "reset", 1, None),
    ("runs/r1/duplicates.jsonl", "short", 1, None),
    ("runs/r1/quarantine.jsonl", "reset", 1, None),
]:
    case(
        "stream",
        f"{where} {kind} x{times}",
        setup=lambda p, w=where, k=kind, t=times: p.faults.stream(p.s3, where=w, kind=k, times=t),
        inputs=inputs,
        prepare_env=BATCH_ENV,
        check=hit(f"stream:{where}", times),
    )
case(
    "stream",
    "on_demand records reset",
    setup=lambda p: p.faults.stream(p.s3, where="on-demand/records.jsonl", times=2),
    prepare_env=ON_DEMAND_ENV,
    check=hit("stream:on-demand", 2),
)


# ------------------------------------------------------------------------------- output: malformed lines
def first_half(line: bytes) -> bytes:
    return line[: len(line) // 2]


def tampered_error(code: str) -> Callable[[Pipeline, Run], None]:
    def check(p: Pipeline, run: Run) -> None:
        [record_id] = p.tampered
        assert error_of(run, record_id)["errorCode"] == code

    return check


def no_lost_output(p: Pipeline, run: Run) -> None:
    assert not [e for e in run.errors if e["stage"] != "validation"], run.errors


def delete_outputs(p: Pipeline) -> None:
    def after(shard_id: str, prefix: str) -> None:
        if shard_id == SHARD0:
            rewrite(p, prefix + "records.jsonl.out", lambda data: None)

    p.after_job = after


case(
    "output",
    "a record's line cut in half",
    setup=on_outputs(replace(0, lambda line, rid: line[: len(line) // 2])),
    prepare_env=BATCH_ENV,
    check=tampered_error("malformed_output"),
)
case(
    "output",
    "a line cut before its record id",
    setup=on_outputs(replace(1, lambda line, rid: line[:5])),
    prepare_env=BATCH_ENV,
    check=tampered_error("no_output"),
)
case(
    "output",
    "a record's line is not UTF-8",
    setup=on_outputs(replace(2, lambda line, rid: line[:-2] + b'"\xff\xfe"}')),
    prepare_env=BATCH_ENV,
    check=tampered_error("malformed_output"),
)
case(
    "output",
    "neither modelOutput nor error",
    setup=on_outputs(replace(0, lambda line, rid: json.dumps({"recordId": rid}).encode())),
    prepare_env=BATCH_ENV,
    check=tampered_error("malformed_output"),
)
case(
    "output",
    "an error whose code and message are not strings",
    setup=on_outputs(
        replace(
            1,
            lambda line, rid: json.dumps(
                {"recordId": rid, "error": {"errorCode": {"x": 1}, "errorMessage": [1]}}
            ).encode(),
        )
    ),
    prepare_env=BATCH_ENV,
    check=tampered_error("{'x': 1}"),
)
case("output", "a line that is a JSON array", setup=on_outputs(added(b"[1, 2, 3]")), prepare_env=BATCH_ENV)
case(
    "output",
    "recordId is a list",
    setup=on_outputs(added(b'{"recordId": ["r00"], "modelOutput": {}}')),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "recordId is an object",
    setup=on_outputs(added(b'{"recordId": {"r": 1}, "modelOutput": {}}')),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "JSON nested 100,000 deep",
    setup=on_outputs(added(b"[" * 100_000 + b"]" * 100_000)),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "a record answered twice",
    setup=on_outputs(lambda p, lines: [*lines, lines[0]]),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "a line for a record of another run",
    setup=on_outputs(added(b'{"recordId": "stranger", "modelOutput": {"x": 1}}')),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "a raw CR between JSON tokens, CRLF line ends",
    setup=on_outputs(
        lambda p, lines: [line.replace(b', "modelOutput"', b',\r"modelOutput"') + b"\r" for line in lines]
    ),
    prepare_env=BATCH_ENV,
    check=no_lost_output,
)
case(
    "output",
    "no output file at all for a Completed job",
    setup=delete_outputs,
    prepare_env=BATCH_ENV,
    check=warned("manifest"),
)


# ------------------------------------------------------------------------------------------- manifest
def manifest_json(change: Callable[[dict[str, Any]], Any]) -> Callable[[bytes], bytes]:
    return lambda data: json.dumps(change(json.loads(data))).encode()


for name, change, warning in [
    ("missing", lambda data: None, "manifest.json.out is missing"),
    ("truncated", lambda data: data[: len(data) // 2], "not valid JSON"),
    (
        "non-numeric inputTokenCount",
        manifest_json(lambda m: {**m, "inputTokenCount": "lots"}),
        "inputTokenCount",
    ),
    ("null outputTokenCount", manifest_json(lambda m: {**m, "outputTokenCount": None}), "outputTokenCount"),
    ("negative inputTokenCount", manifest_json(lambda m: {**m, "inputTokenCount": -5}), "inputTokenCount"),
    (
        "fractional outputTokenCount",
        manifest_json(lambda m: {**m, "outputTokenCount": 12.5}),
        "outputTokenCount",
    ),
    ("a JSON list", manifest_json(lambda m: [m]), "not a JSON object"),
    ("counts that disagree", manifest_json(lambda m: {**m, "processedRecordCount": 99}), "99 processed"),
    ("empty object", lambda data: b"{}", "inputTokenCount"),
]:
    case(
        "manifest",
        name,
        setup=on_manifest(change),
        prepare_env=BATCH_ENV,
        check=both(warned(warning), priced),
    )
case(
    "manifest",
    "numbers as strings are counts",
    setup=on_manifest(manifest_json(lambda m: {k: str(v) for k, v in m.items()})),
    prepare_env=BATCH_ENV,
    check=lambda p, run: run.summary["warnings"] == [] or pytest.fail(str(run.summary["warnings"])),
)


def stopped_without_manifest(p: Pipeline) -> None:
    p.job_status = lambda shard_id: "Stopped"
    on_manifest(lambda data: None)(p)


case(
    "manifest",
    "a Stopped job with outputs and no manifest",
    setup=stopped_without_manifest,
    prepare_env=BATCH_ENV,
    check=both(warned("manifest.json.out is missing"), priced),
)


# --------------------------------------------------------------------------------------------- input
RECORDS_B: list[Any] = [{"id": f"b{i}", "prompt": f"bee {i}"} for i in range(4)]


def refused(text: str) -> Callable[[Pipeline, Run], None]:
    def check(p: Pipeline, run: Run) -> None:
        reasons = [entry["reason"] for entry in run.summary["inputs"]["refused"]]
        assert any(text in reason for reason in reasons), reasons
        assert run.prepared["counts"]["refused_inputs"] == len(reasons)

    return check


case("input", "upper-case .JSONL", inputs={**STANDARD, "b.JSONL": lines_of(RECORDS_B)})
case("input", ".jsonl.gz", inputs={**STANDARD, "b.jsonl.gz": gz(lines_of(RECORDS_B))})
case("input", ".JSONL.GZ", inputs={**STANDARD, "b.JSONL.GZ": gz(lines_of(RECORDS_B))})
case(
    "input",
    "gzip of two members",
    inputs={**STANDARD, "b.jsonl.gz": gz(lines_of(RECORDS_B[:2])) + gz(lines_of(RECORDS_B[2:]))},
)
case(
    "input",
    "a .json and a .csv next to the inputs are refused with a reason",
    inputs={**STANDARD, "notes.json": b"{}", "table.csv": b"a,b\n"},
    check=refused("not a JSONL input"),
)
case(
    "input",
    "gzip that is not gzip",
    inputs={**STANDARD, "b.jsonl.gz": b"this is not gzip at all"},
    check=refused("not valid gzip"),
    setup=lambda p: p.inputs.pop("b.jsonl.gz"),  # the oracle: no record of it entered
)

TRUNCATED_GZ = gz(lines_of([{"id": f"t{i}", "prompt": "x" * 40 + str(i)} for i in range(400)]))[:-400]


def truncated_gzip_ids() -> list[str]:
    available = zlib.decompressobj(wbits=31).decompress(TRUNCATED_GZ)
    complete = available[: available.rindex(b"\n") + 1]
    return expected_ids(STANDARD) + [json.loads(line)["id"] for line in complete.splitlines()]


case(
    "input",
    "gzip cut short: the lines before the cut are records, the rest is reported",
    inputs={**STANDARD, "b.jsonl.gz": TRUNCATED_GZ},
    check=both(
        refused("ends before its trailer"), lambda p, run: p.check_contract(run, truncated_gzip_ids())
    ),
    contract=False,
)
case(
    "input",
    "a raw CR between JSON tokens is one record, not two",
    inputs={
        **STANDARD,
        "b.jsonl": b'{"id": "cr1",\r "prompt": "carriage"}\n{"id": "cr2", "prompt": "x\ry"}\n',
    },
    check=lambda p, run: error_of(run, "line-1-2")["errorCode"] == "invalid_json" or pytest.fail("cr2"),
)
case(
    "input",
    "CRLF line ends after a byte-order mark",
    inputs={**STANDARD, "b.jsonl": b"\xef\xbb\xbf" + lines_of(RECORDS_B).replace(b"\n", b"\r\n")},
    check=lambda p, run: not [e for e in run.errors if e["recordId"].startswith("b")] or pytest.fail("bom"),
)
case(
    "input",
    "lone CR lines and blank lines are not records",
    inputs={**STANDARD, "b.jsonl": b"\r\n\r\n   \n" + lines_of(RECORDS_B) + b"\r\n\n"},
)
case(
    "input",
    "an input deleted between listing and reading",
    setup=lambda p: (
        p.faults.error(p.s3, "GetObject", code="NoSuchKey", status=404, where="in/b.jsonl"),
        p.inputs.pop("b.jsonl"),
    ),
    inputs={**STANDARD, "b.jsonl": lines_of(RECORDS_B)},
    check=refused("NoSuchKey"),
)
case(
    "input",
    "an input the role may not read",
    setup=lambda p: (
        p.faults.error(p.s3, "GetObject", code="AccessDenied", status=403, where="in/b.jsonl"),
        p.inputs.pop("b.jsonl"),
    ),
    inputs={**STANDARD, "b.jsonl": lines_of(RECORDS_B)},
    check=refused("AccessDenied"),
)


def changed_mid_read(p: Pipeline) -> None:
    """The stream breaks after one line, and the object has changed when the reader resumes."""
    p.faults.stream(p.s3, where="in/b.jsonl", after=len(lines_of(RECORDS_B[:1])))
    p.faults.error(p.s3, "GetObject", code="PreconditionFailed", status=412, where="in/b.jsonl", skip=1)


case(
    "input",
    "an input that changes while it is read: the lines read so far are records, the rest is reported",
    setup=changed_mid_read,
    inputs={**STANDARD, "b.jsonl": lines_of(RECORDS_B)},
    check=both(
        refused("after 1 lines, which were read: PreconditionFailed"),
        lambda p, run: p.check_contract(run, [*expected_ids(STANDARD), "b0"]),
    ),
    contract=False,
)


# --------------------------------------------------------------------------------------- idempotency
def twice(attribute: str) -> Callable[[Pipeline], None]:
    return lambda p: setattr(p, attribute, 2)


case("idempotency", "collect runs twice", setup=twice("collect_times"), prepare_env=BATCH_ENV)
case(
    "idempotency",
    "on_demand runs twice",
    setup=twice("on_demand_times"),
    prepare_env=ON_DEMAND_ENV,
    check=lambda p, run: p.runtime.calls == 9 or pytest.fail(f"{p.runtime.calls} calls"),
)
case(
    "idempotency",
    "PutMetricData fails until the handler gives up: the retried collect publishes once",
    cloudwatch_fail=tuple(client_error("InternalFailure", 500) for _ in range(4)),
    prepare_env=BATCH_ENV,
)
case(
    "idempotency",
    "on_demand loses its output file after paying: the rerun reuses the done markers",
    setup=lambda p: p.faults.error(
        p.s3, "PutObject", code="InternalError", times=5, where="records.jsonl.out"
    ),
    prepare_env=ON_DEMAND_ENV,
    check=lambda p, run: p.runtime.calls == 9 or pytest.fail(f"{p.runtime.calls} calls"),
)


def prepared_twice(p: Pipeline) -> None:
    original = p.prepare
    p.prepare = lambda: (original(), original())[1]  # type: ignore[method-assign]


case("idempotency", "prepare runs twice", setup=prepared_twice, prepare_env=BATCH_ENV)


def events_twice(p: Pipeline) -> None:
    original = p.deliver

    def deliver(arn: str, status: str) -> None:
        original(arn, status)
        original(arn, status)  # EventBridge delivers at least once

    p.deliver = deliver  # type: ignore[method-assign]


case("idempotency", "a job event delivered twice", setup=events_twice, prepare_env=BATCH_ENV)
case(
    "idempotency",
    "the metrics marker write fails once",
    setup=lambda p: p.faults.error(p.dynamodb, "PutItem", code="InternalServerError", where="run#r1#metrics"),
    prepare_env=BATCH_ENV,
    check=hit("PutItem", 1),
)


def refused_metrics(p: Pipeline, run: Run) -> None:
    """A publish refused for good: the run's files stand, the summary says so, nothing is published twice."""
    assert run.summary["metrics"].startswith("not published: AccessDenied")
    assert p.cloudwatch.counts() == Counter()
    ids = Counter(line["recordId"] for line in run.results + run.errors)
    assert ids == Counter(p.expected_ids())


def lost_answer(p: Pipeline) -> None:
    p.cloudwatch.lost = [ReadTimeoutError(endpoint_url="https://monitoring.us-east-1.amazonaws.com")]
    p.collect_times = 2


case(
    "idempotency",
    "PutMetricData stored but its answer lost: never sent again, then collect runs again",
    setup=lost_answer,
    prepare_env=BATCH_ENV,
    check=lambda p, run: run.summary["metrics"] == "already_published" or pytest.fail(run.summary["metrics"]),
)
case(
    "idempotency",
    "PutMetricData refused for good",
    cloudwatch_fail=(client_error("AccessDenied", 403),),
    prepare_env=BATCH_ENV,
    check=refused_metrics,
    contract=False,
)


# ------------------------------------------------------------------------------------------- bedrock
def stopped_job(p: Pipeline, run: Run) -> None:
    assert len(p.bedrock.stopped) == 1
    failed = [job for job in run.jobs if job["status"] == "Failed"]
    assert len(failed) == 1 and "the job was stopped" in failed[0]["message"]
    assert {e["errorCode"] for e in run.errors if e["stage"] == "job"} == {"job_failed"}


case(
    "bedrock",
    "CreateModelInvocationJob InternalServerException once",
    bedrock=lambda: FakeBedrock([client_error("InternalServerException", 500)]),
    prepare_env=BATCH_ENV,
)
case(
    "bedrock",
    "CreateModelInvocationJob throttled past the handler's retries",
    bedrock=lambda: FakeBedrock([client_error("ThrottlingException", 429) for _ in range(4)]),
    prepare_env=BATCH_ENV,
)
case(
    "bedrock",
    "the job quota is full at Bedrock (jobs outside the pipeline)",
    bedrock=lambda: FakeBedrock([client_error("ServiceQuotaExceededException", 400) for _ in range(2)]),
    prepare_env=BATCH_ENV,
)
case(
    "bedrock",
    "CreateModelInvocationJob ValidationException: the shard's records are job errors",
    bedrock=lambda: FakeBedrock([client_error("ValidationException", 400)]),
    prepare_env=BATCH_ENV,
    check=lambda p, run: any(job["status"] == "Failed" for job in run.jobs) or pytest.fail("no failure"),
)
case(
    "bedrock",
    "a network error while storing the task token stops the job",
    setup=lambda p: p.faults.network(p.dynamodb, "PutItem", times=4, where="task_token"),
    prepare_env=BATCH_ENV,
    check=stopped_job,
)
case(
    "bedrock",
    "the token table refuses the token (access denied) and the job is stopped",
    setup=lambda p: p.faults.error(
        p.dynamodb, "PutItem", code="AccessDeniedException", status=400, where="task_token"
    ),
    prepare_env=BATCH_ENV,
    check=stopped_job,
)


def unstoppable(p: Pipeline, run: Run) -> None:
    """The job runs on: its slot stays taken (so the quota stays true) and the failure names the job."""
    [failed] = [job for job in run.jobs if job["status"] == "Failed"]
    assert "stop it with aws bedrock stop-model-invocation-job" in failed["message"]
    assert p.slots_in_flight() == 1
    assert Counter(line["recordId"] for line in run.results + run.errors) == Counter(p.expected_ids())
    assert p.cloudwatch.counts() == Counter(dict.fromkeys(collect_names(), 1))


def collect_names() -> tuple[str, ...]:
    return tuple(name for name, _, _ in support.handler_module("collect").METRICS)


case(
    "bedrock",
    "the token cannot be stored and the job cannot be stopped",
    setup=lambda p: p.faults.network(p.dynamodb, "PutItem", times=4, where="task_token"),
    bedrock=lambda: FakeBedrock(stop_errors=[client_error("InternalServerException", 500) for _ in range(8)]),
    prepare_env=BATCH_ENV,
    check=unstoppable,
    contract=False,
)
case(
    "bedrock",
    "InvokeModel InternalServerException once",
    runtime=lambda: FakeRuntime({0: client_error("InternalServerException", 500)}),
    prepare_env=ON_DEMAND_ENV,
)
case(
    "bedrock",
    "InvokeModel ModelTimeoutException once",
    runtime=lambda: FakeRuntime({1: client_error("ModelTimeoutException", 408)}),
    prepare_env=ON_DEMAND_ENV,
)
case(
    "bedrock",
    "InvokeModel ValidationException: a model error, not retried",
    runtime=lambda: FakeRuntime({0: client_error("ValidationException", 400)}),
    prepare_env={**ON_DEMAND_ENV, "ON_DEMAND_CONCURRENCY": 1},
    check=lambda p, run: p.runtime.calls == 9 or pytest.fail(str(p.runtime.calls)),
)
case(
    "bedrock",
    "InvokeModel throttled to the end: a model error, not billed",
    runtime=lambda: FakeRuntime({n: client_error("ThrottlingException", 429) for n in range(6)}),
    prepare_env={**ON_DEMAND_ENV, "ON_DEMAND_CONCURRENCY": 1},
    check=lambda p, run: sum(p.runtime.billed.values()) == 8 or pytest.fail(str(p.runtime.billed)),
)


def answer_lost_once(p: Pipeline, run: Run) -> None:
    """The model ran but its answer broke in transit: asked again (paid twice for that one), every other once;
    the rest of the contract holds."""
    assert sorted(p.runtime.billed.values()) == [1] * 8 + [2]
    assert not [e for e in run.errors if e["stage"] == "model"]
    assert Counter(line["recordId"] for line in run.results + run.errors) == Counter(p.expected_ids())
    assert p.cloudwatch.counts() == Counter(dict.fromkeys(collect_names(), 1))


case(
    "bedrock",
    "an InvokeModel answer breaks mid-body",
    runtime=lambda: FakeRuntime(broken_bodies=[0]),
    prepare_env={**ON_DEMAND_ENV, "ON_DEMAND_CONCURRENCY": 1},
    check=answer_lost_once,
    contract=False,
)


# ------------------------------------------------------------------------------------------ dynamodb
for operation, where, code, times in [
    ("UpdateItem", "SET holders", "InternalServerError", 2),
    ("UpdateItem", "SET holders", "ThrottlingException", 6),  # past the handler: TransientError, retried
    ("PutItem", "task_token", "ProvisionedThroughputExceededException", 2),
    ("GetItem", '"job_arn"', "InternalServerError", 2),  # events raises: EventBridge delivers again
    ("UpdateItem", "REMOVE holders", "InternalServerError", 2),
]:
    case(
        "dynamodb",
        f"{operation} {where} {code} x{times}",
        setup=lambda p, o=operation, w=where, c=code, t=times: p.faults.error(
            p.dynamodb, o, code=c, status=500 if "Internal" in c else 400, times=t, where=w
        ),
        prepare_env=BATCH_ENV,
        check=hit(f"{operation}:{where}", times),
    )
case(
    "dynamodb",
    "the slot release on a job's end loses its connection",
    setup=lambda p: p.faults.network(p.dynamodb, "UpdateItem", times=2, where="REMOVE holders", closed=True),
    prepare_env=BATCH_ENV,
    check=hit("network:dynamodb:UpdateItem", 2),
)


def stale_holders(p: Pipeline, *, expired: bool) -> None:
    """Every slot of the model is held by another execution that died (lease over) or whose jobs ended."""
    p.submit_env = {**p.submit_env, "MAX_CONCURRENT_JOBS": "2"}
    old = 1_000_000
    holders = {}
    for n in range(2):
        arn = f"arn:aws:bedrock:{support.REGION}:{support.ACCOUNT}:model-invocation-job/old00000000{n}"
        p.bedrock.status[arn] = "Completed"
        expires = old if expired else 4_000_000_000
        holders[f"gone/shard-{n}"] = {
            "M": {"expires_at": {"N": str(expires)}, "since": {"N": str(old)}, "job_arn": {"S": arn}}
        }
    p.clean_dynamodb.put_item(
        TableName=support.COORDINATION,
        Item={"pk": {"S": f"quota#{support.MODEL_ID}"}, "holders": {"M": holders}, "in_flight": {"N": "2"}},
    )


case(
    "dynamodb",
    "the quota is held by a stopped execution whose leases ran out",
    setup=lambda p: stale_holders(p, expired=True),
    prepare_env=BATCH_ENV,
)
case(
    "dynamodb",
    "the quota is held by jobs whose end events were lost",
    setup=lambda p: stale_holders(p, expired=False),
    prepare_env=BATCH_ENV,
)


# ------------------------------------------------------------------------------------------- the tests
FAULT_CLASSES = Counter(c.klass for c in CASES)


def test_the_suite_injects_at_least_fifty_faults_of_every_class() -> None:
    assert len(CASES) >= 50, len(CASES)
    assert set(FAULT_CLASSES) == {
        "s3-error", "s3-network", "s3-persistent", "stream", "output", "manifest", "input", "idempotency",
        "bedrock", "dynamodb",
    }  # fmt: skip
    assert len({(c.klass, c.name) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("fault", CASES, ids=[f"{c.klass}: {c.name}" for c in CASES])
def test_after_the_fault_every_record_is_accounted_for_once(
    fault: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dict(fault.prepare_env or {})
    with support.fake_aws_environment(), mock_aws():
        p = Pipeline(
            prepare_env={k: v for k, v in env.items() if k not in ("multipart", "ON_DEMAND_CONCURRENCY")},
            bedrock=fault.bedrock(),
            runtime=fault.runtime(),
            cloudwatch_fail=fault.cloudwatch_fail,
        )
        if "ON_DEMAND_CONCURRENCY" in env:
            p.on_demand_env["ON_DEMAND_CONCURRENCY"] = str(env["ON_DEMAND_CONCURRENCY"])
        if env.get("multipart"):
            multipart(p, monkeypatch)
        p.put_inputs(fault.inputs if fault.inputs is not None else STANDARD)
        fault.setup(p)
        run = p.run()
        if fault.contract:
            p.check_contract(run)
        fault.check(p, run)
