"""Pure cost estimators, one per pattern: (props, usage, catalogue, region) -> CostEstimate, no CDK."""
