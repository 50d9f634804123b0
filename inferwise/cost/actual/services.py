"""How the bill's names meet the estimate's: Cost Explorer service names, usage types and units.

An estimate line carries the Price List service code (`AmazonEC2`), usage type (`BoxUsage:inf2.xlarge`, or
none for Bedrock tokens), unit (`Hrs`, `1M tokens`) and, in its price source, the catalogue dimension
(`.../batch-input`). Cost Explorer names the service (`Amazon Elastic Compute Cloud - Compute`), the usage type
with a Region prefix (`USE2-BoxUsage:inf2.xlarge`; none in us-east-1 for most services) and its own unit. Both
sides are reduced to one key per billed component (`estimate_key`, `actual_key`) and quantities are compared
only when the units convert (`unit_factor`).

**Unverified strings.** The service names follow docs/aws-facts.md#cost-explorer-services; the usage-type
rules for components the Price List gives no usage type (Bedrock tokens, KMS, SNS, CloudWatch Logs) and the
unit spellings are from AWS documentation and common bills, not from an AWS list. A component that matches no
rule is still shown, as its own line ("not in the estimate"), and a unit that does not convert makes the line
compare costs only; nothing is dropped. Confirm names with `aws ce get-dimension-values --dimension SERVICE`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from inferwise.cost.model import CostLine
from inferwise.cost.refresh.bedrock_models import MARKETPLACE_SUFFIX

BEDROCK = "AmazonBedrock"
EC2 = "AmazonEC2"

SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    BEDROCK: ("Amazon Bedrock",),
    EC2: ("Amazon Elastic Compute Cloud - Compute", "EC2 - Other"),
    "AmazonSageMaker": ("Amazon SageMaker",),
    "AWSLambda": ("AWS Lambda",),
    "AmazonS3": ("Amazon Simple Storage Service",),
    "AmazonStates": ("AWS Step Functions",),
    "AmazonDynamoDB": ("Amazon DynamoDB",),
    "AmazonCloudWatch": ("AmazonCloudWatch",),
    "awskms": ("AWS Key Management Service",),
    "AmazonSNS": ("Amazon Simple Notification Service",),
    "AWSQueueService": ("Amazon Simple Queue Service",),
    "AmazonEventBridge": ("Amazon EventBridge", "CloudWatch Events"),
    "AmazonVPC": ("Amazon Virtual Private Cloud",),
    "AWSBudgets": ("AWS Budgets",),
    "AWSCostExplorer": ("AWS Cost Explorer",),
}
"""Price List service code -> the Cost Explorer SERVICE names its charges appear under."""

_CODE_OF_NAME = {name: code for code, names in SERVICE_NAMES.items() for name in names}


def service_code(ce_service: str) -> str | None:
    """The Price List service code of a Cost Explorer service name; None for a service no estimate prices.

    Models sold through AWS Marketplace bill under their own name with ` (Amazon Bedrock Edition)`: Bedrock.
    """
    if ce_service.endswith(MARKETPLACE_SUFFIX):
        return BEDROCK
    return _CODE_OF_NAME.get(ce_service)


def service_label(code: str) -> str:
    """The Cost Explorer name people know a service code by (`AmazonEC2` -> its first CE name)."""
    names = SERVICE_NAMES.get(code)
    return names[0] if names else code


# ---------------------------------------------------------------------------------------- usage types
_REGION_PREFIX = re.compile(r"^(?:[A-Z]{3}\d|EU)-")
"""`USE1-`, `EUC1-`, `APN1-`, `CAN1-`, ... and the old `EU-`: the Region code Cost Explorer puts first."""


def strip_region(usage_type: str) -> str:
    """`USE2-BoxUsage:inf2.xlarge` -> `BoxUsage:inf2.xlarge` (also both codes of `USE1-USW2-AWS-Out-Bytes`)."""
    while (found := _REGION_PREFIX.match(usage_type)) is not None:
        usage_type = usage_type[found.end() :]
    return usage_type


_BEDROCK_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), key)
    for pattern, key in (
        (r"cache.?read", "tokens:cache-read"),
        (r"cache.?write", "tokens:cache-write"),
        (r"batch.*input|input.*batch", "tokens:batch-input"),
        (r"batch.*output|output.*batch", "tokens:batch-output"),
        (r"flex.*input|input.*flex", "tokens:flex-input"),
        (r"flex.*output|output.*flex", "tokens:flex-output"),
        (r"input", "tokens:input"),
        (r"output", "tokens:output"),
    )
)
"""Bedrock usage types (`USE1-Claude4.5Haiku-input-tokens`, `...-cache-read-input-token-count`, marketplace
`MP:..._InputTokenCount-Units`): the token kind, tested in this order."""

_DIMENSION_KEYS: dict[tuple[str, str], str] = {
    (BEDROCK, "batch-input"): "tokens:batch-input",
    (BEDROCK, "batch-output"): "tokens:batch-output",
    (BEDROCK, "input"): "tokens:input",
    (BEDROCK, "output"): "tokens:output",
    (BEDROCK, "cache-read"): "tokens:cache-read",
    (BEDROCK, "cache-write-5m"): "tokens:cache-write",
    (BEDROCK, "cache-write-1h"): "tokens:cache-write",
    (BEDROCK, "flex-input"): "tokens:flex-input",
    (BEDROCK, "flex-output"): "tokens:flex-output",
    (BEDROCK, "flex-cache-read"): "tokens:cache-read",
    ("AmazonCloudWatch", "LogsIngestion"): "dataprocessing-bytes",
    ("AmazonCloudWatch", "LogsStorage"): "timedstorage-bytehrs",
    ("AmazonCloudWatch", "LogsInsightsScanned"): "datascanned-bytes",
    ("awskms", "CustomerManagedKey"): "kms-keys",
    ("awskms", "SymmetricRequests"): "kms-requests",
    ("awskms", "AsymmetricRSARequests"): "kms-requests",
    ("awskms", "GenerateDataKeyPairRequests"): "kms-requests",
    ("AmazonSNS", "Publish"): "requests-tier1",
    ("AmazonSNS", "Requests"): "requests-tier1",
    ("AmazonDynamoDB", "Storage"): "timedstorage-bytehrs",
    ("AWSQueueService", "Requests"): "requests-rbp",
    ("AmazonVPC", "InUseAddress"): "publicipv4:inuseaddress",
    ("AmazonVPC", "IdleAddress"): "publicipv4:idleaddress",
}
"""Catalogue dimensions whose Price List record has no usage type -> the key of the Cost Explorer usage type."""


def line_dimension(line: CostLine) -> str:
    """The catalogue dimension of a line, from its price source `service/sku/region/dimension`."""
    dimension = line.price_source.rsplit("/", 1)[-1]
    return dimension.removeprefix("global:")


def estimate_key(line: CostLine) -> str:
    """The key of the billed component an estimate line prices."""
    usage_type = strip_region(line.usage_type)
    if line.service_code == EC2 and line.pricing_category == "Dynamic" and usage_type.startswith("BoxUsage:"):
        return "spotusage:" + usage_type.removeprefix("BoxUsage:").lower()
    if usage_type:
        return usage_type.lower()
    dimension = line_dimension(line)
    return _DIMENSION_KEYS.get((line.service_code, dimension), f"dimension:{dimension.lower()}")


def actual_key(code: str | None, usage_type: str) -> str:
    """The key of a Cost Explorer usage type of the service `code` (None: a service no estimate prices)."""
    stripped = strip_region(usage_type)
    if code == BEDROCK:
        for pattern, key in _BEDROCK_RULES:
            if pattern.search(stripped):
                return key
    return stripped.lower()


# ---------------------------------------------------------------------------------------------- units
_UNITS: dict[str, tuple[str, Decimal]] = {
    "hrs": ("hours", Decimal(1)),
    "hours": ("hours", Decimal(1)),
    "hour": ("hours", Decimal(1)),
    "gb-mo": ("gb-month", Decimal(1)),
    "gb-month": ("gb-month", Decimal(1)),
    "gb": ("gb", Decimal(1)),
    "requests": ("requests", Decimal(1)),
    "request": ("requests", Decimal(1)),
    "tokens": ("tokens", Decimal(1)),
    "token": ("tokens", Decimal(1)),
    "1k tokens": ("tokens", Decimal(1_000)),
    "1m tokens": ("tokens", Decimal(1_000_000)),
    "gb-seconds": ("gb-seconds", Decimal(1)),
    "gb-second": ("gb-seconds", Decimal(1)),
    "lambda-gb-second": ("gb-seconds", Decimal(1)),
    "statetransitions": ("state transitions", Decimal(1)),
    "transitions": ("state transitions", Decimal(1)),
}
"""Unit spellings -> (what is counted, how many of it one unit is)."""


def unit_factor(ce_unit: str, estimate_unit: str) -> Decimal | None:
    """How many estimate units one Cost Explorer unit is (`tokens` -> `1M tokens`: 0.000001); None if unknown."""
    actual, estimated = ce_unit.strip().lower(), estimate_unit.strip().lower()
    if actual and actual == estimated and actual != "n/a":
        return Decimal(1)
    a, e = _UNITS.get(actual), _UNITS.get(estimated)
    if a is None or e is None or a[0] != e[0]:
        return None
    return a[1] / e[1]
