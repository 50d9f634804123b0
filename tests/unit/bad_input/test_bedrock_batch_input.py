"""BedrockBatchPipeline refuses every bad prop with a clear error, before jsii or Decimal sees it.

The buckets, the key and the inference-profile geography are checked through the functions the construct
calls (`storage_props`, `check_model_region`); the construct-level cases at the end show that it calls them.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from inferwise.constructs.bedrock_batch import BedrockBatchPipeline
from inferwise.constructs.bedrock_batch.props import (
    check_model_region,
    min_retention_days,
    parse_model_id,
    storage_props,
)
from inferwise.cost.estimators.bedrock_batch import BatchUsage
from tests.unit.bad_input.support import ACCOUNT, HAIKU, NOVA_LITE, Case, assert_refused, label, param, stack

V, T = ValueError, TypeError
INF, NAN = float("inf"), float("nan")
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0123abcd-0123-abcd-0123-0123456789ab"


PROFILE_ID = "a1b2c3d4e5f6"
PROFILE_ARN = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/{PROFILE_ID}"


def pipeline(**props: Any) -> BedrockBatchPipeline:
    return BedrockBatchPipeline(stack(), "Pipeline", **{"model_id": NOVA_LITE, **props})


def profile(case_id: str, error: type[Exception], prop: str, shows: str, **props: Any) -> Case:
    """A pipeline in a stack with a known account, given an application inference profile to call through."""

    def build() -> object:
        given = {"model_id": NOVA_LITE, "inference_profile_arn": PROFILE_ARN, **props}
        return BedrockBatchPipeline(stack(account=ACCOUNT), "Pipeline", **given)

    return Case(case_id, build, error, prop, shows)


def bad(case_id: str, error: type[Exception], prop: str, shows: str, **props: Any) -> Case:
    return Case(case_id, lambda: pipeline(**props), error, prop, shows)


def storage(error: type[Exception], prop: str, shows: str, **props: Any) -> Case:
    given = {"input_bucket": None, "output_bucket": None, "encryption_key": None, **props}
    return Case(
        f"storage {prop}={label(props[prop])}", lambda: storage_props(stack(), **given), error, prop, shows
    )


def region(model_id: str, stack_region: str) -> Case:
    return Case(
        f"{model_id[:30]} in {stack_region}",
        lambda: check_model_region(parse_model_id(model_id), stack(stack_region)),
        ValueError,
        "model_id",
        repr(model_id)[:30],
    )


def other_construct(prop: str) -> Any:
    def build() -> object:
        scope = stack()
        wrong: object = kms.Key(scope, "Key") if prop.endswith("bucket") else s3.Bucket(scope, "Bucket")
        props: dict[str, Any] = {
            "input_bucket": None,
            "output_bucket": None,
            "encryption_key": None,
            prop: wrong,
        }
        return storage_props(scope, **props)

    return build


CASES: list[Case] = [
    # the model
    bad("model None", T, "model_id", "None", model_id=None),
    bad("model int", T, "model_id", "123", model_id=123),
    bad("model empty", V, "model_id", "''", model_id=""),
    bad("model blank", V, "model_id", "'   '", model_id="   "),
    bad("model newline", V, "model_id", "\\n", model_id=NOVA_LITE + "\n"),
    bad("model 3000", V, "model_id", "(3,000 characters)", model_id="a" * 3000),
    bad("model list", T, "model_id", f"[{NOVA_LITE!r}]", model_id=[NOVA_LITE]),
    bad("model nan", T, "model_id", "nan", model_id=NAN),
    bad(
        "model family",
        V,
        "model_id",
        "'mistral.mistral-small-2402-v1:0'",
        model_id="mistral.mistral-small-2402-v1:0",
    ),
    # job sizes
    bad("records nan", T, "records_per_job", "nan", records_per_job=NAN),
    bad("records inf", T, "records_per_job", "inf", records_per_job=INF),
    bad("records 50001", V, "records_per_job", "50001", records_per_job=50_001),
    bad("records float", T, "records_per_job", "1000.0", records_per_job=1000.0),
    bad("records bool", T, "records_per_job", "True", records_per_job=True),
    bad("min records 50", V, "min_records_per_job", "got 50", min_records_per_job=50),
    bad("min records None", T, "min_records_per_job", "None", min_records_per_job=None),
    bad("concurrency zero", V, "max_concurrent_jobs", "got 0", max_concurrent_jobs=0),
    bad("concurrency 41", V, "max_concurrent_jobs", "41", max_concurrent_jobs=41),
    bad("concurrency inf", T, "max_concurrent_jobs", "inf", max_concurrent_jobs=INF),
    bad("timeout 23", V, "job_timeout_hours", "got 23", job_timeout_hours=23),
    bad("timeout 169", V, "job_timeout_hours", "169", job_timeout_hours=169),
    bad("timeout float", T, "job_timeout_hours", "72.0", job_timeout_hours=72.0),
    bad("timeout string", T, "job_timeout_hours", "'72'", job_timeout_hours="72"),
    # switches and prefixes
    bad("small batch string", T, "small_batch", "'on_demand'", small_batch="on_demand"),
    bad("input prefix slash", V, "input_prefix", "'/incoming/'", input_prefix="/incoming/"),
    bad("input prefix None", T, "input_prefix", "None", input_prefix=None),
    bad("input prefix newline", V, "input_prefix", "'a\\nb/'", input_prefix="a\nb/"),
    bad("input prefix 600", V, "input_prefix", "(600 characters; at most 512)", input_prefix="ab/" * 200),
    bad("output prefix question", V, "output_prefix", "'results?/'", output_prefix="results?/"),
    bad("output prefix space", V, "output_prefix", "'my results/'", output_prefix="my results/"),
    bad("upload yes", T, "start_on_upload", "'yes'", start_on_upload="yes"),
    bad("upload 1", T, "start_on_upload", "got 1", start_on_upload=1),
    # retention against the job timeout
    bad("retention zero", V, "work_retention_days", "got 0", work_retention_days=0),
    bad(
        "retention 1 day, 72 h jobs", V, "work_retention_days", "job_timeout_hours=72", work_retention_days=1
    ),
    bad("retention 4 days, 72 h jobs", V, "work_retention_days", "got 4", work_retention_days=4),
    bad(
        "retention 8 days, 168 h jobs",
        V,
        "work_retention_days",
        "job_timeout_hours=168",
        work_retention_days=8,
        job_timeout_hours=168,
    ),
    bad("retention huge", V, "work_retention_days", "1000000000", work_retention_days=10**9),
    bad("retention float", T, "work_retention_days", "14.0", work_retention_days=14.0),
    bad("max tokens zero", V, "default_max_tokens", "got 0", default_max_tokens=0),
    bad("max tokens huge", V, "default_max_tokens", "1000000000", default_max_tokens=10**9),
    bad("max tokens nan", T, "default_max_tokens", "nan", default_max_tokens=NAN),
    # usage
    bad("usage dict", T, "usage", "{'records_per_month': 10}", usage={"records_per_month": 10}),
    bad("usage None", T, "usage", "None", usage=None),
    # buckets and key (storage_props)
    storage(T, "input_bucket", "'s3://my-bucket/in/'", input_bucket="s3://my-bucket/in/"),
    storage(V, "input_bucket", "'My_Bucket'", input_bucket="My_Bucket"),
    storage(V, "input_bucket", "'ab'", input_bucket="ab"),
    storage(V, "input_bucket", "'192.168.0.1'", input_bucket="192.168.0.1"),
    storage(V, "input_bucket", "'my..bucket'", input_bucket="my..bucket"),
    storage(T, "input_bucket", "123", input_bucket=123),
    storage(V, "output_bucket", "'arn:aws:s3:::Bad_Bucket'", output_bucket="arn:aws:s3:::Bad_Bucket"),
    storage(V, "output_bucket", "'my-bucket\\n'", output_bucket="my-bucket\n"),
    storage(T, "encryption_key", "'alias/my-key'", encryption_key="alias/my-key"),
    storage(
        T,
        "encryption_key",
        "'0123abcd-0123-abcd-0123-0123456789ab'",
        encryption_key="0123abcd-0123-abcd-0123-0123456789ab",
    ),
    storage(T, "encryption_key", "1", encryption_key=1),
    Case("key as bucket", other_construct("input_bucket"), T, "input_bucket", "Key"),
    Case("bucket as key", other_construct("encryption_key"), T, "encryption_key", "Bucket"),
    # geographic profiles against the stack's Region
    region(f"eu.{HAIKU}", "us-east-1"),
    region(f"us.{HAIKU}", "eu-west-1"),
    region(f"apac.{HAIKU}", "us-west-2"),
    region(f"au.{HAIKU}", "ap-northeast-1"),
    region(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/eu.{HAIKU}", "us-east-1"),
    # token-spend attribution: an existing application inference profile, or none
    profile(
        "profile in another Region",
        V,
        "inference_profile_arn",
        "got one of eu-west-1",
        inference_profile_arn=PROFILE_ARN.replace("us-east-1", "eu-west-1"),
    ),
    profile(
        "profile of another account",
        V,
        "inference_profile_arn",
        "got one of 999999999999",
        inference_profile_arn=PROFILE_ARN.replace(ACCOUNT, "999999999999"),
    ),
    profile(
        "system profile as application profile",
        V,
        "inference_profile_arn",
        "pass it as model_id",
        inference_profile_arn=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{NOVA_LITE}",
    ),
    profile(
        "foundation model as application profile",
        V,
        "inference_profile_arn",
        "a foundation-model ARN",
        inference_profile_arn=f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA_LITE}",
    ),
    profile("profile name", V, "inference_profile_arn", "'my-profile'", inference_profile_arn="my-profile"),
    profile(
        "profile without account",
        V,
        "inference_profile_arn",
        "12-digit account",
        inference_profile_arn=f"arn:aws:bedrock:us-east-1::application-inference-profile/{PROFILE_ID}",
    ),
    profile("profile int", T, "inference_profile_arn", "123", inference_profile_arn=123),
    profile(
        "profile with attribution off",
        V,
        "inference_profile_arn",
        "attribute_token_spend=False",
        attribute_token_spend=False,
    ),
    bad("attribution yes", T, "attribute_token_spend", "'yes'", attribute_token_spend="yes"),
    bad(
        "model is an application profile",
        V,
        "model_id",
        "inference_profile_arn",
        model_id=PROFILE_ARN,
    ),
]


@param(CASES)
def test_bad_pipeline_input_is_refused_clearly(case: Case) -> None:
    assert_refused(case)


def test_bucket_names_bucket_arns_and_key_arns_are_imported() -> None:
    scope = stack()
    by_name, by_arn, key = storage_props(
        scope,
        input_bucket="my-input-bucket",
        output_bucket="arn:aws:s3:::my-output-bucket",
        encryption_key=KEY_ARN,
    )
    assert by_name is not None and by_name.bucket_name == "my-input-bucket"
    assert by_arn is not None and by_arn.bucket_name == "my-output-bucket"
    assert key is not None and key.key_arn == KEY_ARN


def test_global_in_region_and_own_geography_models_fit_any_stack() -> None:
    for model_id, where in (
        (f"global.{HAIKU}", "sa-east-1"),
        (HAIKU, "eu-west-1"),
        (f"us.{HAIKU}", "ca-central-1"),
    ):
        check_model_region(parse_model_id(model_id), stack(where))


def test_an_application_profile_is_checked_only_where_the_stack_knows_its_place() -> None:
    """An environment-agnostic account (a token) cannot be compared: any account's profile passes; a token ARN
    (another construct's attribute, a parameter) passes unchecked."""
    other_account = PROFILE_ARN.replace(ACCOUNT, "999999999999")
    assert pipeline(inference_profile_arn=other_account).invoke_model_id == other_account
    scope = stack(account=ACCOUNT)
    token = cdk.Fn.import_value("SharedProfileArn")
    built = BedrockBatchPipeline(scope, "Pipeline", model_id=NOVA_LITE, inference_profile_arn=token)
    assert built.invoke_model_id == token and built.inference_profile is None


def test_the_retention_floor_covers_a_job_and_the_submit_margin() -> None:
    assert min_retention_days(72) == 5
    assert min_retention_days(168) == 9
    assert BatchUsage().records_per_month > 0


@pytest.mark.parametrize(
    ("props", "prop"),
    [({"input_bucket": "s3://my-bucket/in/"}, "input_bucket"), ({"model_id": f"eu.{HAIKU}"}, "model_id")],
    ids=["bucket URI", "eu. profile"],
)
def test_the_construct_refuses_them_too(props: dict[str, Any], prop: str) -> None:
    with pytest.raises(ValueError, match=prop):
        pipeline(**props)
