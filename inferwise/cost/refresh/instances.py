"""Hourly instance prices: EC2 on-demand (Linux, shared tenancy) and SageMaker real-time hosting, one
instance type per query, and the types fetched when none are named.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inferwise.cost.records import PriceFile
from inferwise.cost.refresh.documents import expect_attribute, expect_usage_type, price_tiers
from inferwise.cost.refresh.errors import PriceListError
from inferwise.cost.refresh.price_records import price_file_of, price_record
from inferwise.cost.refresh.query import Filter, exactly_one, fetch_products, term

DEFAULT_EC2_INSTANCE_TYPES: tuple[str, ...] = (
    "inf2.xlarge", "inf2.8xlarge", "inf2.24xlarge", "inf2.48xlarge", "trn1.2xlarge",
    "g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g6.xlarge", "g6e.xlarge", "p4d.24xlarge", "p5.48xlarge",
    "c7g.xlarge", "c7g.2xlarge", "c7g.4xlarge", "m7g.xlarge", "m7g.2xlarge", "c8g.xlarge", "r7g.xlarge",
    "c7i.xlarge", "m7i.xlarge",
)  # fmt: skip
"""EC2 types refreshed when none are named: the fleets' accelerators, GPUs and Graviton/x86 CPUs."""

DEFAULT_SAGEMAKER_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge", "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6e.xlarge",
    "ml.g6e.2xlarge", "ml.inf2.xlarge", "ml.inf2.8xlarge", "ml.m5.xlarge", "ml.c7g.xlarge",
    "ml.p4d.24xlarge", "ml.p5.48xlarge",
)  # fmt: skip
"""SageMaker hosting types refreshed when none are named."""

_HRS = {"Hrs": Decimal(1)}
"""Instance prices are per hour, in the Price List and in the records."""


def ec2_filters(region: str, instance_type: str) -> list[Filter]:
    """Linux, shared-tenancy, on-demand, used-capacity, no pre-installed software (the Karpenter set)."""
    return [
        term("regionCode", region),
        term("instanceType", instance_type),
        term("operatingSystem", "Linux"),
        term("tenancy", "Shared"),
        term("preInstalledSw", "NA"),
        term("licenseModel", "No License required"),
        term("capacitystatus", "Used"),
        term("marketoption", "OnDemand"),
    ]


def sagemaker_filters(region: str, instance_name: str) -> list[Filter]:
    """Real-time hosting only: `component=Hosting` leaves out the Studio/notebook rows of the same name."""
    return [term("regionCode", region), term("component", "Hosting"), term("instanceName", instance_name)]


def fetch_ec2_on_demand(client: Any, region: str, instance_type: str) -> PriceFile:
    """The Linux on-demand hourly price of one EC2 instance type (`AmazonEC2/<type>/<region>/OnDemand`)."""
    filters = ec2_filters(region, instance_type)
    product = exactly_one(fetch_products(client, "AmazonEC2", filters), "AmazonEC2", filters)
    for check in filters:
        expect_attribute(product, check["Field"], check["Value"])
    parsed = price_tiers(product, _HRS)
    if parsed is None:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) for {instance_type} in {region} "
            "is priced only at USD 0 (a reservation or placeholder row), not an on-demand price"
        )
    expect_usage_type(product, f"BoxUsage:{instance_type}")
    tiers, _, description = parsed
    record = price_record(
        product, service="AmazonEC2", sku=instance_type, region=region, dimension="OnDemand", unit="Hrs",
        tiers=tiers, notes=description,
    )  # fmt: skip
    return price_file_of([(record, product)])


def fetch_sagemaker_hosting(client: Any, region: str, instance_name: str) -> PriceFile:
    """The real-time hosting hourly price of one `ml.*` type (`AmazonSageMaker/<type>/<region>/Hosting`)."""
    filters = sagemaker_filters(region, instance_name)
    product = exactly_one(fetch_products(client, "AmazonSageMaker", filters), "AmazonSageMaker", filters)
    expect_attribute(product, "instanceName", instance_name)
    parsed = price_tiers(product, _HRS)
    if parsed is None:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) for {instance_name} in {region} "
            "is priced only at USD 0, not a hosting price"
        )
    expect_usage_type(product, f"Host:{instance_name}")
    tiers, _, description = parsed
    record = price_record(
        product, service="AmazonSageMaker", sku=instance_name, region=region, dimension="Hosting", unit="Hrs",
        tiers=tiers, notes=description,
    )  # fmt: skip
    return price_file_of([(record, product)])
