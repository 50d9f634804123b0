"""What a self-hosted option serves and on which instance: the open model, and the smallest instance that holds it.

`served_model` says which open model a self-hosted option runs: the Bedrock model's own open weights, the
workload's `substitute_model` (a different model, whose quality is not compared), or none (closed weights,
or open weights the catalogue does not size). `select_instance` picks, for one kind of self-hosting, the
smallest instance type (by accelerator memory) that holds the model's weights and the KV cache of the
sequences its throughput figure needs, and that has a sourced throughput; it records why smaller ones were
passed over. A pinned instance type that cannot hold the model is an error naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from inferwise.cost.advisor.fit import SERVERLESS_TYPES, Fit, check_fit, gpu_fleet_types, hardware
from inferwise.cost.advisor.throughput import THROUGHPUT_FIELDS, UNKNOWN, SelfHostedKind, Throughput, lookup
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.specs.ec2 import EC2_INSTANCE_SPECS
from inferwise.cost.specs.models import BEDROCK_MODELS, OPEN_MODELS, OpenModel, Precision
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS

SUBSTITUTE_EXAMPLE = "meta-llama/Llama-3.1-70B-Instruct"
DIFFERENT_MODEL = "a different model: quality not compared"


@dataclass(frozen=True)
class ServedModel:
    """The open model a self-hosted option runs, and whether it differs from the Bedrock model compared."""

    model: OpenModel
    different: bool
    bedrock_sku: str


def served_model(workload: Workload, catalog: PriceCatalog) -> ServedModel | str:
    """The open model self-hosting would run, or why there is none (closed or unsized weights)."""
    sku = catalog.bedrock(workload.model_id, workload.region, "input").sku
    entry = BEDROCK_MODELS.get(sku)
    own = entry.open_model if entry is not None and entry.weights == "open" else None
    if workload.substitute_model is not None:
        return ServedModel(OPEN_MODELS[workload.substitute_model], workload.substitute_model != own, sku)
    if own is not None:
        return ServedModel(OPEN_MODELS[own], False, sku)
    if entry is not None and entry.weights == "open":
        return (
            f"{sku}: {entry.note}; pass substitute_model (e.g. {SUBSTITUTE_EXAMPLE}) to price an open model the "
            "catalogue sizes"
        )
    return (
        f"closed weights: {sku} cannot be self-hosted; pass substitute_model (e.g. {SUBSTITUTE_EXAMPLE}) to "
        "price an open model in its place, listed apart as a different model"
    )


def candidate_types(kind: SelfHostedKind) -> list[str]:
    """The instance types a kind of self-hosting may run, smallest accelerator memory first."""
    if kind == "sagemaker":
        types = list(INSTANCE_SPECS)
    elif kind == "serverless":
        types = list(SERVERLESS_TYPES)
    elif kind == "gpu":
        types = gpu_fleet_types()
    else:
        accelerator = "inferentia2" if kind == "inf2" else "graviton"
        types = [t for t, s in EC2_INSTANCE_SPECS.items() if s.accelerator == accelerator]
    sized = [(t, hw) for t in types if (hw := hardware(t)) is not None]
    return [t for t, hw in sorted(sized, key=lambda item: item[1].total_bytes)]


@dataclass(frozen=True)
class Selection:
    """The instance a self-hosted option runs on, its fit and throughput, and why others were passed over."""

    instance_type: str
    fit: Fit
    throughput: Throughput | None
    passed_over: tuple[str, ...] = ()

    @property
    def why_not_smaller(self) -> str:
        return "; ".join(self.passed_over)


def _unknown_reason(model: OpenModel, precision: str, instance_type: str, field: str) -> str:
    type_field, rate_field = THROUGHPUT_FIELDS_BY_TYPE_FIELD[field]
    return (
        f"{UNKNOWN}: no sourced prefill and decode figures for {model.name} ({precision}) on {instance_type}; pass "
        f"{type_field}={instance_type} and {rate_field}=N (your measured input + output tokens/s)"
    )


THROUGHPUT_FIELDS_BY_TYPE_FIELD = {fields[0]: fields for fields in THROUGHPUT_FIELDS.values()}


def _try(
    model: OpenModel, precision: Precision, instance_type: str, context: int, measured: Decimal | None
) -> tuple[Fit, Throughput | None]:
    """The fit at the sequences the throughput needs (one for a measurement or no figure), and the throughput."""
    if measured is not None:
        fit = check_fit(model, precision, instance_type, context, 1)
        assert fit is not None
        return fit, Throughput(instance_type, "your measurement", "high", measured=measured)
    sourced = lookup(model, precision, instance_type)
    fit = check_fit(model, precision, instance_type, context, sourced.sequences if sourced else 1)
    assert fit is not None
    if sourced is not None and not fit.fits:
        single = check_fit(model, precision, instance_type, context, 1)
        assert single is not None
        return (single, None) if single.fits else (fit, None)
    return fit, sourced


@lru_cache(maxsize=512)
def _select(
    model: OpenModel,
    precision: Precision,
    kind: SelfHostedKind,
    pinned: str | None,
    measured: Decimal | None,
    context: int,
) -> Selection | str:
    type_field = THROUGHPUT_FIELDS[kind][0]
    if pinned is not None:
        fit, throughput = _try(model, precision, pinned, context, measured)
        if not fit.fits:
            raise ValueError(
                f"Workload.{type_field} {pinned!r} cannot hold {model.name} at {precision}: {fit.text}"
            )
        if throughput is None:
            return _unknown_reason(model, precision, pinned, type_field)
        return Selection(pinned, fit, throughput)
    passed: list[str] = []
    first_fitting: str | None = None
    for instance_type in candidate_types(kind):
        fit, throughput = _try(model, precision, instance_type, context, measured)
        if not fit.fits:
            passed.append(fit.text)
            continue
        if throughput is not None:
            return Selection(instance_type, fit, throughput, tuple(_summary(passed, first_fitting)))
        if first_fitting is None:
            first_fitting = instance_type
    if first_fitting is not None:
        return _unknown_reason(model, precision, first_fitting, type_field)
    largest = passed[-1] if passed else "no instance type"
    what = (
        "Serverless Inference memory size (1-6 GB, no GPU)"
        if kind == "serverless"
        else f"{kind} instance type"
    )
    return f"no {what} holds {model.name} at {precision}: the largest, {largest}"


def _summary(passed: list[str], fits_unknown: str | None) -> list[str]:
    """At most the two largest types that do not fit, and the smallest that fits without a sourced figure."""
    lines = passed[-2:]
    if len(passed) > 2:
        lines.insert(0, f"{len(passed) - 2} smaller type(s) do not fit either")
    if fits_unknown is not None:
        lines.append(f"{fits_unknown} fits but has no sourced throughput for this model and precision")
    return lines


def select_instance(workload: Workload, kind: SelfHostedKind, model: OpenModel) -> Selection | str:
    """The instance for `kind` (pinned or the smallest that fits with a sourced figure), or why there is none."""
    context = workload.tokens_per_request
    if context > model.context_tokens:
        return f"the request's {context:,} tokens exceed the {model.context_tokens:,}-token context of {model.name}"
    return _select(
        model,
        workload.precision,
        kind,
        workload.instance_type(kind),
        workload.measured_throughput(kind),
        context,
    )
