"""The streaming runtime as Lambda starts it: the launcher named by AWS_LAMBDA_EXEC_WRAPPER keeps its
executable bit from the source tree into the synthesized asset (the CDK CLI zips each file with the mode it
has there), and, run as Lambda runs it, starts the Runtime API loop or reports why it could not."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from inferwise.constructs.gateway import InferenceGateway, Route, Tenant
from inferwise.constructs.gateway.construct import EXEC_WRAPPER, HANDLER, LAMBDA_DIR
from inferwise.constructs.gateway.props import gateway_config
from inferwise.cost.catalog import PriceCatalog
from tests.gateway.streams import FakeRuntimeAPI
from tests.gateway.support import LARGE, REGION, event
from tests.harness.moto_deploy import CdkCli, running_moto_server
from tests.harness.synth import CONTEXT

LAUNCHER = LAMBDA_DIR / "gateway" / "runtime" / "launch"
TASK_ROOT = "/var/task/"
EXECUTABLE = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("gateway-streaming-out")
    app = cdk.App(outdir=str(outdir), context=CONTEXT)
    stack = cdk.Stack(app, "Streaming", env=cdk.Environment(region=REGION))
    InferenceGateway(
        stack,
        "Gateway",
        routes=[Route(name="chat", model_id=LARGE)],
        tenants=[Tenant("acme", 10, header_trusted=True)],
    )
    app.synth()
    return outdir


def _function(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == HANDLER
    ]
    return function


def test_the_launcher_is_executable_in_the_source_tree() -> None:
    assert LAUNCHER.stat().st_mode & EXECUTABLE == EXECUTABLE
    assert LAUNCHER.read_text().startswith("#!/bin/sh\n")
    tracked = subprocess.run(
        ["git", "ls-files", "--stage", str(LAUNCHER)],
        capture_output=True,
        text=True,
        cwd=LAMBDA_DIR,
        check=False,
    ).stdout
    if tracked:  # once committed, git must hold it as 100755 or a fresh clone loses the bit
        assert tracked.startswith("100755 "), tracked


def test_the_synthesized_asset_keeps_the_launcher_executable(assembly: Path) -> None:
    template = json.loads((assembly / "Streaming.template.json").read_text())
    function = _function(template)
    wrapper = function["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"]
    assert wrapper == EXEC_WRAPPER and wrapper.startswith(TASK_ROOT)
    files = json.loads((assembly / "Streaming.assets.json").read_text())["files"].values()
    (asset,) = [
        f["source"]
        for f in files
        if any(d["objectKey"] == function["Code"]["S3Key"] for d in f["destinations"].values())
    ]
    assert asset["packaging"] == "zip"  # the CLI zips this directory, each file with its mode here
    staged = assembly / asset["path"] / wrapper.removeprefix(TASK_ROOT)
    assert staged.is_file(), f"{wrapper} is not in the function's asset"
    assert staged.stat().st_mode & EXECUTABLE == EXECUTABLE, oct(staged.stat().st_mode)


@pytest.mark.integration
def test_the_published_zip_keeps_the_launcher_executable(assembly: Path, tmp_path: Path) -> None:
    """What Lambda unpacks: the CDK CLI zips and uploads the asset (to a moto server), the zip is read back."""
    with running_moto_server(tmp_path / "moto.log") as server:
        cli = CdkCli(server, home=tmp_path)
        cli.bootstrap(assembly)
        cli.run("publish-assets", "Streaming", "--unstable=publish-assets", "--app", str(assembly))
        s3 = server.client("s3")
        (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("cdk-")]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith(".zip")]
        archives = [
            zipfile.ZipFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())) for k in keys
        ]
    name = EXEC_WRAPPER.removeprefix(TASK_ROOT)
    (entry,) = [a.getinfo(name) for a in archives if name in a.namelist()]
    assert entry.create_system == 3  # Unix: Lambda applies the mode bits
    assert (entry.external_attr >> 16) & EXECUTABLE == EXECUTABLE, oct(entry.external_attr >> 16)


def test_the_function_url_streams_and_the_role_may_call_converse_stream(assembly: Path) -> None:
    template = json.loads((assembly / "Streaming.template.json").read_text())
    (url,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Url"]
    assert url["InvokeMode"] == "RESPONSE_STREAM" and url["AuthType"] == "AWS_IAM"
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert "bedrock:InvokeModelWithResponseStream" in policies


@pytest.fixture
def runtime() -> Iterator[FakeRuntimeAPI]:
    api = FakeRuntimeAPI()
    yield api
    api.close()


def _launch(runtime: FakeRuntimeAPI, arguments: list[str], **environment: str) -> subprocess.Popen[bytes]:
    """The launcher as Lambda starts it: the managed runtime's command line as its arguments."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "LAMBDA_TASK_ROOT": str(LAMBDA_DIR),
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,  # Lambda sets both; boto3 reads this one
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing here may reach AWS
        **environment,
    }
    return subprocess.Popen(
        [str(LAUNCHER), *arguments], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def test_a_launch_without_configuration_posts_an_init_error(runtime: FakeRuntimeAPI) -> None:
    process = _launch(runtime, [sys.executable, "/var/runtime/bootstrap.py"])
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output.decode()
    (error,) = runtime.errors
    assert error.path == "/2018-06-01/runtime/init/error"
    assert error.headers["lambda-runtime-function-error-type"] == "Runtime.InitError"
    assert json.loads(error.body)["errorType"] == "KeyError"


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param([sys.executable, "/var/runtime/bootstrap.py"], id="interpreter-given"),
        pytest.param(["/var/runtime/bootstrap"], id="python3-on-path"),
    ],
)
def test_the_launcher_serves_invocations_through_the_loop(
    runtime: FakeRuntimeAPI, arguments: list[str]
) -> None:
    tenants = [Tenant("acme", 10, header_trusted=True)]
    config = gateway_config([Route(name="chat", model_id=LARGE)], tenants, PriceCatalog.bundled(), REGION)
    request_id = runtime.invoke(event("{not json", path="/model/chat/converse-stream"))
    process = _launch(runtime, arguments, GATEWAY_CONFIG=json.dumps(config), TABLE_NAME="budgets")
    try:
        answered = runtime.wait_for(
            lambda: runtime.errors or getattr(runtime.deliveries.get(request_id), "done_at", None), 60
        )
    finally:
        process.kill()
        output, _ = process.communicate(timeout=30)
    assert answered and not runtime.errors, output.decode()
    prelude, payload = runtime.deliveries[request_id].prelude_and_payload()
    assert prelude["statusCode"] == 400 and json.loads(payload)["error"]["field"] == "body"
