"""Deploy cloud assemblies with the real CDK CLI to a moto server on loopback (verification layer 3).

`MotoServer` runs `python -m moto.server` in a subprocess; `CdkCli` runs the pinned CDK CLI (`npx cdk`
from the repo, so package.json's version and cdk.json are used) with an environment that can only reach
that server. moto is create-only (stack updates fail), so every deploy starts from a reset server.

moto models part of CloudFormation; what it cannot take is patched here, in a COPY of a synthesized
template, never in the product (see `patch_template_for_moto`).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tests.harness.processes import CDK_CLI, REPO_ROOT

ACCOUNT = "123456789012"
REGION = "us-east-1"
CREDENTIAL = "testing"

MOTO_FALLBACK_INSTANCE_TYPE = "ml.m5.xlarge"
"""What an ml.* instance type moto's SageMaker enum lacks (ml.g5, ml.g6, ...) becomes in the moto copy."""

PLACEHOLDER_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/moto-placeholder:latest"
PLACEHOLDER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/moto-placeholder"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer:
    """`python -m moto.server` on 127.0.0.1, addressed as `localhost`.

    The CLI must see `http://localhost:PORT`: with `127.0.0.1` moto parses the template URL's host as
    an S3 bucket name and the deploy fails (docs/aws-facts.md#moto).
    """

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://localhost:{self.port}"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/moto-api/", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"moto server did not answer on port {self.port} within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def reset(self) -> None:
        """Forget every resource (moto is create-only: a fresh deploy needs a fresh server state)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/moto-api/reset", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            if reply.status != 200:
                raise RuntimeError(f"moto reset answered HTTP {reply.status}")

    def client(self, service: str) -> Any:
        """A boto3 client for `service` that talks to this server only, with dummy credentials."""
        session = boto3.session.Session(
            aws_access_key_id=CREDENTIAL, aws_secret_access_key=CREDENTIAL, region_name=REGION
        )
        return session.client(service, endpoint_url=self.endpoint_url)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no moto log)"
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running_moto_server(log_path: Path) -> Iterator[MotoServer]:
    """A started moto server, stopped on exit whatever happened."""
    server = MotoServer(log_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def cli_environment(endpoint_url: str, home: Path) -> dict[str, str]:
    """The environment the CDK CLI runs in: Node 24 from the venv first on PATH, only moto reachable.

    Every inherited AWS_* / CDK_* variable is dropped (no real profile, no session token), and the AWS
    config and credentials files point into `home`, where there are none.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    venv_bin = Path(sys.prefix) / "bin"
    env["PATH"] = os.pathsep.join([str(venv_bin), str(REPO_ROOT / ".venv" / "bin"), env.get("PATH", "")])
    env.update(
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_ACCESS_KEY_ID=CREDENTIAL,
        AWS_SECRET_ACCESS_KEY=CREDENTIAL,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CI="true",
        NO_COLOR="1",
        FORCE_COLOR="0",
    )
    return env


class CdkCliError(AssertionError):
    """The CDK CLI exited non-zero; the message carries its output's tail."""


@dataclass
class CdkCli:
    """The pinned CDK CLI (`npx cdk` in the repo) pointed at a moto server."""

    server: MotoServer
    home: Path
    timeout: float = 300.0
    timings: list[tuple[str, float]] = field(default_factory=list)
    _deployed: tuple[Path, str] | None = field(default=None, init=False, repr=False)
    _failures: dict[tuple[Path, str], CdkCliError] = field(default_factory=dict, init=False, repr=False)

    def run(self, *args: str) -> str:
        if not CDK_CLI.exists():
            raise CdkCliError(f"{CDK_CLI} is missing: run `make setup` (npm ci) first")
        command = ["npx", "--no", "cdk", *args, "--no-notices"]
        started = time.monotonic()
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=cli_environment(self.server.endpoint_url, self.home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        self.timings.append((" ".join(args[:2]), time.monotonic() - started))
        output = done.stdout + done.stderr
        if done.returncode != 0:
            tail = "\n".join(output.splitlines()[-40:])
            raise CdkCliError(
                f"`cdk {' '.join(args)}` exited {done.returncode}:\n{tail}\n--- moto log ---\n{self.server.log_tail()}"
            )
        return output

    def bootstrap(self, assembly_dir: Path) -> str:
        # --app points at a synthesized assembly so the CLI does not run cdk.json's `python app.py`.
        return self.run("bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(assembly_dir))

    def deploy(self, assembly_dir: Path, stack_name: str) -> str:
        return self.run(
            "deploy",
            stack_name,
            "--app",
            str(assembly_dir),
            "--method=direct",
            "--require-approval",
            "never",
        )

    def fresh_deploy(self, assembly_dir: Path, stack_name: str) -> str:
        """Reset the server, bootstrap the environment, deploy `stack_name`: a create, never an update."""
        self._deployed = None
        self.server.reset()
        self.bootstrap(assembly_dir)
        output = self.deploy(assembly_dir, stack_name)
        self._deployed = (assembly_dir, stack_name)
        return output

    def ensure_deployed(self, assembly_dir: Path, stack_name: str) -> None:
        """Deploy `stack_name` from a reset server unless it is what the server holds now.

        Several tests can then inspect one deployment, whatever order they run in. A failed deploy is
        remembered and raised again rather than retried.
        """
        key = (assembly_dir, stack_name)
        if key in self._failures:
            raise self._failures[key]
        if self._deployed == key:
            return
        try:
            self.fresh_deploy(assembly_dir, stack_name)
        except CdkCliError as failure:
            self._failures[key] = failure
            raise


# ---------------------------------------------------------------------------------------------------
# What moto models, and what a deployed stack must therefore show


def moto_modeled_types() -> frozenset[str]:
    """CloudFormation resource types moto's CloudFormation creates (it silently skips the others).

    Read from the installed moto (the same version as the server). `Custom::` types are excluded: moto
    can run them only through a Lambda in Docker, which this machine does not have.
    """
    from moto.cloudformation.parsing import get_model_map

    return frozenset(get_model_map())


def expected_moto_resources(template: Mapping[str, Any], modeled: frozenset[str]) -> dict[str, str]:
    """Logical id -> type of every resource in `template` that moto models and creates unconditionally."""
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") in modeled and "Condition" not in resource
    }


def stack_resources(cloudformation: Any, stack_name: str) -> dict[str, dict[str, Any]]:
    """`ListStackResources` by logical id (moto lists resources it skipped with an empty logical id)."""
    found: dict[str, dict[str, Any]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("LogicalResourceId"):
                found[summary["LogicalResourceId"]] = summary
    return found


# ---------------------------------------------------------------------------------------------------
# Template patches for moto's gaps (applied to a copy; the product never carries them)


MOTO_MISSING_FAMILIES = ("ml.g5.", "ml.g6.", "ml.g6e.", "ml.p4d.", "ml.p5.", "ml.inf2.", "ml.trn1.")
"""Families moto 5.2.5's enum lacks; only used if moto's own validator cannot be called any more."""


@functools.cache
def moto_accepts_instance_type(instance_type: str) -> bool:
    """Whether moto's SageMaker takes `instance_type` on an endpoint-config production variant.

    Asks moto's own validator (the enum the server applies), so the answer follows the pinned moto.
    """
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpointConfig

    try:
        FakeEndpointConfig.validate_instance_type(None, instance_type)  # type: ignore[arg-type]
    except ValidationError:
        return False
    except Exception:  # moto changed shape: fall back to the families known to be missing
        return not instance_type.startswith(MOTO_MISSING_FAMILIES)
    return True


@dataclass(frozen=True)
class MotoPatch:
    """One change made to a template copy so moto accepts it, said in words for the test report."""

    logical_id: str
    change: str


def _unique_logical_id(resources: Mapping[str, Any], base: str) -> str:
    candidate, n = base, 1
    while candidate in resources:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def add_models_to_bare_variants(template: dict[str, Any]) -> list[MotoPatch]:
    """Give every EndpointConfig production variant without `ModelName` a dummy model (in place).

    Real SageMaker forbids `ModelName` on a variant that hosts inference components; moto requires it
    and looks it up among its models. One placeholder `AWS::SageMaker::Model` per endpoint config,
    using the config's `ExecutionRoleArn` when it has one, is referenced by `Fn::GetAtt ... ModelName`.
    """
    resources: dict[str, Any] = template.setdefault("Resources", {})
    patches: list[MotoPatch] = []
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") != "AWS::SageMaker::EndpointConfig":
            continue
        props = resource.setdefault("Properties", {})
        bare = [
            v for v in props.get("ProductionVariants", []) if isinstance(v, dict) and "ModelName" not in v
        ]
        if not bare:
            continue
        model_id = _unique_logical_id(resources, f"{logical_id}MotoPlaceholderModel")
        resources[model_id] = {
            "Type": "AWS::SageMaker::Model",
            "Properties": {
                "ExecutionRoleArn": props.get("ExecutionRoleArn", PLACEHOLDER_ROLE_ARN),
                "PrimaryContainer": {"Image": PLACEHOLDER_IMAGE},
            },
        }
        for variant in bare:
            variant["ModelName"] = {"Fn::GetAtt": [model_id, "ModelName"]}
        depends = resource.get("DependsOn", [])
        resource["DependsOn"] = [*([depends] if isinstance(depends, str) else depends), model_id]
        names = ", ".join(str(v.get("VariantName")) for v in bare)
        patches.append(MotoPatch(logical_id, f"variants {names}: ModelName -> placeholder model {model_id}"))
    return patches


def replace_unknown_instance_types(template: dict[str, Any]) -> list[MotoPatch]:
    """Map every ml.* variant instance type moto does not know (ml.g5, ml.g6, ...) to ml.m5.xlarge."""
    patches: list[MotoPatch] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::SageMaker::EndpointConfig":
            continue
        for variant in resource.get("Properties", {}).get("ProductionVariants", []):
            instance_type = variant.get("InstanceType") if isinstance(variant, dict) else None
            if isinstance(instance_type, str) and not moto_accepts_instance_type(instance_type):
                variant["InstanceType"] = MOTO_FALLBACK_INSTANCE_TYPE
                patches.append(
                    MotoPatch(
                        logical_id,
                        f"variant {variant.get('VariantName')}: {instance_type} -> {MOTO_FALLBACK_INSTANCE_TYPE}",
                    )
                )
    return patches


def kms_key_tags_in_kms_shape(template: dict[str, Any]) -> list[MotoPatch]:
    """Rename `Key`/`Value` to `TagKey`/`TagValue` in every `AWS::KMS::Key`'s Tags (in place).

    moto's CloudFormation hands a KMS key's CloudFormation tags straight to its KMS tagger, which reads
    the KMS API's `TagKey`, so any tagged key fails with `KeyError: 'TagKey'` (moto 5.2.5).
    """
    patches: list[MotoPatch] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::KMS::Key":
            continue
        tags = resource.get("Properties", {}).get("Tags")
        if not isinstance(tags, list) or not any(isinstance(t, dict) and "Key" in t for t in tags):
            continue
        resource["Properties"]["Tags"] = [
            {"TagKey": t["Key"], "TagValue": t.get("Value", "")} if isinstance(t, dict) and "Key" in t else t
            for t in tags
        ]
        patches.append(MotoPatch(logical_id, f"{len(tags)} tag(s): Key/Value -> TagKey/TagValue"))
    return patches


def _replace_get_atts(node: Any, logical_id: str, placeholder: Any) -> tuple[Any, int]:
    """`node` with every `Fn::GetAtt` of `logical_id`'s profile ARN or id replaced by `placeholder`."""
    if isinstance(node, dict):
        if list(node) == ["Fn::GetAtt"] and node["Fn::GetAtt"] in (
            [logical_id, "InferenceProfileArn"],
            [logical_id, "InferenceProfileId"],
        ):
            return copy.deepcopy(placeholder), 1
        count = 0
        for key, value in node.items():
            node[key], found = _replace_get_atts(value, logical_id, placeholder)
            count += found
        return node, count
    if isinstance(node, list):
        count = 0
        for index, value in enumerate(node):
            node[index], found = _replace_get_atts(value, logical_id, placeholder)
            count += found
        return node, count
    return node, 0


def application_profile_arns_for_moto(template: dict[str, Any]) -> list[MotoPatch]:
    """Point every reference to an `AWS::Bedrock::ApplicationInferenceProfile` at a placeholder ARN (in place).

    moto 5.2.5's CloudFormation skips the type, so a `Fn::GetAtt` of its ARN (the Lambda environment, the IAM
    statements) fails the deploy with "references undefined resource". The placeholder is an ARN of the
    profile's shape in the stack's Region and account, built from pseudo parameters.
    """
    patches: list[MotoPatch] = []
    resources = template.get("Resources", {})
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") != "AWS::Bedrock::ApplicationInferenceProfile":
            continue
        placeholder = {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":bedrock:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    f":application-inference-profile/moto{logical_id.lower()}",
                ],
            ]
        }
        count = 0
        for other_id, other in resources.items():
            if other_id != logical_id:
                resources[other_id], found = _replace_get_atts(other, logical_id, placeholder)
                count += found
        for section in ("Outputs", "Conditions"):
            if section in template:
                template[section], found = _replace_get_atts(template[section], logical_id, placeholder)
                count += found
        if count:
            patches.append(MotoPatch(logical_id, f"{count} Fn::GetAtt of the profile -> a placeholder ARN"))
    return patches


def _gets_unmodeled(node: Any, unmodeled: set[str]) -> bool:
    """Whether `node` takes a `Fn::GetAtt` of a resource in `unmodeled`."""
    if isinstance(node, dict):
        if list(node) == ["Fn::GetAtt"] and node["Fn::GetAtt"][0] in unmodeled:
            return True
        return any(_gets_unmodeled(value, unmodeled) for value in node.values())
    if isinstance(node, list):
        return any(_gets_unmodeled(value, unmodeled) for value in node)
    return False


def outputs_of_unmodeled_resources(template: dict[str, Any]) -> list[MotoPatch]:
    """Replace (in place) each output that reads an attribute of a type moto skips by a placeholder text.

    moto 5.2.5 checks every output's `Fn::GetAtt` against its own resource models and fails the whole
    deploy on a type it does not model (`AWS::Lambda::Url`, the gateway's function URL).
    """
    modeled = moto_modeled_types()
    unmodeled = {
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") not in modeled
    }
    patches: list[MotoPatch] = []
    for name, output in template.get("Outputs", {}).items():
        if _gets_unmodeled(output.get("Value"), unmodeled):
            output["Value"] = f"moto-placeholder-{name}"
            patches.append(MotoPatch(name, "output of a type moto skips -> a placeholder text"))
    return patches


def patch_template_for_moto(template: Mapping[str, Any]) -> tuple[dict[str, Any], list[MotoPatch]]:
    """A patched deep copy of `template` that moto deploys, and the list of changes made."""
    patched = copy.deepcopy(dict(template))
    patches = [
        *add_models_to_bare_variants(patched),
        *replace_unknown_instance_types(patched),
        *kms_key_tags_in_kms_shape(patched),
        *application_profile_arns_for_moto(patched),
        *outputs_of_unmodeled_resources(patched),
    ]
    return patched, patches


def template_file(assembly_dir: Path, stack_name: str) -> Path:
    """The template of `stack_name` in a cloud assembly, as its manifest names it."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    artifact = manifest["artifacts"][stack_name]
    return assembly_dir / str(artifact["properties"]["templateFile"])


def patched_assembly_copy(
    assembly_dir: Path, destination: Path, stack_name: str
) -> tuple[Path, list[MotoPatch]]:
    """Copy a cloud assembly to `destination` with `stack_name`'s template patched for moto.

    The original assembly is untouched. Returns the copy's directory and the patches made.
    """
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(assembly_dir, destination)
    path = template_file(destination, stack_name)
    patched, patches = patch_template_for_moto(json.loads(path.read_text()))
    path.write_text(json.dumps(patched, indent=1))
    return destination, patches
