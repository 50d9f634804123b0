"""`ScaleToZeroEndpoint`: a SageMaker real-time endpoint whose inference components scale to zero when idle.

Scale to zero needs four pieces, all built here (docs/aws-facts.md#scale-to-zero-wiring):
1. the endpoint config's variant with managed instance scaling and `MinInstanceCount: 0`;
2. per inference component, an Application Auto Scaling target on
   `sagemaker:inference-component:DesiredCopyCount` with `MinCapacity: 0`;
3. a target-tracking policy on `SageMakerInferenceComponentInvocationsPerCopy` that scales copies in,
   down to zero, when traffic stops (managed instance scaling then releases the empty instances);
4. a step-scaling policy triggered by an `AWS/SageMaker NoCapacityInvocationFailures` alarm, so that the
   first request at zero copies adds one copy (target tracking alone can never leave zero).
Optionally, scheduled actions force zero copies during off-hours and give the capacity back afterwards.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from inferwise.constructs.nag import iam5_resource_finding
from inferwise.constructs.scale_to_zero_props import (
    MAX_MODEL_NAME_LENGTH,
    MAX_NAME_LENGTH,
    S3_OBJECT,
    InferenceModel,
    endpoint_spec,
    validate_endpoint,
)
from inferwise.constructs.schedule import OffHours
from inferwise.constructs.validation import ECR_IMAGE, check_instance
from inferwise.cost.catalog import catalog_for
from inferwise.cost.estimators.scale_to_zero import EndpointUsage, estimate_scale_to_zero
from inferwise.cost.model import CostEstimate
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.render import usd
from inferwise.cost.specs.sagemaker import InstanceSpec
from inferwise.cost.usage_file import apply_usage_file

__all__ = ["MAX_MODEL_NAME_LENGTH", "EndpointUsage", "InferenceModel", "OffHours", "ScaleToZeroEndpoint"]

VARIANT_NAME = "AllTraffic"
ROUTING_STRATEGY = "LEAST_OUTSTANDING_REQUESTS"
SCALABLE_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
SCALE_IN_METRIC = "SageMakerInferenceComponentInvocationsPerCopy"
WAKE_METRIC = "NoCapacityInvocationFailures"


def physical_name(parts: Sequence[str], suffix: str = "") -> str:
    """A SageMaker-valid name from `parts` (+ `suffix`), at most 63 characters, stable across synths.

    Characters other than letters and digits become hyphens; when too long, the prefix is cut and a hash of
    the full name keeps it unique.
    """
    cleaned = [re.sub(r"[^a-zA-Z0-9]+", "-", part).strip("-") for part in parts]
    base = "-".join(part for part in cleaned if part)
    full = f"{base}-{suffix}" if suffix else base
    if len(full) <= MAX_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    tail = f"-{digest}" + (f"-{suffix}" if suffix else "")
    return base[: MAX_NAME_LENGTH - len(tail)].rstrip("-") + tail


class ScaleToZeroEndpoint(Construct):
    """SageMaker real-time endpoint whose inference components, and then instances, scale to zero when idle.

    Several models share the endpoint's instances, one inference component each. The first request to an
    idle component fails with HTTP 400 "no capacity" and wakes it; it serves again after a cold start of
    several minutes, so clients must retry (see docs/scale-to-zero.md).

    Cost: instances bill only while at least one copy runs; see `cost_estimate`, priced against the same
    instances always on. A synth warning says so when always-on would cost no more.
    """

    cost_estimate: CostEstimate

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance_type: str,
        models: Sequence[InferenceModel],
        max_instances: int = 1,
        off_hours: OffHours | None = None,
        usage: EndpointUsage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = endpoint_spec(instance_type)
        if usage is not None:
            check_instance("usage", usage, EndpointUsage, "(...) or None")
        effective_usage, usage_assumptions = apply_usage_file(self, usage or EndpointUsage())
        validate_endpoint(spec, models, max_instances, off_hours, effective_usage)
        self.instance_type = instance_type
        self.models = tuple(models)
        self.max_instances = max_instances
        self.off_hours = off_hours
        self.usage = effective_usage

        stack = cdk.Stack.of(self)
        prefix = [stack.stack_name, *self._path_below_stack()]
        self.endpoint_name = physical_name(prefix)
        self.inference_component_names = [physical_name(prefix, model.name) for model in self.models]

        self.role = self._execution_role(stack)
        self.endpoint_config, self.endpoint = self._endpoint()
        self.endpoint_arn = self.endpoint.attr_endpoint_arn

        self.inference_components: dict[str, sagemaker.CfnInferenceComponent] = {}
        self.scalable_targets: dict[str, appscaling.CfnScalableTarget] = {}
        self.wake_alarms: dict[str, cloudwatch.CfnAlarm] = {}
        for model, component_name in zip(self.models, self.inference_component_names, strict=True):
            self._add_component(model, component_name)

        region, region_assumptions = pricing_region(self)
        estimate = estimate_scale_to_zero(
            instance_type,
            len(self.models),
            effective_usage,
            catalog_for(self),
            region,
            max_instances=max_instances,
            assumptions=region_assumptions,
        )
        self.cost_estimate = record_estimate(
            self, estimate, self.endpoint, extra_assumptions=usage_assumptions
        )
        self._warn(estimate, spec)

    # -------------------------------------------------------------------------------------------- API
    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` call InvokeEndpoint (and its streaming form) on this endpoint's components."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.endpoint_arn],
        )

    # -------------------------------------------------------------------------------------- internals
    def _path_below_stack(self) -> list[str]:
        scopes = self.node.scopes
        stack_index = max(i for i, s in enumerate(scopes) if cdk.Stack.is_stack(s))
        return [s.node.id for s in scopes[stack_index + 1 :]]

    def _endpoint(self) -> tuple[sagemaker.CfnEndpointConfig, sagemaker.CfnEndpoint]:
        """One variant with managed instance scaling down to 0 instances, and the endpoint on it."""
        config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            execution_role_arn=self.role.role_arn,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT_NAME,
                    instance_type=self.instance_type,
                    initial_instance_count=1,
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED", min_instance_count=0, max_instance_count=self.max_instances
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                        routing_strategy=ROUTING_STRATEGY
                    ),
                )
            ],
        )
        endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=config.attr_endpoint_config_name,
        )
        endpoint.node.add_dependency(self.role)
        return config, endpoint

    def _warn(self, estimate: CostEstimate, spec: InstanceSpec) -> None:
        """Warn when always-on would cost no more, or when the models' copies cannot all fit."""
        if estimate.baseline is not None and estimate.monthly_total >= estimate.baseline.monthly_total:
            cdk.Annotations.of(self).add_warning_v2(
                "inferwise:always-on-cheaper",
                f"At {self.usage.active_hours_per_day:g} active h/day on {self.usage.days_per_month:g} "
                f"days/month, scaling {self.instance_type} to zero saves nothing against an always-on endpoint "
                f"({usd(estimate.monthly_total)} vs {usd(estimate.baseline.monthly_total)}/month) and adds "
                "minutes-long cold starts; use an always-on endpoint or check EndpointUsage.",
            )
        copies_needed = sum(m.max_copies * m.accelerators for m in self.models)
        if copies_needed > self.max_instances * spec.accelerators:
            cdk.Annotations.of(self).add_warning_v2(
                "inferwise:copies-exceed-capacity",
                f"max_copies x accelerators of all models need {copies_needed} {spec.accelerator}(s), but "
                f"max_instances={self.max_instances} x {self.instance_type} offer "
                f"{self.max_instances * spec.accelerators}: scale-out stops early. Raise max_instances or lower "
                "max_copies.",
            )

    def _execution_role(self, stack: cdk.Stack) -> iam.Role:
        """The role SageMaker assumes to pull the images, read the model archives and write logs and metrics."""
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"SageMaker execution role of scale-to-zero endpoint {self.endpoint_name}",
        )
        token_repositories = self._grant_image_pulls(role, stack)
        artifacts = [self._artifact_arn(stack, m.model_data_url) for m in self.models if m.model_data_url]
        if artifacts:
            role.add_to_policy(
                iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=artifacts)
            )
        group_arns = self._grant_logs_and_metrics(role, stack)
        _acknowledge_role(role, stack, group_arns, token_repositories)
        return role

    def _grant_image_pulls(self, role: iam.Role, stack: cdk.Stack) -> str | None:
        """Pull each model's ECR repository (any of the account's for a token image); returns that wildcard, if any."""
        repositories: list[str] = []
        any_token_image = False
        for model in self.models:
            match = None if cdk.Token.is_unresolved(model.image_uri) else ECR_IMAGE.match(model.image_uri)
            if match is None:
                any_token_image = True
                continue
            arn = stack.format_arn(
                service="ecr",
                region=match["region"],
                account=match["account"],
                resource="repository",
                resource_name=match["repository"],
            )
            if arn not in repositories:
                repositories.append(arn)
        token_repositories = stack.format_arn(service="ecr", resource="repository", resource_name="*")
        if any_token_image:
            repositories.append(token_repositories)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullInferenceImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=repositories,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        return token_repositories if any_token_image else None

    def _grant_logs_and_metrics(self, role: iam.Role, stack: cdk.Stack) -> list[str]:
        """Write the endpoint's and components' log groups and SageMaker's metrics; returns the log group ARNs."""
        log_groups = [
            f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
            *(f"/aws/sagemaker/InferenceComponents/{name}" for name in self.inference_component_names),
        ]
        group_arns = [
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=group,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            for group in log_groups
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[*group_arns, *(f"{arn}:log-stream:*" for arn in group_arns)],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PutSageMakerMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "cloudwatch:namespace": [
                            "/aws/sagemaker/Endpoints",
                            "/aws/sagemaker/InferenceComponents",
                        ]
                    }
                },
            )
        )
        return group_arns

    @staticmethod
    def _artifact_arn(stack: cdk.Stack, url: str) -> str:
        if cdk.Token.is_unresolved(url):
            return cdk.Fn.join(
                "", [f"arn:{stack.partition}:s3:::", cdk.Fn.select(1, cdk.Fn.split("s3://", url))]
            )
        match = S3_OBJECT.match(url)
        assert match is not None  # validated by InferenceModel
        return f"arn:{stack.partition}:s3:::{match['bucket']}/{match['key']}"

    def _add_component(self, model: InferenceModel, component_name: str) -> None:
        """One model: its inference component, scalable copies (0 to max_copies), scale-in, wake from zero."""
        scope = Construct(self, model.name)
        component = self._component(scope, model, component_name)
        target = appscaling.CfnScalableTarget(
            scope,
            "ScalableTarget",
            service_namespace="sagemaker",
            resource_id=f"inference-component/{component_name}",
            scalable_dimension=SCALABLE_DIMENSION,
            min_capacity=0,
            max_capacity=model.max_copies,
            scheduled_actions=self._off_hours_actions(model, component_name),
        )
        target.node.add_dependency(component)

        appscaling.CfnScalingPolicy(
            scope,
            "ScaleInPolicy",
            policy_name=f"{component_name}-invocations-per-copy",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.ref,
            target_tracking_scaling_policy_configuration=(
                appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                    target_value=model.target_invocations_per_copy,
                    predefined_metric_specification=appscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                        predefined_metric_type=SCALE_IN_METRIC
                    ),
                    scale_in_cooldown=300,
                    scale_out_cooldown=300,
                )
            ),
        )
        self.inference_components[model.name] = component
        self.scalable_targets[model.name] = target
        self.wake_alarms[model.name] = _wake_from_zero(scope, component_name, target.ref)

    def _component(
        self, scope: Construct, model: InferenceModel, component_name: str
    ) -> sagemaker.CfnInferenceComponent:
        component = sagemaker.CfnInferenceComponent(
            scope,
            "Component",
            endpoint_name=self.endpoint.attr_endpoint_name,
            inference_component_name=component_name,
            variant_name=VARIANT_NAME,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                container=sagemaker.CfnInferenceComponent.InferenceComponentContainerSpecificationProperty(
                    image=model.image_uri,
                    artifact_url=model.model_data_url,
                    environment=dict(model.environment) or None,
                ),
                compute_resource_requirements=(
                    sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        number_of_accelerator_devices_required=model.accelerators,
                        min_memory_required_in_mb=model.memory_mb,
                    )
                ),
                startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                    model_data_download_timeout_in_seconds=model.startup_timeout_seconds,
                    container_startup_health_check_timeout_in_seconds=model.startup_timeout_seconds,
                ),
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=1
            ),
        )
        component.node.add_dependency(self.role)
        return component

    def _off_hours_actions(
        self, model: InferenceModel, component_name: str
    ) -> list[appscaling.CfnScalableTarget.ScheduledActionProperty] | None:
        """Force 0 copies at `off_hours.cron`; allow 0 to max_copies again at resume."""
        if self.off_hours is None:
            return None
        return [
            appscaling.CfnScalableTarget.ScheduledActionProperty(
                scheduled_action_name=f"{component_name}-off-hours",
                schedule=self.off_hours.off_expression,
                timezone=self.off_hours.time_zone,
                scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                    min_capacity=0, max_capacity=0
                ),
            ),
            appscaling.CfnScalableTarget.ScheduledActionProperty(
                scheduled_action_name=f"{component_name}-resume",
                schedule=self.off_hours.resume_expression,
                timezone=self.off_hours.time_zone,
                scalable_target_action=appscaling.CfnScalableTarget.ScalableTargetActionProperty(
                    min_capacity=0, max_capacity=model.max_copies
                ),
            ),
        ]


def _acknowledge_role(role: iam.Role, stack: cdk.Stack, group_arns: list[str], wildcard: str | None) -> None:
    """Acknowledge, one by one, the cdk-nag findings the role's necessary wildcards raise."""
    acknowledgements = [
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason=(
                "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions; "
                "PutMetricData is limited to SageMaker's two metric namespaces by a condition."
            ),
        ),
        *(
            cdk.Acknowledgment(
                id=iam5_resource_finding(stack, f"{arn}:log-stream:*"),
                reason=(
                    "SageMaker names the log streams of this endpoint/component after instances it has not "
                    "launched yet; the grant is limited to this one log group."
                ),
            )
            for arn in group_arns
        ),
    ]
    if wildcard is not None:
        acknowledgements.append(
            cdk.Acknowledgment(
                id=iam5_resource_finding(stack, wildcard),
                reason=(
                    "An image_uri given as a deploy-time token names no repository at synth; image pulls "
                    "are limited to this account's repositories in this Region."
                ),
            )
        )
    cdk.Validations.of(role).acknowledge(*acknowledgements)


def _wake_from_zero(scope: Construct, component_name: str, target_id: str) -> cloudwatch.CfnAlarm:
    """Add one copy when a request finds none: target tracking alone can never leave zero."""
    wake_policy = appscaling.CfnScalingPolicy(
        scope,
        "WakePolicy",
        policy_name=f"{component_name}-wake-from-zero",
        policy_type="StepScaling",
        scaling_target_id=target_id,
        step_scaling_policy_configuration=appscaling.CfnScalingPolicy.StepScalingPolicyConfigurationProperty(
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Maximum",
            cooldown=60,
            step_adjustments=[
                appscaling.CfnScalingPolicy.StepAdjustmentProperty(
                    metric_interval_lower_bound=0, scaling_adjustment=1
                )
            ],
        ),
    )
    return cloudwatch.CfnAlarm(
        scope,
        "WakeAlarm",
        alarm_description=(
            f"A request found no copy of inference component {component_name}: add one (wake from zero)."
        ),
        namespace="AWS/SageMaker",
        metric_name=WAKE_METRIC,
        dimensions=[
            cloudwatch.CfnAlarm.DimensionProperty(name="InferenceComponentName", value=component_name)
        ],
        statistic="Sum",
        period=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[wake_policy.attr_arn],
    )
