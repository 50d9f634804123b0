"""The handlers' real outputs (contract_examples) have exactly the shapes docs/bedrock-batch-contract.md gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import contract_examples

JOB_RESULT_KEYS = {"shard_id", "job_arn", "status", "output_uri", "message"}
STATUSES = {"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"}


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    return contract_examples.all_examples()


def test_prepare_output_has_the_contract_keys(examples: dict[str, Any]) -> None:
    for name in ("prepare", "prepare_on_demand", "prepare_fail"):
        output = examples[name]
        assert set(output) == {"run_id", "shards", "small_batch", "counts"}
        assert set(output["small_batch"]) == {"mode", "records"}
        assert set(output["counts"]) == {
            "lines",
            "valid",
            "distinct",
            "duplicates",
            "quarantined",
            "refused_inputs",
        }
        assert output["counts"]["lines"] == output["counts"]["valid"] + output["counts"]["quarantined"]
        assert output["counts"]["valid"] == output["counts"]["distinct"] + output["counts"]["duplicates"]
    [shard] = examples["prepare"]["shards"]
    assert set(shard) == {"shard_id", "input_uri", "records"}
    assert shard["input_uri"].endswith(f"/runs/{contract_examples.RUN_ID}/shards/shard-00000/")
    assert [examples[n]["small_batch"]["mode"] for n in ("prepare", "prepare_on_demand", "prepare_fail")] == [
        "none",
        "on_demand",
        "fail",
    ]
    assert examples["prepare_on_demand"]["shards"] == examples["prepare_fail"]["shards"] == []


def test_job_results_from_events_and_on_demand_have_the_contract_keys(examples: dict[str, Any]) -> None:
    for name in ("events_job_result", "events_job_result_failed", "on_demand"):
        assert set(examples[name]) == JOB_RESULT_KEYS
        assert examples[name]["status"] in STATUSES
    assert examples["on_demand"]["job_arn"] is None
    assert examples["on_demand"]["shard_id"] == "on-demand"
    assert examples["events_job_result_failed"]["message"] == "Bedrock could not read the input"


def test_submit_stores_the_token_under_the_job_arn(examples: dict[str, Any]) -> None:
    submit = examples["submit"]
    assert submit["token_item"]["job_arn"]["S"] == submit["returned"]["job_arn"]
    assert submit["token_item"]["task_token"]["S"] == contract_examples.TASK_TOKEN
    assert len(submit["create_model_invocation_job"]["jobName"]) <= 63


def test_collect_output_has_the_contract_keys_and_statuses(examples: dict[str, Any]) -> None:
    expected = {
        "collect": "SUCCEEDED",
        "collect_with_quarantine": "PARTIAL",
        "collect_partial": "PARTIAL",
        "collect_failed": "FAILED",
        "collect_fail_mode": "FAILED",
    }
    for name, status in expected.items():
        output = examples[name]
        assert set(output) == {"run_id", "status", "counts", "summary_uri", "warnings"}
        assert output["warnings"] == [], name
        assert set(output["counts"]) == {"records_in", "results", "model_errors", "job_errors", "quarantined"}
        assert output["status"] == status, name
        counts = output["counts"]
        assert counts["records_in"] == sum(v for k, v in counts.items() if k != "records_in")


def test_every_example_fits_a_step_functions_payload(examples: dict[str, Any]) -> None:
    assert len(json.dumps(examples).encode()) < 256 * 1024
