"""What the inference gateway adds to a Bedrock call, in-process (target: p50 <= 10 ms), and how many budget
reservations one tenant sustains.

Bedrock is the tests' local stand-in (tests/gateway/support.py: the Converse and ConverseStream wire formats
on loopback, answering at once), reached with boto3 as the function reaches Bedrock. For each path the same
requests go once straight to the stand-in and once through the gateway; the added latency is the difference
of the percentiles:

  * whole answers: `converse` vs `handler.serve` (parse, route, reserve, Converse, settle, EMF line);
  * streamed answers: `converse_stream` read to its end vs `streaming.respond` read to its end (time to
    the first event / byte and to the last), and the same through the gateway's Runtime API loop posting
    to a fake Runtime API on loopback (chunked HTTP, as on Lambda);
  * each with the budget table on moto in-process, and with a do-nothing DynamoDB stub (the gateway's own
    code: on AWS the two UpdateItem calls are network round trips of a few ms instead of moto's Python).

Then reserve + settle pairs per second on one tenant against moto in-process. Prints figures; asserts
nothing. `--requests N` sets the sample size (default 1,000 whole, 500 streamed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from inferwise.constructs.gateway.props import Route, Tenant, gateway_config  # noqa: E402
from inferwise.cost.catalog import PriceCatalog  # noqa: E402
from tests.gateway.streams import FakeRuntimeAPI  # noqa: E402
from tests.gateway.support import LARGE, REGION, TABLE, StandIn, converse_body, create_table, event  # noqa: E402

handler = importlib.import_module("gateway.handler.handler")
streaming = importlib.import_module("gateway.handler.streaming")
budget = importlib.import_module("gateway.common.budget")
config_module = importlib.import_module("gateway.common.config")
loop = importlib.import_module("gateway.runtime.loop")
runtime_api = importlib.import_module("gateway.runtime.api")

ROUTE = "solo"
MESSAGES = converse_body("Summarise the quarterly report in three bullet points.")
ARGUMENTS = {**MESSAGES, "modelId": LARGE, "inferenceConfig": {"maxTokens": 100}}
Samples = tuple[list[tuple[float, float]], list[tuple[float, float]]]


class NullDynamoDB:
    """Accepts every reservation and settlement at once: the gateway's own cost, without moto's."""

    class exceptions:  # mirrors boto3's client.exceptions
        class ConditionalCheckFailedException(Exception):
            pass

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def interleaved(
    calls: int, direct: Callable[[], Any], through: Callable[[], Any]
) -> tuple[list[Any], list[Any]]:
    """Alternate the direct call and the gateway so both see the same machine load; after a warm-up
    (connections, moto's first writes), collect what each returns (times in ms)."""
    for _ in range(min(50, calls)):
        direct()
        through()
    pairs = [(direct(), through()) for _ in range(calls)]
    return [d for d, _ in pairs], [g for _, g in pairs]


def elapsed(started: float) -> float:
    return (time.monotonic() - started) * 1000


def first_and_last(items: Iterator[Any], started: float) -> tuple[float, float]:
    """When the first and the last item arrived (not when the iterator ended: the settlement runs then)."""
    first = last = 0.0
    for index, _ in enumerate(items):
        last = elapsed(started)
        first = last if index == 0 else first
    return first, last


def line(label: str, direct: list[float], gateway: list[float]) -> str:
    d50, d99 = percentile(direct, 0.5), percentile(direct, 0.99)
    g50, g99 = percentile(gateway, 0.5), percentile(gateway, 0.99)
    return (
        f"  {label:<50} direct p50 {d50:6.2f} p99 {d99:6.2f} | gateway p50 {g50:6.2f} p99 {g99:6.2f} | "
        f"added p50 {g50 - d50:6.2f} p99 {g99 - d99:6.2f} ms | x{g50 / d50:4.1f}"
    )


def config() -> Any:
    routes = [Route(name=ROUTE, model_id=LARGE, max_output_tokens=1000)]
    tenants = [Tenant("acme", 1_000_000, header_trusted=True)]
    return config_module.load_config(
        json.dumps(gateway_config(routes, tenants, PriceCatalog.bundled(), REGION))
    )


def whole(bedrock: Any, dynamodb: Any, cfg: Any, calls: int) -> tuple[list[float], list[float]]:
    request = event(MESSAGES, path=f"/model/{ROUTE}/converse")

    def direct() -> float:
        started = time.monotonic()
        bedrock.converse(**ARGUMENTS)
        return elapsed(started)

    def through() -> float:
        started = time.monotonic()
        answer = handler.serve(
            request, config=cfg, bedrock=bedrock, dynamodb=dynamodb, table=TABLE, emit=_drop
        )
        assert answer["statusCode"] == 200, answer
        return elapsed(started)

    return interleaved(calls, direct, through)


def streamed(bedrock: Any, dynamodb: Any, cfg: Any, calls: int) -> Samples:
    """(first, last) event times straight from the stand-in, and (first, last) byte times from the gateway."""
    request = event(MESSAGES, path=f"/model/{ROUTE}/converse-stream")

    def through() -> tuple[float, float]:
        started = time.monotonic()
        reply = streaming.respond(
            request, config=cfg, bedrock=bedrock, dynamodb=dynamodb, table=TABLE, emit=_drop
        )
        assert reply.status == 200
        return first_and_last(reply.chunks, started)

    return interleaved(calls, lambda: _direct_stream(bedrock), through)


def through_runtime_loop(bedrock: Any, dynamodb: Any, cfg: Any, calls: int) -> Samples:
    """Invocation queued -> first and last payload chunk received by a fake Runtime API on loopback."""
    runtime = FakeRuntimeAPI()
    client = runtime_api.RuntimeAPI(runtime.address)
    request = event(MESSAGES, path=f"/model/{ROUTE}/converse-stream")

    def app(request: Any) -> Any:
        return streaming.respond(
            request, config=cfg, bedrock=bedrock, dynamodb=dynamodb, table=TABLE, emit=_drop
        )

    def through() -> tuple[float, float]:
        queued = time.monotonic()
        request_id = runtime.invoke(request)
        runtime.wait_for(lambda: getattr(runtime.deliveries.get(request_id), "done_at", None) is not None)
        chunks = runtime.deliveries.pop(request_id).chunks  # chunk 0 is the prelude
        return (chunks[1][0] - queued) * 1000, (chunks[-1][0] - queued) * 1000

    warm_up = min(50, calls)
    thread = threading.Thread(target=loop.serve_forever, args=(client, app, calls + warm_up), daemon=True)
    thread.start()
    samples = interleaved(calls, lambda: _direct_stream(bedrock), through)
    thread.join(timeout=30)
    runtime.close()
    return samples


def _direct_stream(bedrock: Any) -> tuple[float, float]:
    started = time.monotonic()
    return first_and_last(iter(bedrock.converse_stream(**ARGUMENTS)["stream"]), started)


def reservations(dynamodb: Any, pairs: int) -> tuple[float, list[float]]:
    now = datetime.now(UTC)
    samples = []
    started = time.perf_counter()
    for _ in range(pairs):
        one = time.perf_counter()
        held = budget.reserve(dynamodb, TABLE, "acme", 10**15, 15_030, now)
        budget.settle(dynamodb, TABLE, held, 105)
        samples.append((time.perf_counter() - one) * 1000)
    return pairs / (time.perf_counter() - started), samples


def _drop(_: str) -> None:
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    calls, stream_calls = args.requests, max(args.requests // 2, 1)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(name, value)
    cfg = config()
    stand_in = StandIn()
    bedrock = stand_in.client()
    print(
        f"gateway latency, in-process: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, route {ROUTE} ({LARGE})"
    )
    print(f"whole answers, {calls} requests (ms)")
    with mock_aws():
        moto = boto3.client("dynamodb", region_name=REGION)
        create_table(moto)
        for label, dynamodb in (
            ("DynamoDB stub (gateway code only)", NullDynamoDB()),
            ("DynamoDB on moto in-process", moto),
        ):
            print(line(label, *whole(bedrock, dynamodb, cfg, calls)))
        print(f"streamed answers (6 events), {stream_calls} requests (ms)")
        runs = [("DynamoDB stub", streamed, NullDynamoDB()), ("moto", streamed, moto)]
        runs.append(("moto, through the Runtime API loop", through_runtime_loop, moto))
        for label, measure, dynamodb in runs:
            direct, gateway = measure(bedrock, dynamodb, cfg, stream_calls)
            print(line(f"first byte, {label}", [d[0] for d in direct], [g[0] for g in gateway]))
            print(line(f"last byte, {label}", [d[1] for d in direct], [g[1] for g in gateway]))
        rate, samples = reservations(moto, calls)
        print(f"budget reserve + settle on one tenant, moto in-process, {calls} pairs")
        print(
            f"  {rate:,.0f} pairs/s ({2 * rate:,.0f} UpdateItem/s); pair p50 {percentile(samples, 0.5):.2f} ms, "
            f"p99 {percentile(samples, 0.99):.2f} ms"
        )
        print(
            "  on AWS the ceiling is DynamoDB's: one tenant-month item lives in one partition, 1,000 write "
            "units/s, so at most 500 pairs/s per tenant (docs/gateway.md)"
        )
    stand_in.close()


if __name__ == "__main__":
    main()
