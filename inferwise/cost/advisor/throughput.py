"""What one self-hosted instance serves, prefill and decode apart, from the sourced table or your measurement.

`inferwise/cost/specs/throughput.csv` holds measurements copied from their publications (each row names its
source, address and date, the engine, precision, tensor-parallel degree and the conditions). From each row
the advisor derives two rates per instance, fitted to the source with the time model

    seconds of one instance per request = input tokens / prefill tokens/s + output tokens / decode tokens/s

- `two-runs` (TensorRT-LLM): two runs at the same input length with different output lengths; their
  difference in time per request is decode time: decode = (O_b - O_a) / (O_b/r_b - O_a/r_a), then
  prefill = I / (O_a/r_a - O_a/decode), where r is the run's output tokens/s.
- `batch-ttft-itl` (static batching): decode = batch / inter-token latency; prefill = batch x I / TTFT.
- `slots-itl-rate` (continuous batching at saturation): decode = sequences decoding / inter-token latency;
  prefill = I / (1 / requests per s - O / decode).

Both rates are rounded to whole tokens/s. A row applies to an instance with the same accelerator; where the
instance has another number of them than the row measured, the rates (and the sequences in flight) are
scaled by the ratio: a stated neighbour, LOW confidence. No row for the model, precision and accelerator
means "throughput unknown": the option asks for a measurement (`--tokens-per-second`), never a default.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from inferwise.cost.advisor.fit import hardware, scaled_sequences
from inferwise.cost.advisor.wording import number_text
from inferwise.cost.model import Confidence
from inferwise.cost.specs.models import OpenModel, Precision

SelfHostedKind = Literal["sagemaker", "inf2", "gpu", "graviton", "serverless"]
SELF_HOSTED_KINDS: tuple[SelfHostedKind, ...] = ("sagemaker", "inf2", "gpu", "graviton", "serverless")

THROUGHPUT_FIELDS: dict[SelfHostedKind, tuple[str, str]] = {
    "sagemaker": ("sagemaker_instance_type", "sagemaker_tokens_per_second"),
    "inf2": ("inf2_instance_type", "inf2_tokens_per_second"),
    "gpu": ("gpu_instance_type", "gpu_tokens_per_second"),
    "graviton": ("graviton_instance_type", "graviton_tokens_per_second"),
    "serverless": ("serverless_memory", "serverless_tokens_per_second"),
}
"""The `Workload` fields (instance type, measured tokens/s) behind each kind of self-hosting."""

THROUGHPUT_TABLE = Path(__file__).resolve().parents[1] / "specs" / "throughput.csv"
UNKNOWN = "throughput unknown"


def precision_class(precision: str) -> str:
    """bf16 and fp16 run at the same speed on the accelerators here: one class, "16-bit"."""
    return "16-bit" if precision in ("bf16", "fp16") else precision


def _whole(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)


def _n(value: Decimal | int) -> str:
    return f"{Decimal(value).normalize():,f}"


@dataclass(frozen=True)
class SourcedCell:
    """One row of the throughput table with the prefill and decode rates derived from it."""

    row: dict[str, str]
    prefill: Decimal
    decode: Decimal
    derivation: str

    @property
    def accelerators(self) -> int:
        return int(self.row["accelerators_used"])

    @property
    def sequences(self) -> int:
        return int(self.row["sequences"]) if self.row["sequences"] else 1


def _derive(row: dict[str, str]) -> tuple[Decimal, Decimal, str]:
    method = row["method"]
    tokens_in = Decimal(row["input_tokens"])
    tokens_out = Decimal(row["output_tokens"])
    if method == "two-runs":
        rate_a, out_b, rate_b = (
            Decimal(row[k])
            for k in ("output_tokens_per_second", "output_tokens_b", "output_tokens_per_second_b")
        )
        time_a, time_b = tokens_out / rate_a, out_b / rate_b
        decode = _whole((out_b - tokens_out) / (time_b - time_a))
        prefill = _whole(tokens_in / (time_a - tokens_out / decode))
        text = (
            f"decode = ({_n(out_b)} - {_n(tokens_out)}) / ({_n(out_b)}/{_n(rate_b)} - {_n(tokens_out)}/{_n(rate_a)} s) "
            f"= {_n(decode)} tokens/s; prefill = {_n(tokens_in)} / ({_n(tokens_out)}/{_n(rate_a)} - "
            f"{_n(tokens_out)}/{_n(decode)} s) = {_n(prefill)} tokens/s"
        )
        return prefill, decode, text
    sequences = Decimal(row["sequences"])
    itl = Decimal(row["itl_ms"]) / 1000
    decode = _whole(sequences / itl)
    if method == "batch-ttft-itl":
        prefill = _whole(sequences * tokens_in / (Decimal(row["ttft_ms"]) / 1000))
        text = (
            f"decode = {_n(sequences)} sequences / {row['itl_ms']} ms = {_n(decode)} tokens/s; prefill = "
            f"{_n(sequences)} x {_n(tokens_in)} tokens / {row['ttft_ms']} ms TTFT = {_n(prefill)} tokens/s"
        )
        return prefill, decode, text
    if method == "slots-itl-rate":
        rate = Decimal(row["requests_per_second"])
        prefill = _whole(tokens_in / (1 / rate - tokens_out / decode))
        text = (
            f"decode = {_n(sequences)} sequences / {row['itl_ms']} ms = {_n(decode)} tokens/s; prefill = "
            f"{_n(tokens_in)} / (1/{_n(rate)} requests/s - {_n(tokens_out)}/{_n(decode)} s) = {_n(prefill)} tokens/s"
        )
        return prefill, decode, text
    raise ValueError(f"throughput.csv: unknown method {method!r}")


@cache
def sourced_cells() -> tuple[SourcedCell, ...]:
    """Every row of the throughput table with its derived rates."""
    with THROUGHPUT_TABLE.open(encoding="utf-8", newline="") as handle:
        return tuple(SourcedCell(row, *_derive(row)) for row in csv.DictReader(handle))


@dataclass(frozen=True)
class Throughput:
    """What one instance serves: prefill and decode tokens/s (sourced), or input + output tokens/s (measured)."""

    instance_type: str
    source: str
    confidence: Confidence
    sequences: int = 1
    prefill: Decimal | None = None
    decode: Decimal | None = None
    measured: Decimal | None = None

    def seconds_per_request(self, tokens_in: int, tokens_out: int) -> Decimal:
        """Seconds of one instance a request takes: I/prefill + O/decode, or (I+O)/measured."""
        if self.measured is not None:
            return Decimal(tokens_in + tokens_out) / self.measured
        assert self.prefill is not None and self.decode is not None
        return Decimal(tokens_in) / self.prefill + Decimal(tokens_out) / self.decode

    def tokens_per_second(self, tokens_in: int, tokens_out: int) -> Decimal:
        """Input + output tokens/s one instance sustains on requests of this shape."""
        if self.measured is not None:
            return self.measured
        return Decimal(tokens_in + tokens_out) / self.seconds_per_request(tokens_in, tokens_out)

    def arithmetic(self, tokens_in: int, tokens_out: int) -> str:
        """The per-request time and the tokens/s it gives, in words."""
        rate = self.tokens_per_second(tokens_in, tokens_out)
        if self.measured is not None:
            return f"{number_text(self.measured)} input + output tokens/s per instance (your measurement)"
        seconds = self.seconds_per_request(tokens_in, tokens_out)
        return (
            f"one request takes {tokens_in:,}/{_n(self.prefill or Decimal(0))} + {tokens_out:,}/"
            f"{_n(self.decode or Decimal(0))} = {number_text(seconds, '0.0001')} s of an instance, i.e. "
            f"{number_text(rate, '0.1')} input + output tokens/s per instance"
        )


def lookup(model: OpenModel, precision: Precision, instance_type: str) -> Throughput | None:
    """The sourced (or neighbour-scaled) throughput of `model` at `precision` on `instance_type`, or None."""
    shape = hardware(instance_type)
    if shape is None:
        return None
    cells = [
        cell
        for cell in sourced_cells()
        if cell.row["architecture"] == model.architecture
        and precision_class(cell.row["precision"]) == precision_class(precision)
        and cell.row["accelerator"] == shape.accelerator
    ]
    if not cells:
        return None
    cell = min(cells, key=lambda c: (c.accelerators != shape.count, abs(c.accelerators - shape.count)))
    scale = Decimal(shape.count) / cell.accelerators
    row = cell.row
    origin = (
        f"{row['source']} ({row['address']}, {row['date']}): {row['measured_model']}, {row['engine']}, "
        f"{row['precision']}, on {row['measured_on']}; {row['conditions']}; {cell.derivation}"
    )
    if scale == 1:
        confidence: Confidence = "low" if row["confidence"] == "low" else "medium"
        return Throughput(instance_type, origin, confidence, cell.sequences, cell.prefill, cell.decode)
    prefill, decode = _whole(cell.prefill * scale), _whole(cell.decode * scale)
    scaled = (
        f"scaled from the {cell.accelerators} to the {shape.count} {shape.accelerator}(s) of {instance_type} "
        f"(x {number_text(scale, '0.001')}: prefill {_n(prefill)}, decode {_n(decode)} tokens/s), a stated "
        f"neighbour, LOW confidence; measured: {origin}"
    )
    return Throughput(instance_type, scaled, "low", scaled_sequences(cell.sequences, scale), prefill, decode)
