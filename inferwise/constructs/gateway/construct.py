"""The `InferenceGateway` construct: checks its props, builds the function URL, function and budget table,
estimates and records its cost."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

import inferwise
from inferwise.constructs.gateway import iam as grants
from inferwise.constructs.gateway.checkov import acknowledge_checkov
from inferwise.constructs.gateway.environment import function_config
from inferwise.constructs.gateway.fallback import grant_endpoints
from inferwise.constructs.gateway.principals import tenant_principals
from inferwise.constructs.gateway.profiles import gateway_model_uses, invoke_statements, tenant_profiles
from inferwise.constructs.gateway.props import Route, Tenant, bedrock_models, validate
from inferwise.constructs.log_encryption import logs_encryption_key
from inferwise.constructs.validation import check_bool
from inferwise.cost.catalog import catalog_for
from inferwise.cost.estimators.gateway import FUNCTION_MEMORY_MB, GatewayUsage, estimate_gateway
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.usage_file import apply_usage_file

LAMBDA_DIR = Path(inferwise.__file__).parent / "lambda"
HANDLER = "gateway.handler.handler.handler"
EXEC_WRAPPER = "/var/task/gateway/runtime/launch"
"""Replaces the managed runtime's loop by the gateway's, which streams responses (docs/gateway.md, "Streaming").
The file must keep its executable bit from the source tree into the asset zip."""
FUNCTION_TIMEOUT = cdk.Duration.minutes(5)
"""Two model calls (small, then large) of long answers fit; a function URL allows up to 15 minutes."""


class InferenceGateway(Construct):
    """One IAM-authenticated HTTPS endpoint in front of Bedrock Converse with routing, caching, tiers and
    hard per-tenant monthly budgets. Call it with SigV4 (service `lambda`) as one of a tenant's `principals`
    (or name a `header_trusted` tenant in `x-inferwise-tenant`). Each tenant's Bedrock calls go through its own
    tagged application inference profiles (`tenant_inference_profiles=False` to skip them). A route may put a
    `ScaleToZeroEndpoint` first, with a Bedrock fallback while it is scaled to zero.

    Attributes: `url`, `function_url`, `function`, `table`, `key`, `log_group`, `routes`, `tenants`,
    `principals` (tenant -> `Principal`s), `inference_profiles` (tenant -> model -> profile), `model_uses`,
    `cost_estimate`.
    See docs/gateway.md.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[Route],
        tenants: Sequence[Tenant],
        usage: GatewayUsage = GatewayUsage(),  # noqa: B008 - frozen dataclass, safe as a default
        encryption_key: kms.IKey | None = None,
        allow_shared_principals: bool = False,
        tenant_inference_profiles: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        usage, usage_from_file = apply_usage_file(self, usage)
        region, region_assumptions = pricing_region(self)
        catalog = catalog_for(self)
        validate(routes, tenants, catalog, region)
        self.principals = tenant_principals(tenants, allow_shared_principals=allow_shared_principals)
        check_bool("InferenceGateway tenant_inference_profiles", tenant_inference_profiles)
        models = bedrock_models(routes)
        self.inference_profiles = (
            tenant_profiles(self, [t.name for t in tenants], models) if tenant_inference_profiles else {}
        )
        principals, profiles = self.principals, self.inference_profiles
        self.model_uses = gateway_model_uses(profiles, models)
        config = function_config(
            self, routes, tenants, catalog, region, principals=principals, profiles=profiles
        )
        self.routes = tuple(routes)
        self.tenants = tuple(tenants)
        self.usage = usage
        self.creates_key = encryption_key is None
        self.key: kms.IKey = encryption_key or kms.Key(
            self, "Key", enable_key_rotation=True, description="Encrypts the inference gateway's budget table"
        )
        self.table = dynamodb.Table(
            self,
            "BudgetTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.function = self._function(config)
        statements = invoke_statements(self, self.inference_profiles, models, grants.INVOKE_ACTIONS)
        grants.grant_function(self, self.function, statements, self.table, self.key)
        grant_endpoints(self.function, routes)
        granted: dict[str, iam.Grant] = {}
        for principal in (p for listed in principals.values() for p in listed):
            if principal.key not in granted:  # a principal shared by tenants is granted once
                granted[principal.key] = self.function.grant_invoke_url(principal.grantee)
        self.function_url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.AWS_IAM, invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM
        )
        self.url = self.function_url.url
        main = self.function.node.default_child
        assert isinstance(main, cdk.CfnResource)
        estimate = estimate_gateway(
            [r.plan() for r in routes],
            len(tenants),
            usage,
            catalog,
            region,
            creates_key=self.creates_key,
            assumptions=region_assumptions,
        )
        self.cost_estimate = record_estimate(self, estimate, main, extra_assumptions=usage_from_file)
        acknowledge_checkov(self)

    def grant_invoke_url(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow `grantee` to call the gateway's URL (lambda:InvokeFunctionUrl, AWS_IAM auth). Tenant principals
        are granted already; a caller granted here can only act as `header_trusted` tenants."""
        return self.function.grant_invoke_url(grantee)

    def _function(self, config: str) -> lambda_.Function:
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            encryption_key=logs_encryption_key(self, self.key, creates_key=self.creates_key),
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the inference gateway function",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        function = lambda_.Function(
            self,
            "Function",
            description="Inference gateway: budgets, routing, caching and tiers in front of Bedrock Converse",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(LAMBDA_DIR), exclude=["*", "!gateway", "!gateway/**", "**/__pycache__", "**/*.pyc"]
            ),
            memory_size=FUNCTION_MEMORY_MB,
            timeout=FUNCTION_TIMEOUT,
            environment={
                "TABLE_NAME": self.table.table_name,
                "GATEWAY_CONFIG": config,
                "AWS_LAMBDA_EXEC_WRAPPER": EXEC_WRAPPER,
            },
            environment_encryption=self.key,
            log_group=self.log_group,
            role=role,
        )
        function.node.add_dependency(role)
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    "The handler is written and tested for Python 3.12; moving runtimes is a deliberate "
                    "change made together with the handler and its tests."
                ),
            )
        )
        return function
