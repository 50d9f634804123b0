"""The `BedrockBatchPipeline` construct: checks its props, builds its parts, estimates and records its cost."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
from constructs import Construct

import inferwise
from inferwise.constructs.bedrock_batch import iam as grants
from inferwise.constructs.bedrock_batch.attribution import model_access
from inferwise.constructs.bedrock_batch.checkov import acknowledge_checkov
from inferwise.constructs.bedrock_batch.props import (
    COLLECT_METRICS,
    DEFAULT_MAX_CONCURRENT_JOBS,
    MAX_RECORDS_PER_JOB,
    METRIC_NAMESPACE,
    MIN_RECORDS_PER_JOB,
    WORK_PREFIX,
    SmallBatch,
    check_batch_price,
    check_model_region,
    parse_model_id,
    storage_props,
    token_prices,
    validate_props,
)
from inferwise.constructs.bedrock_batch.state_machine import definition
from inferwise.constructs.log_encryption import logs_encryption_key
from inferwise.cost.catalog import PriceCatalog, catalog_for
from inferwise.cost.estimators.bedrock_batch import (
    EPHEMERAL_DEFAULT_MB,
    FUNCTION_MEMORY_MB,
    MAX_SHARD_BYTES,
    BatchPlan,
    BatchUsage,
    estimate_bedrock_batch,
    prepare_ephemeral_mb,
)
from inferwise.cost.model import CostEstimate
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.usage_file import apply_usage_file

LAMBDA_DIR = Path(inferwise.__file__).parent / "lambda"
"""Root of every function's asset; the handlers are under `bedrock_batch/` (one folder per function plus
`common`), so a function's handler is `bedrock_batch.<name>.handler.handler`."""
HANDLER_PACKAGE = "bedrock_batch"

TERMINAL_JOB_STATUSES = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
JOB_STATE_CHANGE = "Batch Inference Job State Change"


TOKEN_TABLE_NO_RECOVERY = (
    "The table only holds Step Functions task tokens that expire with their executions (TTL); a point-in-time "
    "restore could bring back nothing usable."
)
COORDINATION_TABLE_NO_RECOVERY = (
    "The table holds live coordination state only: counters of the jobs running now and markers of steps "
    "already done. Restoring an earlier copy would count jobs that have ended and forget steps that ran, so a "
    "point-in-time restore would do harm, not repair."
)


class BedrockBatchPipeline(Construct):
    """Bedrock batch inference for JSONL records in S3, orchestrated by one Standard state machine.

    Start a run with `{"input_prefix": "batch-2026-11/"}` (or let `start_on_upload` start one for each
    uploaded `.jsonl` object); results land in `output_bucket` under `<output_prefix><run>/`.

    Jobs and on-demand calls go through a tagged application inference profile copied from the model, so the
    token spend is the pipeline's (`inference_profile`, `invoke_model_id`, `model_uses`; `attribution`).

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
        attribute_token_spend: bool = True,
        inference_profile_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # validate: the props, the model and its batch price, before anything is built
        usage, usage_from_file = apply_usage_file(self, usage)
        self.model = parse_model_id(model_id)
        check_model_region(self.model, self)
        validate_props(
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
        check_batch_price(catalog, self.model, region)
        input_bucket, output_bucket, encryption_key = storage_props(
            self, input_bucket=input_bucket, output_bucket=output_bucket, encryption_key=encryption_key
        )
        self._attribute_token_spend(attribute_token_spend, inference_profile_arn)

        self.usage = usage
        self.records_per_job = records_per_job
        self.min_records_per_job = min_records_per_job
        self.max_concurrent_jobs = max_concurrent_jobs
        self.job_timeout_hours = job_timeout_hours
        self.small_batch = small_batch
        self.input_prefix = input_prefix
        self.output_prefix = output_prefix

        # build: storage, the Bedrock role, the functions and their grants, the workflow, events, alarm
        self._build_storage(encryption_key, input_bucket, output_bucket, start_on_upload, work_retention_days)
        self.service_role = grants.bedrock_service_role(self)
        self._build_functions(token_prices(catalog, self.model, region), default_max_tokens)
        grants.grant_functions(self)
        self._build_state_machine()
        self._route_events(start_on_upload)
        self._build_alarm()
        grants.acknowledge_scoped_wildcards(self)
        acknowledge_checkov(self)

        # estimate and record what it costs a month
        self.cost_estimate = self._record_cost(
            catalog, region, region_assumptions, usage_from_file, work_retention_days
        )

    def _attribute_token_spend(self, attribute: object, profile_arn: object) -> None:
        """How jobs and on-demand calls reach the model (attribution.py): its own tagged profile by default."""
        access = model_access(
            self, self.model, attribute_token_spend=attribute, inference_profile_arn=profile_arn
        )
        self.model_access, self.inference_profile = access, access.profile
        self.invoke_model_id, self.model_uses = access.invoke_model_id, access.model_uses

    # ------------------------------------------------------------------------------------ public API
    def model_arns(self) -> list[str]:
        """What `bedrock:InvokeModel` must allow: the pipeline's profile and what it copies (or the model)."""
        return self.model_access.resources(self)

    def grant_start_run(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow `grantee` to start runs (executions of the state machine)."""
        return self.state_machine.grant_start_execution(grantee)

    def grant_write_input(self, grantee: iam.IGrantable) -> None:
        """Allow `grantee` to upload JSONL records under the input prefix."""
        grants.allow_objects(self, grantee, self.input_bucket, self.input_prefix, read=False, write=True)
        grants.allow_bucket_key(self, grantee, self.input_bucket, write=True, own_key=True)

    def grant_read_results(self, grantee: iam.IGrantable) -> None:
        """Allow `grantee` to read results, error reports and summaries under the output prefix."""
        grants.allow_objects(self, grantee, self.output_bucket, self.output_prefix, read=True, write=False)
        grants.allow_bucket_key(self, grantee, self.output_bucket, write=False, own_key=True)

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

    # ------------------------------------------------------------------------------------- cost
    def _record_cost(
        self,
        catalog: PriceCatalog,
        region: str,
        region_assumptions: tuple[str, ...],
        usage_from_file: tuple[str, ...],
        work_retention_days: int,
    ) -> CostEstimate:
        """Estimate the monthly cost for `usage` and record it on the state machine (the main resource)."""
        plan = BatchPlan(
            model_id=self.model.model_id,
            family=self.model.family,
            records_per_job=self.records_per_job,
            min_records_per_job=self.min_records_per_job,
            small_batch="fail" if self.small_batch is SmallBatch.FAIL else "on_demand",
            custom_metrics=len(COLLECT_METRICS),
            alarms=1,
            creates_key=self.creates_key,
            work_retention_days=work_retention_days,
            max_concurrent_jobs=self.max_concurrent_jobs,
        )
        main = self.state_machine.node.default_child
        assert isinstance(main, cdk.CfnResource)
        return record_estimate(
            self,
            estimate_bedrock_batch(plan, self.usage, catalog, region, assumptions=region_assumptions),
            main,
            extra_assumptions=usage_from_file,
        )

    # ---------------------------------------------------------------------------------- storage
    def _build_storage(
        self,
        encryption_key: kms.IKey | None,
        input_bucket: s3.IBucket | None,
        output_bucket: s3.IBucket | None,
        start_on_upload: bool,
        work_retention_days: int,
    ) -> None:
        """The key, the buckets (access logs, work, input and output unless given), the token and coordination
        tables, the topic."""
        self.creates_key = encryption_key is None
        self.key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="Encrypts the Bedrock batch pipeline's buckets, token table and topic",
        )
        self._logs_key = logs_encryption_key(self, self.key, creates_key=self.creates_key)
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
        # Task tokens of the jobs in flight, keyed by job ARN, expiring with their executions.
        self.token_table = self._table("TokenTable", "job_arn", TOKEN_TABLE_NO_RECOVERY)
        # The model's job slots, shared by every execution, and once-per-run markers (see the contract).
        self.coordination_table = self._table("CoordinationTable", "pk", COORDINATION_TABLE_NO_RECOVERY)
        self.topic = sns.Topic(
            self, "Notifications", master_key=self.key, enforce_ssl=True, display_name="Bedrock batch runs"
        )

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

    def _table(self, construct_id: str, partition_key: str, why_no_recovery: str) -> dynamodb.Table:
        """An on-demand table of short-lived state (TTL `expires_at`), encrypted with the pipeline's key; no
        point-in-time recovery, for the reason given (cdk-nag DDB3)."""
        table = dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        cdk.Validations.of(table).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions::AwsSolutions-DDB3", reason=why_no_recovery)
        )
        return table

    # -------------------------------------------------------------------------------- functions
    def _build_functions(self, batch_prices: Mapping[str, str], default_max_tokens: int) -> None:
        """The five functions of the contract, each with its own role, log group and environment."""
        common = {"WORK_BUCKET": self.work_bucket.bucket_name, "MODEL_ID": self.model.model_id}
        self.prepare_function = self._function(
            "prepare",
            "Validates, de-duplicates and shards one run's JSONL records",
            cdk.Duration.minutes(15),
            {
                **common,
                "MODEL_FAMILY": self.model.family,
                "MIN_RECORDS_PER_JOB": str(self.min_records_per_job),
                "MAX_RECORDS_PER_JOB": str(self.records_per_job),
                "MAX_SHARD_BYTES": str(MAX_SHARD_BYTES),
                "SMALL_BATCH": self.small_batch.value,
                "DEFAULT_MAX_TOKENS": str(default_max_tokens),
            },
            ephemeral_mb=prepare_ephemeral_mb(self.usage),
        )
        self.submit_function = self._function(
            "submit",
            "Submits one shard as a Bedrock batch inference job and stores its task token",
            cdk.Duration.seconds(60),
            {
                **common,
                "INVOKE_MODEL_ID": self.invoke_model_id,
                "ROLE_ARN": self.service_role.role_arn,
                "JOB_TIMEOUT_HOURS": str(self.job_timeout_hours),
                "KMS_KEY_ARN": self.key.key_arn,
                "TOKEN_TABLE": self.token_table.table_name,
                "COORDINATION_TABLE": self.coordination_table.table_name,
                "MAX_CONCURRENT_JOBS": str(self.max_concurrent_jobs),
            },
        )
        self.events_function = self._function(
            "events",
            "Completes a shard's task when its Bedrock batch job reaches a terminal status",
            cdk.Duration.seconds(60),
            {
                "TOKEN_TABLE": self.token_table.table_name,
                "COORDINATION_TABLE": self.coordination_table.table_name,
            },
        )
        self.collect_function = self._function(
            "collect",
            "Joins the job outputs into results and errors, writes the run summary and cost metrics",
            cdk.Duration.minutes(15),
            {
                **common,
                "OUTPUT_BUCKET": self.output_bucket.bucket_name,
                "OUTPUT_PREFIX": self.output_prefix,
                "METRIC_NAMESPACE": METRIC_NAMESPACE,
                "COORDINATION_TABLE": self.coordination_table.table_name,
                **batch_prices,
            },
        )
        self.on_demand_function = self._function(
            "on_demand",
            "Runs a run's records through on-demand InvokeModel when there are too few for a batch job",
            cdk.Duration.minutes(15),
            {**common, "INVOKE_MODEL_ID": self.invoke_model_id},
        )

    def _function(
        self,
        name: str,
        description: str,
        timeout: cdk.Duration,
        environment: Mapping[str, str],
        ephemeral_mb: int = EPHEMERAL_DEFAULT_MB,
    ) -> lambda_.Function:
        label = "".join(part.capitalize() for part in name.split("_"))
        log_group = logs.LogGroup(
            self,
            f"{label}Logs",
            encryption_key=self._logs_key,
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
            handler=f"{HANDLER_PACKAGE}.{name}.handler.handler",
            code=lambda_.Code.from_asset(str(LAMBDA_DIR), exclude=asset_exclude(name)),
            memory_size=FUNCTION_MEMORY_MB[name],
            timeout=timeout,
            environment=dict(environment),
            environment_encryption=self.key,
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

    # ---------------------------------------------------------------------------- orchestration
    def _build_state_machine(self) -> None:
        """The Standard state machine (state_machine.py), logging errors only, traced with X-Ray."""
        self.log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            encryption_key=self._logs_key,
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition(self)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ERROR, include_execution_data=False
            ),
            comment=(
                f"Bedrock batch inference with {self.model.model_id}, "
                f"at most {self.max_concurrent_jobs} jobs at once"
            ),
        )
        grants.allow_key(self, self.state_machine, self.key, ["kms:Decrypt", "kms:GenerateDataKey"], ["sns"])
        self.state_machine.grant_task_response(self.events_function)

    def _route_events(self, start_on_upload: bool) -> None:
        """Job state changes to the events function; with `start_on_upload`, each uploaded .jsonl starts a run."""
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
        if not start_on_upload:
            return
        self.upload_rule = events.Rule(
            self,
            "InputUploaded",
            description="Starts a run for each JSONL object uploaded to the input bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.input_bucket.bucket_name]},
                    "object": {"key": _input_key_patterns(self.input_prefix)},
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

    def _build_alarm(self) -> None:
        """An alarm on failed runs that notifies the (encrypted) topic."""
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
        grants.allow_alarm_publishing(self, cdk.Stack.of(self))


UPLOAD_SUFFIXES = (".jsonl", ".JSONL", ".jsonl.gz", ".JSONL.GZ")
"""Uploads that start a run with `start_on_upload` (EventBridge wildcards are case-sensitive; prepare reads
any case of `.jsonl` and `.jsonl.gz`, and names every other object under the prefix in the run summary)."""


def _input_key_patterns(input_prefix: str) -> list[str]:
    prefix = input_prefix.replace("*", "\\*")
    return events.Match.any_of(*(events.Match.wildcard(f"{prefix}*{suffix}") for suffix in UPLOAD_SUFFIXES))


def asset_exclude(name: str) -> list[str]:
    """Everything in the lambda directory except the function's own folder and the shared `common`."""
    own, common = f"{HANDLER_PACKAGE}/{name}", f"{HANDLER_PACKAGE}/common"
    return [
        "*",
        f"!{HANDLER_PACKAGE}",
        f"!{HANDLER_PACKAGE}/__init__.py",
        f"!{own}",
        f"!{own}/**",
        f"!{common}",
        f"!{common}/**",
        "**/__pycache__",
        "**/*.pyc",
    ]
