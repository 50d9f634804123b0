"""Self-hosting is sized, not guessed: the model catalogue, the fit of weights and KV cache, and the sourced
throughput table (prefill and decode apart), each checked against the figures it was copied from."""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path

import pytest

from inferwise.cost.advisor import (
    OVERHEAD_FRACTION,
    Workload,
    check_fit,
    compare_serving_options,
    hardware,
    lookup,
    plan_for,
    price_option,
    sourced_cells,
)
from inferwise.cost.advisor.serving import candidate_types
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.specs.ec2 import EC2_INSTANCE_SPECS
from inferwise.cost.specs.models import BEDROCK_MODELS, BYTES_PER_PARAMETER, OPEN_MODELS
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS

CATALOG = PriceCatalog.bundled()
SPECS = Path(__file__).resolve().parents[2] / "inferwise" / "cost" / "specs"
LLAMA_8B = OPEN_MODELS["meta-llama/Llama-3.1-8B-Instruct"]
LLAMA_70B = OPEN_MODELS["meta-llama/Llama-3.1-70B-Instruct"]
GB = Decimal(10) ** 9


# ------------------------------------------------------------------------------------------ model catalogue
def test_every_bedrock_model_of_the_price_catalogue_is_in_the_model_catalogue() -> None:
    assert set(CATALOG.bedrock_models()) == set(BEDROCK_MODELS)
    for model in BEDROCK_MODELS.values():
        if model.open_model is not None:
            assert model.weights == "open" and model.open_model in OPEN_MODELS
        if model.sku.startswith(("anthropic.", "amazon.", "cohere.")):
            assert model.weights == "closed", model.sku


@pytest.mark.parametrize(
    ("name", "kv_bytes"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", 131_072),  # kv-cache-size README; optimum-neuron memory analysis
        ("meta-llama/Llama-3.1-70B-Instruct", 327_680),  # frankdenneman.nl: 2 x 80 x 8 x 128 x 2
        ("mistralai/Mistral-7B-Instruct-v0.2", 131_072),
        ("Qwen/Qwen2.5-7B-Instruct", 57_344),  # 28 layers x 4 KV heads: a quarter of Llama 8B's per layer
    ],
)
def test_kv_cache_per_token_is_layers_x_kv_heads_x_head_dim_x_2_x_2_bytes(name: str, kv_bytes: int) -> None:
    assert OPEN_MODELS[name].kv_bytes_per_token == kv_bytes


def test_weights_are_parameters_times_bytes_per_parameter() -> None:
    assert {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": Decimal("0.5")} == BYTES_PER_PARAMETER
    assert LLAMA_8B.weight_bytes("bf16") == Decimal("16.06") * GB
    assert LLAMA_70B.weight_bytes("fp8") == Decimal("70.6") * GB
    assert LLAMA_70B.weight_bytes("int4") == Decimal("35.3") * GB


# ------------------------------------------------------------------------------------------------- fit
def test_accelerator_table_agrees_with_the_instance_specs() -> None:
    for instance_type, spec in INSTANCE_SPECS.items():
        shape = hardware(instance_type)
        assert shape is not None, instance_type
        assert shape.count == spec.accelerators, instance_type  # NeuronCores for inf2, GPUs otherwise
    for instance_type, spec in EC2_INSTANCE_SPECS.items():
        shape = hardware(instance_type)
        assert shape is not None, instance_type
        if spec.accelerator == "inferentia2":
            assert (shape.count, shape.memory_each, shape.memory_unit) == (spec.neuron_cores, 16, "GiB")
    for instance_type in candidate_types("gpu"):
        CATALOG.price("AmazonEC2", instance_type, "us-east-1", "OnDemand")


def test_llama_70b_does_not_fit_one_inferentia2_chip_and_fits_six() -> None:
    small = check_fit(LLAMA_70B, "bf16", "inf2.xlarge", 1_300, 1)
    assert small is not None and not small.fits
    usable = Decimal(2) * 16 * 2**30 * (1 - OVERHEAD_FRACTION)
    assert small.usable_bytes == usable
    assert small.text.startswith("inf2.xlarge does not fit: 141.2 GB of weights + 0.4 GB of KV cache")
    big = check_fit(LLAMA_70B, "bf16", "inf2.24xlarge", 1_300, 4)
    assert big is not None and big.fits and (big.tp, big.replicas) == (12, 1)


def test_the_smallest_fitting_size_is_chosen_and_smaller_ones_are_explained() -> None:
    workload = Workload(
        model_id="meta.llama3-1-70b-instruct-v1:0",
        requests_per_month=100_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=300,
    )
    plan = plan_for(workload, CATALOG, "inf2")
    assert not isinstance(plan, str)
    assert plan.instance_type == "inf2.24xlarge"
    assert "inf2.8xlarge does not fit" in plan.selection.why_not_smaller
    option = price_option(workload, "spot-inf2", CATALOG)
    assert any(text.startswith("smaller types passed over: ") for text in option.assumptions)


def test_kv_cache_grows_with_sequences_and_can_make_a_type_too_small() -> None:
    short = check_fit(LLAMA_8B, "bf16", "g5.xlarge", 2_000, 1)
    long = check_fit(LLAMA_8B, "bf16", "g5.xlarge", 2_000, 40)
    assert short is not None and short.fits
    assert long is not None and not long.fits
    assert long.kv_bytes == 40 * 2_000 * 131_072


def test_a_pinned_instance_that_cannot_hold_the_model_is_an_error_naming_the_field() -> None:
    workload = Workload(
        model_id="meta.llama3-1-70b-instruct-v1:0",
        requests_per_month=100_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=300,
        inf2_instance_type="inf2.xlarge",
    )
    with pytest.raises(ValueError) as raised:
        compare_serving_options(workload)
    assert str(raised.value).startswith(
        "Workload.inf2_instance_type 'inf2.xlarge' cannot hold meta-llama/Llama-3.1-70B-Instruct at bf16: "
        "inf2.xlarge does not fit: 141.2 GB of weights"
    )


# ------------------------------------------------------------------------------------------- throughput
def _rows() -> list[dict[str, str]]:
    with (SPECS / "throughput.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_throughput_row_names_its_source_address_date_and_conditions() -> None:
    rows = _rows()
    assert len(rows) >= 8
    for row in rows:
        for column in ("source", "address", "date", "conditions", "engine", "precision", "measured_on"):
            assert row[column].strip(), (row["measured_model"], column)
        assert row["confidence"] in ("medium", "low")


@pytest.mark.parametrize(
    ("index", "prefill", "decode"),
    [
        # decode = 96 / 0.04602 s; prefill = 1500 / (1/4.87 - 250/2086)
        (0, 17_545, 2_086),
        # decode = 8 / 0.044 s; prefill = 8 x 1024 / 8.5 s
        (1, 964, 182),
        (2, 2_427, 1_185),
        # decode = 1920 / (2048/2051.79 - 128/980.86); prefill = 2048 / (128/980.86 - 128/decode)
        (3, 28_187, 2_213),
        (6, 29_370, 4_223),
    ],
)
def test_prefill_and_decode_are_derived_from_the_copied_figures(
    index: int, prefill: int, decode: int
) -> None:
    cell = sourced_cells()[index]
    assert (cell.prefill, cell.decode) == (prefill, decode)


def test_two_run_cells_reproduce_both_runs_of_their_source() -> None:
    for cell in sourced_cells():
        row = cell.row
        if row["method"] != "two-runs":
            continue
        tokens_in = Decimal(row["input_tokens"])
        for out, rate in (
            (row["output_tokens"], row["output_tokens_per_second"]),
            (row["output_tokens_b"], row["output_tokens_per_second_b"]),
        ):
            seconds = tokens_in / cell.prefill + Decimal(out) / cell.decode
            assert abs(Decimal(out) / seconds / Decimal(rate) - 1) < Decimal("0.002"), row["measured_model"]


def test_prefill_runs_many_times_faster_than_decode_on_gpus() -> None:
    for cell in sourced_cells():
        if cell.row["accelerators_used"] == "1":
            assert cell.prefill > 10 * cell.decode, cell.row["measured_model"]
        elif cell.row["accelerator"] == "NVIDIA H100 80GB":
            assert cell.prefill > 3 * cell.decode, cell.row["measured_model"]


def test_a_neighbour_is_scaled_by_accelerators_with_low_confidence() -> None:
    measured = lookup(LLAMA_8B, "bf16", "inf2.48xlarge")
    scaled = lookup(LLAMA_8B, "bf16", "inf2.xlarge")
    assert measured is not None and scaled is not None
    assert (measured.confidence, scaled.confidence) == ("medium", "low")
    assert (scaled.prefill, scaled.decode) == (round(Decimal(17_545) / 12), round(Decimal(2_086) / 12))
    assert scaled.sequences == 8 and "a stated neighbour, LOW confidence" in scaled.source


@pytest.mark.parametrize(
    ("precision", "instance_type"),
    [("bf16", "g5.xlarge"), ("bf16", "g6e.xlarge"), ("fp8", "inf2.xlarge"), ("bf16", "c7g.16xlarge")],
)
def test_no_sourced_figure_means_unknown_never_a_default(precision: str, instance_type: str) -> None:
    assert lookup(LLAMA_8B, precision, instance_type) is None  # type: ignore[arg-type]


def test_an_option_without_a_figure_asks_for_a_measurement() -> None:
    workload = Workload(
        model_id="meta.llama3-1-8b-instruct-v1:0",
        requests_per_month=100_000,
        input_tokens_per_request=500,
        output_tokens_per_request=100,
    )
    option = price_option(workload, "spot-graviton", CATALOG)
    assert not option.available
    assert option.reason.startswith(
        "throughput unknown: no sourced prefill and decode figures for meta-llama/Llama-3.1-8B-Instruct (bf16) on "
        "c7g.4xlarge; pass graviton_instance_type=c7g.4xlarge and graviton_tokens_per_second=N"
    )


def test_instances_come_from_prefill_and_decode_time_per_request() -> None:
    workload = Workload(
        model_id="meta.llama3-1-8b-instruct-v1:0",
        requests_per_month=20_000_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=200,
        precision="fp8",
        ops_hours_per_month=0,
    )
    option = price_option(workload, "spot-gpu", CATALOG)
    assert option.instance_type == "g6e.xlarge" and option.capacity is not None
    seconds = Decimal(1_000) / 28_187 + Decimal(200) / 2_213
    assert abs(option.capacity.tokens_per_second_per_instance - 1_200 / seconds) < Decimal("1e-20")
    peak_requests = Decimal(20_000_000) / (730 * 3600)
    assert option.instances == math.ceil(peak_requests * seconds)
