"""The accounting property, end to end: prepare -> (batch jobs | on demand) -> collect, under moto.

For any mix of valid, invalid, duplicate-body and duplicate-id records and any job outcomes:
records in == results + errors; the ids in results.jsonl + errors.jsonl are exactly the input ids (as a
multiset: an id used twice comes out twice); every duplicate gets its twin's result or error.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from . import support
from .support import INPUT, OUTPUT, WORK, collect_env, prepare_env, put_lines, read_lines, run_fake_job

prepare_module = support.handler_module("prepare")
collect_module = support.handler_module("collect")
on_demand_module = support.handler_module("on_demand")
br = support.records

PROMPTS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
IDS = [f"id{i}" for i in range(12)]

# (kind, id or None, prompt): kinds that are valid carry a prompt whose body the oracle can compute
record_kinds = st.one_of(
    st.tuples(st.just("simple"), st.sampled_from(IDS), st.sampled_from(PROMPTS)),
    st.tuples(st.just("ready"), st.sampled_from(IDS), st.sampled_from(PROMPTS)),
    st.tuples(st.just("no_id"), st.none(), st.sampled_from(PROMPTS)),
    st.tuples(st.just("bad_json"), st.none(), st.none()),
    st.tuples(st.just("bad_body"), st.sampled_from(IDS), st.none()),
    st.tuples(st.just("blank"), st.none(), st.none()),
)
OUTCOMES = ["Completed", "PartiallyCompleted", "Failed", "Expired", "Stopped", "no_result"]


def line_for(kind: str, record_id: str | None, prompt: str | None) -> str:
    if kind == "simple":
        return json.dumps({"id": record_id, "prompt": prompt})
    if kind == "ready":
        return json.dumps(
            {"recordId": record_id, "modelInput": br.build_model_input("anthropic", prompt, None, 512)}
        )
    if kind == "no_id":
        return json.dumps({"prompt": prompt})
    if kind == "bad_json":
        return '{"id": "x", "prompt": '
    if kind == "bad_body":
        return json.dumps({"recordId": record_id, "modelInput": {"anthropic_version": "bedrock-2023-05-31"}})
    return "   "


def hashed(seed: int, salt: str) -> Callable[[str], bool]:
    return lambda record_id: zlib.crc32(f"{seed}:{salt}:{record_id}".encode()) % 4 == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(st.lists(record_kinds, max_size=14), min_size=1, max_size=3),
    min_records=st.sampled_from([1, 3, 40]),
    max_records=st.sampled_from([2, 5, 100]),
    small_batch=st.sampled_from(["on_demand", "fail"]),
    partition_bytes=st.sampled_from([64, 10**9]),
    outcomes=st.lists(st.sampled_from(OUTCOMES), min_size=12, max_size=12),
    seed=st.integers(0, 1000),
)
def test_every_record_is_accounted_for_exactly_once(
    files: list[list[tuple[str, str | None, str | None]]],
    min_records: int,
    max_records: int,
    small_batch: str,
    partition_bytes: int,
    outcomes: list[str],
    seed: int,
) -> None:
    max_records = max(max_records, min_records)
    with support.fake_aws_environment(), mock_aws(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare_module, "PARTITION_INPUT_BYTES", partition_bytes)
        s3, cloudwatch, dynamodb = (
            support.client("s3"),
            support.client("cloudwatch"),
            support.client("dynamodb"),
        )
        support.create_resources(s3, dynamodb)
        for index, records in enumerate(files):
            put_lines(s3, INPUT, f"in/{index:02d}.jsonl", [line_for(*record) for record in records])

        env = prepare_env(
            MIN_RECORDS_PER_JOB=min_records, MAX_RECORDS_PER_JOB=max_records, SMALL_BATCH=small_batch
        )
        prepared = prepare_module.prepare(
            {"run_id": "r1", "input_bucket": INPUT, "input_prefix": "in/"}, s3=s3, env=env
        )

        jobs = []
        for number, shard in enumerate(prepared["shards"]):
            outcome = outcomes[number % len(outcomes)]
            if outcome != "no_result":
                jobs.append(
                    run_fake_job(
                        s3,
                        "r1",
                        shard["shard_id"],
                        status=outcome,
                        job_id=f"job{number:09d}",
                        missing=hashed(seed, "missing")
                        if outcome in {"PartiallyCompleted", "Stopped"}
                        else lambda _: False,
                        model_error=hashed(seed, "error"),
                        message=f"{outcome} for test",
                    )
                )
        if prepared["small_batch"]["mode"] == "on_demand":

            class Runtime:
                def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
                    return {"body": support.streaming_body(support.echo_output(json.loads(kwargs["body"])))}

            jobs.append(
                on_demand_module.on_demand(
                    {"run_id": "r1"}, s3=s3, runtime=Runtime(), env={"WORK_BUCKET": WORK, "MODEL_ID": "m"}
                )
            )

        result = collect_module.collect(
            {"run_id": "r1", "prepare": prepared, "jobs": jobs},
            s3=s3,
            cloudwatch=cloudwatch,
            dynamodb=dynamodb,
            env=collect_env(),
        )
        results = read_lines(s3, OUTPUT, "results/r1/results.jsonl")
        errors = read_lines(s3, OUTPUT, "results/r1/errors.jsonl")

    # --- the oracle: ids as assigned, what each valid record's body is, which ids are re-used
    input_ids: list[str] = []
    body_of: dict[str, str] = {}  # id -> body of its first valid record
    expected_stage: Counter[tuple[str, str]] = Counter()
    valid_bodies: set[str] = set()
    for file_index, records in enumerate(files):
        for line_number, (kind, record_id, prompt) in enumerate(records, start=1):
            if kind == "blank":
                continue
            rid = record_id or f"line-{file_index}-{line_number}"
            input_ids.append(rid)
            if kind in {"bad_json", "bad_body"}:
                expected_stage[(rid, "validation")] += 1
                continue
            body = br.simple_body_json("anthropic", prompt, None, 512)
            if rid in body_of and body_of[rid] != body:
                expected_stage[(rid, "validation")] += 1  # duplicate_record_id
                continue
            body_of.setdefault(rid, body)
            valid_bodies.add(body)

    # records in == results + errors, and the output ids are the input ids
    assert result["counts"]["records_in"] == len(input_ids) == prepared["counts"]["lines"]
    counts = result["counts"]
    assert counts["results"] + counts["model_errors"] + counts["job_errors"] + counts["quarantined"] == len(
        input_ids
    )
    assert len(results) + len(errors) == len(input_ids)
    assert Counter(line["recordId"] for line in results + errors) == Counter(input_ids)

    # invalid and re-used ids are validation errors (plus every valid record in fail mode)
    below_minimum = 0 < len(valid_bodies) < min_records and small_batch == "fail"
    validation = Counter((e["recordId"], "validation") for e in errors if e["stage"] == "validation")
    if below_minimum:
        assert validation == Counter((rid, "validation") for rid in input_ids)
    else:
        assert validation == expected_stage
        assert prepared["counts"]["distinct"] == len(valid_bodies)

    # a result answers the record's own body, so a duplicate got its twin's result
    for line in results:
        assert line["modelOutput"]["echo"] == body_of[line["recordId"]]

    # records with the same body share one fate: all results, or the same error
    fate: dict[str, set[tuple[str, str]]] = {}
    for line in results:
        fate.setdefault(body_of[line["recordId"]], set()).add(("result", ""))
    for e in errors:
        if e["stage"] != "validation":
            fate.setdefault(body_of[e["recordId"]], set()).add((e["stage"], e["errorCode"]))
    assert all(len(outcomes_of_body) == 1 for outcomes_of_body in fate.values())
