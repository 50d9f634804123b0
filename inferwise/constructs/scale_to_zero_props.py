"""What a `ScaleToZeroEndpoint` is configured with: the SageMaker name limits, `InferenceModel` (one model
served as an inference component) and the checks of the construct's props.

Every check raises `InvalidValueError` / `InvalidTypeError` (ValueErrors) naming the prop, showing the value
and saying what is allowed, before anything reaches jsii (the SageMaker limits are in
docs/aws-facts.md#sagemaker-endpoint-config and #sagemaker-inference-component). The endpoint has no
instance floor (`MinInstanceCount` is always 0), so no usage can price less than its configuration forces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from inferwise.constructs.schedule import OffHours
from inferwise.constructs.validation import (
    ECR_IMAGE,
    InvalidTypeError,
    InvalidValueError,
    check_cron_fires,
    check_mapping,
    check_number,
    check_sequence,
    check_text,
    check_whole_number,
    is_token,
    shown,
)
from inferwise.cost.estimators.scale_to_zero import MAX_INSTANCES, EndpointUsage
from inferwise.cost.specs.sagemaker import InstanceSpec, instance_spec

MAX_NAME_LENGTH = 63
"""SageMaker's limit for endpoint and inference-component names."""
MAX_MODEL_NAME_LENGTH = 40
"""Leaves 23 characters of the 63 for the stack/construct prefix (shortened with a hash when longer)."""
MAX_ENVIRONMENT = 16
"""Environment variables per container (the CloudFormation schema's limit; botocore allows 100)."""
MAX_ENV_VALUE = 1024
MAX_URL_LENGTH = 1024
MAX_ACCELERATORS = 64
MAX_COPIES = 1_000
MAX_MEMORY_MB = 4_000_000
MAX_TARGET_INVOCATIONS = 1_000_000
"""Sanity limits of `InferenceModel`'s accelerators, copies, memory (MiB) and invocations per copy."""
MAX_MODELS = 100
"""Sanity limit of the inference components of one endpoint."""

NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
ENV_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{1,1024}")
S3_OBJECT = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.*[^/])$")


@dataclass(frozen=True)
class InferenceModel:
    """One model served as an inference component: its container, what one copy needs, how far it scales.

    - `name`: letters, digits and hyphens, at most 40 characters; unique within the endpoint. The inference
      component is named `<stack>-<construct path>-<name>` (shortened with a hash to fit 63 characters).
    - `image_uri`: an ECR image URI (e.g. an AWS Deep Learning Container; see `sagemaker_image`).
    - `model_data_url`: an `s3://bucket/key` model archive, or None when the container fetches the model
      itself (e.g. from the Hugging Face Hub via `environment`).
    - `accelerators` / `memory_mb`: reserved per copy (GPUs or NeuronCores; MiB of host memory). SageMaker
      places copies against a pool smaller than the instance's RAM, so leave headroom.
    - `max_copies`: the scaling ceiling of this component (its minimum is always 0).
    - `target_invocations_per_copy`: invocations per minute per copy that target tracking aims for.
    - `startup_timeout_seconds`: model download and container health-check timeout (60-3600).
    - `environment`: at most 16 variables, names of 2 or more letters, digits and '_', values of at most
      1,024 characters (the CloudFormation schema's limits).
    """

    name: str
    image_uri: str
    memory_mb: int
    model_data_url: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    accelerators: int = 1
    max_copies: int = 1
    target_invocations_per_copy: float = 10.0
    startup_timeout_seconds: int = 900

    def __post_init__(self) -> None:
        check_text(
            "InferenceModel.name",
            self.name,
            allowed="letters, digits and hyphens, starting and ending with a letter or digit",
            pattern=NAME,
        )
        if len(self.name) > MAX_MODEL_NAME_LENGTH:
            raise InvalidValueError(
                f"InferenceModel.name must be at most {MAX_MODEL_NAME_LENGTH} characters (the inference component "
                f"name adds a stack/construct prefix within SageMaker's {MAX_NAME_LENGTH}-character limit), "
                f"got {self.name!r} ({len(self.name)} characters)"
            )
        label = f"InferenceModel {self.name!r}"
        check_whole_number(f"{label}: accelerators", self.accelerators, 1, cap=MAX_ACCELERATORS)
        check_whole_number(f"{label}: memory_mb", self.memory_mb, 128, cap=MAX_MEMORY_MB)
        check_whole_number(f"{label}: max_copies", self.max_copies, 1, cap=MAX_COPIES)
        check_whole_number(f"{label}: startup_timeout_seconds", self.startup_timeout_seconds, 60, 3600)
        check_number(
            f"{label}: target_invocations_per_copy",
            self.target_invocations_per_copy,
            low=0,
            low_open=True,
            cap=MAX_TARGET_INVOCATIONS,
        )
        self._check_image_and_artifact(label)
        self._check_environment(label)

    def _check_image_and_artifact(self, label: str) -> None:
        allowed = "an ECR image URI '<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>' (or '@sha256:<digest>')"
        if not (isinstance(self.image_uri, str) and is_token(self.image_uri)):
            check_text(
                f"{label}: image_uri", self.image_uri, allowed=allowed, max_length=255, pattern=ECR_IMAGE
            )
        url = self.model_data_url
        if url is None or (isinstance(url, str) and is_token(url)):
            return
        check_text(
            f"{label}: model_data_url",
            url,
            allowed="an S3 object URL 's3://<bucket>/<key>' (e.g. a model.tar.gz) or None",
            max_length=MAX_URL_LENGTH,
            pattern=S3_OBJECT,
        )

    def _check_environment(self, label: str) -> None:
        environment = check_mapping(
            f"{label}: environment", self.environment, of="variable names to string values"
        )
        if len(environment) > MAX_ENVIRONMENT:
            raise InvalidValueError(
                f"{label}: environment may hold at most {MAX_ENVIRONMENT} variables (SageMaker's limit), got "
                f"{len(environment)}"
            )
        for key, value in environment.items():
            if not isinstance(key, str) or not ENV_KEY.fullmatch(key):
                raise InvalidValueError(
                    f"{label}: environment variable name {shown(key)} must match {ENV_KEY.pattern}"
                )
            if not isinstance(value, str) or len(value) > MAX_ENV_VALUE:
                raise InvalidValueError(
                    f"{label}: environment variable {key} must be a string of at most {MAX_ENV_VALUE} characters, "
                    f"got {shown(value)}"
                )


def endpoint_spec(instance_type: object) -> InstanceSpec:
    """The spec of `instance_type`, after checking it is a string."""
    check_text("instance_type", instance_type, allowed="a SageMaker instance type such as 'ml.g5.xlarge'")
    assert isinstance(instance_type, str)
    return instance_spec(instance_type)


def validate_endpoint(
    spec: InstanceSpec,
    models: object,
    max_instances: object,
    off_hours: object,
    usage: object,
) -> None:
    """The construct's props, together: models that fit the instance, the capacity, the schedule, the usage."""
    check_whole_number("max_instances", max_instances, 1, cap=MAX_INSTANCES)
    assert isinstance(max_instances, int)
    items = check_sequence("models", models, of="InferenceModel objects", max_items=MAX_MODELS)
    if not items:
        raise InvalidValueError("models must hold at least one InferenceModel, got none")
    for model in items:
        if not isinstance(model, InferenceModel):
            raise InvalidTypeError(
                f"models must hold InferenceModel objects, got {shown(model)}; e.g. "
                "InferenceModel(name='qwen', image_uri=..., memory_mb=1024)"
            )
    _check_models_fit(spec, items)
    if off_hours is not None:
        if not isinstance(off_hours, OffHours):
            raise InvalidTypeError(
                f"off_hours must be an OffHours(cron=..., resume_cron=...) or None, got {shown(off_hours)}"
            )
        check_cron_fires("off_hours.cron", off_hours.cron)
        check_cron_fires("off_hours.resume_cron", off_hours.resume_cron)
    if not isinstance(usage, EndpointUsage):
        raise InvalidTypeError(f"usage must be an EndpointUsage(...) or None, got {shown(usage)}")
    if usage.instances_while_active > max_instances:
        raise InvalidValueError(
            f"usage.instances_while_active must be <= max_instances ({max_instances}), "
            f"got {usage.instances_while_active}"
        )


def _check_models_fit(spec: InstanceSpec, models: tuple[InferenceModel, ...]) -> None:
    """Names unique (case-insensitively), and each copy no larger than one instance."""
    seen: dict[str, str] = {}
    for model in models:
        key = model.name.lower()
        if key in seen:
            raise InvalidValueError(
                f"models has two models named {seen[key]!r} and {model.name!r}; InferenceModel.name must be unique "
                "(case-insensitively) within an endpoint"
            )
        seen[key] = model.name
    for model in models:
        if model.accelerators > spec.accelerators:
            raise InvalidValueError(
                f"InferenceModel {model.name!r}: accelerators={model.accelerators} is more than {spec.instance_type} "
                f"has ({spec.accelerators} x {spec.accelerator}); use at most {spec.accelerators} or a larger "
                "instance type"
            )
        if model.memory_mb > spec.memory_mb:
            raise InvalidValueError(
                f"InferenceModel {model.name!r}: memory_mb={model.memory_mb} is more than {spec.instance_type} has "
                f"({spec.memory_mb} MiB); ask for less (SageMaker reserves part of it) or use a larger instance type"
            )
