"""on_demand's done markers: one small object per finished record, so a rerun never invokes it again.

`runs/<run>/on-demand/done/<sha-256 of the record id, 32 hex digits>.json` holds
`{"recordId", "line" (the record's output line), "failed", "input_tokens", "output_tokens"}`. It is written
right after InvokeModel answers (a success, or an error that another call would repeat), before anything
else can fail; `load` reads them all back at the start of a run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from ..common.run_files import list_objects, on_demand_done_prefix, read_json

logger = logging.getLogger(__name__)


class DoneMarkers:
    def __init__(self, s3: Any, bucket: str, run_id: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, on_demand_done_prefix(run_id)

    def key(self, record_id: str) -> str:
        return f"{self.prefix}{hashlib.sha256(record_id.encode('utf-8')).hexdigest()[:32]}.json"

    def mark(self, record_id: str, line: str, *, failed: bool, input_tokens: int, output_tokens: int) -> None:
        body = {
            "recordId": record_id,
            "line": line,
            "failed": failed,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key(record_id),
            Body=json.dumps(body).encode("utf-8"),
            ContentType="application/json",
        )

    def load(self) -> dict[str, dict[str, Any]]:
        """Every record finished by an earlier attempt of this run: record id -> marker."""
        found: dict[str, dict[str, Any]] = {}
        for key, _ in list_objects(self.s3, self.bucket, self.prefix):
            try:
                marker = read_json(self.s3, self.bucket, key)
                found[str(marker["recordId"])] = {
                    "line": str(marker["line"]),
                    "failed": bool(marker["failed"]),
                    "input_tokens": int(marker.get("input_tokens") or 0),
                    "output_tokens": int(marker.get("output_tokens") or 0),
                }
            except (ValueError, KeyError, TypeError) as error:  # a torn marker: invoke that record again
                logger.warning(json.dumps({"event": "bad_done_marker", "key": key, "error": str(error)}))
        if found:
            logger.info(json.dumps({"event": "done_markers", "records": len(found)}))
        return found
