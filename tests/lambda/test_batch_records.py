"""bedrock_batch.common.batch_records and run_files: record formats per family, validation, ids, job names,
S3 streaming."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import records as br
from .support import run_files as rf

PARSE = {"default_max_tokens": 256, "fallback_id": "line-0-1"}
JOB_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}")
CLIENT_TOKEN = re.compile(r"[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}")
# Bedrock's s3Uri pattern (botocore bedrock CreateModelInvocationJob)
S3_URI = re.compile(
    r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?"
)


def parse(record: Any, family: str = "anthropic") -> Any:
    line = record if isinstance(record, bytes) else json.dumps(record).encode()
    return br.parse_record(line, family=family, **PARSE)


def rejected(record: Any, family: str = "anthropic") -> br.InvalidRecord:
    with pytest.raises(br.InvalidRecord) as caught:
        parse(record, family)
    return caught.value


# ------------------------------------------------------------------------------ simple records -> bodies


def test_simple_anthropic_record_becomes_a_messages_body() -> None:
    parsed = parse({"id": "a", "prompt": "Hi", "system": "Be brief", "max_tokens": 50})
    assert parsed.record_id == "a"
    assert json.loads(parsed.body_json) == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "system": "Be brief",
    }


def test_simple_nova_record_uses_text_blocks_without_type_and_max_tokens_in_inference_config() -> None:
    parsed = parse({"id": "n", "prompt": "Hi", "system": "Be brief"}, "nova")
    assert json.loads(parsed.body_json) == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "system": [{"text": "Be brief"}],
        "inferenceConfig": {"maxTokens": 256},
    }


def test_simple_llama_record_applies_the_llama3_chat_template() -> None:
    parsed = parse({"id": "l", "prompt": "Hi", "system": "Be brief", "max_tokens": 64}, "llama")
    assert json.loads(parsed.body_json) == {
        "prompt": (
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n"
        ),
        "max_gen_len": 64,
    }


def test_simple_titan_embed_record_becomes_input_text() -> None:
    assert json.loads(parse({"id": "t", "prompt": "embed me"}, "titan-embed").body_json) == {
        "inputText": "embed me"
    }


def test_titan_embed_rejects_system_and_max_tokens() -> None:
    error = rejected({"id": "t", "prompt": "x", "max_tokens": 5}, "titan-embed")
    assert (error.code, error.record_id) == ("invalid_prompt", "t")


texts = st.text(min_size=1, max_size=40)


@settings(max_examples=200)
@given(
    family=st.sampled_from(br.FAMILIES),
    prompt=texts,
    system=st.one_of(st.none(), texts),
    max_tokens=st.integers(1, 10**6),
)
def test_the_fast_template_is_the_canonical_json_of_the_body(
    family: str, prompt: str, system: str | None, max_tokens: int
) -> None:
    body = br.build_model_input(family, prompt, system, max_tokens)
    assert br.simple_body_json(family, prompt, system, max_tokens) == br.canonical_json(body)


def test_ready_records_are_canonicalised_so_key_order_and_spacing_do_not_matter() -> None:
    body = {
        "max_tokens": 5,
        "messages": [{"content": "hi", "role": "user"}],
        "anthropic_version": "bedrock-2023-05-31",
    }
    one = parse({"recordId": "a", "modelInput": body})
    two = parse(
        b'{"modelInput": '
        + json.dumps(dict(reversed(body.items())), indent=3).encode()
        + b', "recordId": "b"}'
    )
    assert one.body_json == two.body_json


def test_a_record_without_id_gets_the_fallback_line_id() -> None:
    assert parse({"prompt": "x"}).record_id == "line-0-1"
    assert br.line_record_id(2, 7) == "line-2-7"


# -------------------------------------------------------------------------------------- invalid records


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        (b"{not json", "invalid_json", "Expecting property name"),
        (b"\xff\xfe{}", "invalid_json", "not UTF-8"),
        (b'{"prompt": NaN}', "invalid_json", "NaN is not valid JSON"),
        (b"[1, 2]", "not_an_object", "got list"),
        (b'{"id": "x", "text": "hi"}', "unknown_record_shape", "modelInput"),
        (b'{"id": 7, "prompt": "hi"}', "invalid_record_id", "id must be a string, got int"),
        (b'{"id": "", "prompt": "hi"}', "invalid_record_id", "1-256 characters"),
        (b'{"id": "a\\nb", "prompt": "hi"}', "invalid_record_id", "control characters"),
        (b'{"id": "x", "prompt": "hi", "temperature": 0.2}', "unknown_field", "temperature"),
        (b'{"id": "x", "recordId": "y", "prompt": "hi"}', "unknown_field", "recordId"),
        (b'{"recordId": "x", "modelInput": {}, "extra": 1}', "unknown_field", "extra"),
        (b'{"id": "x", "prompt": ""}', "invalid_prompt", "prompt must be a non-empty string"),
        (
            b'{"id": "x", "prompt": "hi", "max_tokens": 0}',
            "invalid_prompt",
            "max_tokens must be a positive integer",
        ),
        (b'{"id": "x", "prompt": "hi", "max_tokens": true}', "invalid_prompt", "max_tokens"),
        (b'{"id": "x", "prompt": "hi", "system": 3}', "invalid_prompt", "system must be a string"),
        (b'{"recordId": "x", "modelInput": []}', "invalid_model_input", "must be a JSON object"),
    ],
)
def test_invalid_lines_have_a_reason_code_and_message(line: bytes, code: str, message: str) -> None:
    error = rejected(line)
    assert error.code == code
    assert message in error.message


def test_an_overlong_id_is_rejected_and_reported_under_the_line_id() -> None:
    error = rejected({"id": "x" * 257, "prompt": "hi"})
    assert (error.code, error.record_id) == ("invalid_record_id", "line-0-1")


def test_a_body_error_is_reported_under_the_records_own_id() -> None:
    error = rejected({"recordId": "mine", "modelInput": {"messages": []}})
    assert (error.code, error.record_id) == ("invalid_model_input", "mine")


ANTHROPIC_OK = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
}
NOVA_OK = {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 10}}


@pytest.mark.parametrize(
    ("family", "body", "message"),
    [
        ("anthropic", {**ANTHROPIC_OK, "anthropic_version": None}, "anthropic_version is required"),
        ("anthropic", {k: v for k, v in ANTHROPIC_OK.items() if k != "max_tokens"}, "max_tokens is required"),
        ("anthropic", {**ANTHROPIC_OK, "messages": []}, "messages must be a non-empty list"),
        ("anthropic", {**ANTHROPIC_OK, "messages": [{"role": "system", "content": "x"}]}, "role must be"),
        (
            "anthropic",
            {**ANTHROPIC_OK, "messages": [{"role": "user", "content": [{"text": "x"}]}]},
            'needs a "type"',
        ),
        (
            "anthropic",
            {**ANTHROPIC_OK, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            'without "text"',
        ),
        (
            "nova",
            {**NOVA_OK, "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
            "Anthropic-style",
        ),
        ("nova", {**NOVA_OK, "messages": [{"role": "user", "content": "hi"}]}, "non-empty list of blocks"),
        ("nova", {**NOVA_OK, "system": "be brief"}, 'list of {"text": ...} blocks'),
        ("nova", {**NOVA_OK, "system": [{"type": "text", "text": "x"}]}, "Anthropic-style"),
        ("nova", {**NOVA_OK, "max_tokens": 5}, "inferenceConfig.maxTokens"),
        ("nova", {**NOVA_OK, "anthropic_version": "bedrock-2023-05-31"}, "Anthropic field"),
        ("nova", {**NOVA_OK, "inferenceConfig": {"maxTokens": -1}}, "maxTokens must be a positive integer"),
        ("llama", {"messages": [], "max_gen_len": 5}, "formatted prompt"),
        ("llama", {"prompt": "", "max_gen_len": 5}, "prompt is required"),
        ("llama", {"prompt": "x", "max_gen_len": "5"}, "max_gen_len must be a positive integer"),
        ("titan-embed", {"text": "x"}, "inputText is required"),
        ("titan-embed", {"inputText": "x", "dimensions": 300}, "dimensions must be one of"),
        ("titan-embed", {"inputText": "x", "embeddingTypes": ["int8"]}, "embeddingTypes"),
    ],
)
def test_bodies_that_do_not_fit_the_family_are_invalid_model_input(
    family: str, body: Any, message: str
) -> None:
    error = rejected({"recordId": "r", "modelInput": body}, family)
    assert error.code == "invalid_model_input"
    assert message in error.message


@pytest.mark.parametrize(
    ("family", "body"),
    [
        ("anthropic", ANTHROPIC_OK),
        ("anthropic", {**ANTHROPIC_OK, "system": [{"type": "text", "text": "s"}]}),
        (
            "anthropic",
            {**ANTHROPIC_OK, "messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
        ),
        ("nova", NOVA_OK),
        ("nova", {**NOVA_OK, "system": [{"text": "s"}], "schemaVersion": "messages-v1"}),
        ("llama", {"prompt": "x", "max_gen_len": 5, "temperature": 0.5}),
        (
            "titan-embed",
            {"inputText": "x", "dimensions": 512, "normalize": True, "embeddingTypes": ["float"]},
        ),
    ],
)
def test_documented_bodies_are_accepted(family: str, body: Any) -> None:
    assert json.loads(parse({"recordId": "r", "modelInput": body}, family).body_json) == body


# ----------------------------------------------------------------------------------------- names, ids


@settings(max_examples=300)
@given(run_id=st.text(min_size=1, max_size=120), shard=st.integers(0, 99999))
def test_job_names_are_valid_job_names_and_client_tokens_and_deterministic(run_id: str, shard: int) -> None:
    name = rf.job_name(run_id, rf.shard_id_for(shard))
    assert len(name) <= 63
    assert JOB_NAME.fullmatch(name)
    assert CLIENT_TOKEN.fullmatch(name)
    assert name == rf.job_name(run_id, rf.shard_id_for(shard))


def test_a_plain_job_name_is_readable_and_a_long_one_keeps_runs_apart() -> None:
    assert rf.job_name("r1", "shard-00003") == "iw-r1-shard-00003"
    long_a, long_b = "a" * 70 + "1", "a" * 70 + "2"
    assert rf.job_name(long_a, "shard-00000") != rf.job_name(long_b, "shard-00000")
    assert rf.job_name("run_1", "shard-00000") != rf.job_name("run-1", "shard-00000")


@given(
    run_id=st.from_regex(r"[A-Za-z0-9!_*'().\-]{1,80}", fullmatch=True).filter(lambda r: r not in {".", ".."})
)
def test_valid_run_ids_make_shard_uris_bedrock_accepts(run_id: str) -> None:
    rf.validate_run_id(run_id)
    uri = rf.s3_uri("iw-work", rf.shard_prefix(run_id, "shard-00000"))
    assert S3_URI.fullmatch(uri)
    assert S3_URI.fullmatch(rf.s3_uri("iw-work", rf.outputs_prefix(run_id, "shard-00000")))


@pytest.mark.parametrize("run_id", ["", "a b", "run:1", "x" * 81, "..", "r/1", None, 5])
def test_run_ids_bedrock_would_reject_are_refused(run_id: Any) -> None:
    with pytest.raises(ValueError, match="run_id must be"):
        rf.validate_run_id(run_id)


def test_record_id_of_reads_our_lines_and_any_record_line() -> None:
    assert br.record_id_of(br.record_line('a"b\u00e9', '{"x":1}')) == 'a"b\u00e9'
    assert br.record_id_of('{"modelInput": {}, "recordId": "z"}') == "z"


def test_quarantine_lines_truncate_long_input_and_survive_unpaired_surrogates() -> None:
    text = br.quarantine_line("\ud800", "c", "m", source="s3://b/k", line=3, text="x" * 20000)
    entry = json.loads(text.encode("utf-8"))
    assert entry["inputTruncated"] is True
    assert len(entry["input"]) == br.QUARANTINE_INPUT_LIMIT
    assert entry["recordId"] == "\ud800"


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ({"usage": {"input_tokens": 3, "output_tokens": 4}}, None, (3, 4)),
        ({"usage": {"inputTokens": 5, "outputTokens": 6}}, None, (5, 6)),
        ({"prompt_token_count": 7, "generation_token_count": 8}, None, (7, 8)),
        ({"inputTextTokenCount": 9, "embedding": []}, None, (9, 0)),
        ({"no": "usage"}, None, (0, 0)),
        ({}, {"X-Amzn-Bedrock-Input-Token-Count": "11", "X-Amzn-Bedrock-Output-Token-Count": "12"}, (11, 12)),
    ],
)
def test_usage_is_read_from_headers_or_each_familys_body(
    body: Any, headers: Any, expected: tuple[int, int]
) -> None:
    assert br.usage_from_response(body, headers) == expected


# --------------------------------------------------------------------------------------- S3 streaming


def test_a_small_writer_does_one_put_and_a_large_one_a_multipart_upload(aws: Any, monkeypatch: Any) -> None:
    with rf.S3JsonlWriter(aws.s3, "iw-work", "small.jsonl") as small:
        small.write_line('{"a":1}')
    assert aws.s3.get_object(Bucket="iw-work", Key="small.jsonl")["Body"].read() == b'{"a":1}\n'

    line = "x" * 1000
    with rf.S3JsonlWriter(aws.s3, "iw-work", "big.jsonl", part_size=rf.MIN_PART_SIZE) as big:
        for _ in range(12_000):  # ~12 MB: three parts
            big.write_line(line)
    head = aws.s3.head_object(Bucket="iw-work", Key="big.jsonl")
    assert head["ContentLength"] == 12_000 * 1001
    assert head["ETag"].endswith('-3"')  # a multipart ETag names its part count
    assert sum(1 for _ in rf.iter_lines(aws.s3, "iw-work", "big.jsonl")) == 12_000


def test_a_writer_that_fails_aborts_its_multipart_upload(aws: Any) -> None:
    with (
        pytest.raises(RuntimeError),
        rf.S3JsonlWriter(aws.s3, "iw-work", "k.jsonl", part_size=rf.MIN_PART_SIZE) as w,
    ):
        for _ in range(6000):
            w.write_line("y" * 1000)
        raise RuntimeError("boom")
    assert aws.s3.list_multipart_uploads(Bucket="iw-work").get("Uploads", []) == []
    assert "Contents" not in aws.s3.list_objects_v2(Bucket="iw-work")


def test_iter_lines_of_a_missing_object_is_empty_only_when_allowed(aws: Any) -> None:
    assert list(rf.iter_lines(aws.s3, "iw-work", "nope", missing_ok=True)) == []
    with pytest.raises(Exception, match="NoSuchKey"):
        list(rf.iter_lines(aws.s3, "iw-work", "nope"))
