"""Look up AWS Deep Learning Container image URIs for SageMaker hosting, through the optional extra.

The SageMaker Python SDK v3 keeps the image tables in `sagemaker.core.image_uris` (package
`sagemaker-core`, ~450 MB with its dependencies), so inferwise does not depend on it: install
`inferwise[sagemaker]` to use `sagemaker_image`, or pass an explicit `image_uri` to the constructs.
The lookup is offline and runs at synth time. It needs neither aws-cdk-lib nor AWS credentials
(tests/packaging/test_sagemaker_sdk.py runs it in a venv that holds only sagemaker-core).
"""

from __future__ import annotations

import difflib
import sys
from importlib import metadata
from typing import Any

EXTRA_HINT = (
    'pip install "inferwise[sagemaker]" (it adds sagemaker-core), or pass image_uri= explicitly, e.g. '
    '"763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:<tag>"'
)

IMAGE_SCOPE = "inference"
"""The SDK's image scope of serving images; families without it (training-only images) are refused."""

# Families whose lookup breaks when given the instance type (docs/aws-facts.md#sagemaker-images,
# sagemaker-core 2.27): `huggingface-vllm-neuronx` maps ml.inf2.* to processor "inf" but its table only
# has "neuronx"; `llama-cpp-arm64` is refused for every Graviton type ("Unsupported framework ... for
# Graviton instances"). Neither table picks an image by instance type, so it is left out.
_NO_INSTANCE_TYPE = frozenset({"huggingface-vllm-neuronx", "llama-cpp-arm64"})


def _image_uris() -> Any:
    try:
        from sagemaker.core import image_uris  # type: ignore[import-not-found, unused-ignore]
    except ImportError as missing:
        raise ImportError(
            f"sagemaker_image() needs the SageMaker SDK's image tables: {EXTRA_HINT}"
        ) from missing
    return image_uris


def _is_token(value: str) -> bool:
    """Whether `value` is an unresolved CDK token (e.g. `Aws.REGION`).

    A token exists only once aws-cdk-lib is imported, so the check never imports it itself: the lookup
    also works where aws-cdk-lib is not installed.
    """
    cdk = sys.modules.get("aws_cdk")
    return cdk is not None and bool(cdk.Token.is_unresolved(value))


def _sdk_version() -> str:
    try:
        return f"sagemaker-core {metadata.version('sagemaker-core')}"
    except metadata.PackageNotFoundError:
        return "the installed SageMaker SDK"


def serving_families(image_uris: Any) -> list[str]:
    """The SDK's image families that have serving (`inference`) images, read from its own tables."""
    families = []
    for family in image_uris.list_frameworks():
        try:
            image_uris.list_versions(family, IMAGE_SCOPE)
        except ValueError:
            continue
        families.append(family)
    return families


def _versions(image_uris: Any, framework: str) -> list[str]:
    """The versions (and aliases) of `framework`'s serving images, or a ValueError naming the families."""
    try:
        versions: list[str] = image_uris.list_versions(framework, IMAGE_SCOPE)
        return versions
    except (ValueError, OSError):
        pass
    families = serving_families(image_uris)
    if framework in image_uris.list_frameworks():
        raise ValueError(
            f"image family {framework!r} has no serving (inference) images in {_sdk_version()}; "
            f"families with serving images: {', '.join(families)}"
        )
    close = difflib.get_close_matches(framework, families, n=3, cutoff=0.8)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise ValueError(
        f"unknown image family {framework!r}{hint}; {_sdk_version()} has serving images for: "
        f"{', '.join(families)}"
    )


def _regions(image_uris: Any, framework: str, version: str) -> list[str]:
    """The Regions the SDK's table lists for this family and version (empty if the table is unreadable)."""
    try:
        config = image_uris.config_for_framework(framework)
    except (OSError, ValueError):
        return []
    scope = config if "versions" in config else config.get(IMAGE_SCOPE, {})
    resolved = scope.get("version_aliases", {}).get(version, version)
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            registries = node.get("registries")
            if isinstance(registries, dict):
                found.update(registries)
            for child in node.values():
                walk(child)

    walk(scope.get("versions", {}).get(resolved))
    return sorted(found)


def sagemaker_image(framework: str, version: str, region: str, instance_type: str | None = None) -> str:
    """The ECR URI of a SageMaker serving image, e.g. `sagemaker_image("huggingface-llm", "3.3.6",
    "us-east-1", "ml.g5.xlarge")`.

    `framework` is a SageMaker SDK image family (`huggingface-llm` (TGI on GPU), `huggingface-llm-neuronx`
    and `huggingface-vllm-neuronx` (TGI and vLLM on Inferentia2), `djl-lmi`, `djl-neuronx`,
    `huggingface-vllm`, ...); `version` must be explicit (some families have no default, and "latest"
    differs between families). `region` must be a concrete Region name, not a token.

    An unknown family, a version the family does not have, or a Region without that image is a
    ValueError listing what the SDK's tables do have.
    """
    if not framework or not version:
        raise ValueError(
            f"framework and version must both be given, got framework={framework!r}, version={version!r}"
        )
    if not isinstance(region, str) or not region or _is_token(region):
        raise ValueError(
            f"region must be a concrete Region name such as 'us-east-1' (image URIs differ per Region), got {region!r}"
        )
    image_uris = _image_uris()
    versions = _versions(image_uris, framework)
    if version not in versions:
        raise ValueError(
            f"image family {framework!r} has no version {version!r} in {_sdk_version()}; "
            f"versions (and aliases): {', '.join(versions)}"
        )
    kwargs: dict[str, Any] = {"region": region, "version": version, "image_scope": IMAGE_SCOPE}
    if instance_type is not None and framework not in _NO_INSTANCE_TYPE:
        kwargs["instance_type"] = instance_type
    try:
        uri = image_uris.retrieve(framework, **kwargs)
    except ValueError as refused:
        regions = _regions(image_uris, framework, version)
        if regions and region not in regions:
            raise ValueError(
                f"image family {framework!r} {version} has no image in {region} in {_sdk_version()}; "
                f"Regions with it: {', '.join(regions)}"
            ) from refused
        hint = ""
        if (instance_type or "").startswith(("ml.inf", "ml.trn")) and "neuron" not in framework:
            neuron = [f for f in serving_families(image_uris) if "neuron" in f]
            hint = f"; {instance_type} needs a Neuron image family: {', '.join(neuron)}"
        raise ValueError(
            f"the SageMaker SDK found no {framework!r} {version} image for region={region!r}, "
            f"instance_type={instance_type!r}: {refused}{hint}"
        ) from refused
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"the SageMaker SDK returned no image URI for {framework} {version} in {region}")
    return uri
