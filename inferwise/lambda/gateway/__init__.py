"""The InferenceGateway Lambda function: `handler/` (the function), `common/` (stdlib only, shared) and
`runtime/` (the Runtime API loop that streams responses).

The function's asset is `inferwise/lambda/` holding only this package; its handler is
`gateway.handler.handler.handler`, which imports the shared code relatively (`from ..common.budget import ...`).
On AWS, `AWS_LAMBDA_EXEC_WRAPPER` points at `runtime/launch`, which replaces the managed runtime's loop by
`python -m gateway.runtime`. See docs/gateway.md.
"""
