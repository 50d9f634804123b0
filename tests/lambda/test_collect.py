"""collect: joins outputs on recordId, fans results out to duplicates, accounts for every record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import support
from .support import (
    INPUT,
    OUTPUT,
    WORK,
    collect_env,
    prepare_env,
    put_lines,
    read_json,
    read_lines,
    run_fake_job,
)

prepare_module = support.handler_module("prepare")
collect_module = support.handler_module("collect")
on_demand_module = support.handler_module("on_demand")


def simple(i: int, prompt: str | None = None) -> dict[str, Any]:
    return {"id": f"r{i:02d}", "prompt": prompt or f"prompt {i}"}


def prepare(aws: Any, lines: list[Any], **env: object) -> dict[str, Any]:
    put_lines(aws.s3, INPUT, "in/a.jsonl", lines)
    event = {"run_id": "r1", "input_bucket": INPUT, "input_prefix": "in/"}
    return prepare_module.prepare(event, s3=aws.s3, env=prepare_env(**env))


def collect(aws: Any, prepared: dict[str, Any], jobs: list[dict[str, Any]], **env: object) -> dict[str, Any]:
    event = {"run_id": "r1", "prepare": prepared, "jobs": jobs, "pipeline": "BatchPipelineStateMachine"}
    return collect_module.collect(
        event, s3=aws.s3, cloudwatch=aws.cloudwatch, dynamodb=aws.dynamodb, env=collect_env(**env)
    )


def results(aws: Any) -> dict[str, Any]:
    lines = read_lines(aws.s3, OUTPUT, "results/r1/results.jsonl")
    assert len(lines) == len({line["recordId"] for line in lines})
    return {line["recordId"]: line["modelOutput"] for line in lines}


def errors(aws: Any) -> dict[str, dict[str, Any]]:
    lines = read_lines(aws.s3, OUTPUT, "results/r1/errors.jsonl")
    assert all(set(line) == {"recordId", "stage", "errorCode", "errorMessage"} for line in lines)
    return {line["recordId"]: line for line in lines}


def summary(aws: Any) -> dict[str, Any]:
    return read_json(aws.s3, OUTPUT, "results/r1/summary.json")


def prompt_of(output: dict[str, Any]) -> str:
    return json.loads(output["echo"])["messages"][0]["content"][0]["text"]


DUPLICATED = [simple(0, "same"), simple(1), simple(2, "same"), simple(3), simple(4, "same")]


def test_a_completed_job_gives_every_record_and_its_duplicates_a_result(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(aws.s3, "r1", "shard-00000")
    assert collect(aws, prepared, [job]) == {
        "run_id": "r1",
        "status": "SUCCEEDED",
        "counts": {"records_in": 5, "results": 5, "model_errors": 0, "job_errors": 0, "quarantined": 0},
        "summary_uri": "s3://iw-output/results/r1/summary.json",
        "warnings": [],
    }
    got = results(aws)
    assert sorted(got) == ["r00", "r01", "r02", "r03", "r04"]
    assert got["r02"] == got["r00"] == got["r04"]
    assert prompt_of(got["r04"]) == "same" and prompt_of(got["r03"]) == "prompt 3"
    assert errors(aws) == {}


def test_the_summary_prices_manifest_tokens_at_batch_and_on_demand_rates(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    collect(aws, prepared, [run_fake_job(aws.s3, "r1", "shard-00000")])
    report = summary(aws)
    # 3 distinct records: manifest says 30 input and 15 output tokens
    assert report["tokens"] == {
        "input": 30,
        "output": 15,
        "batch": {"input": 30, "output": 15},
        "on_demand": {"input": 0, "output": 0},
    }
    actual = (30 * 0.125 + 15 * 0.625) / 1e6
    same_on_demand = (30 * 0.25 + 15 * 1.25) / 1e6
    assert report["cost_usd"] == {
        "actual": round(actual, 6),
        "on_demand_equivalent": round(same_on_demand, 6),
        "savings": round(same_on_demand - actual, 6),
        "on_demand_with_duplicates_estimate": round(same_on_demand * 5 / 3, 6),
    }
    assert report["counts"] == {
        "records_in": 5,
        "results": 5,
        "model_errors": 0,
        "job_errors": 0,
        "quarantined": 0,
        "distinct": 3,
        "duplicates": 2,
    }
    assert report["accounting"]["holds"] is True
    [job] = report["jobs"]
    assert (job["status"], job["records"], job["outputs"], job["manifest_found"]) == ("Completed", 3, 3, True)


def test_cost_tokens_and_records_are_published_as_metrics(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    collect(aws, prepared, [run_fake_job(aws.s3, "r1", "shard-00000")])
    metrics = aws.cloudwatch.list_metrics(Namespace=support.NAMESPACE)["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == sorted(name for name, _, _ in collect_module.METRICS)
    assert all(
        m["Dimensions"] == [{"Name": "Pipeline", "Value": "BatchPipelineStateMachine"}] for m in metrics
    )
    stats = aws.cloudwatch.get_metric_statistics(
        Namespace=support.NAMESPACE,
        MetricName="InputTokens",
        Dimensions=[{"Name": "Pipeline", "Value": "BatchPipelineStateMachine"}],
        StartTime="2000-01-01T00:00:00Z",
        EndTime="2100-01-01T00:00:00Z",
        Period=86400,
        Statistics=["Sum"],
    )
    assert [point["Sum"] for point in stats["Datapoints"]] == [30.0]


@pytest.mark.parametrize(("status", "code"), [("Failed", "job_failed"), ("Expired", "job_expired")])
def test_a_failed_or_expired_job_puts_each_of_its_records_in_errors_with_the_job_message(
    aws: Any, status: str, code: str
) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(aws.s3, "r1", "shard-00000", status=status, message="S3 validation failed")
    result = collect(aws, prepared, [job])
    assert result["status"] == "FAILED"
    assert result["counts"] == {
        "records_in": 5,
        "results": 0,
        "model_errors": 0,
        "job_errors": 5,
        "quarantined": 0,
    }
    assert errors(aws)["r04"] == {
        "recordId": "r04",
        "stage": "job",
        "errorCode": code,
        "errorMessage": "S3 validation failed",
    }
    assert results(aws) == {}


def test_partially_completed_records_without_output_are_no_output_job_errors(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(
        aws.s3, "r1", "shard-00000", status="PartiallyCompleted", missing=lambda rid: rid in {"r00", "r03"}
    )
    result = collect(aws, prepared, [job])
    assert result["status"] == "PARTIAL"
    assert sorted(results(aws)) == ["r01"]
    got = errors(aws)
    assert sorted(got) == ["r00", "r02", "r03", "r04"]  # r02 and r04 are r00's duplicates
    assert {e["errorCode"] for e in got.values()} == {"no_output"}
    assert got["r02"]["errorMessage"] == "the job ended PartiallyCompleted without an output for this record"


def test_a_stopped_job_keeps_the_outputs_it_wrote(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(
        aws.s3,
        "r1",
        "shard-00000",
        status="Stopped",
        missing=lambda rid: rid == "r03",
        message="stopped by user",
    )
    collect(aws, prepared, [job])
    assert sorted(results(aws)) == ["r00", "r01", "r02", "r04"]
    assert errors(aws)["r03"]["errorCode"] == "job_stopped"


def test_model_errors_reach_the_record_and_its_duplicates(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(aws.s3, "r1", "shard-00000", model_error=lambda rid: rid == "r00")
    result = collect(aws, prepared, [job])
    assert result["counts"]["model_errors"] == 3
    assert errors(aws)["r04"] == {
        "recordId": "r04",
        "stage": "model",
        "errorCode": "400",
        "errorMessage": "Malformed input request",
    }


def test_quarantined_records_are_validation_errors(aws: Any) -> None:
    prepared = prepare(aws, [*DUPLICATED, b"{oops", {"id": "r01", "prompt": "clash"}])
    result = collect(aws, prepared, [run_fake_job(aws.s3, "r1", "shard-00000")])
    assert result["counts"] == {
        "records_in": 7,
        "results": 5,
        "model_errors": 0,
        "job_errors": 0,
        "quarantined": 2,
    }
    assert result["status"] == "PARTIAL"
    assert errors(aws)["line-0-6"]["stage"] == "validation"
    assert [e["errorCode"] for e in read_lines(aws.s3, OUTPUT, "results/r1/errors.jsonl")] == [
        "invalid_json",
        "duplicate_record_id",
    ]


def test_several_shards_with_mixed_outcomes_and_a_missing_job_result(aws: Any) -> None:
    prepared = prepare(aws, [simple(i, f"p{i % 9}") for i in range(30)], MAX_RECORDS_PER_JOB=3)
    shard_ids = [s["shard_id"] for s in prepared["shards"]]
    assert len(shard_ids) == 3
    jobs = [
        run_fake_job(aws.s3, "r1", shard_ids[0], job_id="job000000001"),
        run_fake_job(aws.s3, "r1", shard_ids[1], status="Failed", job_id="job000000002", message="quota"),
    ]  # no result for the third shard
    result = collect(aws, prepared, jobs)
    assert result["counts"]["records_in"] == 30
    assert result["counts"]["results"] + result["counts"]["job_errors"] == 30
    third = read_lines(aws.s3, WORK, f"runs/r1/shards/{shard_ids[2]}/records.jsonl")
    third_prompts = {line["modelInput"]["messages"][0]["content"][0]["text"] for line in third}
    expected = {f"r{i:02d}" for i in range(30) if f"p{i % 9}" in third_prompts}
    lost = {
        rid: e
        for rid, e in errors(aws).items()
        if e["errorMessage"] == "no job result reached collect for this shard"
    }
    assert set(lost) == expected
    assert {e["errorCode"] for e in lost.values()} == {"job_failed"}
    assert [j["status"] for j in summary(aws)["jobs"]] == ["Completed", "Failed", "Failed"]


def test_outputs_that_are_not_ours_or_repeated_are_ignored_and_counted(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(aws.s3, "r1", "shard-00000")
    key = "runs/r1/outputs/shard-00000/abcdef123456/records.jsonl.out"
    extra = [
        {"recordId": "stranger", "modelOutput": {}},
        {"recordId": "r01", "modelOutput": {"again": 1}},
        "not json",
    ]
    existing = aws.s3.get_object(Bucket=WORK, Key=key)["Body"].read()
    aws.s3.put_object(
        Bucket=WORK,
        Key=key,
        Body=existing
        + b"\n".join(e.encode() if isinstance(e, str) else json.dumps(e).encode() for e in extra)
        + b"\n",
    )
    result = collect(aws, prepared, [job])
    assert result["counts"]["results"] == 5
    assert summary(aws)["jobs"][0]["unexpected_outputs"] == 3
    assert results(aws)["r01"] != {"again": 1}  # the first output of r01 wins


def test_outputs_of_another_job_in_the_same_folder_are_not_read(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    run_fake_job(aws.s3, "r1", "shard-00000", job_id="oldjob000000", model_error=lambda rid: True)
    job = run_fake_job(aws.s3, "r1", "shard-00000", job_id="newjob000000")
    assert collect(aws, prepared, [job])["counts"]["model_errors"] == 0


def test_the_on_demand_path_is_collected_and_priced_on_demand(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED, MIN_RECORDS_PER_JOB=100)
    assert prepared["small_batch"] == {"mode": "on_demand", "records": 3}

    class Runtime:
        def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
            return {"body": support.streaming_body(support.echo_output(json.loads(kwargs["body"])))}

    job = on_demand_module.on_demand(
        {"run_id": "r1"}, s3=aws.s3, runtime=Runtime(), env={"WORK_BUCKET": WORK, "MODEL_ID": "m"}
    )
    result = collect(aws, prepared, [job])
    assert result["status"] == "SUCCEEDED"
    assert results(aws)["r04"] == results(aws)["r00"]
    report = summary(aws)
    assert report["tokens"]["on_demand"] == {"input": 30, "output": 15}
    assert report["cost_usd"]["actual"] == report["cost_usd"]["on_demand_equivalent"]


def test_the_fail_mode_run_is_failed_with_every_record_a_validation_error(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED, MIN_RECORDS_PER_JOB=100, SMALL_BATCH="fail")
    result = collect(aws, prepared, [])
    assert result["status"] == "FAILED"
    assert result["counts"] == {
        "records_in": 5,
        "results": 0,
        "model_errors": 0,
        "job_errors": 0,
        "quarantined": 5,
    }
    assert {e["errorCode"] for e in errors(aws).values()} == {"below_minimum_records"}


def test_an_empty_input_succeeds_with_nothing_to_report(aws: Any) -> None:
    prepared = prepare(aws, [])
    result = collect(aws, prepared, [])
    assert result == {
        "run_id": "r1",
        "status": "SUCCEEDED",
        "counts": {"records_in": 0, "results": 0, "model_errors": 0, "job_errors": 0, "quarantined": 0},
        "summary_uri": "s3://iw-output/results/r1/summary.json",
        "warnings": [],
    }


def test_a_broken_identity_raises_after_writing_the_summary(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    tampered = {**prepared, "counts": {**prepared["counts"], "lines": 6}}
    with pytest.raises(collect_module.AccountingError, match="records_in=6 but accounted=5"):
        collect(aws, tampered, [run_fake_job(aws.s3, "r1", "shard-00000")])
    assert summary(aws)["accounting"]["holds"] is False


def test_a_price_that_is_not_a_number_is_reported(aws: Any) -> None:
    prepared = prepare(aws, DUPLICATED)
    with pytest.raises(ValueError, match="BATCH_INPUT_PRICE_PER_MTOK must be a number"):
        collect(aws, prepared, [], BATCH_INPUT_PRICE_PER_MTOK="cheap")


def test_the_lambda_entry_point_uses_its_environment(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = prepare(aws, DUPLICATED)
    job = run_fake_job(aws.s3, "r1", "shard-00000")
    for name, value in collect_env().items():
        monkeypatch.setenv(name, value)
    clients = {"s3": aws.s3, "cloudwatch": aws.cloudwatch, "dynamodb": aws.dynamodb}
    monkeypatch.setattr(collect_module, "_client", clients.__getitem__)
    assert (
        collect_module.handler({"run_id": "r1", "prepare": prepared, "jobs": [job]}, None)["status"]
        == "SUCCEEDED"
    )
