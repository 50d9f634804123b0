"""prepare: streaming validation, de-duplication, sharding and the small-batch rule (moto S3)."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from . import support
from .support import INPUT, WORK, keys, prepare_env, put_lines, read_lines

prepare_module = support.handler_module("prepare")
EVENT = {"run_id": "r1", "input_bucket": INPUT, "input_prefix": "in/"}


def prepare(aws: Any, **env: object) -> dict[str, Any]:
    return prepare_module.prepare(EVENT, s3=aws.s3, env=prepare_env(**env))


def shard_lines(aws: Any, shard_id: str, run_id: str = "r1") -> list[dict[str, Any]]:
    return read_lines(aws.s3, WORK, f"runs/{run_id}/shards/{shard_id}/records.jsonl")


def quarantine(aws: Any) -> list[dict[str, Any]]:
    return read_lines(aws.s3, WORK, "runs/r1/quarantine.jsonl")


def simple(i: int, prompt: str | None = None) -> dict[str, Any]:
    return {"id": f"r{i:03d}", "prompt": prompt or f"prompt {i}"}


def test_valid_records_become_one_shard_of_bedrock_lines(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i) for i in range(5)])
    result = prepare(aws)
    assert result == {
        "run_id": "r1",
        "shards": [
            {"shard_id": "shard-00000", "input_uri": "s3://iw-work/runs/r1/shards/shard-00000/", "records": 5}
        ],
        "small_batch": {"mode": "none", "records": 0},
        "counts": {
            "lines": 5,
            "valid": 5,
            "distinct": 5,
            "duplicates": 0,
            "quarantined": 0,
            "refused_inputs": 0,
        },
    }
    lines = shard_lines(aws, "shard-00000")
    assert sorted(line["recordId"] for line in lines) == [f"r{i:03d}" for i in range(5)]
    assert all(set(line) == {"recordId", "modelInput"} for line in lines)
    assert lines[0]["modelInput"]["anthropic_version"] == "bedrock-2023-05-31"


def test_exact_duplicate_bodies_are_sent_once_and_mapped_to_the_kept_record(aws: Any) -> None:
    put_lines(
        aws.s3,
        INPUT,
        "in/a.jsonl",
        [simple(0, "same"), simple(1, "other"), simple(2, "same"), simple(3, "same")],
    )
    result = prepare(aws)
    assert result["counts"] == {
        "lines": 4,
        "valid": 4,
        "distinct": 2,
        "duplicates": 2,
        "quarantined": 0,
        "refused_inputs": 0,
    }
    assert sorted(line["recordId"] for line in shard_lines(aws, "shard-00000")) == ["r000", "r001"]
    assert read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl") == [
        {"recordId": "r000", "shard_id": "shard-00000", "duplicates": ["r002", "r003"]}
    ]


def test_a_ready_record_and_a_simple_record_with_the_same_body_are_duplicates(aws: Any) -> None:
    body = support.records.build_model_input("anthropic", "hello", None, 512)
    put_lines(
        aws.s3,
        INPUT,
        "in/a.jsonl",
        [{"recordId": "ready", "modelInput": body}, {"id": "simple", "prompt": "hello"}],
    )
    result = prepare(aws, MIN_RECORDS_PER_JOB=1)
    assert result["counts"]["duplicates"] == 1


def test_a_reused_id_with_another_body_is_quarantined_for_the_later_record(aws: Any) -> None:
    put_lines(
        aws.s3,
        INPUT,
        "in/a.jsonl",
        [simple(0, "first"), simple(1), simple(2), {"id": "r000", "prompt": "second"}],
    )
    result = prepare(aws)
    assert result["counts"] == {
        "lines": 4,
        "valid": 3,
        "distinct": 3,
        "duplicates": 0,
        "quarantined": 1,
        "refused_inputs": 0,
    }
    [entry] = quarantine(aws)
    assert entry["recordId"] == "r000"
    assert entry["errorCode"] == "duplicate_record_id"
    assert (
        entry["errorMessage"]
        == "record id already used with a different body at line 1 of s3://iw-input/in/a.jsonl"
    )
    assert entry["line"] == 4
    assert json.loads(entry["input"])["modelInput"]["messages"][0]["content"][0]["text"] == "second"
    kept = [line for line in shard_lines(aws, "shard-00000") if line["recordId"] == "r000"]
    assert kept[0]["modelInput"]["messages"][0]["content"][0]["text"] == "first"


def test_the_same_id_with_the_same_body_is_a_duplicate_of_itself(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(0), simple(1), simple(2), simple(0)])
    result = prepare(aws)
    assert result["counts"] == {
        "lines": 4,
        "valid": 4,
        "distinct": 3,
        "duplicates": 1,
        "quarantined": 0,
        "refused_inputs": 0,
    }
    assert read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl") == [
        {"recordId": "r000", "shard_id": "shard-00000", "duplicates": ["r000"]}
    ]


def test_malformed_lines_are_quarantined_with_their_line_id_and_blank_lines_ignored(aws: Any) -> None:
    put_lines(
        aws.s3,
        INPUT,
        "in/a.jsonl",
        [simple(0), "", "   ", b"{broken", simple(1), b"\xff\xfe", '"just a string"', simple(2)],
    )
    result = prepare(aws)
    assert result["counts"] == {
        "lines": 6,
        "valid": 3,
        "distinct": 3,
        "duplicates": 0,
        "quarantined": 3,
        "refused_inputs": 0,
    }
    assert [(e["recordId"], e["errorCode"], e["line"]) for e in quarantine(aws)] == [
        ("line-0-4", "invalid_json", 4),
        ("line-0-6", "invalid_json", 6),
        ("line-0-7", "not_an_object", 7),
    ]
    assert quarantine(aws)[0]["input"] == "{broken"
    assert quarantine(aws)[0]["source"] == "s3://iw-input/in/a.jsonl"


def test_a_nova_body_with_anthropic_style_blocks_is_quarantined(aws: Any) -> None:
    anthropic_style = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 10},
    }
    put_lines(
        aws.s3,
        INPUT,
        "in/a.jsonl",
        [{"recordId": "bad", "modelInput": anthropic_style}, simple(1), simple(2), simple(3)],
    )
    result = prepare(aws, MODEL_FAMILY="nova")
    assert result["counts"]["quarantined"] == 1
    [entry] = quarantine(aws)
    assert (entry["recordId"], entry["errorCode"]) == ("bad", "invalid_model_input")
    assert "Anthropic-style" in entry["errorMessage"]
    assert all(
        line["modelInput"]["messages"][0]["content"][0].keys() == {"text"}
        for line in shard_lines(aws, "shard-00000")
    )


def test_records_without_id_get_line_ids_from_file_index_and_line_number(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [{"prompt": "a"}, {"prompt": "b"}])
    put_lines(aws.s3, INPUT, "in/b.jsonl", [{"prompt": "c"}])
    put_lines(aws.s3, INPUT, "in/notes.txt", [{"prompt": "not read"}])
    put_lines(aws.s3, INPUT, "other/c.jsonl", [{"prompt": "not under the prefix"}])
    prepare(aws, MIN_RECORDS_PER_JOB=1)
    assert sorted(line["recordId"] for line in shard_lines(aws, "shard-00000")) == [
        "line-0-1",
        "line-0-2",
        "line-1-1",
    ]


def test_a_utf8_bom_and_crlf_line_ends_are_accepted(aws: Any) -> None:
    data = b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(simple(i)).encode() for i in range(3)) + b"\r\n"
    aws.s3.put_object(Bucket=INPUT, Key="in/a.jsonl", Body=data)
    assert prepare(aws)["counts"] == {
        "lines": 3,
        "valid": 3,
        "distinct": 3,
        "duplicates": 0,
        "quarantined": 0,
        "refused_inputs": 0,
    }


def test_shards_respect_max_records_and_are_balanced(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i) for i in range(25)])
    result = prepare(aws, MAX_RECORDS_PER_JOB=10)
    assert [shard["records"] for shard in result["shards"]] == [9, 9, 7]
    ids = [line["recordId"] for shard in result["shards"] for line in shard_lines(aws, shard["shard_id"])]
    assert sorted(ids) == [f"r{i:03d}" for i in range(25)]


def test_shards_respect_max_shard_bytes(aws: Any) -> None:
    put_lines(
        aws.s3, INPUT, "in/a.jsonl", [simple(i, f"{i}" + "x" * 500) for i in range(12)]
    )  # ~650 bytes a line
    result = prepare(aws, MAX_SHARD_BYTES=2048, MIN_RECORDS_PER_JOB=1)
    assert len(result["shards"]) >= 4
    for shard in result["shards"]:
        size = aws.s3.head_object(Bucket=WORK, Key=f"runs/r1/shards/{shard['shard_id']}/records.jsonl")[
            "ContentLength"
        ]
        assert size <= 2048
    assert sum(shard["records"] for shard in result["shards"]) == 12


def test_a_record_larger_than_a_shard_is_quarantined(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(0, "x" * 5000), simple(1)])
    result = prepare(aws, MAX_SHARD_BYTES=2048, MIN_RECORDS_PER_JOB=1)
    assert [(e["recordId"], e["errorCode"]) for e in quarantine(aws)] == [("r000", "record_too_large")]
    assert result["shards"][0]["records"] == 1


def test_below_the_minimum_the_records_go_on_demand(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(0, "same"), simple(1, "same"), simple(2)])
    result = prepare(aws, MIN_RECORDS_PER_JOB=100, SMALL_BATCH="on_demand")
    assert result["shards"] == []
    assert result["small_batch"] == {"mode": "on_demand", "records": 2}
    assert result["counts"] == {
        "lines": 3,
        "valid": 3,
        "distinct": 2,
        "duplicates": 1,
        "quarantined": 0,
        "refused_inputs": 0,
    }
    assert sorted(
        line["recordId"] for line in read_lines(aws.s3, WORK, "runs/r1/on-demand/records.jsonl")
    ) == [
        "r000",
        "r002",
    ]
    assert read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl") == [
        {"recordId": "r000", "shard_id": "on-demand", "duplicates": ["r001"]}
    ]
    assert not keys(aws.s3, WORK, "runs/r1/shards/")


def test_below_the_minimum_in_fail_mode_every_valid_record_is_quarantined(aws: Any) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(0, "same"), simple(1, "same"), simple(2), b"{bad"])
    result = prepare(aws, MIN_RECORDS_PER_JOB=100, SMALL_BATCH="fail")
    assert result["shards"] == []
    assert result["small_batch"] == {"mode": "fail", "records": 2}
    assert result["counts"] == {
        "lines": 4,
        "valid": 0,
        "distinct": 0,
        "duplicates": 0,
        "quarantined": 4,
        "refused_inputs": 0,
    }
    entries = {e["recordId"]: e for e in quarantine(aws)}
    assert set(entries) == {"r000", "r001", "r002", "line-0-4"}
    assert entries["r001"]["errorCode"] == "below_minimum_records"
    assert "2 distinct valid records, below the minimum of 100" in entries["r001"]["errorMessage"]
    assert read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl") == []
    assert not keys(aws.s3, WORK, "runs/r1/shards/") and not keys(aws.s3, WORK, "runs/r1/on-demand/")


@pytest.mark.parametrize("files", [[], [("in/empty.jsonl", [])]])
def test_an_empty_input_prepares_nothing(aws: Any, files: list[tuple[str, list[Any]]]) -> None:
    for key, lines in files:
        put_lines(aws.s3, INPUT, key, lines)
    result = prepare(aws, SMALL_BATCH="fail")
    assert result == {
        "run_id": "r1",
        "shards": [],
        "small_batch": {"mode": "none", "records": 0},
        "counts": {
            "lines": 0,
            "valid": 0,
            "distinct": 0,
            "duplicates": 0,
            "quarantined": 0,
            "refused_inputs": 0,
        },
    }
    assert sorted(keys(aws.s3, WORK)) == [
        "runs/r1/duplicates.jsonl",
        "runs/r1/quarantine.jsonl",
        "runs/r1/refused.jsonl",
    ]


def test_the_partition_count_changes_nothing_but_memory(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [simple(i, f"p{i % 37}") for i in range(300)] + [
        {"id": f"r{i:03d}", "prompt": "clash"} for i in range(0, 300, 7)
    ]
    put_lines(aws.s3, INPUT, "in/a.jsonl", lines)

    def outcome(partition_bytes: int) -> tuple[Any, ...]:
        monkeypatch.setattr(prepare_module, "PARTITION_INPUT_BYTES", partition_bytes)
        result = prepare(aws, MAX_RECORDS_PER_JOB=20)
        shard_ids = {line["recordId"] for s in result["shards"] for line in shard_lines(aws, s["shard_id"])}
        groups = {
            frozenset([d["recordId"], *d["duplicates"]])
            for d in read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl")
        }
        quarantined = sorted(e["recordId"] for e in quarantine(aws))
        return result["counts"], len(shard_ids), groups, quarantined

    assert prepare_module.partition_count(1000) == 1
    assert prepare_module.partition_count(10**12) == prepare_module.MAX_PARTITIONS
    assert outcome(10**9) == outcome(512)


def test_duplicate_map_lines_are_ordered_by_shard(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare_module, "PARTITION_INPUT_BYTES", 256)
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i, f"p{i % 40}") for i in range(200)])
    result = prepare(aws, MAX_RECORDS_PER_JOB=10)
    order = [s["shard_id"] for s in result["shards"]]
    lines = read_lines(aws.s3, WORK, "runs/r1/duplicates.jsonl")
    positions = [order.index(line["shard_id"]) for line in lines]
    assert positions == sorted(positions)
    for line in lines:
        assert line["recordId"] in {r["recordId"] for r in shard_lines(aws, line["shard_id"])}


def test_the_spool_directory_is_removed(aws: Any, tmp_path: Path) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i) for i in range(5)])
    prepare_module.prepare(EVENT, s3=aws.s3, env=prepare_env(), tmp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_running_out_of_tmp_space_says_what_to_change(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i) for i in range(5)])

    class Full:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(prepare_module, "open", Full, raising=False)
    with pytest.raises(prepare_module.PrepareError, match="ephemeral storage"):
        prepare(aws)
    assert aws.s3.list_multipart_uploads(Bucket=WORK).get("Uploads", []) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MODEL_FAMILY": "gpt"},
            "MODEL_FAMILY must be one of anthropic, nova, llama, titan-embed, got 'gpt'",
        ),
        ({"SMALL_BATCH": "skip"}, "SMALL_BATCH must be one of on_demand, fail, got 'skip'"),
        ({"MAX_RECORDS_PER_JOB": "ten"}, "MAX_RECORDS_PER_JOB must be an integer, got 'ten'"),
        ({"MIN_RECORDS_PER_JOB": "0"}, "MIN_RECORDS_PER_JOB must be >= 1, got 0"),
        (
            {"MAX_RECORDS_PER_JOB": "2", "MIN_RECORDS_PER_JOB": "3"},
            "MAX_RECORDS_PER_JOB (2) is below MIN_RECORDS_PER_JOB (3)",
        ),
        ({"WORK_BUCKET": ""}, "WORK_BUCKET is not set"),
    ],
)
def test_bad_configuration_is_reported_plainly(aws: Any, env: dict[str, str], message: str) -> None:
    with pytest.raises(prepare_module.PrepareError) as caught:
        prepare(aws, **env)
    assert str(caught.value) == message


def test_a_run_id_bedrock_cannot_use_in_an_s3_uri_is_refused(aws: Any) -> None:
    with pytest.raises(ValueError, match="run_id must be"):
        prepare_module.prepare({**EVENT, "run_id": "run:1"}, s3=aws.s3, env=prepare_env())


def test_the_lambda_entry_point_reads_its_environment(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    put_lines(aws.s3, INPUT, "in/a.jsonl", [simple(i) for i in range(3)])
    for name, value in prepare_env().items():
        monkeypatch.setenv(name, value)
    prepare_module._s3.cache_clear()
    try:
        result = prepare_module.handler(EVENT, None)
    finally:
        prepare_module._s3.cache_clear()
    assert result["shards"][0]["records"] == 3
