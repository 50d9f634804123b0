"""ScaleToZeroEndpoint and InferenceModel refuse every bad prop with a clear error, before jsii sees it."""

from __future__ import annotations

from typing import Any

from inferwise.constructs.scale_to_zero import EndpointUsage, InferenceModel, OffHours, ScaleToZeroEndpoint
from inferwise.cost.estimators.spot_fleet import FleetUsage
from tests.unit.bad_input.support import (
    ECR_IMAGE_URI,
    Case,
    Later,
    assert_refused,
    label,
    param,
    resolve,
    stack,
)

WEEKDAYS = "0 20 ? * MON-FRI *"
MORNINGS = "0 7 ? * MON-FRI *"
INF, NAN = float("inf"), float("nan")
V, T = ValueError, TypeError
CRON = ("off_hours.cron", "OffHours.cron")
RESUME = ("off_hours.resume_cron", "OffHours.resume_cron")


def model(name: str = "qwen", **fields: Any) -> InferenceModel:
    return InferenceModel(**{"name": name, "image_uri": ECR_IMAGE_URI, "memory_mb": 1024, **fields})


def endpoint(**overrides: Any) -> ScaleToZeroEndpoint:
    props: dict[str, Any] = {"instance_type": "ml.g5.xlarge", "models": [model()], **resolve(overrides)}
    return ScaleToZeroEndpoint(stack(), "Chat", **props)


def bad(case_id: str, error: type[Exception], prop: str, shows: str, **overrides: Any) -> Case:
    return Case(case_id, lambda: endpoint(**overrides), error, prop, shows)


def bad_model(field: str, value: object, error: type[Exception], shows: str, prop: str | None = None) -> Case:
    """An InferenceModel made with one bad field; the message names `InferenceModel 'qwen': <field>`."""
    return Case(
        f"model {field}={label(value)}",
        lambda: model(**{field: value}),
        error,
        prop or f"InferenceModel 'qwen': {field}",
        shows,
    )


CASES: list[Case] = [
    # instance type
    bad("type None", T, "instance_type", "None", instance_type=None),
    bad("type list", T, "instance_type", "['ml.g5.xlarge']", instance_type=["ml.g5.xlarge"]),
    bad("type empty", V, "instance_type", "''", instance_type=""),
    bad("type newline", V, "instance_type", "'ml.g5.xlarge\\n'", instance_type="ml.g5.xlarge\n"),
    Case(
        "type CPU",
        lambda: endpoint(instance_type="ml.m5.xlarge"),
        V,
        "instance_type",
        "'ml.m5.xlarge'",
        ours=False,
    ),
    Case(
        "type unknown size",
        lambda: endpoint(instance_type="ml.g5.4xlarge"),
        V,
        "instance_type",
        "'ml.g5.4xlarge'",
        ours=False,
    ),
    # models
    bad("models empty", V, "models", "none", models=[]),
    bad("models string", T, "models", "'qwen'", models="qwen"),
    bad("models None item", T, "models", "None", models=[None]),
    bad("models dict item", T, "models", "{'name': 'qwen'}", models=[{"name": "qwen"}]),
    bad("models generator", T, "models", "generator", models=(m for m in [model()])),
    bad("models 101", V, "models", "101", models=[model(f"m{i}") for i in range(101)]),
    bad("models same name", V, "models", "'Qwen'", models=[model("qwen"), model("Qwen")]),
    bad("model too many GPUs", V, "InferenceModel 'qwen'", "accelerators=2", models=[model(accelerators=2)]),
    bad(
        "model too much memory",
        V,
        "InferenceModel 'qwen'",
        "memory_mb=32768",
        models=[model(memory_mb=32768)],
    ),
    # capacity
    bad("max zero", V, "max_instances", "got 0", max_instances=0),
    bad("max nan", T, "max_instances", "nan", max_instances=NAN),
    bad("max inf", T, "max_instances", "inf", max_instances=INF),
    bad("max float", T, "max_instances", "1.0", max_instances=1.0),
    bad("max bool", T, "max_instances", "True", max_instances=True),
    bad("max 1e30", V, "max_instances", "1000000000000000000000000000000", max_instances=10**30),
    bad("max string", T, "max_instances", "'2'", max_instances="2"),
    # off hours
    bad("off hours string", T, "off_hours", f"'{WEEKDAYS}'", off_hours=WEEKDAYS),
    bad(
        "off hours FEB 30",
        V,
        CRON,
        "'0 20 30 FEB ? *'",
        off_hours=Later(lambda: OffHours("0 20 30 FEB ? *", MORNINGS)),
    ),
    bad(
        "off hours FEB 31 in a list",
        V,
        CRON,
        "'0 20 30,31 2 ? *'",
        off_hours=Later(lambda: OffHours("0 20 30,31 2 ? *", MORNINGS)),
    ),
    bad(
        "resume APR 31",
        V,
        RESUME,
        "'0 7 31 APR ? *'",
        off_hours=Later(lambda: OffHours(WEEKDAYS, "0 7 31 APR ? *")),
    ),
    bad(
        "off hours past year",
        V,
        CRON,
        "before",
        off_hours=Later(lambda: OffHours("0 20 ? * MON-FRI 2020", MORNINGS)),
    ),
    bad(
        "off hours past years",
        V,
        CRON,
        "2001-2010",
        off_hours=Later(lambda: OffHours("0 20 1 * ? 2001-2010", MORNINGS)),
    ),
    bad(
        "fifth Monday of FEB 2027",
        V,
        RESUME,
        "'0 7 ? FEB 2#5 2027'",
        off_hours=Later(lambda: OffHours(WEEKDAYS, "0 7 ? FEB 2#5 2027")),
    ),
    # usage
    bad("usage dict", T, "usage", "{'days_per_month': 20}", usage={"days_per_month": 20}),
    bad("usage other class", T, "usage", "FleetUsage", usage=FleetUsage()),
    bad(
        "usage above max",
        V,
        "usage.instances_while_active",
        "got 2",
        usage=EndpointUsage(instances_while_active=2),
    ),
    # InferenceModel
    Case("name None", lambda: model(None), T, "InferenceModel.name", "None"),  # type: ignore[arg-type]
    Case("name empty", lambda: model(""), V, "InferenceModel.name", "''"),
    Case("name 41", lambda: model("q" * 41), V, "InferenceModel.name", "(41 characters)"),
    Case("name underscore", lambda: model("qwen_2"), V, "InferenceModel.name", "'qwen_2'"),
    Case("name newline", lambda: model("qwen\n"), V, "InferenceModel.name", "'qwen\\n'"),
    Case("name int", lambda: model(7), T, "InferenceModel.name", "7"),  # type: ignore[arg-type]
    bad_model("image_uri", None, T, "None"),
    bad_model("image_uri", "", V, "''"),
    bad_model("image_uri", "docker.io/library/nginx:latest", V, "'docker.io/library/nginx:latest'"),
    bad_model("image_uri", ECR_IMAGE_URI + "\n", V, "\\n"),
    bad_model("image_uri", ECR_IMAGE_URI + "x" * 300, V, "characters)"),
    bad_model("image_uri", NAN, T, "nan"),
    bad_model("memory_mb", 64, V, "got 64"),
    bad_model("memory_mb", 1024.0, T, "1024.0"),
    bad_model("memory_mb", NAN, T, "nan"),
    bad_model("memory_mb", 10**30, V, "1000000000000000000000000000000"),
    bad_model("memory_mb", True, T, "True"),
    bad_model("accelerators", 0, V, "got 0"),
    bad_model("accelerators", "1", T, "'1'"),
    bad_model("accelerators", 10**6, V, "1000000"),
    bad_model("max_copies", 0, V, "got 0"),
    bad_model("max_copies", INF, T, "inf"),
    bad_model("max_copies", 10**9, V, "1000000000"),
    bad_model("target_invocations_per_copy", INF, V, "inf"),
    bad_model("target_invocations_per_copy", NAN, V, "nan"),
    bad_model("target_invocations_per_copy", 0, V, "got 0"),
    bad_model("target_invocations_per_copy", -1, V, "-1"),
    bad_model("target_invocations_per_copy", 1e30, V, "1e+30"),
    bad_model("target_invocations_per_copy", "10", T, "'10'"),
    bad_model("target_invocations_per_copy", True, T, "True"),
    bad_model("startup_timeout_seconds", 59, V, "got 59"),
    bad_model("startup_timeout_seconds", 3601, V, "3601"),
    bad_model("startup_timeout_seconds", 900.0, T, "900.0"),
    bad_model("model_data_url", "s3://models-bucket/llama/", V, "'s3://models-bucket/llama/'"),
    bad_model("model_data_url", "https://example.com/model.tar.gz", V, "'https://example.com"),
    bad_model("model_data_url", 123, T, "123"),
    bad_model("model_data_url", "s3://models-bucket/model.tar.gz\n", V, "\\n"),
    bad_model("model_data_url", "s3://b/" + "k" * 2000, V, "characters)"),
    bad_model("environment", [("HF_MODEL_ID", "x")], T, "[('HF_MODEL_ID', 'x')]"),
    bad_model("environment", {"A": "one character name"}, V, "'A'"),
    bad_model(
        "environment",
        {"HF_MODEL_ID": 1},
        V,
        "got 1",
        prop="InferenceModel 'qwen': environment variable HF_MODEL_ID",
    ),
    bad_model("environment", {"HF_MODEL_ID": "x" * 1025}, V, "xxxx", prop="environment variable HF_MODEL_ID"),
    bad_model("environment", {f"VAR_{i}": "x" for i in range(17)}, V, "got 17"),
    bad_model("environment", {"HF_MODEL_ID\n": "x"}, V, "'HF_MODEL_ID\\n'"),
    bad_model("environment", {1: "x"}, V, "1"),
]


@param(CASES)
def test_bad_endpoint_input_is_refused_clearly(case: Case) -> None:
    assert_refused(case)


def test_a_cron_that_fires_only_in_leap_years_is_accepted() -> None:
    endpoint(off_hours=Later(lambda: OffHours("0 20 29 FEB ? *", MORNINGS)))
