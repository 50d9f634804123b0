"""Where Bedrock's geographic cross-Region inference profiles can be called from.

A geographic profile (`us.`, `eu.`, `apac.`, `jp.`, `au.`, `us-gov.`) routes only within its geography and is
invoked from a source Region of it; AWS bills the call at the calling Region's price
(docs/aws-facts.md#attribution). `global.` works from every Region. `us.` is also documented from ca-central-1
(docs/prices.md, AWS Bedrock model cards). Regions outside every geography here (e.g. sa-east-1) reach other
Regions only through `global.`.
"""

from __future__ import annotations

GEO_PROFILE_REGIONS: dict[str, tuple[str, ...]] = {
    "us-gov": ("us-gov-",),
    "us": ("us-east-", "us-west-", "ca-"),
    "eu": ("eu-",),
    "apac": ("ap-",),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
}
"""Each geography's source Regions, by Region-name prefix."""

_BROADEST_FIRST = ("us-gov", "us", "eu", "apac")


def in_geography(geo: str, region: str) -> bool:
    """Whether `region` is a source Region of the geographic profile `geo` (`"us"`, `"eu"`, ...)."""
    if geo == "us" and region.startswith("us-gov-"):
        return False
    return region.startswith(GEO_PROFILE_REGIONS[geo])


def geo_profile_prefix(region: str) -> str:
    """The broadest geographic profile prefix callable from `region` (`"us."`, `"eu."`, `"apac."`,
    `"us-gov."`), or `""` when the Region belongs to no geography."""
    for geo in _BROADEST_FIRST:
        if in_geography(geo, region):
            return f"{geo}."
    return ""
