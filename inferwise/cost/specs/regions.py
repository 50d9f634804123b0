"""Which Bedrock geographic cross-Region inference profile serves a Region.

A geographic profile (`us.`, `eu.`, `apac.`) may only be called from a source Region of its geography, and AWS
bills the call at the calling Region's price (docs/aws-facts.md#attribution). Regions outside every geography
listed here (e.g. sa-east-1) reach other Regions only through the `global.` profile.
"""

from __future__ import annotations

GEO_PROFILE_BY_REGION_PREFIX: dict[str, str] = {
    "us-": "us.",
    "ca-": "us.",
    "eu-": "eu.",
    "ap-": "apac.",
}


def geo_profile_prefix(region: str) -> str:
    """The geographic profile prefix for `region` (`"us."`, `"eu."`, `"apac."`), or `""` when it has none."""
    for region_prefix, profile in GEO_PROFILE_BY_REGION_PREFIX.items():
        if region.startswith(region_prefix):
            return profile
    return ""
