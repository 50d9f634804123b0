"""The `InferenceGateway` construct: checks its props, builds the function URL, function and budget table,
estimates and records its cost."""

from __future__ import annotations

import json
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
from inferwise.constructs.gateway.props import CONFIG_LIMIT_BYTES, Route, Tenant, gateway_config, validate
from inferwise.cost.catalog import catalog_for
from inferwise.cost.estimators.gateway import FUNCTION_MEMORY_MB, GatewayUsage, estimate_gateway
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.usage_file import apply_usage_file

LAMBDA_DIR = Path(inferwise.__file__).parent / "lambda"
HANDLER = "gateway.handler.handler.handler"
FUNCTION_TIMEOUT = cdk.Duration.minutes(5)
"""Two model calls (small, then large) of long answers fit; a function URL allows up to 15 minutes."""


class InferenceGateway(Construct):
    """One IAM-authenticated HTTPS endpoint in front of Bedrock Converse with routing, caching, tiers and
    hard per-tenant monthly budgets. Call it with SigV4 (service `lambda`) and `x-inferwise-tenant`.

    Attributes: `url`, `function_url`, `function`, `table`, `key`, `log_group`, `routes`, `tenants`,
    `cost_estimate`. See docs/gateway.md.
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
    ) -> None:
        super().__init__(scope, construct_id)
        usage, usage_from_file = apply_usage_file(self, usage)
        region, region_assumptions = pricing_region(self)
        catalog = catalog_for(self)
        validate(routes, tenants, catalog, region)
        config = json.dumps(gateway_config(routes, tenants, catalog, region), separators=(",", ":"))
        if len(config.encode()) > CONFIG_LIMIT_BYTES:
            raise ValueError(
                f"InferenceGateway routes and tenants make a {len(config.encode())}-byte configuration; Lambda "
                f"environments hold 4 KB, so at most {CONFIG_LIMIT_BYTES} bytes: use fewer tenants or routes"
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
        models = [m for r in routes for m in (r.model_id, r.small_model_id) if m is not None]
        grants.grant_function(self, self.function, models, self.table, self.key)
        self.function_url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
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

    def grant_invoke_url(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow `grantee` to call the gateway's URL (lambda:InvokeFunctionUrl, AWS_IAM auth)."""
        return self.function.grant_invoke_url(grantee)

    def _function(self, config: str) -> lambda_.Function:
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
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
            environment={"TABLE_NAME": self.table.table_name, "GATEWAY_CONFIG": config},
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
