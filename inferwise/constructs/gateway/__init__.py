"""`InferenceGateway`: a budgeted, routed, cached front door to Bedrock Converse (docs/gateway.md)."""

from inferwise.constructs.gateway.construct import InferenceGateway
from inferwise.constructs.gateway.props import Route, Tenant
from inferwise.cost.estimators.gateway import GatewayUsage

__all__ = ["GatewayUsage", "InferenceGateway", "Route", "Tenant"]
