"""Look up AWS Deep Learning Container image URIs for SageMaker hosting, through the optional extra.

The SageMaker Python SDK v3 keeps the image tables in `sagemaker.core.image_uris` (package
`sagemaker-core`, ~450 MB with its dependencies), so inferwise does not depend on it: install
`inferwise[sagemaker]` to use `sagemaker_image`, or pass an explicit `image_uri` to the constructs.
The lookup is offline and runs at synth time.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Token

EXTRA_HINT = (
    'pip install "inferwise[sagemaker]" (it adds sagemaker-core), or pass image_uri= explicitly, e.g. '
    '"763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:<tag>"'
)

# Frameworks whose image table has no per-instance processor entry: passing instance_type breaks the
# lookup (AWS-FACTS.md §5, sagemaker-core 2.27: "huggingface-vllm-neuronx errors with ml.inf2.*").
_NO_INSTANCE_TYPE = frozenset({"huggingface-vllm-neuronx"})


def _image_uris() -> Any:
    try:
        from sagemaker.core import image_uris  # type: ignore[import-not-found, unused-ignore]
    except ImportError as missing:
        raise ImportError(
            f"sagemaker_image() needs the SageMaker SDK's image tables: {EXTRA_HINT}"
        ) from missing
    return image_uris


def sagemaker_image(framework: str, version: str, region: str, instance_type: str | None = None) -> str:
    """The ECR URI of a SageMaker serving image, e.g. `sagemaker_image("huggingface-llm", "3.3.6",
    "us-east-1", "ml.g5.xlarge")`.

    `framework` is a SageMaker SDK image family (`huggingface-llm` (TGI), `huggingface-llm-neuronx`,
    `djl-lmi`, `huggingface-vllm`, ...); `version` must be explicit (some families have no default, and
    "latest" differs between families). `region` must be a concrete Region name, not a token.
    """
    if not framework or not version:
        raise ValueError(
            f"framework and version must both be given, got framework={framework!r}, version={version!r}"
        )
    if not isinstance(region, str) or Token.is_unresolved(region) or not region:
        raise ValueError(
            f"region must be a concrete Region name such as 'us-east-1' (image URIs differ per Region), got {region!r}"
        )
    image_uris = _image_uris()
    kwargs: dict[str, Any] = {"region": region, "version": version}
    if instance_type is not None and framework not in _NO_INSTANCE_TYPE:
        kwargs["instance_type"] = instance_type
    uri = image_uris.retrieve(framework, **kwargs)
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"the SageMaker SDK returned no image URI for {framework} {version} in {region}")
    return uri
