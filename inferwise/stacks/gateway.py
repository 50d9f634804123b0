"""The `InferenceGateway` reference stack: one chat route (Claude Haiku 4.5 first, Sonnet 4.5 on escalation,
cached system prompt) and one bulk route (Amazon Nova Pro, Flex tier for deferrable work), two tenants.

Claude Sonnet 4.5 and Haiku 4.5 have no Flex price in the catalogue, so the Flex tier sits on the Nova route.
Each tenant is bound to the IAM role its service runs as (here a Lambda role made in the stack): a request
signed (SigV4, service `lambda`) by a session of that role is billed to its tenant, with no header, and each
tenant's Bedrock calls go through its own tagged inference profiles. See docs/gateway.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.gateway import GatewayUsage, InferenceGateway, Route, Tenant
from inferwise.stacks.guardrails import reference_guardrails

REFERENCE_ROUTES = (
    Route(
        name="chat",
        model_id="global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        small_model_id="global.anthropic.claude-haiku-4-5-20251001-v1:0",
        cache_system_prompt=True,
    ),
    Route(name="bulk", model_id="amazon.nova-pro-v1:0", deferrable_tier="flex", deferrable_by_default=True),
)
REFERENCE_BUDGETS = (("acme", 500), ("globex", 200))
"""Tenant name and monthly budget (USD); each tenant gets the role `<Name>ServiceRole` as its principal."""
REFERENCE_USAGE = GatewayUsage(
    requests_per_month=2_000_000,
    input_tokens_per_request=2_000,
    output_tokens_per_request=300,
    cached_prefix_tokens=1_500,
    small_model_share=0.7,
    route_shares=(("chat", 0.8), ("bulk", 0.2)),
)


class GatewayStack(cdk.Stack):
    """An `InferenceGateway` with the reference routes, tenants and workload, priced in the stack's Region."""

    def __init__(self, scope: Construct, construct_id: str, *, env: cdk.Environment) -> None:
        super().__init__(
            scope, construct_id, env=env, description="inferwise reference: Bedrock inference gateway"
        )
        self.tenant_roles = {
            name: iam.Role(
                self,
                f"{name.capitalize()}ServiceRole",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Runs tenant {name}'s service; its sessions call the gateway as tenant {name}",
            )
            for name, _ in REFERENCE_BUDGETS
        }
        tenants = [
            Tenant(name=name, monthly_budget_usd=usd, principals=[self.tenant_roles[name]])
            for name, usd in REFERENCE_BUDGETS
        ]
        self.gateway = InferenceGateway(
            self, "Gateway", routes=REFERENCE_ROUTES, tenants=tenants, usage=REFERENCE_USAGE
        )
        self.guardrails = reference_guardrails(self, watch=[self.gateway])
        cdk.CfnOutput(self, "GatewayUrl", value=self.gateway.url)
        cdk.CfnOutput(self, "BudgetTableName", value=self.gateway.table.table_name)
