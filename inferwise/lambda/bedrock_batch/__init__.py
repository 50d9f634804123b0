"""The BedrockBatchPipeline Lambda functions: one folder per function, plus `common` (shared, stdlib only).

Each function's asset is `inferwise/lambda/` holding only this package's `__init__.py`, the function's own
folder and `common/`; its handler is `bedrock_batch.<function>.handler.handler`, and the handlers import
the shared code relatively (`from ..common.batch_records import ...`). See docs/bedrock-batch-contract.md.
"""
