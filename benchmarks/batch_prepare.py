"""Benchmark of the Bedrock batch `prepare` handler: throughput and peak memory.

Prints figures, asserts nothing. For each input size it reports the median over --repeats runs of:
  * prepare's throughput against a plain JSONL pass over the same file in the same run (read every line
    with Body.iter_lines, json.loads, json.dumps, write it back through the same multipart writer);
    target: prepare >= 0.5x the plain pass;
  * prepare's peak traced memory (tracemalloc) - target: 1M records within 20% of 100k records.

S3 backend: by default a local file-backed fake of the S3 client (objects are files; get_object returns
botocore's real StreamingBody over the file, so iter_lines is the code Lambda runs; multipart parts are
files). moto keeps every object and response body in memory, so under moto tracemalloc measures moto's
object store (68 MB peak for prepare at 100k records, 106 MB for the plain pass) rather than the handler;
its throughput ratio is about the same (0.55-0.59 at 100k). `--backend moto` runs the same measurement
in-process against moto for comparison.

    .venv/bin/python benchmarks/batch_prepare.py                 # 100k and 1M records, 3 repeats
    .venv/bin/python benchmarks/batch_prepare.py --sizes 20000 --repeats 1 --backend moto
"""

from __future__ import annotations

import argparse
import gc
import importlib
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "inferwise" / "lambda"))
prepare_module = importlib.import_module("bedrock_batch.prepare.handler")
br = importlib.import_module("bedrock_batch.common.batch_records")
run_files = importlib.import_module("bedrock_batch.common.run_files")

INPUT_BUCKET, WORK_BUCKET = "bench-input", "bench-work"
ENV = {
    "WORK_BUCKET": WORK_BUCKET,
    "MODEL_ID": "anthropic.claude-3-haiku-20240307-v1:0",
    "MODEL_FAMILY": "anthropic",
    "MIN_RECORDS_PER_JOB": "100",
    "MAX_RECORDS_PER_JOB": "50000",
    "MAX_SHARD_BYTES": "1000000000",
    "SMALL_BATCH": "on_demand",
    "DEFAULT_MAX_TOKENS": "512",
}
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "this",
    "it",
    "be",
    "are",
    "or",
    "an",
    "was",
    "which",
]


class LocalS3:
    """The subset of the S3 client the handlers use, backed by files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._uploads: dict[str, Path] = {}
        self._ids = itertools.count()

    def _path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def list_objects_v2(self, *, Bucket: str, Prefix: str = "", **_: Any) -> dict[str, Any]:
        base = self.root / Bucket
        keys = sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        contents = [{"Key": k, "Size": (base / k).stat().st_size} for k in keys if k.startswith(Prefix)]
        return {"Contents": contents, "IsTruncated": False}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        path = self._path(Bucket, Key)
        return {"Body": StreamingBody(path.open("rb"), path.stat().st_size)}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        path = self._path(Bucket, Key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Body)
        return {}

    def create_multipart_upload(self, *, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        upload_id = f"u{next(self._ids)}"
        self._uploads[upload_id] = Path(tempfile.mkdtemp(dir=self.root))
        return {"UploadId": upload_id}

    def upload_part(self, *, UploadId: str, PartNumber: int, Body: bytes, **_: Any) -> dict[str, Any]:
        (self._uploads[UploadId] / f"{PartNumber:05d}").write_bytes(Body)
        return {"ETag": f'"{UploadId}-{PartNumber}"'}

    def complete_multipart_upload(self, *, Bucket: str, Key: str, UploadId: str, **_: Any) -> dict[str, Any]:
        path = self._path(Bucket, Key)
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = self._uploads.pop(UploadId)
        with path.open("wb") as out:
            for part in sorted(parts.iterdir()):
                with part.open("rb") as data:
                    shutil.copyfileobj(data, out)
        shutil.rmtree(parts)
        return {}

    def abort_multipart_upload(self, *, UploadId: str, **_: Any) -> dict[str, Any]:
        shutil.rmtree(self._uploads.pop(UploadId), ignore_errors=True)
        return {}


def input_lines(count: int, seed: int = 7) -> Iterator[bytes]:
    """A realistic mix: 90% simple records, 8% ready Bedrock records, ~2% duplicate bodies, 0.5% bad lines."""
    rng = random.Random(seed)
    earlier: list[str] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.005:
            yield b'{"id": "broken", "prompt": '
            continue
        if roll < 0.025 and earlier:
            prompt = rng.choice(earlier)
        else:
            prompt = " ".join(rng.choices(WORDS, k=rng.randint(20, 45))) + f" #{i}"
            if len(earlier) < 5000:
                earlier.append(prompt)
        if roll > 0.92:
            body = br.build_model_input("anthropic", prompt, "You are terse.", 256)
            yield json.dumps({"recordId": f"rec-{i:08d}", "modelInput": body}).encode()
        else:
            yield json.dumps({"id": f"rec-{i:08d}", "prompt": prompt}).encode()


def plain_pass(s3: Any, key: str) -> int:
    """The baseline: read every line, parse it, serialize it, write it back through the same writer."""
    lines = 0
    with run_files.S3JsonlWriter(s3, WORK_BUCKET, "plain/records.jsonl") as out:
        for raw in run_files.iter_lines(s3, INPUT_BUCKET, key):
            try:
                record = json.loads(
                    raw.decode("utf-8")
                )  # str: json.loads(bytes) is slower, favouring prepare
            except ValueError:
                continue
            out.write_line(json.dumps(record))
            lines += 1
    return lines


def run_prepare(s3: Any, run_id: str) -> dict[str, Any]:
    event = {"run_id": run_id, "input_bucket": INPUT_BUCKET, "input_prefix": "in/"}
    result: dict[str, Any] = prepare_module.prepare(event, s3=s3, env=ENV)
    return result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextmanager
def backend(kind: str, root: Path) -> Iterator[Any]:
    if kind == "local":
        for bucket in (INPUT_BUCKET, WORK_BUCKET):
            (root / bucket).mkdir(parents=True, exist_ok=True)
        yield LocalS3(root)
        return
    import boto3
    from moto import mock_aws

    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (INPUT_BUCKET, WORK_BUCKET):
            s3.create_bucket(Bucket=bucket)
        yield s3


def upload_input(s3: Any, root: Path, count: int) -> tuple[str, int]:
    key = "in/records.jsonl"
    local = root / "source.jsonl"
    with local.open("wb") as out:
        for line in input_lines(count):
            out.write(line + b"\n")
    size = local.stat().st_size
    if isinstance(s3, LocalS3):
        target = s3._path(INPUT_BUCKET, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(local), target)
    else:
        with local.open("rb") as data:
            s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=data.read())
        local.unlink()
    return key, size


def measure(count: int, repeats: int, kind: str, memory: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="iw-bench-") as tmp, backend(kind, Path(tmp)) as s3:
        key, size = upload_input(s3, Path(tmp), count)
        plain_times, prepare_times, peaks, plain_peaks = [], [], [], []
        result: dict[str, Any] = {}
        for repeat in range(repeats):
            seconds, _ = timed(lambda: plain_pass(s3, key))
            plain_times.append(seconds)
            seconds, result = timed(lambda r=repeat: run_prepare(s3, f"t{r}"))
            prepare_times.append(seconds)
            if memory:
                peaks.append(peak_memory(lambda r=repeat: run_prepare(s3, f"m{r}")))
                plain_peaks.append(peak_memory(lambda: plain_pass(s3, key)))
        plain_s, prepare_s = statistics.median(plain_times), statistics.median(prepare_times)
        return {
            "records": count,
            "input_mb": size / 1e6,
            "plain_s": plain_s,
            "prepare_s": prepare_s,
            "plain_rps": count / plain_s,
            "prepare_rps": count / prepare_s,
            "ratio": plain_s / prepare_s,
            "prepare_peak_mb": statistics.median(peaks) / 2**20 if peaks else None,
            "plain_peak_mb": statistics.median(plain_peaks) / 2**20 if plain_peaks else None,
            "counts": result["counts"],
            "shards": len(result["shards"]),
            "partitions": prepare_module.partition_count(size),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated record counts")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=["local", "moto"], default="local")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(
        f"prepare benchmark: backend={args.backend}, medians of {args.repeats} runs, python {sys.version.split()[0]}"
    )
    rows = [measure(n, args.repeats, args.backend, not args.no_memory) for n in sizes]
    header = f"{'records':>9} {'input MB':>9} {'plain rec/s':>12} {'prepare rec/s':>14} {'ratio':>6} {'peak MB':>8} {'plain peak MB':>14} {'shards':>6} {'parts':>5}"
    print(header)
    for row in rows:
        peak = f"{row['prepare_peak_mb']:8.1f}" if row["prepare_peak_mb"] is not None else f"{'-':>8}"
        plain_peak = f"{row['plain_peak_mb']:14.1f}" if row["plain_peak_mb"] is not None else f"{'-':>14}"
        print(
            f"{row['records']:>9} {row['input_mb']:9.1f} {row['plain_rps']:12,.0f} {row['prepare_rps']:14,.0f} "
            f"{row['ratio']:6.2f} {peak} {plain_peak} {row['shards']:>6} {row['partitions']:>5}"
        )
        print(f"{'':>9} counts: {row['counts']}")
    with_memory = [r for r in rows if r["prepare_peak_mb"] is not None]
    if len(with_memory) >= 2:
        small, large = with_memory[0], with_memory[-1]
        growth = large["prepare_peak_mb"] / small["prepare_peak_mb"] - 1
        print(
            f"peak memory {large['records']:,} vs {small['records']:,} records: {growth:+.1%} "
            f"({small['prepare_peak_mb']:.1f} MB -> {large['prepare_peak_mb']:.1f} MB)"
        )
    print("throughput ratio = plain-pass time / prepare time (target >= 0.5); memory target: within 20%")


if __name__ == "__main__":
    main()
