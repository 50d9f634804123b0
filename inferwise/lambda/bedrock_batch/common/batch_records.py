"""Shared code of the BedrockBatchPipeline Lambda functions (see docs/bedrock-batch-contract.md): records.

Record formats per model family, record validation, ids and de-duplication digests, and the token usage
InvokeModel reports; the S3 layout of a run and streaming JSONL over S3 are in `run_files`. Standard
library only, so this module is pure and unit-testable.

Deployed inside every function's asset as `bedrock_batch/common/batch_records.py` (the asset root is
`inferwise/lambda/`), imported by the handlers as `from ..common.batch_records import ...`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring  # C-accelerated; ensure_ascii=False form
from typing import Any, NamedTuple

# ---------------------------------------------------------------------------------------------------
# Constants shared with the state machine (keep in sync with docs/bedrock-batch-contract.md)

FAMILIES = ("anthropic", "nova", "llama", "titan-embed")
ANTHROPIC_VERSION = "bedrock-2023-05-31"
TERMINAL_STATUSES = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
ON_DEMAND_SHARD_ID = "on-demand"
MAX_RECORD_ID_LENGTH = 256
SMALL_BATCH_MODES = ("on_demand", "fail")

# How much of an invalid input line the quarantine keeps (the rest is cut, with "inputTruncated": true).
QUARANTINE_INPUT_LIMIT = 16 * 1024


class Reason:
    """Reason codes of quarantined records (`errorCode` in quarantine.jsonl and errors.jsonl)."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_RECORD_SHAPE = "unknown_record_shape"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_RECORD_ID = "invalid_record_id"
    INVALID_PROMPT = "invalid_prompt"
    INVALID_MODEL_INPUT = "invalid_model_input"
    RECORD_TOO_LARGE = "record_too_large"
    DUPLICATE_RECORD_ID = "duplicate_record_id"
    BELOW_MINIMUM_RECORDS = "below_minimum_records"


class InvalidRecord(Exception):
    """A record that cannot be sent to the model; it goes to the quarantine with `code` and `message`."""

    def __init__(self, code: str, message: str, record_id: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.record_id = record_id


# ---------------------------------------------------------------------------------------------------
# Canonical JSON, digests


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text: equal bodies give equal strings (and equal digests)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def body_digest(body_json: bytes) -> bytes:
    """16-byte digest of a canonical modelInput; the de-duplication key."""
    return hashlib.blake2b(body_json, digest_size=16).digest()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _Decoder(json.JSONDecoder):
    """JSONDecoder with the scanner it builds in __init__ declared (typeshed leaves `scan_once` out)."""

    scan_once: Callable[[str, int], tuple[Any, int]]


_DECODER = _Decoder(parse_constant=_reject_constant)
_SCAN = _DECODER.scan_once  # the C scanner: one call per well-formed line, no whitespace regexes


def loads_strict(text: str) -> Any:
    """json.loads without NaN/Infinity (which Bedrock would reject)."""
    return _DECODER.decode(text)


def record_line(record_id: str, body_json: str) -> str:
    """A Bedrock input line `{"recordId":...,"modelInput":...}` from an id and a canonical body."""
    return '{"recordId":' + encode_basestring(record_id) + ',"modelInput":' + body_json + "}"


_RECORD_ID_PREFIX = '{"recordId":'


def record_id_of(line: str) -> str:
    """The recordId of a line written by `record_line` (fast path), or of any JSON record line."""
    if line.startswith(_RECORD_ID_PREFIX):
        value, _ = _DECODER.raw_decode(line, len(_RECORD_ID_PREFIX))
    else:
        value = loads_strict(line).get("recordId")
    if not isinstance(value, str):
        raise ValueError(f"line has no string recordId: {line[:200]!r}")
    return value


# ---------------------------------------------------------------------------------------------------
# Model families: simple records -> InvokeModel bodies


def llama3_prompt(prompt: str, system: str | None) -> str:
    """The Llama 3 chat template for one user turn (Bedrock takes the formatted text as `prompt`)."""
    text = "<|begin_of_text|>"
    if system:
        text += f"<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
    text += f"<|start_header_id|>user<|end_header_id|>\n\n{prompt}<|eot_id|>"
    return text + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def build_model_input(family: str, prompt: str, system: str | None, max_tokens: int) -> dict[str, Any]:
    """The InvokeModel body for a simple record `{"id", "prompt", "system"?, "max_tokens"?}`."""
    if family == "anthropic":
        body: dict[str, Any] = {
            "anthropic_version": ANTHROPIC_VERSION,
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        }
        if system:
            body["system"] = system
        return body
    if family == "nova":
        body = {
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
        if system:
            body["system"] = [{"text": system}]
        return body
    if family == "llama":
        return {"prompt": llama3_prompt(prompt, system), "max_gen_len": max_tokens}
    if family == "titan-embed":
        return {"inputText": prompt}
    raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")


def simple_body_json(family: str, prompt: str, system: str | None, max_tokens: int) -> str:
    """`canonical_json(build_model_input(...))`, built from templates whose keys are already sorted.

    The hot path of prepare: one C-level string escape per text field instead of a full dumps.
    """
    p = encode_basestring(prompt)
    if family == "anthropic":
        head = f'{{"anthropic_version":"{ANTHROPIC_VERSION}","max_tokens":{max_tokens},'
        text = head + '"messages":[{"content":[{"text":' + p + ',"type":"text"}],"role":"user"}]'
        return text + (',"system":' + encode_basestring(system) + "}" if system else "}")
    if family == "nova":
        text = f'{{"inferenceConfig":{{"maxTokens":{max_tokens}}},"messages":[{{"content":[{{"text":' + p
        text += '}],"role":"user"}]'
        return text + (',"system":[{"text":' + encode_basestring(system) + "}]}" if system else "}")
    if family == "llama":
        return (
            f'{{"max_gen_len":{max_tokens},"prompt":' + encode_basestring(llama3_prompt(prompt, system)) + "}"
        )
    if family == "titan-embed":
        return '{"inputText":' + p + "}"
    raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")


# ---------------------------------------------------------------------------------------------------
# Validation of modelInput bodies per family (Bedrock's job validation does not look inside them)


def _fail(message: str) -> InvalidRecord:
    return InvalidRecord(Reason.INVALID_MODEL_INPUT, message)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_messages(messages: object, *, nova: bool) -> None:
    if not isinstance(messages, list) or not messages:
        raise _fail("messages must be a non-empty list")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _fail(f"{where} must be an object")
        if message.get("role") not in ("user", "assistant"):
            raise _fail(f"{where}.role must be 'user' or 'assistant', got {message.get('role')!r}")
        content = message.get("content")
        if not nova and isinstance(content, str):
            if not content:
                raise _fail(f"{where}.content is empty")
            continue
        if not isinstance(content, list) or not content:
            kind = "a non-empty list of blocks" if nova else "a string or a non-empty list of blocks"
            raise _fail(f"{where}.content must be {kind}")
        for j, block in enumerate(content):
            _check_block(block, f"{where}.content[{j}]", nova=nova)


def _check_block(block: object, where: str, *, nova: bool) -> None:
    if not isinstance(block, dict) or not block:
        raise _fail(f"{where} must be a non-empty object")
    if nova:
        if "type" in block:
            raise _fail(
                f'{where} has a "type" key: Nova content blocks are {{"text": ...}} without "type" '
                "(this is an Anthropic-style block)"
            )
    else:
        if not isinstance(block.get("type"), str):
            raise _fail(f'{where} needs a "type" (e.g. {{"type": "text", "text": ...}})')
        if block["type"] != "text":
            return
    if "text" in block and not isinstance(block["text"], str):
        raise _fail(f"{where}.text must be a string")
    if not nova and "text" not in block:
        raise _fail(f'{where} is a text block without "text"')


def _validate_anthropic(body: dict[str, Any]) -> None:
    if not isinstance(body.get("anthropic_version"), str):
        raise _fail(f"anthropic_version is required (use {ANTHROPIC_VERSION!r})")
    if not _is_positive_int(body.get("max_tokens")):
        raise _fail(f"max_tokens is required and must be a positive integer, got {body.get('max_tokens')!r}")
    _check_messages(body.get("messages"), nova=False)
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        if not isinstance(system, list):
            raise _fail("system must be a string or a list of text blocks")
        for j, block in enumerate(system):
            _check_block(block, f"system[{j}]", nova=False)


def _validate_nova(body: dict[str, Any]) -> None:
    for key, hint in (
        ("anthropic_version", "it is an Anthropic field"),
        ("max_tokens", "Nova takes the limit as inferenceConfig.maxTokens"),
        ("prompt", "Nova takes messages"),
    ):
        if key in body:
            raise _fail(f"{key} is not a Nova field: {hint}")
    _check_messages(body.get("messages"), nova=True)
    system = body.get("system")
    if system is not None:
        if not isinstance(system, list):
            raise _fail('system must be a list of {"text": ...} blocks for Nova')
        for j, block in enumerate(system):
            _check_block(block, f"system[{j}]", nova=True)
    config = body.get("inferenceConfig")
    if config is not None:
        if not isinstance(config, dict):
            raise _fail("inferenceConfig must be an object")
        if "maxTokens" in config and not _is_positive_int(config["maxTokens"]):
            raise _fail(f"inferenceConfig.maxTokens must be a positive integer, got {config['maxTokens']!r}")
        for key in ("temperature", "topP"):
            if key in config and not _is_number(config[key]):
                raise _fail(f"inferenceConfig.{key} must be a number")


def _validate_llama(body: dict[str, Any]) -> None:
    if "messages" in body:
        raise _fail("Llama bodies take a formatted prompt (Llama 3 chat template), not messages")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise _fail("prompt is required and must be a non-empty string")
    if "max_gen_len" in body and not _is_positive_int(body["max_gen_len"]):
        raise _fail(f"max_gen_len must be a positive integer, got {body['max_gen_len']!r}")
    for key in ("temperature", "top_p"):
        if key in body and not _is_number(body[key]):
            raise _fail(f"{key} must be a number")


_TITAN_DIMENSIONS = (256, 512, 1024)


def _validate_titan_embed(body: dict[str, Any]) -> None:
    text = body.get("inputText")
    if not isinstance(text, str) or not text:
        raise _fail("inputText is required and must be a non-empty string")
    if "dimensions" in body and body["dimensions"] not in _TITAN_DIMENSIONS:
        raise _fail(f"dimensions must be one of 256, 512, 1024, got {body['dimensions']!r}")
    if "normalize" in body and not isinstance(body["normalize"], bool):
        raise _fail("normalize must be true or false")
    types = body.get("embeddingTypes")
    if types is not None and (
        not isinstance(types, list) or not types or any(t not in ("float", "binary") for t in types)
    ):
        raise _fail('embeddingTypes must be a non-empty list of "float" and/or "binary"')


_VALIDATORS = {
    "anthropic": _validate_anthropic,
    "nova": _validate_nova,
    "llama": _validate_llama,
    "titan-embed": _validate_titan_embed,
}


def validate_model_input(family: str, body: object) -> None:
    """Raise InvalidRecord(invalid_model_input) when `body` is not an InvokeModel body for `family`."""
    if not isinstance(body, dict):
        raise _fail("modelInput must be a JSON object")
    try:
        validator = _VALIDATORS[family]
    except KeyError:
        raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}") from None
    validator(body)


# ---------------------------------------------------------------------------------------------------
# Input records

READY_FIELDS = frozenset({"recordId", "modelInput"})
_TITAN_SIMPLE = "titan-embed records take only id and prompt (no system, no max_tokens)"
SIMPLE_FIELDS = frozenset({"id", "prompt", "system", "max_tokens"})


class ParsedRecord(NamedTuple):
    record_id: str | None  # None: the record has no id and no fallback was given
    body_json: str  # canonical JSON text of the modelInput


def line_record_id(file_index: int, line_number: int) -> str:
    """The id given to a record that has none (file index from 0, line number from 1)."""
    return f"line-{file_index}-{line_number}"


def _check_record_id(value: object, field: str, fallback: str | None) -> str | None:
    if value is None:
        return fallback
    if value.__class__ is str and 0 < len(value) <= MAX_RECORD_ID_LENGTH and value.isprintable():
        return value  # the common case, checked in one expression
    if not isinstance(value, str):
        raise InvalidRecord(
            Reason.INVALID_RECORD_ID, f"{field} must be a string, got {type(value).__name__}", fallback
        )
    if not value or len(value) > MAX_RECORD_ID_LENGTH:
        raise InvalidRecord(
            Reason.INVALID_RECORD_ID,
            f"{field} must be 1-{MAX_RECORD_ID_LENGTH} characters, got {len(value)}",
            fallback,
        )
    if not value.isprintable():
        raise InvalidRecord(Reason.INVALID_RECORD_ID, f"{field} contains control characters", fallback)
    return value


def _check_fields(
    record: Mapping[str, Any], allowed: frozenset[str], kind: str, record_id: str | None
) -> None:
    if record.keys() <= allowed:
        return
    unknown = [key for key in record if key not in allowed]
    if unknown:
        raise InvalidRecord(
            Reason.UNKNOWN_FIELD,
            f"unknown field(s) {', '.join(sorted(unknown))}; {kind} records take {', '.join(sorted(allowed))}"
            + (
                " (use a ready record {recordId, modelInput} for other model parameters)"
                if kind == "simple"
                else ""
            ),
            record_id,
        )


def parse_record(
    line: bytes, *, family: str, default_max_tokens: int, fallback_id: str | None
) -> ParsedRecord:
    """Parse and validate one input line. Raises InvalidRecord (with the record's id when it has a usable one).

    A record without an id gets `fallback_id`; with `fallback_id=None` its record_id is None (and so is
    an InvalidRecord's), so a caller that streams millions of lines builds line ids only when needed.
    """
    try:
        text = line.decode("utf-8")
        try:
            record, end = _SCAN(text, 0)
        except StopIteration:  # leading whitespace or no value: let decode() say what is wrong
            record, end = _DECODER.decode(text), len(text)
        if end != len(text) and not text[end:].isspace():
            _DECODER.decode(text)  # raises "Extra data"
    except UnicodeDecodeError as error:
        raise InvalidRecord(
            Reason.INVALID_JSON, f"line is not UTF-8 ({error.reason} at byte {error.start})", fallback_id
        ) from None
    except RecursionError:
        raise InvalidRecord(Reason.INVALID_JSON, "JSON is nested too deeply", fallback_id) from None
    except ValueError as error:
        raise InvalidRecord(Reason.INVALID_JSON, str(error)[:300], fallback_id) from None
    if record.__class__ is not dict:
        raise InvalidRecord(
            Reason.NOT_AN_OBJECT, f"a record must be a JSON object, got {type(record).__name__}", fallback_id
        )

    if "prompt" in record and "modelInput" not in record:  # the common case first
        record_id = _check_record_id(record.get("id"), "id", fallback_id)
        if not record.keys() <= SIMPLE_FIELDS:
            _check_fields(record, SIMPLE_FIELDS, "simple", record_id)
        prompt, system, max_tokens = record["prompt"], record.get("system"), record.get("max_tokens")
        if prompt.__class__ is not str or not prompt:
            raise InvalidRecord(Reason.INVALID_PROMPT, "prompt must be a non-empty string", record_id)
        if system is not None and system.__class__ is not str:
            raise InvalidRecord(Reason.INVALID_PROMPT, "system must be a string", record_id)
        if max_tokens is None:
            max_tokens = default_max_tokens
        elif not _is_positive_int(max_tokens):
            raise InvalidRecord(
                Reason.INVALID_PROMPT, f"max_tokens must be a positive integer, got {max_tokens!r}", record_id
            )
        elif family == "titan-embed":
            raise InvalidRecord(Reason.INVALID_PROMPT, _TITAN_SIMPLE, record_id)
        if system and family == "titan-embed":
            raise InvalidRecord(Reason.INVALID_PROMPT, _TITAN_SIMPLE, record_id)
        return ParsedRecord(record_id, simple_body_json(family, prompt, system or None, max_tokens))

    if "modelInput" in record:
        record_id = _check_record_id(record.get("recordId"), "recordId", fallback_id)
        _check_fields(record, READY_FIELDS, "ready", record_id)
        body = record["modelInput"]
        try:
            validate_model_input(family, body)
            body_json = canonical_json(body)
        except InvalidRecord as error:
            error.record_id = record_id
            raise
        except (RecursionError, ValueError) as error:
            raise InvalidRecord(
                Reason.INVALID_MODEL_INPUT, f"modelInput cannot be serialized: {error}", record_id
            ) from None
    else:
        raise InvalidRecord(
            Reason.UNKNOWN_RECORD_SHAPE,
            'a record needs "modelInput" (ready Bedrock record) or "prompt" (simple record)',
            fallback_id,
        )
    return ParsedRecord(record_id, body_json)


def quarantine_line(
    record_id: str, code: str, message: str, *, source: str | None, line: int | None, text: str | bytes | None
) -> str:
    """One line of quarantine.jsonl."""
    entry: dict[str, Any] = {"recordId": record_id, "errorCode": code, "errorMessage": message}
    if source is not None:
        entry["source"] = source
    if line is not None:
        entry["line"] = line
    if text is not None:
        if isinstance(text, bytes):
            text = text[: QUARANTINE_INPUT_LIMIT + 4].decode("utf-8", errors="replace")
        if len(text) > QUARANTINE_INPUT_LIMIT:
            entry["input"] = text[:QUARANTINE_INPUT_LIMIT]
            entry["inputTruncated"] = True
        else:
            entry["input"] = text
    return json.dumps(entry)  # ASCII-escaped: safe to encode whatever the text held


def error_line(record_id: str, stage: str, code: object, message: object) -> str:
    """One line of errors.jsonl: `{"recordId", "stage", "errorCode", "errorMessage"}`."""
    return json.dumps(
        {"recordId": record_id, "stage": stage, "errorCode": str(code), "errorMessage": str(message)}
    )


# ---------------------------------------------------------------------------------------------------
# Usage (token counts) reported by InvokeModel responses, per family


def usage_from_response(body: object, headers: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(input tokens, output tokens) of one InvokeModel response.

    Bedrock sends `x-amzn-bedrock-input-token-count` / `-output-token-count` headers; the bodies carry
    them too: Anthropic `usage.input_tokens/output_tokens`, Nova `usage.inputTokens/outputTokens`,
    Llama `prompt_token_count/generation_token_count`, Titan embeddings `inputTextTokenCount`.
    """
    if headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        if "x-amzn-bedrock-input-token-count" in lowered:
            return (
                _as_int(lowered.get("x-amzn-bedrock-input-token-count")),
                _as_int(lowered.get("x-amzn-bedrock-output-token-count")),
            )
    if not isinstance(body, dict):
        return 0, 0
    usage = body.get("usage")
    if isinstance(usage, dict):
        if "input_tokens" in usage or "output_tokens" in usage:
            return _as_int(usage.get("input_tokens")), _as_int(usage.get("output_tokens"))
        return _as_int(usage.get("inputTokens")), _as_int(usage.get("outputTokens"))
    if "prompt_token_count" in body or "generation_token_count" in body:
        return _as_int(body.get("prompt_token_count")), _as_int(body.get("generation_token_count"))
    if "inputTextTokenCount" in body:
        return _as_int(body.get("inputTextTokenCount")), 0
    return 0, 0


def _as_int(value: object) -> int:
    """A token count as Bedrock reports it (a JSON number or numeric string); 0 for anything else."""
    if not isinstance(value, int | float | str):
        return 0
    try:
        return int(value)
    except ValueError:
        return 0
