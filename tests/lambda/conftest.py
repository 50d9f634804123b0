"""Fixtures for the batch Lambda handlers: `inferwise/lambda` on sys.path, moto S3/DynamoDB/CloudWatch.

`lambda` is a keyword, so `tests.lambda` modules are reached with relative imports (`from . import
support`) and handlers with `importlib.import_module("bedrock_batch.prepare.handler")`
(`support.handler_module`), `inferwise/lambda` being the import root as it is in each function's Lambda asset.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from moto import mock_aws

from . import support


@pytest.fixture(autouse=True)
def _fake_credentials() -> Iterator[None]:
    with support.fake_aws_environment():
        yield


@pytest.fixture
def aws() -> Iterator[SimpleNamespace]:
    """moto S3 (work, input and output buckets), DynamoDB (token table) and CloudWatch, in-process."""
    with mock_aws():
        s3 = support.client("s3")
        dynamodb = support.client("dynamodb")
        support.create_resources(s3, dynamodb)
        yield SimpleNamespace(s3=s3, dynamodb=dynamodb, cloudwatch=support.client("cloudwatch"))
