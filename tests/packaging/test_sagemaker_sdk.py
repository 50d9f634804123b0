"""Packaging: `sagemaker_image()` against the real SageMaker SDK (`sagemaker-core`), not the fake of the unit tests.

The SDK (~450 MB installed) is the `inferwise[sagemaker]` extra and stays out of the dev extra. A session fixture
builds a venv of its own with exactly SAGEMAKER_CORE_VERSION (the extra's lower bound; a test keeps the two equal)
and only the source tree's `inferwise` package on its path: no aws-cdk-lib, since the lookup must not need it. One
subprocess then resolves every image family and version the docs name in every Region of the price catalogue, plus
the error cases, and prints JSON; the tests assert on it case by case. The docs' image URIs are checked against the
same results, so an example that drifts from what the SDK returns fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from inferwise.cost.catalog import PriceCatalog
from tests.docs.support import fenced_blocks

REPO_ROOT = Path(__file__).resolve().parents[2]

SAGEMAKER_CORE_VERSION = "2.27.0"
"""The SDK version these tests run against: the lower bound of the `sagemaker` extra in pyproject.toml."""

DLC_ACCOUNT = "763104351884"
"""The AWS Deep Learning Containers registry account in every Region of the catalogue."""

REGIONS: tuple[str, ...] = tuple(PriceCatalog.bundled().regions())


@dataclass(frozen=True)
class Image:
    """One image family and version the docs name, what the SDK must return, and where it has no image."""

    family: str
    version: str
    instance_type: str | None
    repository: str
    tag: str
    missing_in: frozenset[str] = frozenset()


IMAGES: tuple[Image, ...] = (
    # TGI on GPU (ml.g5/g6/g6e/p4d/p5)
    Image(
        "huggingface-llm", "3.3.6", "ml.g5.xlarge",
        "huggingface-pytorch-tgi-inference", "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04",
    ),
    # TGI and vLLM on Inferentia2 (ml.inf2)
    Image(
        "huggingface-llm-neuronx", "0.3.0", "ml.inf2.xlarge",
        "huggingface-pytorch-tgi-inference", "2.7.0-optimum3.3.6-inf2-py310-ubuntu22.04",
    ),
    Image(
        "huggingface-vllm-neuronx", "0.4.4", "ml.inf2.xlarge",
        "huggingface-vllm-inference-neuronx", "0.11.0-optimum0.4.4-neuronx-py310-sdk2.26.1-ubuntu22.04",
        missing_in=frozenset({"ap-northeast-2", "ca-central-1", "eu-north-1", "eu-west-2"}),
    ),
    # DJL: LMI on GPU, and the (older) Neuron image
    Image("djl-lmi", "0.38.0", "ml.g5.xlarge", "djl-inference", "0.38.0-lmi29.0.0-cu130"),
    Image("djl-lmi", "latest", "ml.g5.xlarge", "djl-inference", "0.38.0-lmi29.0.0-cu130"),
    Image(
        "djl-neuronx", "0.29.0", "ml.inf2.xlarge", "djl-inference", "0.29.0-neuronx-sdk2.19.1",
        missing_in=frozenset({"ap-northeast-2", "ca-central-1"}),
    ),
    # vLLM on GPU; llama.cpp on Graviton (CPU)
    Image(
        "huggingface-vllm", "0.29", "ml.g5.xlarge",
        "huggingface-vllm", "0.29.0-transformers5.15.0-gpu-py312-cu130-ubuntu24.04-v1.0",
    ),
    Image("llama-cpp-arm64", "latest", "ml.c7g.xlarge", "llama-cpp-arm64", "server-sagemaker-cpu-v1"),
)  # fmt: skip

CASES: tuple[tuple[Image, str], ...] = tuple((image, region) for image in IMAGES for region in REGIONS)

ERROR_CASES: dict[str, tuple[str, str, str, str | None]] = {
    "unknown-family": ("huggingface-tgi", "3.3.6", "us-east-1", "ml.g5.xlarge"),
    "unknown-version": ("huggingface-llm", "9.9.9", "us-east-1", "ml.g5.xlarge"),
    "training-only-family": ("pytorch-smp", "2.0", "us-east-1", "ml.p5.48xlarge"),
    "gpu-image-on-inf2": ("huggingface-llm", "3.3.6", "us-east-1", "ml.inf2.xlarge"),
}

# The files whose image URIs must be URIs the SDK returns, and the files whose backticked family names must all be
# in IMAGES (docs/aws-facts.md only from its "Container images" section on).
URI_FILES: tuple[Path, ...] = (
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted((REPO_ROOT / "examples").rglob("*.py")),
    *sorted((REPO_ROOT / "inferwise").rglob("*.py")),
)
FAMILY_FILES: tuple[Path, ...] = (
    REPO_ROOT / "docs" / "scale-to-zero.md",
    REPO_ROOT / "docs" / "aws-facts.md",
    REPO_ROOT / "inferwise" / "constructs" / "sagemaker_images.py",
)

DOC_BLOCKS = [
    block
    for block in fenced_blocks(REPO_ROOT / "docs" / "scale-to-zero.md")
    if block.language == "python" and "sagemaker_image(" in block.code
]
"""The docs' python blocks that call sagemaker_image (marked not-run: the dev venv has no SDK); run here."""

_ECR_URI = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9._/-]+):(?P<tag>[A-Za-z0-9._-]+)"
)
_ADJACENT_LITERALS = re.compile(r"\"\s*\n\s*\"")

PROBE = textwrap.dedent(
    """
    import importlib.util, json, logging, sys
    logging.disable(logging.CRITICAL)  # the SDK logs every defaulted argument at INFO
    from importlib import metadata
    from inferwise.constructs import sagemaker_images
    from sagemaker.core import image_uris

    request = json.load(sys.stdin)

    def run(args):
        try:
            return {"uri": sagemaker_images.sagemaker_image(*args)}
        except Exception as error:
            return {"error": type(error).__name__, "message": str(error)}

    def run_block(code):
        try:
            exec(compile(code, "<docs block>", "exec"), {"__name__": "__main__"})
            return {"ok": True}
        except Exception as error:
            return {"error": type(error).__name__, "message": str(error)}

    print(json.dumps({
        "sdk": metadata.version("sagemaker-core"),
        "aws_cdk_installed": importlib.util.find_spec("aws_cdk") is not None,
        "inferwise": sagemaker_images.__file__,
        "families": image_uris.list_frameworks(),
        "serving_families": sagemaker_images.serving_families(image_uris),
        "versions": {family: image_uris.list_versions(family, "inference") for family in request["families"]},
        "cases": [run(args) for args in request["cases"]],
        "errors": {key: run(args) for key, args in request["errors"].items()},
        "blocks": [run_block(code) for code in request["blocks"]],
        "aws_cdk_imported": "aws_cdk" in sys.modules,  # after every lookup above
    }))
    """
)


@dataclass(frozen=True)
class Venv:
    python: Path
    env: dict[str, str]
    setup_seconds: float


@pytest.fixture(scope="session")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A venv with exactly sagemaker-core SAGEMAKER_CORE_VERSION, and the source tree's `inferwise` on its path."""
    base = tmp_path_factory.mktemp("sagemaker-sdk")
    venv = base / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
            "install", "--no-compile", "--progress-bar", "off", "--quiet",
            f"sagemaker-core=={SAGEMAKER_CORE_VERSION}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    source = base / "source"  # only the package, so nothing else of the repository shadows an import
    source.mkdir()
    (source / "inferwise").symlink_to(REPO_ROOT / "inferwise", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PYTHONPATH=str(source), AWS_EC2_METADATA_DISABLED="true", PYTHONDONTWRITEBYTECODE="1")
    elapsed = time.monotonic() - started
    print(f"\nsagemaker-core {SAGEMAKER_CORE_VERSION} venv: {elapsed:.1f} s")
    return Venv(venv / "bin" / "python", env, elapsed)


@pytest.fixture(scope="session")
def sdk(sdk_venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every lookup of CASES and ERROR_CASES, run once in the SDK venv."""
    request = {
        "families": sorted({image.family for image in IMAGES}),
        "cases": [[image.family, image.version, region, image.instance_type] for image, region in CASES],
        "errors": ERROR_CASES,
        "blocks": [block.code for block in DOC_BLOCKS],
    }
    started = time.monotonic()
    probe = subprocess.run(
        [str(sdk_venv.python), "-c", PROBE],
        input=json.dumps(request),
        cwd=tmp_path_factory.mktemp("sagemaker-probe"),
        env=sdk_venv.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    print(f"\n{len(CASES)} image lookups in one subprocess: {time.monotonic() - started:.1f} s")
    result: dict[str, Any] = json.loads(probe.stdout)
    result["by_case"] = dict(zip(CASES, result["cases"], strict=True))
    return result


# ------------------------------------------------------------------------------------------------ the venv
def test_the_tested_sdk_version_is_the_extras_lower_bound() -> None:
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (requirement,) = [Requirement(text) for text in extras["sagemaker"]]
    assert requirement.name == "sagemaker-core"
    (lower,) = [s.version for s in requirement.specifier if s.operator == ">="]
    assert Version(lower) == Version(SAGEMAKER_CORE_VERSION), (
        f'pyproject.toml: sagemaker = ["sagemaker-core>={SAGEMAKER_CORE_VERSION}"] (the version tested here)'
    )
    dev = " ".join(extras["dev"])
    assert "sagemaker" not in dev, "the SDK stays out of the dev extra (this test builds its own venv)"
    docs = (REPO_ROOT / "docs" / "scale-to-zero.md").read_text()
    assert f"sagemaker-core {SAGEMAKER_CORE_VERSION}" in docs, (
        "docs/scale-to-zero.md names the version tested"
    )


def test_the_lookup_runs_on_the_pinned_sdk_without_aws_cdk_lib(sdk: dict[str, Any]) -> None:
    assert sdk["sdk"] == SAGEMAKER_CORE_VERSION
    assert (sdk["aws_cdk_installed"], sdk["aws_cdk_imported"]) == (False, False)
    assert Path(sdk["inferwise"]).resolve() == (
        REPO_ROOT / "inferwise" / "constructs" / "sagemaker_images.py"
    )


# ------------------------------------------------------------------------------------- families x Regions
def test_the_catalogue_has_the_fifteen_regions() -> None:
    assert len(REGIONS) == 15 and "us-east-1" in REGIONS


@pytest.mark.parametrize(
    ("image", "region"), CASES, ids=[f"{image.family}-{image.version}-{region}" for image, region in CASES]
)
def test_every_documented_image_resolves_in_every_catalogue_region(
    sdk: dict[str, Any], image: Image, region: str
) -> None:
    result = sdk["by_case"][(image, region)]
    if region in image.missing_in:
        assert result.get("error") == "ValueError", result
        prefix = (
            f"image family {image.family!r} {image.version} has no image in {region} in "
            f"sagemaker-core {SAGEMAKER_CORE_VERSION}; Regions with it: "
        )
        assert result["message"].startswith(prefix), result["message"]
        listed = set(result["message"].removeprefix(prefix).split(", "))
        assert set(REGIONS) - image.missing_in <= listed
        return
    assert "uri" in result, f"{image.family} {image.version} in {region}: {result}"
    match = _ECR_URI.fullmatch(result["uri"])
    assert match is not None, result["uri"]
    assert match.groupdict() == {
        "account": DLC_ACCOUNT,
        "region": region,
        "repository": image.repository,
        "tag": image.tag,
    }


def test_every_family_the_docs_name_is_checked_and_in_the_sdk(sdk: dict[str, Any]) -> None:
    named: set[str] = set()
    for path in FAMILY_FILES:
        text = path.read_text()
        if path.name == "aws-facts.md":
            text = text[text.index("## 6. Container images") :].split("\n## ", 1)[0]
        tokens = set(re.findall(r"`([a-z0-9][a-z0-9-]*)`", text))
        tokens |= set(re.findall(r"sagemaker_image\(\s*\"([^\"]+)\"", text))
        named |= {
            t for t in tokens if t in sdk["families"] or re.search(r"(huggingface|djl|llama|vllm|tgi)", t)
        }
    named -= {image.repository for image in IMAGES}  # repository names are not families
    checked = {image.family for image in IMAGES}
    assert {"huggingface-llm", "huggingface-llm-neuronx", "huggingface-vllm-neuronx", "djl-lmi"} <= named
    assert named <= checked, f"add these families to IMAGES: {sorted(named - checked)}"
    assert checked <= set(sdk["serving_families"]), (
        f"gone from the SDK: {sorted(checked - set(sdk['families']))}"
    )


# ------------------------------------------------------------------------------------------------ errors
def test_an_unknown_family_names_the_families_the_sdk_has(sdk: dict[str, Any]) -> None:
    result = sdk["errors"]["unknown-family"]
    assert result["error"] == "ValueError"
    message = result["message"]
    assert message.startswith("unknown image family 'huggingface-tgi' (did you mean 'huggingface-tei'")
    assert message.endswith(
        f"; sagemaker-core {SAGEMAKER_CORE_VERSION} has serving images for: {', '.join(sdk['serving_families'])}"
    )
    assert {image.family for image in IMAGES} <= set(sdk["serving_families"]) < set(sdk["families"])


def test_an_unknown_version_names_the_versions_of_that_family(sdk: dict[str, Any]) -> None:
    result = sdk["errors"]["unknown-version"]
    versions = sdk["versions"]["huggingface-llm"]
    assert "3.3.6" in versions
    assert result == {
        "error": "ValueError",
        "message": f"image family 'huggingface-llm' has no version '9.9.9' in sagemaker-core "
        f"{SAGEMAKER_CORE_VERSION}; versions (and aliases): {', '.join(versions)}",
    }


def test_a_training_only_family_is_refused_with_the_serving_families(sdk: dict[str, Any]) -> None:
    result = sdk["errors"]["training-only-family"]
    assert result == {
        "error": "ValueError",
        "message": f"image family 'pytorch-smp' has no serving (inference) images in sagemaker-core "
        f"{SAGEMAKER_CORE_VERSION}; families with serving images: {', '.join(sdk['serving_families'])}",
    }


def test_a_gpu_image_on_inferentia_points_to_the_neuron_families(sdk: dict[str, Any]) -> None:
    result = sdk["errors"]["gpu-image-on-inf2"]
    assert result["error"] == "ValueError"
    assert result["message"].startswith(
        "the SageMaker SDK found no 'huggingface-llm' 3.3.6 image for region='us-east-1', "
        "instance_type='ml.inf2.xlarge': Unsupported processor: inf."
    )
    assert result["message"].endswith("; ml.inf2.xlarge needs a Neuron image family: " + ", ".join(
        f for f in sdk["serving_families"] if "neuron" in f
    ))  # fmt: skip
    assert "huggingface-llm-neuronx" in result["message"]


# -------------------------------------------------------------------------------------------------- docs
def _documented_uris() -> list[tuple[str, str]]:
    """(file, URI) of every ECR image URI with a concrete tag in the docs, examples and package sources."""
    found = []
    for path in URI_FILES:
        if "prices/sources" in path.as_posix():
            continue
        text = _ADJACENT_LITERALS.sub("", path.read_text())  # "...:"\n    "tag" is one Python string
        found += [(str(path.relative_to(REPO_ROOT)), m.group(0)) for m in _ECR_URI.finditer(text)]
    return found


def test_every_image_uri_in_the_docs_is_one_the_sdk_returns(sdk: dict[str, Any]) -> None:
    documented = _documented_uris()
    files = {name for name, _ in documented}
    assert {"docs/scale-to-zero.md", "inferwise/stacks/scale_to_zero.py", "README.md"} <= files, files
    returned = {result["uri"] for result in sdk["cases"] if "uri" in result}
    wrong = [(name, uri) for name, uri in documented if uri not in returned]
    assert wrong == [], (
        f"not what sagemaker_image() returns with sagemaker-core {SAGEMAKER_CORE_VERSION}: {wrong}"
    )


def test_every_repository_and_tag_in_the_image_facts_is_one_the_sdk_returns(sdk: dict[str, Any]) -> None:
    facts = (REPO_ROOT / "docs" / "aws-facts.md").read_text()
    text = facts[facts.index("## 6. Container images") :].split("\n## ", 1)[0]
    page = (REPO_ROOT / "docs" / "scale-to-zero.md").read_text()
    text += page[page.index("## Container images") :].split("\n## ", 1)[0]
    quoted = re.findall(r"`([a-z0-9][a-z0-9-]*:[A-Za-z0-9._-]+)`", text)
    assert len(quoted) >= 10, quoted
    returned = {result["uri"].split("/", 1)[1] for result in sdk["cases"] if "uri" in result}
    assert sorted(set(quoted) - returned) == []


def test_the_docs_image_example_runs_against_the_sdk(sdk: dict[str, Any]) -> None:
    assert len(DOC_BLOCKS) == 1 and "not-run" in DOC_BLOCKS[0].markers
    assert sdk["blocks"] == [{"ok": True}]
