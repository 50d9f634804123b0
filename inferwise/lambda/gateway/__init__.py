"""The InferenceGateway Lambda function: `handler/` (the function) and `common/` (stdlib only, shared).

The function's asset is `inferwise/lambda/` holding only this package; its handler is
`gateway.handler.handler.handler`, which imports the shared code relatively (`from ..common.budget import ...`).
See docs/gateway.md.
"""
