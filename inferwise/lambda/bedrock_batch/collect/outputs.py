"""collect's reading of one shard: the job's output lines and manifest, joined to the shard's record ids.

Every record of the shard ends in exactly one place: a result, a `model` error (the model's error, or an
output line for it that cannot be read: `malformed_output`), or a `job` error (no output for it). Nothing in
an output file stops the run: a line that is not JSON, not an object, or names no record of the shard is
counted as unexpected (and, when a record id can still be read from it, that record becomes a
`malformed_output` error unless another line answers it).

Tokens come from `manifest.json.out`; when it is missing, truncated, or holds a count that is not a
number, they are recomputed from the usage each output line carries (`usage_from_response`), and the gap is
reported on the job's summary line and in the run's warnings, so a run is never priced $0 silently.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..common.batch_records import error_line, record_id_of, usage_from_response
from ..common.retry import Sleep, TransientError
from ..common.run_files import (
    S3Client,
    S3JsonlWriter,
    input_key_for,
    iter_lines,
    job_id_from_arn,
    list_objects,
    parse_s3_uri,
    read_json,
)

logger = logging.getLogger(__name__)

JOB_ERROR_CODES = {
    "Failed": "job_failed",
    "Stopped": "job_stopped",
    "Expired": "job_expired",
    "Completed": "no_output",
    "PartiallyCompleted": "no_output",
}
MANIFEST_TOKENS = {"input": "inputTokenCount", "output": "outputTokenCount"}
MANIFEST_RECORDS = ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount")
_RECORD_ID = re.compile(rb'"recordId"\s*:\s*("(?:[^"\\\n]|\\.){1,2048}")')


def count_value(value: object) -> int | None:
    """A manifest count as Bedrock writes it (a non-negative JSON integer, or its digits as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_output_line(raw: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """(record id, entry) of an output line; entry None when the line is not a JSON object (the id is then
    whatever `"recordId": "..."` the line still shows, or None)."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        match = _RECORD_ID.search(raw[:65536])
        if match is None:
            return None, None
        try:
            salvaged = json.loads(match.group(1))
        except ValueError:
            return None, None
        return (salvaged if isinstance(salvaged, str) else None), None
    if not isinstance(entry, dict):
        return None, None
    record_id = entry.get("recordId")
    return (record_id if isinstance(record_id, str) else None), entry


class ShardReader:
    """Accounts for every record of one shard (see the module docstring); `read` returns its summary line."""

    def __init__(
        self,
        s3: S3Client,
        work_bucket: str,
        run_id: str,
        results: S3JsonlWriter,
        errors: S3JsonlWriter,
        counts: dict[str, int],
        sleep: Sleep,
    ) -> None:
        self.s3, self.work_bucket, self.run_id, self.sleep = s3, work_bucket, run_id, sleep
        self.results, self.errors, self.counts = results, errors, counts

    # ------------------------------------------------------------------------------------ record fates
    def _result(self, record_id: str, output: Any, copies: list[str]) -> None:
        for rid in (record_id, *copies):
            self.results.write_line(json.dumps({"recordId": rid, "modelOutput": output}))
        self.counts["results"] += 1 + len(copies)

    def _error(self, record_id: str, stage: str, code: object, message: object, copies: list[str]) -> None:
        for rid in (record_id, *copies):
            self.errors.write_line(error_line(rid, stage, code, message))
        self.counts["model_errors" if stage == "model" else "job_errors"] += 1 + len(copies)

    def _answer(self, record_id: str, entry: Mapping[str, Any], copies: list[str]) -> None:
        if "modelOutput" in entry:
            self._result(record_id, entry["modelOutput"], copies)
            return
        error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
        assert isinstance(error, dict)
        self._error(
            record_id,
            "model",
            error.get("errorCode", "malformed_output"),
            error.get("errorMessage", "output line has neither modelOutput nor error"),
            copies,
        )

    # ----------------------------------------------------------------------------------------- reading
    def _shard_ids(self, shard_id: str) -> set[str]:
        pending: set[str] = set()
        key = input_key_for(self.run_id, shard_id)
        for raw in iter_lines(self.s3, self.work_bucket, key, missing_ok=True, sleep=self.sleep):
            if raw.strip():
                pending.add(record_id_of(raw.decode("utf-8")))
        return pending

    def output_files(self, job: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """`*.jsonl.out` and `manifest.json.out` under the job's output folder (`<output_uri><job id>/`)."""
        if not job.get("output_uri"):
            return
        bucket, prefix = parse_s3_uri(job["output_uri"])
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if job.get("job_arn"):
            prefix += job_id_from_arn(job["job_arn"]) + "/"
        for key, _ in list_objects(self.s3, bucket, prefix):
            if key.endswith(".jsonl.out") or key.endswith("manifest.json.out"):
                yield bucket, key

    def _manifest(self, bucket: str, key: str, seen: dict[str, Any]) -> None:
        """Add one manifest's counts to `seen`; a manifest that is not readable JSON is noted, not fatal."""
        try:
            manifest = read_json(self.s3, bucket, key, sleep=self.sleep)
        except TransientError:
            raise
        except (ValueError, RecursionError) as error:
            seen["problems"].append(
                f"{key.rsplit('/', 1)[-1]} is not valid JSON (truncated?): {str(error)[:120]}"
            )
            return
        if not isinstance(manifest, dict):
            seen["problems"].append(f"{key.rsplit('/', 1)[-1]} is not a JSON object")
            return
        seen["found"] += 1
        for direction, field in MANIFEST_TOKENS.items():
            value = count_value(manifest.get(field))
            if value is None:
                seen["bad_fields"].add(field)
            else:
                seen[direction] += value
        for field in MANIFEST_RECORDS:
            value = count_value(manifest.get(field))
            if value is not None:
                seen["records"][field] = seen["records"].get(field, 0) + value

    def read(self, shard_id: str, job: Mapping[str, Any], copies: dict[str, list[str]]) -> dict[str, Any]:
        """Account for every record of one shard; returns the job's line of the summary."""
        status = job.get("status") or "Failed"
        message = job.get("message") or ""
        pending = self._shard_ids(shard_id)
        records = len(pending)
        tally = {"outputs": 0, "unexpected": 0, "input": 0, "output": 0, "without_usage": 0, "files": 0}
        manifest: dict[str, Any] = {
            "found": 0, "input": 0, "output": 0, "bad_fields": set(), "problems": [], "records": {},
        }  # fmt: skip
        malformed: dict[str, str] = {}
        for bucket, key in self.output_files(job):
            if key.endswith("manifest.json.out"):
                self._manifest(bucket, key, manifest)
                continue
            tally["files"] += 1
            self._read_outputs(bucket, key, pending, copies, tally, malformed)
        code = JOB_ERROR_CODES.get(status, "job_failed")
        why = message or f"the job ended {status} without an output for this record"
        for record_id in sorted(pending):
            if record_id in malformed:
                self._error(
                    record_id, "model", "malformed_output", malformed[record_id], copies.pop(record_id, [])
                )
            else:
                self._error(record_id, "job", code, why, copies.pop(record_id, []))
        if copies:  # duplicates of records that are not in this shard: a prepare/collect mismatch
            logger.error(
                json.dumps({"event": "stray_duplicates", "shard_id": shard_id, "records": list(copies)[:20]})
            )
        if tally["unexpected"]:
            logger.warning(
                json.dumps(
                    {"event": "unexpected_outputs", "shard_id": shard_id, "count": tally["unexpected"]}
                )
            )
        line = {
            "shard_id": shard_id,
            "job_arn": job.get("job_arn"),
            "status": status,
            "message": message,
            "records": records,
            "outputs": tally["outputs"],
            "unexpected_outputs": tally["unexpected"],
            "manifest_found": manifest["found"] > 0,
        }
        line.update(token_source(status, tally, manifest))
        return line

    def _read_outputs(
        self,
        bucket: str,
        key: str,
        pending: set[str],
        copies: dict[str, list[str]],
        tally: dict[str, int],
        malformed: dict[str, str],
    ) -> None:
        for raw in iter_lines(self.s3, bucket, key, sleep=self.sleep):
            if not raw.strip():
                continue
            record_id, entry = parse_output_line(raw)
            if record_id is None or record_id not in pending or entry is None:
                tally["unexpected"] += 1  # not ours, a second output for a record, or unreadable
                if record_id is not None and entry is None and record_id in pending:
                    malformed.setdefault(record_id, "the job's output line for this record is not valid JSON")
                continue
            pending.discard(record_id)
            tally["outputs"] += 1
            if "modelOutput" in entry:
                tokens_in, tokens_out = usage_from_response(entry["modelOutput"])
                if tokens_in or tokens_out:
                    tally["input"] += tokens_in
                    tally["output"] += tokens_out
                else:
                    tally["without_usage"] += 1
            self._answer(record_id, entry, copies.pop(record_id, []))


def token_source(status: str, tally: Mapping[str, int], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The job's tokens (manifest first, field by field; else the usage on its output lines) and any gap."""
    ran = tally["outputs"] > 0 or tally["files"] > 0 or status in ("Completed", "PartiallyCompleted")
    bad: set[str] = manifest["bad_fields"]
    from_outputs = [
        direction for direction, field in MANIFEST_TOKENS.items() if not manifest["found"] or field in bad
    ]
    tokens = {
        direction: tally[direction] if direction in from_outputs else manifest[direction]
        for direction in MANIFEST_TOKENS
    }
    gaps = list(manifest["problems"])
    if ran and not manifest["found"] and not manifest["problems"]:
        gaps.append("manifest.json.out is missing")
    gaps += [f"manifest.json.out has no numeric {field}" for field in sorted(bad)]
    processed = manifest["records"].get("processedRecordCount")
    if manifest["found"] and processed is not None and processed != tally["outputs"]:
        gaps.append(
            f"the manifest counts {processed} processed records, the output files hold {tally['outputs']}"
        )
    source = "manifest" if not from_outputs else "outputs" if len(from_outputs) == 2 else "manifest+outputs"
    line: dict[str, Any] = {
        "input_tokens": tokens["input"],
        "output_tokens": tokens["output"],
        "tokens_source": source if ran or manifest["found"] else "none",
    }
    if ran and gaps:
        line["manifest_gaps"] = gaps
        if from_outputs:
            line["outputs_without_usage"] = tally["without_usage"]
    return line
