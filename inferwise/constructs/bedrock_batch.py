"""`BedrockBatchPipeline`: Bedrock batch inference (about half the on-demand token price) behind one state machine.

Records land in an input bucket as JSONL; a Standard Step Functions workflow prepares them into shards
(de-duplicated, validated, at most `records_per_job` records each), submits one Bedrock batch job per shard
(at most `max_concurrent_jobs` at once, the per-model quota), waits for each job's EventBridge state-change
event through a task token, collects the outputs into one results file and one error file, publishes a run
summary to an encrypted SNS topic and records what the run cost in CloudWatch metrics. The workflow iterates
shards, never records, so orchestration stays well under 1 % of the token bill.

The Lambda functions follow the contract in docs/bedrock-batch-contract.md; the construct and its cost are
described in docs/bedrock-batch.md.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

import inferwise
from inferwise.constructs.nag import iam5_resource_finding
from inferwise.cost.catalog import (
    BEDROCK_SERVICE,
    GLOBAL_DIMENSION_PREFIX,
    INFERENCE_PROFILE_PREFIXES,
    PriceCatalog,
    UnknownPriceError,
    catalog_for,
)
from inferwise.cost.estimators.bedrock_batch import (
    BATCH_MODEL_FAMILIES,
    EPHEMERAL_DEFAULT_MB,
    FUNCTION_MEMORY_MB,
    MAX_SHARD_BYTES,
    BatchPlan,
    BatchUsage,
    ModelFamily,
    estimate_bedrock_batch,
    prepare_ephemeral_mb,
)
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.usage_file import apply_usage_file

__all__ = [
    "BatchUsage",
    "BedrockBatchPipeline",
    "BedrockModel",
    "SmallBatch",
    "parse_model_id",
]

LAMBDA_DIR = Path(inferwise.__file__).parent / "lambda"
"""Handler sources shipped inside the package (one folder per function plus `batch_common`)."""

MAX_RECORDS_PER_JOB = 50_000
"""Default per-model quota "Records per batch inference job for <model>" (AWS-FACTS.md 1.5)."""
MIN_RECORDS_PER_JOB = 100
"""Default per-model quota "Minimum number of records per batch inference job for <model>"."""
DEFAULT_MAX_CONCURRENT_JOBS = 10
"""Default per-model quota "Sum of in-progress and submitted batch inference jobs using a base model"."""
INLINE_MAP_MAX_CONCURRENCY = 40
"""Step Functions runs at most 40 iterations of an inline Map state at once."""
JOB_TIMEOUT_HOURS = (24, 168)
"""`timeoutDurationInHours` accepted by CreateModelInvocationJob."""
TASK_TIMEOUT_MARGIN_HOURS = 6
"""How long past the job timeout the Submit task waits for the job's terminal event before giving up."""
WORK_PREFIX = "runs/"
METRIC_NAMESPACE = "inferwise/BedrockBatch"
TERMINAL_JOB_STATUSES = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
JOB_STATE_CHANGE = "Batch Inference Job State Change"
ON_DEMAND_SHARD_ID = "on-demand"

LAMBDA_THROTTLES = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
"""Transient Lambda invocation errors every task retries with exponential backoff and full jitter."""
SUBMISSION_THROTTLED = "JobSubmissionThrottled"
"""What the submit function raises when Bedrock throttles or the concurrent-jobs quota is full."""

COLLECT_METRICS = (
    "ActualCostUSD",
    "OnDemandEquivalentCostUSD",
    "SavingsUSD",
    "RecordsIn",
    "Results",
    "ModelErrors",
    "InputTokens",
    "OutputTokens",
)
"""The metrics collect publishes after each run (namespace `METRIC_NAMESPACE`, dimension `Pipeline`)."""

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<kind>[a-z-]+)/(?P<id>.+)$"
)
_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/=+-]*$")


class SmallBatch(enum.Enum):
    """What a run does when it has fewer distinct records than `min_records_per_job` (Bedrock would reject the job)."""

    ON_DEMAND = "on_demand"
    """Send them through on-demand InvokeModel (at on-demand prices) and finish the run normally."""
    FAIL = "fail"
    """Quarantine them with reason `below_minimum_records`, write the error report and fail the run."""


@dataclass(frozen=True)
class BedrockModel:
    """A model id as the pipeline uses it: what the jobs name, what IAM must allow, what the prepare step builds.

    `model_id` is what was given (a foundation-model id, an inference profile id such as `us.anthropic...`
    or `global.anthropic...`, or an ARN of either); `foundation_model_id` is the model without profile
    prefix; `profile` is the profile's geography (`us`, `eu`, `global`, ...) or '' for an in-Region model.
    """

    model_id: str
    foundation_model_id: str
    family: ModelFamily
    profile: str
    arn: str | None = None

    @property
    def is_cross_region(self) -> bool:
        return self.profile != ""


def parse_model_id(model_id: object) -> BedrockModel:
    """Parse a model id, inference profile id or ARN; `ValueError` if it is none of the supported families."""
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError(
            f"model_id must be a non-empty Bedrock model id or inference profile id, got {model_id!r}"
        )
    text = model_id.strip()
    arn = _ARN.match(text)
    body = text
    if arn is not None:
        if arn.group("kind") not in ("foundation-model", "inference-profile"):
            raise ValueError(
                f"model_id {model_id!r} is a Bedrock {arn.group('kind')} ARN; pass a foundation-model or "
                "inference-profile id or ARN, which name the model the jobs run"
            )
        body = arn.group("id")
    profile = ""
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if body.startswith(prefix):
            profile, body = prefix[:-1], body[len(prefix) :]
            break
    for start, family in BATCH_MODEL_FAMILIES:
        if body.startswith(start):
            return BedrockModel(text, body, family, profile, text if arn is not None else None)
    raise ValueError(
        f"model_id {model_id!r} is not a supported model family: BedrockBatchPipeline builds batch requests for "
        "anthropic (Anthropic Claude, 'anthropic.*'), nova (Amazon Nova, 'amazon.nova*'), llama (Meta Llama, "
        "'meta.llama*') and titan-embed (Amazon Titan Text Embeddings, 'amazon.titan-embed*') models, each "
        f"optionally through an inference profile ({', '.join(INFERENCE_PROFILE_PREFIXES)})"
    )


class BedrockBatchPipeline(Construct):
    """Bedrock batch inference for JSONL records in S3, orchestrated by one Standard state machine.

    Start a run with `{"input_prefix": "batch-2026-11/"}` (or let `start_on_upload` start one for each
    uploaded `.jsonl` object); results land in `output_bucket` under `<output_prefix><run>/`.

    Cost: tokens at the model's batch price (about half of on-demand) for the distinct records, plus a
    few dollars a month of orchestration, mostly fixed (custom metrics, the KMS key); see `cost_estimate`
    and docs/bedrock-batch.md.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_id: str,
        usage: BatchUsage = BatchUsage(),  # noqa: B008 - frozen dataclass, safe as a default
        records_per_job: int = MAX_RECORDS_PER_JOB,
        min_records_per_job: int = MIN_RECORDS_PER_JOB,
        max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS,
        job_timeout_hours: int = 72,
        small_batch: SmallBatch = SmallBatch.ON_DEMAND,
        input_bucket: s3.IBucket | None = None,
        input_prefix: str = "",
        output_bucket: s3.IBucket | None = None,
        output_prefix: str = "",
        encryption_key: kms.IKey | None = None,
        start_on_upload: bool = False,
        work_retention_days: int = 14,
        default_max_tokens: int = 1024,
    ) -> None:
        super().__init__(scope, construct_id)
        usage, usage_from_file = apply_usage_file(self, usage)
        self.model = parse_model_id(model_id)
        _validate_props(
            usage=usage,
            records_per_job=records_per_job,
            min_records_per_job=min_records_per_job,
            max_concurrent_jobs=max_concurrent_jobs,
            job_timeout_hours=job_timeout_hours,
            small_batch=small_batch,
            input_prefix=input_prefix,
            output_prefix=output_prefix,
            start_on_upload=start_on_upload,
            work_retention_days=work_retention_days,
            default_max_tokens=default_max_tokens,
        )
        region, region_assumptions = pricing_region(self)
        catalog = catalog_for(self)
        _check_batch_price(catalog, self.model, region)

        self.usage = usage
        self.records_per_job = records_per_job
        self.min_records_per_job = min_records_per_job
        self.max_concurrent_jobs = max_concurrent_jobs
        self.job_timeout_hours = job_timeout_hours
        self.small_batch = small_batch
        self.input_prefix = input_prefix
        self.output_prefix = output_prefix
        stack = cdk.Stack.of(self)

        # ------------------------------------------------------------------------------------ storage
        self.creates_key = encryption_key is None
        self.key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="Encrypts the Bedrock batch pipeline's buckets, token table and topic",
        )
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=cdk.Duration.days(90))],
        )
        cdk.Validations.of(self.access_log_bucket).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="This bucket receives the pipeline buckets' access logs; logging it too would recurse.",
            )
        )
        self.work_bucket = self._bucket(
            "WorkBucket",
            "work/",
            [
                s3.LifecycleRule(
                    id="ExpireRunFiles",
                    prefix=WORK_PREFIX,
                    expiration=cdk.Duration.days(work_retention_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
        )
        self.input_bucket: s3.IBucket = input_bucket or self._bucket("InputBucket", "input/", [])
        self.output_bucket: s3.IBucket = output_bucket or self._bucket("OutputBucket", "output/", [])
        if start_on_upload:
            self._send_events_to_eventbridge(self.input_bucket)

        self.token_table = dynamodb.Table(
            self,
            "TokenTable",
            partition_key=dynamodb.Attribute(name="job_arn", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        cdk.Validations.of(self.token_table).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-DDB3",
                reason=(
                    "The table only holds Step Functions task tokens that expire with their executions "
                    "(TTL); a point-in-time restore could bring back nothing usable."
                ),
            )
        )

        self.topic = sns.Topic(
            self, "Notifications", master_key=self.key, enforce_ssl=True, display_name="Bedrock batch runs"
        )

        # ------------------------------------------------------------------------- Bedrock service role
        self.service_role = iam.Role(
            self,
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
        self._allow_objects(
            self.service_role, self.work_bucket, WORK_PREFIX, read=True, write=True, own_account_only=True
        )
        self._allow_key(self.service_role, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
        self.service_role.add_to_policy(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=self.model_arns())
        )

        # -------------------------------------------------------------------------------- functions
        batch_prices = _token_prices(catalog, self.model, region)
        common = {"WORK_BUCKET": self.work_bucket.bucket_name, "MODEL_ID": self.model.model_id}
        self.prepare_function = self._function(
            "prepare",
            "Validates, de-duplicates and shards one run's JSONL records",
            cdk.Duration.minutes(15),
            {
                **common,
                "MODEL_FAMILY": self.model.family,
                "MIN_RECORDS_PER_JOB": str(min_records_per_job),
                "MAX_RECORDS_PER_JOB": str(records_per_job),
                "MAX_SHARD_BYTES": str(MAX_SHARD_BYTES),
                "SMALL_BATCH": small_batch.value,
                "DEFAULT_MAX_TOKENS": str(default_max_tokens),
            },
            ephemeral_mb=prepare_ephemeral_mb(usage),
        )
        self.submit_function = self._function(
            "submit",
            "Submits one shard as a Bedrock batch inference job and stores its task token",
            cdk.Duration.seconds(60),
            {
                **common,
                "ROLE_ARN": self.service_role.role_arn,
                "JOB_TIMEOUT_HOURS": str(job_timeout_hours),
                "KMS_KEY_ARN": self.key.key_arn,
                "TOKEN_TABLE": self.token_table.table_name,
            },
        )
        self.events_function = self._function(
            "events",
            "Completes a shard's task when its Bedrock batch job reaches a terminal status",
            cdk.Duration.seconds(60),
            {"TOKEN_TABLE": self.token_table.table_name},
        )
        self.collect_function = self._function(
            "collect",
            "Joins the job outputs into results and errors, writes the run summary and cost metrics",
            cdk.Duration.minutes(15),
            {
                **common,
                "OUTPUT_BUCKET": self.output_bucket.bucket_name,
                "OUTPUT_PREFIX": output_prefix,
                "METRIC_NAMESPACE": METRIC_NAMESPACE,
                **batch_prices,
            },
        )
        self.on_demand_function = self._function(
            "on_demand",
            "Runs a run's records through on-demand InvokeModel when there are too few for a batch job",
            cdk.Duration.minutes(15),
            common,
        )
        self._grant_functions()

        # ---------------------------------------------------------------------------- state machine
        self.log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(self._definition()),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ERROR, include_execution_data=False
            ),
            comment=f"Bedrock batch inference with {self.model.model_id}, at most {max_concurrent_jobs} jobs at once",
        )
        self._allow_key(self.state_machine, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["sns"])
        self.state_machine.grant_task_response(self.events_function)

        # ---------------------------------------------------------------------------------- events
        self.job_events_rule = events.Rule(
            self,
            "JobStateChanges",
            description="Bedrock batch inference jobs reaching a terminal status",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=[JOB_STATE_CHANGE],
                detail={"status": list(TERMINAL_JOB_STATUSES)},
            ),
            targets=[
                targets.LambdaFunction(
                    self.events_function, retry_attempts=185, max_event_age=cdk.Duration.hours(24)
                )
            ],
        )
        self.upload_rule: events.Rule | None = None
        if start_on_upload:
            self.upload_rule = events.Rule(
                self,
                "InputUploaded",
                description="Starts a run for each JSONL object uploaded to the input bucket",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [self.input_bucket.bucket_name]},
                        "object": {
                            "key": events.Match.wildcard(input_prefix.replace("*", "\\*") + "*.jsonl")
                        },
                    },
                ),
                targets=[
                    targets.SfnStateMachine(
                        self.state_machine,
                        input=events.RuleTargetInput.from_object(
                            {"input_prefix": events.EventField.from_path("$.detail.object.key")}
                        ),
                    )
                ],
            )

        # --------------------------------------------------------------------------------- alarms
        self.failure_alarm = cloudwatch.Alarm(
            self,
            "RunsFailed",
            alarm_description="A Bedrock batch run failed; its summary (if any) is in the output bucket",
            metric=self.metric_runs_failed(),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        self._allow_alarm_publishing(stack)
        self._acknowledge_scoped_wildcards()

        # ----------------------------------------------------------------------------------- cost
        plan = BatchPlan(
            model_id=self.model.model_id,
            family=self.model.family,
            records_per_job=records_per_job,
            min_records_per_job=min_records_per_job,
            small_batch="fail" if small_batch is SmallBatch.FAIL else "on_demand",
            custom_metrics=len(COLLECT_METRICS),
            alarms=1,
            creates_key=self.creates_key,
            work_retention_days=work_retention_days,
        )
        main = self.state_machine.node.default_child
        assert isinstance(main, cdk.CfnResource)
        self.cost_estimate = record_estimate(
            self,
            estimate_bedrock_batch(plan, usage, catalog, region, assumptions=region_assumptions),
            main,
            extra_assumptions=usage_from_file,
        )

    # ------------------------------------------------------------------------------------ public API
    def model_arns(self) -> list[str]:
        """What `bedrock:InvokeModel` must allow: the model, or a profile and its model in every Region."""
        stack = cdk.Stack.of(self)
        model = self.model
        foundation_any_region = (
            f"arn:{stack.partition}:bedrock:*::foundation-model/{model.foundation_model_id}"
        )
        if model.arn is not None:
            return (
                [model.arn, foundation_any_region]
                if model.is_cross_region or ":inference-profile/" in model.arn
                else [model.arn]
            )
        if model.is_cross_region:
            profile = f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{model.model_id}"
            return [profile, foundation_any_region]
        return [f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model.model_id}"]

    def grant_start_run(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow `grantee` to start runs (executions of the state machine)."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_write_input(self, grantee: iam.IGrantable) -> None:
        """Allow `grantee` to upload JSONL records under the input prefix."""
        self._allow_objects(grantee, self.input_bucket, self.input_prefix, read=False, write=True)
        self._allow_bucket_key(grantee, self.input_bucket, write=True, own_key=True)

    def grant_read_results(self, grantee: iam.IGrantable) -> None:
        """Allow `grantee` to read results, error reports and summaries under the output prefix."""
        self._allow_objects(grantee, self.output_bucket, self.output_prefix, read=True, write=False)
        self._allow_bucket_key(grantee, self.output_bucket, write=False, own_key=True)

    def metric(
        self, metric_name: str, *, statistic: str = "Sum", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """One of the metrics collect publishes after each run (`COLLECT_METRICS`), summed per day by default."""
        if metric_name not in COLLECT_METRICS:
            raise ValueError(f"metric_name must be one of {', '.join(COLLECT_METRICS)}, got {metric_name!r}")
        return cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"Pipeline": self.state_machine.state_machine_name},
            statistic=statistic,
            period=period or cdk.Duration.days(1),
        )

    def metric_actual_cost(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """USD the runs' tokens cost at batch (and, for small runs, on-demand) prices."""
        return self.metric("ActualCostUSD", period=period)

    def metric_on_demand_equivalent_cost(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """USD the tokens the batch jobs used would have cost at on-demand prices (de-duplicated records only)."""
        return self.metric("OnDemandEquivalentCostUSD", period=period)

    def metric_savings(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """USD saved against on-demand InvokeModel."""
        return self.metric("SavingsUSD", period=period)

    def metric_records_in(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self.metric("RecordsIn", period=period)

    def metric_model_errors(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        return self.metric("ModelErrors", period=period)

    def metric_tokens(
        self, direction: str = "input", *, period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """Tokens the runs' jobs reported in their manifests (`direction` "input" or "output")."""
        if direction not in ("input", "output"):
            raise ValueError(f"direction must be 'input' or 'output', got {direction!r}")
        return self.metric("InputTokens" if direction == "input" else "OutputTokens", period=period)

    def metric_runs_failed(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Failed executions of the state machine (the alarm on it notifies the topic)."""
        return self.state_machine.metric_failed(period=period or cdk.Duration.minutes(5), statistic="Sum")

    # -------------------------------------------------------------------------------- resources
    def _bucket(self, construct_id: str, log_prefix: str, rules: list[s3.LifecycleRule]) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[
                *rules,
                s3.LifecycleRule(
                    id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)
                ),
            ],
        )

    @staticmethod
    def _send_events_to_eventbridge(bucket: s3.IBucket) -> None:
        """S3 -> EventBridge: a bucket made here gets the plain CloudFormation property; an imported one
        goes through CDK's bucket-notifications custom resource (a Lambda function CDK adds to the stack)."""
        resource = bucket.node.default_child
        if isinstance(resource, s3.CfnBucket):
            resource.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        else:
            bucket.enable_event_bridge_notification()

    def _function(
        self,
        name: str,
        description: str,
        timeout: cdk.Duration,
        environment: Mapping[str, str],
        ephemeral_mb: int = EPHEMERAL_DEFAULT_MB,
    ) -> lambda_.Function:
        label = "".join(part.capitalize() for part in name.split("_"))
        folder = f"batch_{name}"
        log_group = logs.LogGroup(
            self,
            f"{label}Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{label}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the Bedrock batch pipeline's {name} function",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        function = lambda_.Function(
            self,
            f"{label}Function",
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"{folder}.handler.handler",
            code=lambda_.Code.from_asset(str(LAMBDA_DIR), exclude=_asset_exclude(folder)),
            memory_size=FUNCTION_MEMORY_MB[name],
            timeout=timeout,
            environment=dict(environment),
            log_group=log_group,
            role=role,
            ephemeral_storage_size=cdk.Size.mebibytes(ephemeral_mb),
        )
        function.node.add_dependency(role)
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    "The handlers are written and tested for Python 3.12 (the runtime the handler contract "
                    "fixes); moving runtimes is a deliberate change made together with the handlers."
                ),
            )
        )
        return function

    # ----------------------------------------------------------------------------------- grants
    def _grant_functions(self) -> None:
        stack = cdk.Stack.of(self)
        prepare, submit, events_fn = self.prepare_function, self.submit_function, self.events_function
        collect, on_demand = self.collect_function, self.on_demand_function

        self._allow_objects(prepare, self.input_bucket, self.input_prefix, read=True, write=False)
        self._allow_bucket_key(prepare, self.input_bucket, write=False)
        self._allow_objects(prepare, self.work_bucket, WORK_PREFIX, read=False, write=True, multipart=True)
        self._allow_key(prepare, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])

        submit.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:CreateModelInvocationJob"],
                resources=[
                    f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*",
                    *self.model_arns(),
                ],
            )
        )
        submit.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:StopModelInvocationJob"],
                resources=[
                    f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*"
                ],
            )
        )
        submit.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.service_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
            )
        )
        submit.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[self.token_table.table_arn])
        )
        self._allow_key(submit, self.key, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], ["dynamodb"])

        events_fn.add_to_role_policy(
            iam.PolicyStatement(
                # the handler reads the token; TTL removes the item (and deletes are free that way)
                actions=["dynamodb:GetItem"],
                resources=[self.token_table.table_arn],
            )
        )
        self._allow_key(events_fn, self.key, ["kms:Decrypt"], ["dynamodb"])

        self._allow_objects(
            collect, self.work_bucket, WORK_PREFIX, read=True, write=False, list_whole_bucket=True
        )
        self._allow_objects(
            collect, self.output_bucket, self.output_prefix, read=False, write=True, multipart=True
        )
        self._allow_bucket_key(collect, self.output_bucket, write=True)
        self._allow_key(collect, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
        collect.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            )
        )

        self._allow_objects(
            on_demand,
            self.work_bucket,
            WORK_PREFIX,
            read=True,
            write=True,
            multipart=True,
            list_whole_bucket=True,
        )
        self._allow_key(on_demand, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["s3"])
        on_demand.add_to_role_policy(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=self.model_arns())
        )

    def _allow_objects(
        self,
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
        `aws:ResourceAccount` = this account, so a service acting for us cannot reach a same-named bucket
        elsewhere (AWS's recommendation for the Bedrock batch service role).
        """
        account = (
            {"StringEquals": {"aws:ResourceAccount": cdk.Stack.of(self).account}} if own_account_only else {}
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

    def _allow_bucket_key(
        self, grantee: iam.IGrantable, bucket: s3.IBucket, *, write: bool, own_key: bool = False
    ) -> None:
        """KMS for a bucket's key: a key passed in with a bucket always, the pipeline's own key if `own_key`."""
        key = bucket.encryption_key
        if key is None or (key is self.key and not own_key):
            return
        self._allow_key(grantee, key, ["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])], ["s3"])

    def _allow_key(
        self, grantee: iam.IGrantable, key: kms.IKey, actions: Sequence[str], services: Sequence[str]
    ) -> None:
        """Use of the key only through the named services in this Region (kms:ViaService)."""
        region = cdk.Stack.of(self).region
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

    def _allow_alarm_publishing(self, stack: cdk.Stack) -> None:
        """CloudWatch alarms publish to the encrypted topic: the topic policy and key policy must let them."""
        alarms = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": alarms},
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmsToPublishEncrypted",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    def _acknowledge_scoped_wildcards(self) -> None:
        """Acknowledge each wildcard left in the pipeline's policies, one finding at a time, with its reason.

        Every one is a prefix whose run and shard names exist only at run time, a job id Bedrock assigns,
        a Region a cross-Region profile may route to, or an action that accepts no narrower resource.
        """
        stack = cdk.Stack.of(self)
        runs = (
            "objects under the work bucket's runs/ prefix, whose run and shard folders are named at run time"
        )
        work = self.work_bucket.arn_for_objects(f"{WORK_PREFIX}*")
        found: list[tuple[IConstruct, str, str]] = [
            (self.service_role, work, f"Bedrock batch jobs read shards and write outputs as {runs}"),
            (self._role(self.prepare_function), work, f"prepare writes shards and reports as {runs}"),
            (
                self._role(self.prepare_function),
                self.input_bucket.arn_for_objects(f"{self.input_prefix}*"),
                "prepare reads every JSONL object a run names under the configured input prefix",
            ),
            (self._role(self.collect_function), work, f"collect reads job outputs as {runs}"),
            (
                self._role(self.collect_function),
                self.output_bucket.arn_for_objects(f"{self.output_prefix}*"),
                "collect writes each run's results, errors and summary under the output prefix, in a folder "
                "named after the run",
            ),
            (
                self._role(self.collect_function),
                "*",
                f"cloudwatch:PutMetricData accepts no resource but '*'; a condition limits it to the "
                f"{METRIC_NAMESPACE} namespace",
            ),
            (self._role(self.on_demand_function), work, f"on_demand reads and writes {runs}"),
            (
                self._role(self.submit_function),
                f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:model-invocation-job/*",
                "CreateModelInvocationJob authorizes the new job's ARN, whose id Bedrock assigns during the call",
            ),
            (
                self.state_machine,
                "*",
                "X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs delivery actions Step "
                "Functions needs for logging accept no resource narrower than '*'",
            ),
        ]
        for function in (
            self.prepare_function,
            self.submit_function,
            self.collect_function,
            self.on_demand_function,
        ):
            found.append(
                (
                    self.state_machine,
                    f"{function.function_arn}:*",
                    "CDK's LambdaInvoke grants the function and its versions and aliases (function:*); the "
                    "state machine invokes only the pipeline's own functions",
                )
            )
        if self.model.is_cross_region:
            foundation = f"arn:{stack.partition}:bedrock:*::foundation-model/{self.model.foundation_model_id}"
            reason = (
                "a cross-Region inference profile routes each request to the foundation model in any Region it "
                "serves, so InvokeModel must allow that model in every Region (AWS-FACTS.md gotcha 8)"
            )
            for role in (
                self.service_role,
                self._role(self.submit_function),
                self._role(self.on_demand_function),
            ):
                found.append((role, foundation, reason))
        for target, resource, reason in found:
            finding = iam5_resource_finding(stack, resource)
            cdk.Validations.of(target).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
        cdk.Validations.of(self.state_machine).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-SF1",
                reason="Logging at ERROR is the cost-aware default; ALL logs every state's input and output.",
            )
        )

    @staticmethod
    def _role(function: lambda_.Function) -> iam.IRole:
        role = function.role
        assert role is not None
        return role

    # ----------------------------------------------------------------------------- state machine
    def _definition(self) -> sfn.IChainable:
        work = self.work_bucket.bucket_name
        prepare = tasks.LambdaInvoke(
            self,
            "Prepare",
            lambda_function=self.prepare_function,
            payload=sfn.TaskInput.from_object(
                {
                    "run_id": sfn.JsonPath.execution_name,
                    "input_bucket": self.input_bucket.bucket_name,
                    "input_prefix": sfn.JsonPath.string_at("$.input_prefix"),
                }
            ),
            result_selector={
                "run_id.$": "$.Payload.run_id",
                "shards.$": "$.Payload.shards",
                "small_batch.$": "$.Payload.small_batch",
                "counts.$": "$.Payload.counts",
            },
            result_path="$.prepare",
            retry_on_service_exceptions=False,
        )
        _retry_lambda(prepare)
        default_prefix = sfn.Pass(
            self,
            "DefaultInputPrefix",
            result=sfn.Result.from_string(self.input_prefix),
            result_path="$.input_prefix",
        )
        check_prefix = (
            sfn.Choice(self, "HasInputPrefix")
            .when(sfn.Condition.is_present("$.input_prefix"), prepare)
            .otherwise(default_prefix.next(prepare))
        )

        # -- one branch runs the records below the minimum on demand, the other the batch jobs
        on_demand = tasks.LambdaInvoke(
            self,
            "RunOnDemand",
            lambda_function=self.on_demand_function,
            payload=sfn.TaskInput.from_object({"run_id": sfn.JsonPath.string_at("$.prepare.run_id")}),
            result_selector=_job_result_selector("$.Payload"),
            retry_on_service_exceptions=False,
        )
        _retry_lambda(on_demand)
        wrap = sfn.Pass(
            self, "OnDemandJobList", parameters={"jobs.$": "States.Array($)"}, output_path="$.jobs"
        )
        on_demand_failed = sfn.Pass(
            self,
            "OnDemandFailed",
            parameters=_failed_job(
                ON_DEMAND_SHARD_ID,
                f"s3://{work}/{WORK_PREFIX}{{}}/outputs/{ON_DEMAND_SHARD_ID}/",
                "$.prepare.run_id",
            ),
        )
        on_demand.add_catch(on_demand_failed.next(wrap), errors=["States.ALL"], result_path="$.error")
        on_demand_branch = (
            sfn.Choice(self, "OnDemandNeeded")
            .when(
                sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.ON_DEMAND.value),
                on_demand.next(wrap),
            )
            .otherwise(sfn.Pass(self, "NoOnDemandJob", result=sfn.Result.from_array([])))
        )

        submit = tasks.LambdaInvoke(
            self,
            "SubmitJob",
            lambda_function=self.submit_function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {
                    "task_token": sfn.JsonPath.task_token,
                    "run_id": sfn.JsonPath.string_at("$.run_id"),
                    "shard": sfn.JsonPath.object_at("$.shard"),
                }
            ),
            result_selector=_job_result_selector("$"),
            task_timeout=sfn.Timeout.duration(
                cdk.Duration.hours(self.job_timeout_hours + TASK_TIMEOUT_MARGIN_HOURS)
            ),
            retry_on_service_exceptions=False,
        )
        submit.add_retry(
            errors=[SUBMISSION_THROTTLED],
            interval=cdk.Duration.seconds(30),
            backoff_rate=2,
            max_attempts=10,
            max_delay=cdk.Duration.minutes(15),
            jitter_strategy=sfn.JitterType.FULL,
        )
        _retry_lambda(submit)
        submission_failed = sfn.Pass(
            self,
            "SubmissionFailed",
            parameters=_failed_job(
                "$.shard.shard_id",
                f"s3://{work}/{WORK_PREFIX}{{}}/outputs/{{}}/",
                "$.run_id",
                "$.shard.shard_id",
            ),
        )
        submit.add_catch(submission_failed, errors=["States.ALL"], result_path="$.error")
        jobs = sfn.Map(
            self,
            "SubmitJobs",
            items_path="$.prepare.shards",
            item_selector={"run_id.$": "$.prepare.run_id", "shard.$": "$$.Map.Item.Value"},
            max_concurrency=self.max_concurrent_jobs,
        ).item_processor(submit)
        run_jobs = sfn.Parallel(
            self,
            "RunJobs",
            result_selector={"jobs.$": "$[*][*]"},
            result_path="$.results",
        )
        run_jobs.branch(on_demand_branch)
        run_jobs.branch(jobs)
        no_jobs = sfn.Pass(
            self, "NoJobs", result=sfn.Result.from_object({"jobs": []}), result_path="$.results"
        )

        collect = tasks.LambdaInvoke(
            self,
            "Collect",
            lambda_function=self.collect_function,
            payload=sfn.TaskInput.from_object(
                {
                    "run_id": sfn.JsonPath.string_at("$.prepare.run_id"),
                    "prepare": sfn.JsonPath.object_at("$.prepare"),
                    "jobs": sfn.JsonPath.list_at("$.results.jobs"),
                    "pipeline": sfn.JsonPath.string_at("$$.StateMachine.Name"),
                }
            ),
            result_selector={
                "run_id.$": "$.Payload.run_id",
                "status.$": "$.Payload.status",
                "counts.$": "$.Payload.counts",
                "summary_uri.$": "$.Payload.summary_uri",
            },
            result_path="$.summary",
            retry_on_service_exceptions=False,
        )
        _retry_lambda(collect)
        notify = tasks.SnsPublish(
            self,
            "Notify",
            topic=self.topic,
            subject="Bedrock batch run finished",
            message=sfn.TaskInput.from_json_path_at("$.summary"),
            result_path=sfn.JsonPath.DISCARD,
        )
        notify.add_retry(
            errors=["States.ALL"],
            interval=cdk.Duration.seconds(2),
            backoff_rate=2,
            max_attempts=3,
            jitter_strategy=sfn.JitterType.FULL,
        )
        outcome = (
            sfn.Choice(self, "RunOutcome")
            .when(
                sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.FAIL.value),
                sfn.Fail(
                    self,
                    "BelowMinimumRecords",
                    error="BelowMinimumRecords",
                    cause=(
                        f"fewer distinct valid records than min_records_per_job ({self.min_records_per_job}); "
                        "they are in the run's errors.jsonl"
                    ),
                ),
            )
            .when(
                sfn.Condition.string_equals("$.summary.status", "FAILED"),
                sfn.Fail(
                    self, "RunFailed", error="RunFailed", cause="collect reported FAILED; see the run summary"
                ),
            )
            .otherwise(sfn.Succeed(self, "RunSucceeded"))
        )
        notify.add_catch(outcome, errors=["States.ALL"], result_path="$.notify_error")
        collect.next(notify).next(outcome)
        run_jobs.next(collect)
        no_jobs.next(collect)

        small_batch = (
            sfn.Choice(self, "SmallBatchMode")
            .when(sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.FAIL.value), no_jobs)
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.ON_DEMAND.value),
                    sfn.Condition.is_present("$.prepare.shards[0]"),
                ),
                run_jobs,
            )
            .otherwise(no_jobs)
        )
        prepare.next(small_batch)
        return check_prefix


# ------------------------------------------------------------------------------------------------ helpers
def _asset_exclude(folder: str) -> list[str]:
    """Everything in the lambda directory except the function's own folder and the shared `batch_common`."""
    return [
        "*",
        f"!{folder}",
        f"!{folder}/**",
        "!batch_common",
        "!batch_common/**",
        "**/__pycache__",
        "**/*.pyc",
    ]


def _retry_lambda(task: tasks.LambdaInvoke) -> None:
    task.add_retry(
        errors=list(LAMBDA_THROTTLES),
        interval=cdk.Duration.seconds(2),
        backoff_rate=2,
        max_attempts=6,
        max_delay=cdk.Duration.minutes(1),
        jitter_strategy=sfn.JitterType.FULL,
    )


def _job_result_selector(root: str) -> dict[str, str]:
    """Keep exactly the contract's job result fields (no timestamps, nothing large)."""
    return {
        f"{field}.$": f"{root}.{field}"
        for field in ("shard_id", "job_arn", "status", "output_uri", "message")
    }


def _failed_job(shard_id: str, output_uri_template: str, *paths: str) -> dict[str, Any]:
    """A job result with status Failed for a shard whose task failed for good; the caught error is the message.

    `shard_id` is a literal id or a JSONPath (starting with `$`); `output_uri_template` is filled with `paths`.
    """
    shard = {"shard_id.$": shard_id} if shard_id.startswith("$") else {"shard_id": shard_id}
    return {
        **shard,
        "job_arn.$": "States.StringToJson('null')",  # JSON null: CDK drops a Python None
        "status": "Failed",
        "output_uri.$": f"States.Format('{output_uri_template}', {', '.join(paths)})",
        "message.$": "States.JsonToString($.error)",
    }


def _token_prices(catalog: PriceCatalog, model: BedrockModel, region: str) -> dict[str, str]:
    """The per-million-token prices collect needs to report what a run cost, from the catalogue."""
    prices = {
        "BATCH_INPUT_PRICE_PER_MTOK": "batch-input",
        "BATCH_OUTPUT_PRICE_PER_MTOK": "batch-output",
        "ON_DEMAND_INPUT_PRICE_PER_MTOK": "input",
        "ON_DEMAND_OUTPUT_PRICE_PER_MTOK": "output",
    }
    found = {}
    for variable, dimension in prices.items():
        if model.family == "titan-embed" and dimension.endswith("output"):
            found[variable] = "0"  # embedding models bill input tokens only
            continue
        found[variable] = str(catalog.bedrock(model.model_id, region, dimension).unit_price)
    return found


def _batch_models(catalog: PriceCatalog, region: str) -> list[str]:
    models = set()
    for record in catalog.records(service=BEDROCK_SERVICE, region=region):
        batch = record.dimension in ("batch-input", GLOBAL_DIMENSION_PREFIX + "batch-input")
        if batch and any(record.sku.startswith(start) for start, _ in BATCH_MODEL_FAMILIES):
            models.add(record.sku)
    return sorted(models)


def _check_batch_price(catalog: PriceCatalog, model: BedrockModel, region: str) -> None:
    try:
        batch = catalog.has_batch_price(model.model_id, region)
        reason = "the price catalogue has no batch price for it"
    except UnknownPriceError:
        batch, reason = False, "the price catalogue does not know it"
    if batch:
        return
    known = _batch_models(catalog, region)
    raise ValueError(
        f"model_id {model.model_id!r} is an unknown or non-batch model in {region}: {reason}. Batch-capable models "
        f"there: {', '.join(known) or 'none'} (inference profile ids such as us.<id> or global.<id> resolve to "
        "these). If AWS supports batch inference for this model, add batch-input and batch-output prices with a "
        "price override (docs/prices.md)."
    )


def _check_int(name: str, value: object, low: int, high: int | None, why: str) -> None:
    allowed = f"an int in [{low:,}, {high:,}]" if high is not None else f"an int >= {low:,}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise ValueError(f"{name} must be {allowed}, got {value!r}{why}")


def _validate_props(
    *,
    usage: object,
    records_per_job: object,
    min_records_per_job: object,
    max_concurrent_jobs: object,
    job_timeout_hours: object,
    small_batch: object,
    input_prefix: object,
    output_prefix: object,
    start_on_upload: object,
    work_retention_days: object,
    default_max_tokens: object,
) -> None:
    if not isinstance(usage, BatchUsage):
        raise ValueError(f"usage must be a BatchUsage, got {usage!r}")
    quotas = (
        "Bedrock's batch quotas are per model (Service Quotas, service code bedrock) and can be raised; "
        "set these props to match your quotas for the model"
    )
    _check_int(
        "min_records_per_job",
        min_records_per_job,
        MIN_RECORDS_PER_JOB,
        MAX_RECORDS_PER_JOB,
        f": a job with fewer records than the quota 'Minimum number of records per batch inference job for "
        f"<model>' (default {MIN_RECORDS_PER_JOB}) fails validation. {quotas}",
    )
    assert isinstance(min_records_per_job, int)
    _check_int(
        "records_per_job",
        records_per_job,
        min_records_per_job,
        MAX_RECORDS_PER_JOB,
        f" (from min_records_per_job to the default quota 'Records per batch inference job for <model>', "
        f"{MAX_RECORDS_PER_JOB:,}). {quotas}",
    )
    _check_int(
        "max_concurrent_jobs",
        max_concurrent_jobs,
        1,
        INLINE_MAP_MAX_CONCURRENCY,
        ": it caps the Map state's concurrency (an inline Map runs at most 40 iterations at once) and should "
        "not exceed the per-model quota 'Sum of in-progress and submitted batch inference jobs using a base "
        f"model for <model>' (default {DEFAULT_MAX_CONCURRENT_JOBS}; it can be raised)",
    )
    low, high = JOB_TIMEOUT_HOURS
    _check_int(
        "job_timeout_hours",
        job_timeout_hours,
        low,
        high,
        ": CreateModelInvocationJob accepts 24 to 168 hours",
    )
    if not isinstance(small_batch, SmallBatch):
        raise ValueError(f"small_batch must be SmallBatch.ON_DEMAND or SmallBatch.FAIL, got {small_batch!r}")
    for name, prefix in (("input_prefix", input_prefix), ("output_prefix", output_prefix)):
        if not isinstance(prefix, str) or prefix.startswith("/") or not _S3_PREFIX.match(prefix):
            raise ValueError(
                f"{name} must be an S3 key prefix without a leading '/' (letters, digits and !_.*'()/=+-), "
                f"got {prefix!r}"
            )
    if not isinstance(start_on_upload, bool):
        raise ValueError(f"start_on_upload must be True or False, got {start_on_upload!r}")
    _check_int(
        "work_retention_days",
        work_retention_days,
        1,
        None,
        ": the lifecycle rule deletes a run's work files this many days after they are written",
    )
    _check_int("default_max_tokens", default_max_tokens, 1, None, "")
