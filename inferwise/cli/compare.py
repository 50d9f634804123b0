"""`inferwise compare`: the break-even advisor on the command line.

`add_compare_command(subparsers)` adds the `compare` sub-command to the `inferwise` parser; `inferwise.cli`
owns the parser. The workload comes from flags, from a YAML file with the fields of
`inferwise.cost.advisor.Workload` (`--workload FILE.yml`), or both (flags win); `--prices FILE.json` lays a
price override file (the format of the cdk.json context `inferwise:prices`) over the bundled catalogue.
Errors are one line on stderr and exit code 2, and they and the hints name the flags (`_with_flags`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from inferwise.cli.common import (
    Subparsers,
    UserError,
    add_file_option,
    add_format_option,
    number,
    one_line_parse_errors,
    user_errors,
    whole_number,
    write_rendered,
)
from inferwise.cost.advisor import (
    THROUGHPUT_FIELDS,
    Comparison,
    ServingOption,
    compare_serving_options,
    tokens_text,
    workload_from_mapping,
)
from inferwise.cost.advisor.workload import WorkloadFileError, load_workload_file
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.render import usd
from inferwise.cost.specs.ec2 import EC2_INSTANCE_SPECS

PROG = "inferwise compare"

FLAG_FOR_FIELD: dict[str, str] = {
    "model_id": "--model",
    "requests_per_month": "--requests-per-month",
    "input_tokens_per_request": "--input-tokens",
    "output_tokens_per_request": "--output-tokens",
    "active_hours_per_day": "--active-hours-per-day",
    "peak_to_average": "--peak-to-average",
    "batch_ok": "--batch-ok",
    "cache_prefix_tokens": "--cache-prefix-tokens",
    "cache_hit_rate": "--cache-hit-rate",
    "cache_ttl": "--cache-ttl",
    "small_model_id": "--small-model",
    "routed_share": "--routed-share",
    "service_tier": "--service-tier",
    "substitute_model": "--substitute-model",
    "precision": "--precision",
    "sagemaker_instance_type": "--instance-type",
    "inf2_instance_type": "--instance-type",
    "gpu_instance_type": "--instance-type",
    "graviton_instance_type": "--instance-type",
    "sagemaker_tokens_per_second": "--tokens-per-second",
    "inf2_tokens_per_second": "--tokens-per-second",
    "gpu_tokens_per_second": "--tokens-per-second",
    "graviton_tokens_per_second": "--tokens-per-second",
    "serverless_memory": "--instance-type",
    "serverless_tokens_per_second": "--tokens-per-second",
    "savings_plan_discount": "--savings-plan-discount",
    "savings_plan_term": "--savings-plan-term",
    "ops_hours_per_month": "--ops-hours-per-month",
    "ops_hourly_usd": "--ops-hourly-usd",
    "scenarios": "--scenarios",
    "region": "--region",
}
"""The flag that sets each workload field (a YAML file sets any field by its name)."""


class CompareError(UserError):
    """A workload the flags or the file cannot make; its message is final (it already names flags or the
    file's field names)."""


# ------------------------------------------------------------------------------------------------- parsing
def add_compare_command(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Add `compare` to an `add_subparsers()` object; returns its parser (handler: `run_compare`)."""
    parser = subparsers.add_parser(
        "compare",
        help="price every way to serve a workload, with break-even volumes",
        description=(
            "Price a workload as Bedrock on-demand (global profile, Flex and Priority tiers, long context), "
            "batch, prompt caching and a routed cascade, and self-hosted as a SageMaker endpoint (always on, "
            "scaling to zero, asynchronous, serverless, under a Savings Plan), Spot fleets on Inferentia2, GPUs "
            "and Graviton, and Reserved Instances; show the cheapest, why, and the volumes where the order changes."
        ),
    )
    one_line_parse_errors(parser, PROG)
    add = parser.add_argument
    add_file_option(parser, "--workload", "FILE.yml", "YAML file with Workload fields (flags override it)")
    add("--model", metavar="ID", help="Bedrock model id or inference profile id")
    add("--requests-per-month", type=number, metavar="N")
    add("--input-tokens", type=whole_number, metavar="N", help="input tokens per request")
    add("--output-tokens", type=whole_number, metavar="N", help="output tokens per request")
    add(
        "--batch-ok",
        action="store_true",
        default=None,
        help="the work can wait up to 24 h (not real-time; prices Bedrock batch)",
    )
    add("--active-hours-per-day", type=number, metavar="H", help="hours a day with traffic (default 24)")
    add("--peak-to-average", type=number, metavar="R", help="peak over average tokens/s (default 1)")
    add(
        "--cache-prefix-tokens",
        type=whole_number,
        metavar="N",
        help="shared prompt prefix tokens per request",
    )
    add("--cache-hit-rate", type=number, metavar="R", help="share of requests that hit the cache (0-1)")
    add("--cache-ttl", choices=("5m", "1h"), help="how long the prompt cache lives: 5m (default) or 1h")
    add(
        "--deferrable",
        action="store_true",
        default=None,
        help="the work may be late (not real-time): prices the Bedrock Flex tier where the model has it",
    )
    add(
        "--service-tier",
        choices=("flex", "priority"),
        help="ask for a Bedrock service tier (error if not offered)",
    )
    add("--small-model", metavar="ID", help="small model of a routed cascade")
    add("--routed-share", type=number, metavar="R", help="share of requests the small model handles (0-1)")
    _add_self_hosting_flags(add)
    add("--region", metavar="R", help="AWS Region to price (default us-east-1)")
    add_file_option(
        parser,
        "--prices",
        "FILE.json",
        "price override file laid over the bundled catalogue (the format of the cdk.json context inferwise:prices)",
    )
    add_format_option(parser, RENDERERS)
    add_file_option(parser, "--plot", "FILE.png", "write a cost-vs-volume chart (needs inferwise[plot])")
    parser.set_defaults(func=run_compare)
    return parser


def _read_workload_file(path: Path) -> dict[str, Any]:
    """The workload file's fields, read by the advisor's safe loader; its errors become one-line CLI errors."""
    try:
        return load_workload_file(path)
    except WorkloadFileError as bad:
        raise CompareError(str(bad)) from None


def _add_self_hosting_flags(add: Callable[..., Any]) -> None:
    """The flags that shape the self-hosted options: substitute, precision, instances, throughput, people."""
    add(
        "--substitute-model",
        metavar="NAME",
        help="an open model to self-host in place of a closed one, e.g. meta-llama/Llama-3.1-70B-Instruct",
    )
    add(
        "--precision",
        choices=("bf16", "fp16", "fp8", "int8", "int4"),
        help="self-hosted weights (default bf16)",
    )
    add(
        "--instance-type",
        action="append",
        metavar="T",
        help="pin a self-hosting instance type: ml.* (SageMaker), inf2.*, g5/g6/g6e (GPU fleet), Graviton, or "
        "serverless-1gb to serverless-6gb (SageMaker Serverless Inference memory); repeatable",
    )
    add(
        "--tokens-per-second",
        "--throughput",
        dest="tokens_per_second",
        action="append",
        type=number,
        metavar="N",
        help="your measured input + output tokens/s per instance, one per --instance-type in the same order",
    )
    add(
        "--ops-hours-per-month",
        type=number,
        metavar="H",
        help="people-hours a month a self-hosted option takes (20)",
    )
    add("--ops-hourly-usd", type=number, metavar="USD", help="cost of one of those hours (100)")
    add(
        "--savings-plan-discount",
        type=number,
        metavar="D",
        help="your SageMaker AI Savings Plan rate off On-Demand (0-1); prices the always-on endpoint under it",
    )
    add("--savings-plan-term", choices=("1yr", "3yr"), help="the term of that plan (1yr)")
    add("--scenarios", type=_multipliers, metavar="M,M,M", help="volume multipliers to compare (0.5,1,2)")


def _multipliers(text: str) -> tuple[int | Decimal, ...]:
    """`0.5,1,2` as numbers."""
    return tuple(number(part.strip()) for part in text.split(","))


def _instance_kind(instance_type: str) -> str:
    if instance_type.startswith("ml."):
        return "sagemaker"
    if instance_type.startswith("serverless-"):
        return "serverless"
    if instance_type.split(".", 1)[0] in ("g5", "g6", "g6e"):
        return "gpu"
    spec = EC2_INSTANCE_SPECS.get(instance_type)
    if spec is None:
        raise CompareError(
            f"--instance-type {instance_type!r} is not an instance type the advisor knows: pass a SageMaker type "
            "(ml.g5.xlarge, ml.inf2.xlarge, ...), an Inferentia2 type (inf2.xlarge, ...), an EC2 GPU type "
            "(g5.xlarge, g6e.xlarge, ...), a Graviton type (c7g.16xlarge, m7g.2xlarge, ...) or a Serverless "
            "Inference memory size (serverless-1gb to serverless-6gb)"
        )
    return "inf2" if spec.accelerator == "inferentia2" else "graviton"


def workload_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The Workload fields from `--workload` and the flags (flags win)."""
    fields = _read_workload_file(args.workload) if args.workload is not None else {}
    flags = {
        "model_id": args.model,
        "requests_per_month": args.requests_per_month,
        "input_tokens_per_request": args.input_tokens,
        "output_tokens_per_request": args.output_tokens,
        "active_hours_per_day": args.active_hours_per_day,
        "peak_to_average": args.peak_to_average,
        "cache_prefix_tokens": args.cache_prefix_tokens,
        "cache_hit_rate": args.cache_hit_rate,
        "small_model_id": args.small_model,
        "routed_share": args.routed_share,
        "cache_ttl": args.cache_ttl,
        "service_tier": args.service_tier,
        "substitute_model": args.substitute_model,
        "precision": args.precision,
        "ops_hours_per_month": args.ops_hours_per_month,
        "ops_hourly_usd": args.ops_hourly_usd,
        "savings_plan_discount": args.savings_plan_discount,
        "savings_plan_term": args.savings_plan_term,
        "scenarios": args.scenarios,
        "region": args.region,
    }
    fields.update({name: value for name, value in flags.items() if value is not None})
    if args.batch_ok:
        fields["batch_ok"] = True
    if args.deferrable:
        fields["realtime"] = False
    if fields.get("batch_ok") is True and "realtime" not in fields:
        fields["realtime"] = False
    types: list[str] = args.instance_type or []
    throughputs: list[Any] = args.tokens_per_second or []
    if throughputs and len(throughputs) != len(types):
        raise CompareError(
            f"--tokens-per-second is given {len(throughputs)} time(s) and --instance-type {len(types)} time(s): pass "
            "one --tokens-per-second per --instance-type, in the same order"
        )
    seen: set[str] = set()
    for position, instance_type in enumerate(types):
        kind = _instance_kind(instance_type)
        if kind in seen:
            raise CompareError(f"--instance-type names two {kind} instance types; pass one of each kind")
        seen.add(kind)
        type_field, throughput_field = THROUGHPUT_FIELDS[kind]  # type: ignore[index]
        if throughputs:
            fields[throughput_field] = throughputs[position]
        elif fields.get(type_field) != instance_type:
            # a throughput from the file was measured on another instance type
            fields.pop(throughput_field, None)
        fields[type_field] = instance_type
    return fields


_FIELD_PATTERN = re.compile(
    r"(?P<prefix>Workload\.)?\b(?P<field>"
    + "|".join(sorted(FLAG_FOR_FIELD, key=len, reverse=True))
    + r")\b(?:=(?P<value>Decimal\('[^']*'\)|[^\s,;)]+))?(?: \((?P<flag>--[\w-]+)\))?"
)

_CLI_WORDS = (
    ('named by the cdk.json context key "inferwise:prices"', "passed with --prices FILE.json"),
    ("PriceCatalog.bedrock_models() lists", "`inferwise prices show AmazonBedrock` lists"),
)
"""The catalogue's hints in the words of a synth (a context key, a Python method), said for the command line."""


def _with_flags(message: str, *, field_names: bool = False) -> str:
    """`message` with each workload field it names (`Workload.cache_hit_rate`, `cache_prefix_tokens=None`,
    `batch_ok (--batch-ok)`) replaced by its flag; `field_names` keeps the field name in parentheses (for a
    workload that came from a file). A bare word that is no identifier (`region`) is left alone."""

    def flag(match: re.Match[str]) -> str:
        field, value = match["field"], match["value"]
        if match["prefix"] is None and "_" not in field:
            return match[0]
        text = FLAG_FOR_FIELD[field]
        if value is not None and not (field == "batch_ok" and value == "True"):
            text += "=" + re.sub(r"^Decimal\('(.*)'\)$", r"\1", value)
        return f"{text} ({field})" if field_names else text

    for synth_words, cli_words in _CLI_WORDS:
        message = message.replace(synth_words, cli_words)
    return _FIELD_PATTERN.sub(flag, message)


def _catalog(args: argparse.Namespace) -> PriceCatalog:
    bundled = PriceCatalog.bundled()
    return bundled if args.prices is None else bundled.with_override_file(args.prices)


@user_errors(PROG)
def run_compare(args: argparse.Namespace) -> int:
    """The `compare` handler: build the workload, compare, render, optionally plot. Returns the exit code.

    A workload the advisor refuses (`ValueError`, unknown price) names the flag of each field it cites, and
    the field name too when a `--workload` file is in play.
    """
    try:
        catalog = _catalog(args)
        comparison = compare_serving_options(workload_from_mapping(workload_fields(args)), catalog)
    except (ValueError, UnknownPriceError) as bad:
        if isinstance(bad, UserError):
            raise
        raise UserError(_with_flags(str(bad), field_names=args.workload is not None)) from None
    write_rendered(RENDERERS, args.format, comparison)
    if args.plot is not None:
        _plot(comparison, args.plot, catalog)
        print(f"{PROG}: chart written to {args.plot}", file=sys.stderr)
    return 0


def _plot(comparison: Comparison, path: Path, catalog: PriceCatalog) -> None:
    from inferwise.cost.plot import PlotUnavailableError, plot_comparison

    try:
        plot_comparison(comparison, path, catalog=catalog)
    except PlotUnavailableError as missing:
        raise UserError(str(missing)) from None
    except OSError as bad:
        raise UserError(f"cannot write {path}: {bad.strerror}") from None


# ------------------------------------------------------------------------------------------------ rendering
def _unit(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:,.3f}"


def _share(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _instances(option: ServingOption) -> str:
    if option.instances is None:
        return option.instance_type or "-"
    return f"{option.instances} x {option.instance_type}"


def _workload_line(comparison: Comparison) -> str:
    w = comparison.workload
    mode = "real-time" if w.realtime else ("can wait (batch ok)" if w.batch_ok else "deferrable")
    parts = [
        f"{w.requests:,.0f} requests/month x ({w.input_tokens_per_request:,} in + {w.output_tokens_per_request:,} out) "
        f"= {tokens_text(w.monthly_tokens)} tokens/month",
        f"{w.active_hours_per_day:g} h/day active, peak {w.peak_to_average:g}x average "
        f"({w.peak_tokens_per_second:,.1f} tokens/s)",
        mode,
    ]
    if w.cache_prefix_tokens is not None:
        parts.append(
            f"cached prefix {w.cache_prefix_tokens:,} tokens at {float(w.cache_hit_rate or 0):.0%} hits"
        )
    if w.small_model_id is not None:
        parts.append(f"{float(w.routed_share or 0):.0%} routed to {w.small_model_id}")
    if w.substitute_model is not None:
        parts.append(f"self-hosted substitute {w.substitute_model}")
    if w.precision != "bf16":
        parts.append(f"self-hosted at {w.precision}")
    if any(note.startswith("Long context:") for note in comparison.notes):
        parts.append("long context: every token at the model's long-context rates")
    return "; ".join(parts)


def _break_even_lines(comparison: Comparison) -> list[str]:
    names = {option.key: option.name for option in comparison.options}
    lines = []
    for item in comparison.break_evens:
        pair = f"{names[item.cheaper]} | {names[item.other]}"
        if item.monthly_tokens is None or item.requests_per_month is None:
            lines.append(f"{pair}: they do not swap places in the searched range")
            continue
        assert (
            item.cost_cheaper is not None and item.cost_other is not None and item.cheaper_above is not None
        )
        where = f"{tokens_text(item.monthly_tokens)} tokens/month ({tokens_text(item.requests_per_month)} requests)"
        if item.kind == "cross":
            how = f"both {usd(item.cost_cheaper)}/month"
        else:
            how = f"no equal cost: the cost of {names[item.stepping or item.other]} jumps there"
        lines.append(f"{pair}: {where}, {how}; above it {names[item.cheaper_above]} is cheaper")
    return lines


def _searched(comparison: Comparison) -> str:
    tokens = comparison.workload.tokens_per_request
    low, high = comparison.search_requests
    return f"{tokens_text(low * tokens)} to {tokens_text(high * tokens)} tokens/month"


HEADERS = ("#", "option", "$/month", "$/1M tokens", "instances", "utilisation", "confidence")


def _row(rank: str, option: ServingOption) -> tuple[str, ...]:
    assert option.monthly_cost is not None
    return (
        rank,
        option.name,
        usd(option.monthly_cost),
        _unit(option.unit_cost_per_million_tokens),
        _instances(option),
        _share(option.utilisation),
        option.confidence,
    )


def _rows(comparison: Comparison) -> list[tuple[str, ...]]:
    rows = [_row(str(rank), option) for rank, option in enumerate(comparison.priced, start=1)]
    return rows + [_row("s", option) for option in comparison.substitutes]


def _substitute_heading(comparison: Comparison) -> str:
    model = comparison.substitutes[0].served_model
    return f"s = self-hosted {model}, a different model from {comparison.workload.model_id}: quality not compared"


def _people_line(comparison: Comparison) -> str | None:
    w = comparison.workload
    if not any(option.capacity is not None for option in comparison.options if option.available):
        return None
    if w.ops_monthly_usd == 0:
        return "people: no operations cost counted (--ops-hours-per-month or --ops-hourly-usd is 0)"
    return (
        f"people: each self-hosted option includes {w.ops_hours_per_month:g} h x ${w.ops_hourly_usd:g} = "
        f"{usd(w.ops_monthly_usd)}/month of operations on its own line (--ops-hours-per-month, --ops-hourly-usd: "
        "an assumption to set)"
    )


def _scenario_lines(comparison: Comparison) -> list[str]:
    names = {option.key: option.name for option in comparison.options}
    tokens = comparison.workload.tokens_per_request
    lines = []
    for scenario in comparison.scenarios:
        cost = scenario.costs[scenario.cheapest]
        lines.append(
            f"{scenario.multiplier:g}x ({tokens_text(scenario.requests_per_month * tokens)} tokens/month): "
            f"{names[scenario.cheapest]} at {usd(cost)}/month"
        )
    return lines


def render_table(comparison: Comparison) -> str:
    """Plain text for a terminal."""
    w = comparison.workload
    rows = _rows(comparison)
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]
    name_width = widths[1] = max(widths[1], *(len(option.name) for option in comparison.options))
    right = {0, 2, 3, 5}

    def fmt(row: Sequence[str]) -> str:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    out = [f"{PROG}: {w.model_id} in {w.region}", f"workload: {_workload_line(comparison)}", ""]
    out += [fmt(HEADERS), fmt(["-" * width for width in widths])]
    out += [fmt(row) for row in rows]
    for option in comparison.options:
        if not option.available:
            out.append(
                f"{'-'.rjust(widths[0])}  {option.name.ljust(name_width)}  {_with_flags(option.reason)}"
            )
    if comparison.substitutes:
        out += ["", _substitute_heading(comparison)]
    people = _people_line(comparison)
    if people is not None:
        out += ["", people]
    out += ["", f"cheapest: {_with_flags(comparison.reason)}", "", "scenarios:"]
    out += [f"  {line}" for line in _scenario_lines(comparison)]
    out += ["", f"break-even volumes (searched {_searched(comparison)}):"]
    out += [f"  {line}" for line in _break_even_lines(comparison)]
    return "\n".join(out) + "\n"


def render_markdown(comparison: Comparison) -> str:
    """GitHub-flavoured markdown."""
    w = comparison.workload
    out = [f"### `{w.model_id}` in {w.region}", "", f"Workload: {_workload_line(comparison)}.", ""]
    out.append("| " + " | ".join(HEADERS) + " |")
    out.append("|" + "|".join("---:" if i in {0, 2, 3, 5} else "---" for i in range(len(HEADERS))) + "|")
    out += ["| " + " | ".join(row) + " |" for row in _rows(comparison)]
    if comparison.substitutes:
        out += ["", _substitute_heading(comparison) + "."]
    unpriced = [option for option in comparison.options if not option.available]
    if unpriced:
        out += ["", "Not priced:", ""]
        out += [f"- {option.name}: {_with_flags(option.reason)}" for option in unpriced]
    people = _people_line(comparison)
    if people is not None:
        out += ["", people[0].upper() + people[1:] + "."]
    out += ["", f"**Cheapest:** {_with_flags(comparison.reason)}", "", "Scenarios:", ""]
    out += [f"- {line}" for line in _scenario_lines(comparison)]
    out += ["", f"Break-even volumes (searched {_searched(comparison)}):", ""]
    out += [f"- {line}" for line in _break_even_lines(comparison)]
    return "\n".join(out) + "\n"


def render_json(comparison: Comparison) -> str:
    return json.dumps(comparison.to_json(), indent=2) + "\n"


RENDERERS: dict[str, Callable[[Comparison], str]] = {
    "table": render_table,
    "md": render_markdown,
    "json": render_json,
}
