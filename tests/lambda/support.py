"""Helpers for the batch Lambda tests: import path, moto resources, a stand-in for Bedrock's job outputs.

Importing this module puts `inferwise/lambda` on sys.path, as each function's asset root is in Lambda,
so `bedrock_batch.prepare.handler` and `bedrock_batch.common.batch_records` import as they do there.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.response import StreamingBody

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "inferwise" / "lambda"
if str(LAMBDA_ROOT) not in sys.path:
    sys.path.insert(0, str(LAMBDA_ROOT))

REGION = "us-east-1"
ACCOUNT = "123456789012"
WORK = "iw-work"
INPUT = "iw-input"
OUTPUT = "iw-output"
TABLE = "iw-tokens"
COORDINATION = "iw-coordination"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/iw-bedrock-batch"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NAMESPACE = "inferwise/BedrockBatch"

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def handler_module(name: str) -> ModuleType:
    """`prepare` -> the module `bedrock_batch.prepare.handler`."""
    return importlib.import_module(f"bedrock_batch.{name}.handler")


records = importlib.import_module("bedrock_batch.common.batch_records")
run_files = importlib.import_module("bedrock_batch.common.run_files")


@contextmanager
def fake_aws_environment() -> Iterator[None]:
    """Fake credentials and region for the duration (never real ones: everything runs against moto/Stubber)."""
    saved = {name: os.environ.get(name) for name in FAKE_CREDENTIALS}
    os.environ.update(FAKE_CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


# ---------------------------------------------------------------------------------------------- env


def prepare_env(**overrides: object) -> dict[str, str]:
    env = {
        "WORK_BUCKET": WORK,
        "MODEL_ID": MODEL_ID,
        "MODEL_FAMILY": "anthropic",
        "MIN_RECORDS_PER_JOB": "1",
        "MAX_RECORDS_PER_JOB": "100",
        "MAX_SHARD_BYTES": str(1_000_000_000),
        "SMALL_BATCH": "on_demand",
        "DEFAULT_MAX_TOKENS": "512",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def submit_env(**overrides: object) -> dict[str, str]:
    env = {
        "WORK_BUCKET": WORK,
        "MODEL_ID": MODEL_ID,
        "ROLE_ARN": ROLE_ARN,
        "JOB_TIMEOUT_HOURS": "72",
        "KMS_KEY_ARN": KMS_KEY_ARN,
        "TOKEN_TABLE": TABLE,
        "COORDINATION_TABLE": COORDINATION,
        "MAX_CONCURRENT_JOBS": "10",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def collect_env(**overrides: object) -> dict[str, str]:
    env = {
        "WORK_BUCKET": WORK,
        "OUTPUT_BUCKET": OUTPUT,
        "OUTPUT_PREFIX": "results/",
        "MODEL_ID": MODEL_ID,
        "METRIC_NAMESPACE": NAMESPACE,
        "COORDINATION_TABLE": COORDINATION,
        "BATCH_INPUT_PRICE_PER_MTOK": "0.125",
        "BATCH_OUTPUT_PRICE_PER_MTOK": "0.625",
        "ON_DEMAND_INPUT_PRICE_PER_MTOK": "0.25",
        "ON_DEMAND_OUTPUT_PRICE_PER_MTOK": "1.25",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


# ------------------------------------------------------------------------------------------ S3 data


def create_resources(s3: Any, dynamodb: Any | None = None) -> None:
    for bucket in (WORK, INPUT, OUTPUT):
        s3.create_bucket(Bucket=bucket)
    if dynamodb is not None:
        for table, key in ((TABLE, "job_arn"), (COORDINATION, "pk")):
            dynamodb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )


def put_lines(s3: Any, bucket: str, key: str, lines: Iterable[Mapping[str, Any] | str | bytes]) -> None:
    data = b"".join(
        (line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode())
        + b"\n"
        for line in lines
    )
    s3.put_object(Bucket=bucket, Key=key, Body=data)


def read_lines(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def streaming_body(payload: Mapping[str, Any] | bytes) -> StreamingBody:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(data), len(data))


# -------------------------------------------------------------------------- a stand-in Bedrock job


def echo_output(model_input: Mapping[str, Any]) -> dict[str, Any]:
    """A fake model output that names the body it answers (so duplicates can be checked)."""
    return {"echo": records.canonical_json(model_input), "usage": {"input_tokens": 10, "output_tokens": 5}}


def run_fake_job(
    s3: Any,
    run_id: str,
    shard_id: str,
    *,
    status: str = "Completed",
    job_id: str = "abcdef123456",
    missing: Callable[[str], bool] = lambda record_id: False,
    model_error: Callable[[str], bool] = lambda record_id: False,
    message: str = "",
    seed: int = 0,
) -> dict[str, Any]:
    """Write what a Bedrock batch job writes for a shard (outputs in shuffled order + manifest.json.out)
    and return the job result the events function would send. Failed/Expired jobs write nothing."""
    job_arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/{job_id}"
    prefix = run_files.outputs_prefix(run_id, shard_id)
    result = {
        "shard_id": shard_id,
        "job_arn": job_arn,
        "status": status,
        "output_uri": run_files.s3_uri(WORK, prefix),
        "message": message,
    }
    if status in {"Failed", "Expired"}:
        return result
    lines = []
    successes = errors = 0
    for record in read_lines(s3, WORK, run_files.input_key_for(run_id, shard_id)):
        rid = record["recordId"]
        if missing(rid):
            continue
        if model_error(rid):
            errors += 1
            lines.append({**record, "error": {"errorCode": 400, "errorMessage": "Malformed input request"}})
        else:
            successes += 1
            lines.append({**record, "modelOutput": echo_output(record["modelInput"])})
    random.Random(seed).shuffle(lines)
    put_lines(s3, WORK, f"{prefix}{job_id}/records.jsonl.out", lines)
    manifest = {
        "totalRecordCount": successes + errors,
        "processedRecordCount": successes + errors,
        "successRecordCount": successes,
        "errorRecordCount": errors,
        "inputTokenCount": 10 * (successes + errors),
        "outputTokenCount": 5 * successes,
    }
    s3.put_object(Bucket=WORK, Key=f"{prefix}{job_id}/manifest.json.out", Body=json.dumps(manifest).encode())
    return result
