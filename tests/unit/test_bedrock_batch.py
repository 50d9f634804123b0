"""BedrockBatchPipeline: what the synthesized template guarantees, one behaviour per test, and every bad prop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from inferwise.constructs.bedrock_batch import (
    COLLECT_METRICS,
    METRIC_NAMESPACE,
    TERMINAL_JOB_STATUSES,
    BedrockBatchPipeline,
    SmallBatch,
    parse_model_id,
)
from inferwise.constructs.bedrock_batch.state_machine import (
    EVENTS_PER_SUBMIT_ATTEMPT,
    QUOTA_WAIT_HISTORY_EVENTS,
    expected_quota_wait,
    quota_wait,
)
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_batch import BatchUsage
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate
from inferwise.stacks.bedrock_batch import REFERENCE_MODEL_ID
from tests.harness.cfn_lint import flatten_state_machines
from tests.harness.synth import CONTEXT, VerifiedAssembly

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROFILE_MODEL = "us.amazon.nova-lite-v1:0"
IN_REGION_MODEL = "amazon.nova-micro-v1:0"
EXISTING_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
EXISTING_INPUT_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-2222-3333-4444-555555555555"


class Synthesized:
    """A stack with one pipeline, its template as JSON, and logical ids by construct."""

    def __init__(self, stack: cdk.Stack, pipeline: BedrockBatchPipeline) -> None:
        self.stack = stack
        self.pipeline = pipeline
        self.template = assertions.Template.from_stack(stack)
        self.json: dict[str, Any] = self.template.to_json()

    def id_of(self, construct: Any) -> str:
        child = construct.node.default_child if not isinstance(construct, cdk.CfnElement) else construct
        return str(self.stack.resolve(self.stack.get_logical_id(child)))

    def statements(self, role: Any) -> list[dict[str, Any]]:
        """Every statement of the policies attached to `role` (a Role, or a Function's role)."""
        role = getattr(role, "role", role)
        role_id = self.id_of(role)
        found = []
        for resource in self.json["Resources"].values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
                found += resource["Properties"]["PolicyDocument"]["Statement"]
        return found

    def allowing(self, role: Any, action: str) -> list[dict[str, Any]]:
        return [s for s in self.statements(role) if action in _listed(s["Action"])]

    def definition(self) -> dict[str, Any]:
        flat, _ = flatten_state_machines(self.json)
        [machine] = [r for r in flat["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
        result: dict[str, Any] = machine["Properties"]["Definition"]
        return result

    def resource(self, construct: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.json["Resources"][self.id_of(construct)]
        return result


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        states[name] = state
        for branch in state.get("Branches", []):
            states.update(_states(branch))
        if "ItemProcessor" in state:
            states.update(_states(state["ItemProcessor"]))
    return states


def _stack(build: Any) -> Synthesized:
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    return Synthesized(stack, build(stack))


@pytest.fixture(scope="module")
def reference(reference_stacks: dict[str, cdk.Stack]) -> Synthesized:
    """The reference stack: defaults, Claude Haiku 4.5 through the us. cross-Region inference profile."""
    stack = reference_stacks["BatchInferenceStack"]
    return Synthesized(stack, stack.pipeline)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def profile() -> Synthesized:
    """A small extra stack: a `us.` profile id, uploads start runs, small batches fail, 4 jobs at once."""
    return _stack(
        lambda stack: BedrockBatchPipeline(
            stack,
            "Pipeline",
            model_id=PROFILE_MODEL,
            usage=BatchUsage(records_per_month=10_000, runs_per_month=4),
            input_prefix="incoming/",
            start_on_upload=True,
            small_batch=SmallBatch.FAIL,
            max_concurrent_jobs=4,
            job_timeout_hours=24,
        )
    )


@pytest.fixture(scope="module")
def existing() -> Synthesized:
    """An in-Region model with the user's own key, input bucket (with its own key) and output bucket."""

    def build(stack: cdk.Stack) -> BedrockBatchPipeline:
        input_key = kms.Key.from_key_arn(stack, "InputKey", EXISTING_INPUT_KEY)
        return BedrockBatchPipeline(
            stack,
            "Pipeline",
            model_id=IN_REGION_MODEL,
            encryption_key=kms.Key.from_key_arn(stack, "Key", EXISTING_KEY),
            input_bucket=s3.Bucket.from_bucket_attributes(
                stack, "Input", bucket_name="users-input", encryption_key=input_key
            ),
            output_bucket=s3.Bucket.from_bucket_name(stack, "Output", "users-output"),
        )

    return _stack(build)


# ------------------------------------------------------------------------------------ service role
def test_bedrock_service_role_trusts_only_this_accounts_batch_jobs(reference: Synthesized) -> None:
    role = reference.resource(reference.pipeline.service_role)
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        f":bedrock:{REGION}:",
                        {"Ref": "AWS::AccountId"},
                        ":model-invocation-job/*",
                    ],
                ]
            }
        },
    }


def test_service_role_reads_and_writes_only_the_runs_prefix(reference: Synthesized) -> None:
    work = reference.id_of(reference.pipeline.work_bucket)
    s3_statements = [
        s
        for s in reference.statements(reference.pipeline.service_role)
        if any(action.startswith("s3:") for action in _listed(s["Action"]))
    ]
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [work, "Arn"]}, "/runs/*"]]}
    own_account = {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
    assert {
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Condition": {"StringEquals": own_account},
        "Effect": "Allow",
        "Resource": objects,
    } in s3_statements
    assert {
        "Action": "s3:ListBucket",
        "Condition": {"StringEquals": own_account, "StringLike": {"s3:prefix": ["runs/*"]}},
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [work, "Arn"]},
    } in s3_statements
    assert len(s3_statements) == 2


def test_service_role_can_use_the_key_through_s3(reference: Synthesized) -> None:
    """Without kms:Decrypt/GenerateDataKey a job is accepted and fails minutes later (gotcha 7)."""
    [statement] = reference.allowing(reference.pipeline.service_role, "kms:Decrypt")
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.key), "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}}


PROFILE_ARN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, f":bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE_MODEL}"],
    ]
}
FOUNDATION_ANY_REGION = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:*::foundation-model/amazon.nova-lite-v1:0"],
    ]
}


def _own_profile(synthesized: Synthesized) -> dict[str, Any]:
    """The ARN of the pipeline's own application inference profile, as the template references it."""
    profile = synthesized.pipeline.inference_profile
    assert profile is not None
    return {"Fn::GetAtt": [synthesized.id_of(profile.resource), "InferenceProfileArn"]}


def test_submit_may_create_jobs_on_the_profile_and_its_model(profile: Synthesized) -> None:
    [statement] = profile.allowing(profile.pipeline.submit_function, "bedrock:CreateModelInvocationJob")
    resources = profile.stack.resolve(statement["Resource"])
    assert _own_profile(profile) in resources
    assert PROFILE_ARN in resources and FOUNDATION_ANY_REGION in resources


@pytest.mark.parametrize("holder", ["service_role", "on_demand_function"])
def test_a_profile_reaches_its_model_in_other_regions_only_through_the_profile(
    profile: Synthesized, holder: str
) -> None:
    """InvokeModel on the pipeline's application profile and the system profile it copies, and on the foundation
    model in any Region only when the call goes through one of them (bedrock:InferenceProfileArn): the
    permission reaches exactly the Regions the profile routes to, and never the model directly."""
    statements = [
        profile.stack.resolve(s)
        for s in profile.allowing(getattr(profile.pipeline, holder), "bedrock:InvokeModel")
    ]
    profiles = [_own_profile(profile), PROFILE_ARN]
    by_resource = {json.dumps(s["Resource"], sort_keys=True): s for s in statements}
    assert set(by_resource) == {
        json.dumps(profiles, sort_keys=True),
        json.dumps(FOUNDATION_ANY_REGION, sort_keys=True),
    }
    assert "Condition" not in by_resource[json.dumps(profiles, sort_keys=True)]
    foundation = by_resource[json.dumps(FOUNDATION_ANY_REGION, sort_keys=True)]
    assert foundation["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profiles}}


def test_in_region_model_is_reached_only_through_the_pipelines_profile(existing: Synthesized) -> None:
    [on_profile, on_model] = existing.allowing(existing.pipeline.service_role, "bedrock:InvokeModel")
    assert on_profile["Resource"] == _own_profile(existing)
    assert on_model["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, f":bedrock:{REGION}::foundation-model/{IN_REGION_MODEL}"],
        ]
    }
    assert on_model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": _own_profile(existing)}}


# --------------------------------------------------------------------------------------- functions
def test_submit_may_pass_the_service_role_only_to_bedrock(reference: Synthesized) -> None:
    [statement] = reference.allowing(reference.pipeline.submit_function, "iam:PassRole")
    assert statement["Resource"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.service_role), "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_submit_creates_jobs_and_stores_their_task_tokens(reference: Synthesized) -> None:
    submit = reference.pipeline.submit_function
    [create] = reference.allowing(submit, "bedrock:CreateModelInvocationJob")
    assert {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":bedrock:{REGION}:",
                {"Ref": "AWS::AccountId"},
                ":model-invocation-job/*",
            ],
        ]
    } in create["Resource"]
    [put] = reference.allowing(submit, "dynamodb:PutItem")
    assert put["Resource"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.token_table), "Arn"]}
    assert reference.allowing(submit, "bedrock:StopModelInvocationJob"), (
        "submit stops a job whose token it cannot store"
    )


def test_events_function_completes_only_this_state_machines_tasks(reference: Synthesized) -> None:
    events = reference.pipeline.events_function
    [send] = reference.allowing(events, "states:SendTaskSuccess")
    assert sorted(send["Action"]) == [
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
    ]
    assert send["Resource"] == {"Ref": reference.id_of(reference.pipeline.state_machine)}
    [tokens] = reference.allowing(events, "dynamodb:GetItem")
    assert tokens["Action"] == "dynamodb:GetItem"
    assert tokens["Resource"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.token_table), "Arn"]}


def test_collect_puts_metrics_only_in_its_namespace(reference: Synthesized) -> None:
    [statement] = reference.allowing(reference.pipeline.collect_function, "cloudwatch:PutMetricData")
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}}


def test_collect_writes_only_under_the_output_prefix(reference: Synthesized) -> None:
    output = reference.id_of(reference.pipeline.output_bucket)
    [statement] = [
        s
        for s in reference.allowing(reference.pipeline.collect_function, "s3:PutObject")
        if output in json.dumps(s["Resource"])
    ]
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [output, "Arn"]}, "/results/*"]]}


def test_prepare_reads_only_the_input_prefix(reference: Synthesized) -> None:
    input_id = reference.id_of(reference.pipeline.input_bucket)
    [listing] = reference.allowing(reference.pipeline.prepare_function, "s3:ListBucket")
    assert listing["Resource"] == {"Fn::GetAtt": [input_id, "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}


def test_functions_without_bedrock_access_have_none(reference: Synthesized) -> None:
    for function in (
        reference.pipeline.prepare_function,
        reference.pipeline.events_function,
        reference.pipeline.collect_function,
    ):
        assert not [s for s in reference.statements(function) if "bedrock:" in json.dumps(s["Action"])]


def test_functions_are_python_312_on_arm64_with_finite_logs(reference: Synthesized) -> None:
    reference.template.resource_properties_count_is(
        "AWS::Lambda::Function", {"Runtime": "python3.12", "Architectures": ["arm64"]}, 5
    )
    for resource in reference.json["Resources"].values():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert resource["Properties"]["RetentionInDays"] == 30


def test_each_function_runs_its_own_handler(reference: Synthesized) -> None:
    handlers = sorted(
        r["Properties"]["Handler"]
        for r in reference.json["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    )
    assert handlers == [
        f"bedrock_batch.{name}.handler.handler"
        for name in ("collect", "events", "on_demand", "prepare", "submit")
    ]


def test_function_assets_hold_only_their_folder_and_common(
    reference_assembly: VerifiedAssembly,
) -> None:
    template = reference_assembly.template("BatchInferenceStack")
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        package, folder = resource["Properties"]["Handler"].split(".")[:2]
        asset = (
            reference_assembly.outdir
            / f"asset.{resource['Properties']['Code']['S3Key'].removesuffix('.zip')}"
        )
        assert sorted(p.name for p in asset.iterdir()) == [package]
        inside = sorted(p.name for p in (asset / package).iterdir())
        assert inside == sorted(["__init__.py", "common", folder]), inside
        assert (asset / package / folder / "handler.py").is_file()
        assert not list(Path(asset).rglob("__pycache__"))


def test_prepare_environment_follows_the_contract(reference: Synthesized) -> None:
    variables = reference.resource(reference.pipeline.prepare_function)["Properties"]["Environment"][
        "Variables"
    ]
    assert set(variables) == {
        "WORK_BUCKET", "MODEL_ID", "MODEL_FAMILY", "MIN_RECORDS_PER_JOB", "MAX_RECORDS_PER_JOB",
        "MAX_SHARD_BYTES", "SMALL_BATCH", "DEFAULT_MAX_TOKENS",
    }  # fmt: skip
    assert (variables["MODEL_ID"], variables["MODEL_FAMILY"], variables["SMALL_BATCH"]) == (
        REFERENCE_MODEL_ID,
        "anthropic",
        "on_demand",
    )
    assert (variables["MIN_RECORDS_PER_JOB"], variables["MAX_RECORDS_PER_JOB"]) == ("100", "50000")


def test_collect_gets_the_catalogues_token_prices(reference: Synthesized) -> None:
    variables = reference.resource(reference.pipeline.collect_function)["Properties"]["Environment"][
        "Variables"
    ]
    catalog = PriceCatalog.bundled()
    for variable, dimension in (
        ("BATCH_INPUT_PRICE_PER_MTOK", "batch-input"),
        ("BATCH_OUTPUT_PRICE_PER_MTOK", "batch-output"),
        ("ON_DEMAND_INPUT_PRICE_PER_MTOK", "input"),
        ("ON_DEMAND_OUTPUT_PRICE_PER_MTOK", "output"),
    ):
        assert variables[variable] == str(catalog.bedrock(REFERENCE_MODEL_ID, REGION, dimension).unit_price)


# -------------------------------------------------------------------------------------- encryption
def test_pipeline_buckets_are_kms_encrypted_private_and_logged(reference: Synthesized) -> None:
    key = {"Fn::GetAtt": [reference.id_of(reference.pipeline.key), "Arn"]}
    pipeline = reference.pipeline
    for bucket in (pipeline.work_bucket, pipeline.input_bucket, pipeline.output_bucket):
        properties = reference.resource(bucket)["Properties"]
        [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule == {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {"KMSMasterKeyID": key, "SSEAlgorithm": "aws:kms"},
        }
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
        assert properties["LoggingConfiguration"]["DestinationBucketName"] == {
            "Ref": reference.id_of(pipeline.access_log_bucket)
        }


def test_every_bucket_refuses_plain_http(reference: Synthesized) -> None:
    buckets = [
        r for r in reference.json["Resources"] if reference.json["Resources"][r]["Type"] == "AWS::S3::Bucket"
    ]
    policies = [
        r["Properties"] for r in reference.json["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"
    ]
    for bucket in buckets:
        [policy] = [p for p in policies if p["Bucket"] == {"Ref": bucket}]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["PolicyDocument"]["Statement"]
        )


def test_the_key_rotates(reference: Synthesized) -> None:
    assert reference.resource(reference.pipeline.key)["Properties"]["EnableKeyRotation"] is True


def test_work_files_expire_and_uploads_are_aborted(reference: Synthesized) -> None:
    rules = reference.resource(reference.pipeline.work_bucket)["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    assert {
        "Id": "ExpireRunFiles",
        "Prefix": "runs/",
        "ExpirationInDays": 14,
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        "Status": "Enabled",
    } in rules


def test_token_table_is_on_demand_with_ttl_under_the_key(reference: Synthesized) -> None:
    properties = reference.resource(reference.pipeline.token_table)["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": [reference.id_of(reference.pipeline.key), "Arn"]
    }


def test_coordination_table_is_on_demand_with_ttl_under_the_key(reference: Synthesized) -> None:
    properties = reference.resource(reference.pipeline.coordination_table)["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert properties["SSESpecification"]["KMSMasterKeyId"] == {
        "Fn::GetAtt": [reference.id_of(reference.pipeline.key), "Arn"]
    }


@pytest.mark.parametrize(
    ("function", "actions", "items"),
    [
        ("submit_function", ["dynamodb:UpdateItem", "dynamodb:GetItem"], "quota#*"),
        ("events_function", "dynamodb:UpdateItem", "quota#*"),
        ("collect_function", ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], "run#*"),
    ],
)
def test_coordination_items_are_reachable_only_by_their_owners(
    reference: Synthesized, function: str, actions: Any, items: str
) -> None:
    """submit and events touch only the job-quota items, collect only the run markers (dynamodb:LeadingKeys)."""
    table = {"Fn::GetAtt": [reference.id_of(reference.pipeline.coordination_table), "Arn"]}
    found = [s for s in reference.statements(getattr(reference.pipeline, function)) if s["Resource"] == table]
    assert found == [
        {
            "Action": actions,
            "Effect": "Allow",
            "Resource": table,
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [items]}},
        }
    ]


def test_submit_may_read_and_stop_only_batch_jobs(reference: Synthesized) -> None:
    [statement] = reference.allowing(reference.pipeline.submit_function, "bedrock:GetModelInvocationJob")
    assert statement["Action"] == ["bedrock:StopModelInvocationJob", "bedrock:GetModelInvocationJob"]
    assert statement["Resource"]["Fn::Join"][1][-1] == ":model-invocation-job/*"


def test_functions_share_the_quota_through_the_coordination_table(reference: Synthesized) -> None:
    table = {"Ref": reference.id_of(reference.pipeline.coordination_table)}

    def variables(function: Any) -> dict[str, Any]:
        result: dict[str, Any] = reference.resource(function)["Properties"]["Environment"]["Variables"]
        return result

    submit = variables(reference.pipeline.submit_function)
    assert (submit["COORDINATION_TABLE"], submit["MAX_CONCURRENT_JOBS"]) == (table, "10")
    assert variables(reference.pipeline.events_function)["COORDINATION_TABLE"] == table
    assert variables(reference.pipeline.collect_function)["COORDINATION_TABLE"] == table


def test_notification_topic_is_encrypted_with_the_key(reference: Synthesized) -> None:
    properties = reference.resource(reference.pipeline.topic)["Properties"]
    assert properties["KmsMasterKeyId"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.key), "Arn"]}


def test_alarms_may_publish_to_the_encrypted_topic(reference: Synthesized) -> None:
    key_policy = reference.resource(reference.pipeline.key)["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} and "kms:Decrypt" in s["Action"]
        for s in key_policy
    )


# ------------------------------------------------------------------------------------------- events
def test_job_state_change_rule_matches_terminal_batch_job_events_only(reference: Synthesized) -> None:
    pattern = reference.resource(reference.pipeline.job_events_rule)["Properties"]["EventPattern"]
    assert set(pattern) == {"source", "detail-type", "detail"}
    assert pattern["source"] == ["aws.bedrock"]
    assert pattern["detail-type"] == ["Batch Inference Job State Change"]
    assert pattern["detail"] == {"status": list(TERMINAL_JOB_STATUSES)}
    assert sorted(TERMINAL_JOB_STATUSES) == [
        "Completed",
        "Expired",
        "Failed",
        "PartiallyCompleted",
        "Stopped",
    ]


def test_job_state_changes_go_to_the_events_function(reference: Synthesized) -> None:
    [target] = reference.resource(reference.pipeline.job_events_rule)["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [reference.id_of(reference.pipeline.events_function), "Arn"]}


def test_uploads_start_one_run_per_jsonl_object(profile: Synthesized) -> None:
    assert profile.pipeline.upload_rule is not None
    rule = profile.resource(profile.pipeline.upload_rule)["Properties"]
    assert rule["EventPattern"]["detail-type"] == ["Object Created"]
    assert rule["EventPattern"]["detail"]["object"] == {
        "key": [
            {"wildcard": "incoming/*.jsonl"},
            {"wildcard": "incoming/*.JSONL"},
            {"wildcard": "incoming/*.jsonl.gz"},
            {"wildcard": "incoming/*.JSONL.GZ"},
        ]
    }
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": profile.id_of(profile.pipeline.state_machine)}
    assert target["InputTransformer"]["InputPathsMap"] == {"detail-object-key": "$.detail.object.key"}


def test_uploads_reach_eventbridge_without_a_custom_resource(profile: Synthesized) -> None:
    properties = profile.resource(profile.pipeline.input_bucket)["Properties"]
    assert properties["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    profile.template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_no_upload_rule_by_default(reference: Synthesized) -> None:
    assert reference.pipeline.upload_rule is None
    reference.template.resource_count_is("AWS::Events::Rule", 1)


# ------------------------------------------------------------------------------------ state machine
def test_map_submits_at_most_max_concurrent_jobs(reference: Synthesized, profile: Synthesized) -> None:
    assert _states(reference.definition())["SubmitJobs"]["MaxConcurrency"] == 10
    assert _states(profile.definition())["SubmitJobs"]["MaxConcurrency"] == 4


def test_map_iterates_shards_never_records(reference: Synthesized) -> None:
    submit_jobs = _states(reference.definition())["SubmitJobs"]
    assert submit_jobs["ItemsPath"] == "$.prepare.shards"
    assert submit_jobs["ItemSelector"] == {"run_id.$": "$.prepare.run_id", "shard.$": "$$.Map.Item.Value"}


def test_submit_waits_for_the_task_token(reference: Synthesized) -> None:
    submit = _states(reference.definition())["SubmitJob"]
    assert submit["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert submit["Parameters"]["Payload"] == {
        "task_token.$": "$$.Task.Token",
        "run_id.$": "$['run_id']",
        "shard.$": "$.shard",
    }


def test_submit_gives_up_six_hours_after_the_job_timeout(
    reference: Synthesized, profile: Synthesized
) -> None:
    assert _states(reference.definition())["SubmitJob"]["TimeoutSeconds"] == (72 + 6) * 3600
    assert _states(profile.definition())["SubmitJob"]["TimeoutSeconds"] == (24 + 6) * 3600


def test_submit_waits_for_a_job_slot_as_long_as_a_job_may_take(
    reference: Synthesized, profile: Synthesized
) -> None:
    """A full quota (this or another execution) or Bedrock throttling: SubmitJob keeps trying for about
    job_timeout_hours, with doubling jittered waits, inside a bounded share of the execution history."""
    for synthesized, hours, concurrency in ((reference, 72, 10), (profile, 24, 4)):
        [quota, transient, lambda_errors] = _states(synthesized.definition())["SubmitJob"]["Retry"]
        assert quota["ErrorEquals"] == ["JobQuotaFull", "JobSubmissionThrottled"]
        assert (
            quota["IntervalSeconds"] == 60 and quota["BackoffRate"] == 2 and quota["JitterStrategy"] == "FULL"
        )
        assert (quota["MaxAttempts"], quota["MaxDelaySeconds"]) == quota_wait(hours, concurrency)
        assert expected_quota_wait(quota["MaxAttempts"], quota["MaxDelaySeconds"]) >= hours * 3600
        assert quota["MaxAttempts"] * EVENTS_PER_SUBMIT_ATTEMPT * concurrency <= QUOTA_WAIT_HISTORY_EVENTS
        assert transient["ErrorEquals"] == ["TransientError"]
        assert "Lambda.TooManyRequestsException" in lambda_errors["ErrorEquals"]
    assert quota_wait(72, 10) == (250, 2160)  # 250 attempts, waits of up to 36 minutes


@pytest.mark.parametrize("hours", [24, 72, 168])
@pytest.mark.parametrize("concurrency", [1, 10, 40])
def test_the_quota_wait_covers_the_job_window_within_the_history_budget(hours: int, concurrency: int) -> None:
    attempts, max_delay = quota_wait(hours, concurrency)
    assert expected_quota_wait(attempts, max_delay) >= hours * 3600
    assert attempts * EVENTS_PER_SUBMIT_ATTEMPT * concurrency <= QUOTA_WAIT_HISTORY_EVENTS
    assert expected_quota_wait(attempts, max_delay - 60) < hours * 3600 or max_delay == 300


def test_every_lambda_task_retries_transient_errors(reference: Synthesized) -> None:
    states = _states(reference.definition())
    for name in ("Prepare", "RunOnDemand", "SubmitJob", "ReleaseSlot", "Collect"):
        [transient] = [r for r in states[name]["Retry"] if r["ErrorEquals"] == ["TransientError"]]
        assert transient["BackoffRate"] == 2 and transient["JitterStrategy"] == "FULL", name
        assert transient["MaxAttempts"] == 8 and transient["MaxDelaySeconds"] == 300, name


def test_every_lambda_task_retries_lambda_throttles(reference: Synthesized) -> None:
    states = _states(reference.definition())
    for name in ("Prepare", "RunOnDemand", "SubmitJob", "ReleaseSlot", "Collect"):
        retries = states[name]["Retry"]
        assert any(
            "Lambda.TooManyRequestsException" in r["ErrorEquals"] and r["JitterStrategy"] == "FULL"
            for r in retries
        ), name


def test_a_failed_submission_becomes_a_failed_job_result(reference: Synthesized) -> None:
    states = _states(reference.definition())
    [catch] = states["SubmitJob"]["Catch"]
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ReleaseSlot"}
    release = states["ReleaseSlot"]
    assert release["Next"] == "SubmissionFailed" and release["ResultPath"] is None
    assert release["Parameters"]["Payload"] == {
        "action": "release",
        "run_id.$": "$['run_id']",
        "shard.$": "$.shard",
    }
    assert release["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.release_error", "Next": "SubmissionFailed"}
    ]
    failed = states["SubmissionFailed"]
    assert failed["Type"] == "Pass"
    assert failed["Parameters"]["status"] == "Failed"
    assert failed["Parameters"]["shard_id.$"] == "$.shard.shard_id"
    assert failed["Parameters"]["job_arn.$"] == "States.StringToJson('null')"


def test_task_results_are_trimmed_to_the_contract(reference: Synthesized) -> None:
    states = _states(reference.definition())
    assert set(states["Prepare"]["ResultSelector"]) == {"run_id.$", "shards.$", "small_batch.$", "counts.$"}
    assert set(states["SubmitJob"]["ResultSelector"]) == {
        "shard_id.$",
        "job_arn.$",
        "status.$",
        "output_uri.$",
        "message.$",
    }
    assert states["Notify"]["ResultPath"] is None


def test_state_machine_is_standard_logged_at_error_and_traced(reference: Synthesized) -> None:
    properties = reference.resource(reference.pipeline.state_machine)["Properties"]
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ERROR"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_failed_runs_alarm_notifies_the_topic(reference: Synthesized) -> None:
    properties = reference.resource(reference.pipeline.failure_alarm)["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/States", "ExecutionsFailed")
    assert properties["AlarmActions"] == [{"Ref": reference.id_of(reference.pipeline.topic)}]


def test_cost_metrics_are_the_ones_collect_publishes(reference: Synthesized) -> None:
    metric = reference.pipeline.metric_actual_cost()
    assert (metric.namespace, metric.metric_name) == (METRIC_NAMESPACE, "ActualCostUSD")
    assert set(metric.dimensions or {}) == {"Pipeline"}
    assert [reference.pipeline.metric(name).metric_name for name in COLLECT_METRICS] == list(COLLECT_METRICS)
    with pytest.raises(ValueError, match="metric_name must be one of ActualCostUSD"):
        reference.pipeline.metric("Cost")


# ---------------------------------------------------------------------------------------- estimate
def test_estimate_is_recorded_on_the_state_machine(reference: Synthesized) -> None:
    metadata = reference.resource(reference.pipeline.state_machine)["Metadata"][COST_METADATA_KEY]
    estimate = CostEstimate.from_json(metadata)
    assert estimate == reference.pipeline.cost_estimate
    assert estimate.baseline is not None and estimate.monthly_total < estimate.baseline.monthly_total


def test_the_coordination_table_is_priced(reference: Synthesized) -> None:
    """30 runs of one shard: 3 one-unit updates of the quota item per shard and 1 metrics marker per run."""
    [line] = [
        line
        for line in reference.pipeline.cost_estimate.lines
        if line.component == "DynamoDB job-quota and run-marker writes"
    ]
    assert line.monthly_quantity == 30 * 3 + 30
    assert line.price_source.endswith("WriteRequestUnits")


def test_an_existing_key_is_not_priced_again(existing: Synthesized) -> None:
    existing.template.resource_count_is("AWS::KMS::Key", 0)
    dimensions = {line.price_source.rsplit("/", 1)[-1] for line in existing.pipeline.cost_estimate.lines}
    assert "SymmetricRequests" in dimensions and "CustomerManagedKey" not in dimensions


# ------------------------------------------------------------------------------- existing resources
def test_existing_buckets_are_used_and_only_work_and_log_buckets_are_made(existing: Synthesized) -> None:
    existing.template.resource_count_is("AWS::S3::Bucket", 2)
    variables = existing.resource(existing.pipeline.collect_function)["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["OUTPUT_BUCKET"] == "users-output"


def test_prepare_may_decrypt_with_the_input_buckets_own_key(existing: Synthesized) -> None:
    decrypt = existing.allowing(existing.pipeline.prepare_function, "kms:Decrypt")
    assert any(s["Resource"] == EXISTING_INPUT_KEY for s in decrypt)


def test_an_existing_key_encrypts_the_work_bucket(existing: Synthesized) -> None:
    properties = existing.resource(existing.pipeline.work_bucket)["Properties"]
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == EXISTING_KEY


# --------------------------------------------------------------------------------------- model ids
@pytest.mark.parametrize(
    ("model_id", "family", "profile", "foundation"),
    [
        (
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic",
            "",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
        (
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic",
            "us",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
        ),
        ("global.anthropic.claude-sonnet-4-6", "anthropic", "global", "anthropic.claude-sonnet-4-6"),
        ("amazon.nova-lite-v1:0", "nova", "", "amazon.nova-lite-v1:0"),
        ("meta.llama3-1-8b-instruct-v1:0", "llama", "", "meta.llama3-1-8b-instruct-v1:0"),
        ("amazon.titan-embed-text-v2:0", "titan-embed", "", "amazon.titan-embed-text-v2:0"),
        (
            f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-pro-v1:0",
            "nova",
            "",
            "amazon.nova-pro-v1:0",
        ),
        (
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/eu.amazon.nova-pro-v1:0",
            "nova",
            "eu",
            "amazon.nova-pro-v1:0",
        ),
    ],
)
def test_model_family_is_inferred_from_the_id(
    model_id: str, family: str, profile: str, foundation: str
) -> None:
    model = parse_model_id(model_id)
    assert (model.family, model.profile, model.foundation_model_id) == (family, profile, foundation)


# --------------------------------------------------------------------------------------- bad props
BATCHABLE_ANTHROPIC = (
    "Batchable anthropic models with a batch price in us-east-1 (in-Region or through a geographic profile such "
    "as us.<id>): anthropic.claude-3-5-haiku-20241022-v1:0, anthropic.claude-haiku-4-5-20251001-v1:0, "
    "anthropic.claude-sonnet-4-20250514-v1:0, anthropic.claude-sonnet-4-5-20250929-v1:0."
)
QUOTAS = (
    "Bedrock's batch quotas are per model (Service Quotas, service code bedrock) and can be raised; set these "
    "props to match your quotas for the model"
)
CONCURRENCY = (
    ": it caps the Map state's concurrency (an inline Map runs at most 40 iterations at once) and should not "
    "exceed the per-model quota 'Sum of in-progress and submitted batch inference jobs using a base model for "
    "<model>' (default 10; it can be raised)"
)
BAD_PROPS: list[tuple[dict[str, Any], str]] = [
    ({"model_id": ""}, "model_id must be a non-empty Bedrock model id or inference profile id, got ''"),
    (
        {"model_id": "mistral.mistral-small-2402-v1:0"},
        "model_id 'mistral.mistral-small-2402-v1:0' is not a supported model family: BedrockBatchPipeline builds "
        "batch requests for anthropic (Anthropic Claude, 'anthropic.*'), nova (Amazon Nova, 'amazon.nova*'), llama "
        "(Meta Llama, 'meta.llama*') and titan-embed (Amazon Titan Text Embeddings, 'amazon.titan-embed*') models, "
        "each optionally through an inference profile (us., eu., apac., jp., au., us-gov., global.)",
    ),
    (
        {"model_id": "anthropic.claude-3-7-sonnet-20250219-v1:0"},
        "model_id 'anthropic.claude-3-7-sonnet-20250219-v1:0' has no batch price in us-east-1: no Region of the price "
        "catalogue has a batch price for it, so no batch price is known for this model anywhere. "
        f"{BATCHABLE_ANTHROPIC} If AWS supports batch inference for this model, add batch-input and batch-output "
        "prices with a price override (docs/prices.md).",
    ),
    (
        {"model_id": "anthropic.claude-unknown-v9:0"},
        "model_id 'anthropic.claude-unknown-v9:0' has no batch price in us-east-1: the price catalogue does not know "
        f"this model in any Region, so no batch price is known for it. {BATCHABLE_ANTHROPIC} If AWS supports batch "
        "inference for this model, add batch-input and batch-output prices with a price override (docs/prices.md).",
    ),
    (
        {"model_id": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abc"},
        f"model_id 'arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abc' is an application "
        "inference profile ARN, whose id does not say which model it runs (the pipeline needs the model for the "
        "request bodies, the prices and IAM): pass the model or system profile it copies as model_id and this ARN "
        "as inference_profile_arn",
    ),
    (
        {"model_id": f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/abc"},
        f"model_id 'arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model/abc' is a Bedrock custom-model ARN; pass a "
        "foundation-model or inference-profile id or ARN, which name the model the jobs run",
    ),
    (
        {"records_per_job": 50_001},
        "records_per_job must be an int in [100, 50,000], got 50001 (from min_records_per_job to the default quota "
        f"'Records per batch inference job for <model>', 50,000). {QUOTAS}",
    ),
    (
        {"min_records_per_job": 1_000, "records_per_job": 500},
        "records_per_job must be an int in [1,000, 50,000], got 500 (from min_records_per_job to the default quota "
        f"'Records per batch inference job for <model>', 50,000). {QUOTAS}",
    ),
    (
        {"min_records_per_job": 50},
        "min_records_per_job must be an int in [100, 50,000], got 50: a job with fewer records than the quota "
        f"'Minimum number of records per batch inference job for <model>' (default 100) fails validation. {QUOTAS}",
    ),
    ({"max_concurrent_jobs": 0}, f"max_concurrent_jobs must be an int in [1, 40], got 0{CONCURRENCY}"),
    ({"max_concurrent_jobs": 41}, f"max_concurrent_jobs must be an int in [1, 40], got 41{CONCURRENCY}"),
    (
        {"job_timeout_hours": 23},
        "job_timeout_hours must be an int in [24, 168], got 23: CreateModelInvocationJob accepts 24 to 168 hours",
    ),
    (
        {"job_timeout_hours": 169},
        "job_timeout_hours must be an int in [24, 168], got 169: CreateModelInvocationJob accepts 24 to 168 hours",
    ),
    (
        {"small_batch": "on_demand"},
        "small_batch must be SmallBatch.ON_DEMAND or SmallBatch.FAIL, got 'on_demand'",
    ),
    (
        {"input_prefix": "/incoming/"},
        "input_prefix must be an S3 key prefix without a leading '/' (letters, digits and !_.*'()/=+-), got "
        "'/incoming/'",
    ),
    (
        {"output_prefix": "results?/"},
        "output_prefix must be an S3 key prefix without a leading '/' (letters, digits and !_.*'()/=+-), got "
        "'results?/'",
    ),
    ({"start_on_upload": "yes"}, "start_on_upload must be True or False, got 'yes'"),
    (
        {"work_retention_days": 0},
        "work_retention_days must be an int >= 1, got 0: the lifecycle rule deletes a run's work files this many "
        "days after they are written",
    ),
    ({"usage": {"records_per_month": 10}}, "usage must be a BatchUsage, got {'records_per_month': 10}"),
]


@pytest.mark.parametrize(
    ("props", "message"), BAD_PROPS, ids=[next(iter(p)) + str(i) for i, (p, _) in enumerate(BAD_PROPS)]
)
def test_bad_prop_is_refused_with_its_message(props: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(context=CONTEXT), "Bad", env=cdk.Environment(region=REGION))
    with pytest.raises(ValueError) as refused:
        BedrockBatchPipeline(stack, "Pipeline", **{"model_id": "amazon.nova-lite-v1:0", **props})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ({"records_per_month": -1}, "usage.records_per_month must be >= 0, got -1"),
        ({"input_tokens_per_record": -5}, "usage.input_tokens_per_record must be >= 0, got -5"),
        ({"output_tokens_per_record": 2.5}, "usage.output_tokens_per_record must be an int >= 0, got 2.5"),
        ({"duplicate_share": 1.0}, "usage.duplicate_share must be in [0, 1), got 1.0"),
        ({"duplicate_share": -0.1}, "usage.duplicate_share must be in [0, 1), got -0.1"),
        ({"runs_per_month": 0}, "usage.runs_per_month must be >= 1, got 0"),
    ],
)
def test_bad_usage_is_refused_with_its_message(usage: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        BatchUsage(**usage)
    assert str(refused.value) == message
