"""Who may do what in a `BedrockBatchPipeline`: the Bedrock service role, each function's grants, the KMS and
topic policies, and the cdk-nag acknowledgement of every wildcard that is left (one finding at a time).

Every grant names exact actions on the narrowest resource the API accepts: objects under a prefix, the
pipeline's key through the named services only, the pipeline's application inference profile and what it
copies (the model, or a system profile and its model), the model reachable only through the profiles
(`attribution.ModelAccess`, built on `inferwise.constructs.inference_profile`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from inferwise.constructs.bedrock_batch.props import METRIC_NAMESPACE, WORK_PREFIX
from inferwise.constructs.nag import iam5_resource_finding

if TYPE_CHECKING:
    from inferwise.constructs.bedrock_batch.construct import BedrockBatchPipeline


def bedrock_service_role(pipeline: BedrockBatchPipeline) -> iam.Role:
    """The role Bedrock assumes to run the jobs: read shards and write outputs under the work prefix, invoke
    the model. Only this account's batch jobs can assume it (confused-deputy conditions)."""
    stack = cdk.Stack.of(pipeline)
    role = iam.Role(
        pipeline,
        "BedrockServiceRole",
        description="Assumed by Amazon Bedrock to run this pipeline's batch inference jobs",
        assumed_by=iam.ServicePrincipal(
            "bedrock.amazonaws.com",
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}"
                    ":model-invocation-job/*"
                },
            },
        ),
    )
    allow_objects(
        pipeline, role, pipeline.work_bucket, WORK_PREFIX, read=True, write=True, own_account_only=True
    )
    allow_key(pipeline, role, pipeline.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
    for statement in pipeline.model_access.statements(pipeline):
        role.add_to_policy(statement)
    return role


# ------------------------------------------------------------------------------------- function grants
def grant_functions(pipeline: BedrockBatchPipeline) -> None:
    """What each of the five functions needs for its part of the contract, and nothing more."""
    _grant_prepare(pipeline)
    _grant_submit(pipeline)
    _grant_events(pipeline)
    _grant_collect(pipeline)
    _grant_on_demand(pipeline)


def _grant_prepare(pipeline: BedrockBatchPipeline) -> None:
    prepare = pipeline.prepare_function
    allow_objects(pipeline, prepare, pipeline.input_bucket, pipeline.input_prefix, read=True, write=False)
    allow_bucket_key(pipeline, prepare, pipeline.input_bucket, write=False)
    allow_objects(
        pipeline, prepare, pipeline.work_bucket, WORK_PREFIX, read=False, write=True, multipart=True
    )
    allow_key(pipeline, prepare, pipeline.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])


def _grant_submit(pipeline: BedrockBatchPipeline) -> None:
    stack = cdk.Stack.of(pipeline)
    submit = pipeline.submit_function
    submit.add_to_role_policy(
        iam.PolicyStatement(
            actions=["bedrock:CreateModelInvocationJob"],
            resources=[
                f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*",
                *pipeline.model_access.resources(pipeline),
            ],
        )
    )
    submit.add_to_role_policy(
        iam.PolicyStatement(
            # stop a job whose token could not be stored or whose shard was given up; read the status of
            # a job that still holds a quota slot (a lost job event)
            actions=["bedrock:StopModelInvocationJob", "bedrock:GetModelInvocationJob"],
            resources=[
                f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*"
            ],
        )
    )
    submit.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[pipeline.service_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
        )
    )
    submit.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[pipeline.token_table.table_arn])
    )
    allow_coordination(pipeline, submit, ["dynamodb:UpdateItem", "dynamodb:GetItem"], "quota#")
    allow_key(
        pipeline, submit, pipeline.key, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], ["dynamodb"]
    )


def _grant_events(pipeline: BedrockBatchPipeline) -> None:
    events_fn = pipeline.events_function
    events_fn.add_to_role_policy(
        iam.PolicyStatement(
            # the handler reads the token; TTL removes the item (and deletes are free that way)
            actions=["dynamodb:GetItem"],
            resources=[pipeline.token_table.table_arn],
        )
    )
    # a job that ended gives its quota slot back
    allow_coordination(pipeline, events_fn, ["dynamodb:UpdateItem"], "quota#")
    allow_key(
        pipeline, events_fn, pipeline.key, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], ["dynamodb"]
    )


def _grant_collect(pipeline: BedrockBatchPipeline) -> None:
    collect = pipeline.collect_function
    allow_objects(
        pipeline, collect, pipeline.work_bucket, WORK_PREFIX, read=True, write=False, list_whole_bucket=True
    )
    allow_objects(
        pipeline,
        collect,
        pipeline.output_bucket,
        pipeline.output_prefix,
        read=False,
        write=True,
        multipart=True,
    )
    allow_bucket_key(pipeline, collect, pipeline.output_bucket, write=True)
    allow_key(pipeline, collect, pipeline.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
    # the once-per-run metrics marker: claim, read back, give back after a failed publish
    allow_coordination(
        pipeline, collect, ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"], "run#"
    )
    allow_key(
        pipeline, collect, pipeline.key, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], ["dynamodb"]
    )
    collect.add_to_role_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        )
    )


def _grant_on_demand(pipeline: BedrockBatchPipeline) -> None:
    on_demand = pipeline.on_demand_function
    allow_objects(
        pipeline,
        on_demand,
        pipeline.work_bucket,
        WORK_PREFIX,
        read=True,
        write=True,
        multipart=True,
        list_whole_bucket=True,
    )
    allow_key(pipeline, on_demand, pipeline.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
    for statement in pipeline.model_access.statements(pipeline):
        on_demand.add_to_role_policy(statement)


# ------------------------------------------------------------------------------------- building blocks
def allow_coordination(
    pipeline: BedrockBatchPipeline, function: lambda_.Function, actions: Sequence[str], item_prefix: str
) -> None:
    """Item actions on the coordination table, only on items whose key starts with `item_prefix`
    (`quota#` for the job slots, `run#` for run markers)."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[pipeline.coordination_table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{item_prefix}*"]}},
        )
    )


def allow_objects(
    scope: Construct,
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    prefix: str,
    *,
    read: bool,
    write: bool,
    multipart: bool = False,
    list_whole_bucket: bool = False,
    own_account_only: bool = False,
) -> None:
    """Exact object actions under `prefix`; readers also get ListBucket, limited to `prefix` unless asked.

    `multipart` adds AbortMultipartUpload (the handlers stream large files as multipart uploads and
    abort them on error). `list_whole_bucket` drops the prefix condition on ListBucket: S3 answers a
    GetObject for a missing key with 404 only to a caller allowed to list, and the handlers read
    optional work files (quarantine, duplicates) that may not exist. `own_account_only` adds
    `aws:ResourceAccount` = this account (the account of `scope`'s stack), so a service acting for us
    cannot reach a same-named bucket elsewhere (AWS's recommendation for the Bedrock batch service role).
    """
    account = (
        {"StringEquals": {"aws:ResourceAccount": cdk.Stack.of(scope).account}} if own_account_only else {}
    )
    actions = [
        *(["s3:GetObject"] if read else []),
        *(["s3:PutObject"] if write else []),
        *(["s3:AbortMultipartUpload"] if write and multipart else []),
    ]
    statements = [
        iam.PolicyStatement(
            actions=actions, resources=[bucket.arn_for_objects(f"{prefix}*")], conditions=account or None
        )
    ]
    if read:
        scoped = bool(prefix) and not list_whole_bucket
        listing = {**account, **({"StringLike": {"s3:prefix": [f"{prefix}*"]}} if scoped else {})}
        statements.append(
            iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[bucket.bucket_arn], conditions=listing or None
            )
        )
    for statement in statements:
        grantee.grant_principal.add_to_principal_policy(statement)


def allow_bucket_key(
    pipeline: BedrockBatchPipeline,
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    *,
    write: bool,
    own_key: bool = False,
) -> None:
    """KMS for a bucket's key: a key passed in with a bucket always, the pipeline's own key if `own_key`."""
    key = bucket.encryption_key
    if key is None or (key is pipeline.key and not own_key):
        return
    allow_key(pipeline, grantee, key, ["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])], ["s3"])


def allow_key(
    scope: Construct, grantee: iam.IGrantable, key: kms.IKey, actions: Sequence[str], services: Sequence[str]
) -> None:
    """Use of the key only through the named services in this Region (kms:ViaService)."""
    region = cdk.Stack.of(scope).region
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in services]
                }
            },
        )
    )


def allow_alarm_publishing(pipeline: BedrockBatchPipeline, stack: cdk.Stack) -> None:
    """CloudWatch alarms publish to the encrypted topic: the topic policy and key policy must let them."""
    alarms = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
    pipeline.topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAlarmsToPublish",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[pipeline.topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": alarms},
            },
        )
    )
    pipeline.key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAlarmsToPublishEncrypted",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )


# ---------------------------------------------------------------------------- cdk-nag acknowledgements
def acknowledge_scoped_wildcards(pipeline: BedrockBatchPipeline) -> None:
    """Acknowledge each wildcard left in the pipeline's policies, one finding at a time, with its reason.

    Every one is a prefix whose run and shard names exist only at run time, a job id Bedrock assigns,
    a Region a cross-Region profile may route to, or an action that accepts no narrower resource.
    """
    stack = cdk.Stack.of(pipeline)
    found = [
        *_run_time_wildcards(pipeline, stack),
        *_invoke_wildcards(pipeline),
        *_cross_region_wildcards(pipeline),
    ]
    for target, resource, reason in found:
        finding = iam5_resource_finding(stack, resource)
        cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
    cdk.Validations.of(pipeline.state_machine).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-SF1",
            reason="Logging at ERROR is the cost-aware default; ALL logs every state's input and output.",
        )
    )


def _run_time_wildcards(
    pipeline: BedrockBatchPipeline, stack: cdk.Stack
) -> list[tuple[IConstruct, str, str]]:
    """Prefixes named at run time, a job id Bedrock assigns, actions that accept only '*'."""
    runs = "objects under the work bucket's runs/ prefix, whose run and shard folders are named at run time"
    work = pipeline.work_bucket.arn_for_objects(f"{WORK_PREFIX}*")
    prepare, collect = _role(pipeline.prepare_function), _role(pipeline.collect_function)
    return [
        (pipeline.service_role, work, f"Bedrock batch jobs read shards and write outputs as {runs}"),
        (prepare, work, f"prepare writes shards and reports as {runs}"),
        (
            prepare,
            pipeline.input_bucket.arn_for_objects(f"{pipeline.input_prefix}*"),
            "prepare reads every JSONL object a run names under the configured input prefix",
        ),
        (collect, work, f"collect reads job outputs as {runs}"),
        (
            collect,
            pipeline.output_bucket.arn_for_objects(f"{pipeline.output_prefix}*"),
            "collect writes each run's results, errors and summary under the output prefix, in a folder "
            "named after the run",
        ),
        (
            collect,
            "*",
            f"cloudwatch:PutMetricData accepts no resource but '*'; a condition limits it to the "
            f"{METRIC_NAMESPACE} namespace",
        ),
        (_role(pipeline.on_demand_function), work, f"on_demand reads and writes {runs}"),
        (
            _role(pipeline.submit_function),
            f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*",
            "CreateModelInvocationJob authorizes the new job's ARN, whose id Bedrock assigns during the call",
        ),
        (
            pipeline.state_machine,
            "*",
            "X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs delivery actions Step "
            "Functions needs for logging accept no resource narrower than '*'",
        ),
    ]


def _invoke_wildcards(pipeline: BedrockBatchPipeline) -> list[tuple[IConstruct, str, str]]:
    """CDK's LambdaInvoke grants each function with its versions and aliases (`function:*`)."""
    return [
        (
            pipeline.state_machine,
            f"{function.function_arn}:*",
            "CDK's LambdaInvoke grants the function and its versions and aliases (function:*); the "
            "state machine invokes only the pipeline's own functions",
        )
        for function in (
            pipeline.prepare_function,
            pipeline.submit_function,
            pipeline.collect_function,
            pipeline.on_demand_function,
        )
    ]


def _cross_region_wildcards(pipeline: BedrockBatchPipeline) -> list[tuple[IConstruct, str, str]]:
    """A cross-Region profile's foundation model in every Region, for each role that invokes it."""
    everywhere = [arn for arn in pipeline.model_access.resources(pipeline) if ":*::foundation-model/" in arn]
    reason = (
        "a cross-Region inference profile (directly or copied into the pipeline's application inference "
        "profile) routes each request to the foundation model in any Region it serves, so InvokeModel must "
        "allow that model in every Region, only through the profiles (docs/aws-facts.md#batch-iam)"
    )
    return [
        (role, foundation, reason)
        for foundation in everywhere
        for role in (
            pipeline.service_role,
            _role(pipeline.submit_function),
            _role(pipeline.on_demand_function),
        )
    ]


def _role(function: lambda_.Function) -> iam.IRole:
    role = function.role
    assert role is not None
    return role
