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
    return _fetch_hourly(
        client, "AmazonEC2", region, instance_type, filters, checked=filters,
        usage_type=f"BoxUsage:{instance_type}", dimension="OnDemand",
        zero_means=" (a reservation or placeholder row), not an on-demand price",
    )  # fmt: skip


def fetch_sagemaker_hosting(client: Any, region: str, instance_name: str) -> PriceFile:
    """The real-time hosting hourly price of one `ml.*` type (`AmazonSageMaker/<type>/<region>/Hosting`)."""
    filters = sagemaker_filters(region, instance_name)
    return _fetch_hourly(
        client, "AmazonSageMaker", region, instance_name, filters, checked=[term("instanceName", instance_name)],
        usage_type=f"Host:{instance_name}", dimension="Hosting", zero_means=", not a hosting price",
    )  # fmt: skip


def _fetch_hourly(
    client: Any,
    service: str,
    region: str,
    name: str,
    filters: list[Filter],
    *,
    checked: list[Filter],
    usage_type: str,
    dimension: str,
    zero_means: str,
) -> PriceFile:
    """The one product `filters` select, checked (attributes, usage type, a non-zero hourly price)."""
    product = exactly_one(fetch_products(client, service, filters), service, filters)
    for check in checked:
        expect_attribute(product, check["Field"], check["Value"])
    parsed = price_tiers(product, _HRS)
    if parsed is None:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) for {name} in {region} "
            f"is priced only at USD 0{zero_means}"
        )
    expect_usage_type(product, usage_type)
    tiers, _, description = parsed
    record = price_record(
        product, service=service, sku=name, region=region, dimension=dimension, unit="Hrs",
        tiers=tiers, notes=description,
    )  # fmt: skip
    return price_file_of([(record, product)])
