"""The drain agent against a fake IMDSv2 on 127.0.0.1: it stops the server, waits for in-flight work, and
completes the lifecycle action (boto3 through a botocore Stubber, or the AWS CLI as a recorded call)."""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from inferwise.constructs.spot_fleet.user_data import shipped_agent_source
from inferwise.fleet_agent import drain
from inferwise.fleet_agent.drain import Agent, Boto3Completer, Hook, Imds
from tests.fleet_agent.fakes import INSTANCE_ID, LIFECYCLE_PATH, SPOT_PATH, FakeImds

GROUP = "SpotFleetStack-Chat"
HOOK = "inferwise-drain"
REGION = "us-east-1"
EXPECTED_PARAMS = {
    "AutoScalingGroupName": GROUP,
    "LifecycleHookName": HOOK,
    "InstanceId": INSTANCE_ID,
    "LifecycleActionResult": "CONTINUE",
}


class RecordingServing:
    """A server that stays busy for `busy_checks` checks after being told to stop."""

    def __init__(self, events: list[str], busy_checks: int) -> None:
        self.events = events
        self.busy_checks = busy_checks

    def stop(self, timeout: float) -> None:
        self.events.append("stop")

    def busy(self, timeout: float) -> bool:
        self.events.append("busy?")
        self.busy_checks -= 1
        return self.busy_checks >= 0


def _stubbed_client(events: list[str]) -> tuple[Any, Stubber]:
    client = boto3.client(
        "autoscaling", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    client.meta.events.register(
        "before-parameter-build.auto-scaling.CompleteLifecycleAction", lambda **_: events.append("complete")
    )
    return client, Stubber(client)


def _agent(imds: FakeImds, serving: Any, client: Any, **options: Any) -> Agent:
    options.setdefault("instance_id_files", ())  # never this machine's own files
    return Agent(
        Imds(imds.url, timeout=options.pop("imds_timeout", 2.0)),
        serving,
        Boto3Completer(Hook(GROUP, HOOK, REGION), client=client),
        poll_seconds=0.01,
        **options,
    )


# ------------------------------------------------------------------------------------------ notices
def test_spot_notice_stops_work_waits_for_in_flight_requests_then_completes_the_action() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(spot_404s=2) as imds, stubber:
        status = _agent(imds, RecordingServing(events, busy_checks=3), client, drain_seconds=10).run(
            max_polls=100
        )
        stubber.assert_no_pending_responses()
    assert status == 0
    assert imds.reads(SPOT_PATH) == 3  # 404, 404, then the notice
    assert events == ["stop", "busy?", "busy?", "busy?", "busy?", "complete"]


def test_every_metadata_read_carries_the_session_token_from_one_put() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(spot_404s=3) as imds, stubber:
        _agent(imds, None, client).run(max_polls=100)
    puts = [r for r in imds.requests if r[0] == "PUT"]
    gets = [r for r in imds.requests if r[0] == "GET"]
    assert puts == [("PUT", "/latest/api/token", None)]
    assert gets and all(token == "token-1" for _, _, token in gets)


def test_an_expired_token_is_replaced_and_the_read_retried() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(spot_404s=4, token_reads=3) as imds, stubber:
        status = _agent(imds, None, client).run(max_polls=100)
    assert status == 0 and imds.tokens_issued >= 2 and events == ["complete"]


def test_auto_scaling_termination_is_drained_like_a_spot_notice() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(lifecycle="Terminated") as imds, stubber:
        status = _agent(imds, RecordingServing(events, busy_checks=1), client).run(max_polls=100)
        stubber.assert_no_pending_responses()
    assert status == 0
    assert imds.reads(LIFECYCLE_PATH) == 1
    assert events == ["stop", "busy?", "busy?", "complete"]


def test_without_a_notice_it_keeps_polling_and_does_nothing() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    with FakeImds() as imds, stubber:
        status = _agent(imds, RecordingServing(events, busy_checks=0), client).run(max_polls=6)
    assert status == 0
    assert imds.reads(SPOT_PATH) == 6 and imds.reads(LIFECYCLE_PATH) == 6
    assert events == []


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_wait_ends_15_seconds_before_the_interruption_even_if_work_remains() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    clock = FakeClock()
    completed_at: list[float] = []
    client.meta.events.register(
        "before-parameter-build.auto-scaling.CompleteLifecycleAction",
        lambda **_: completed_at.append(clock()),
    )
    with FakeImds(spot_404s=0, notice_in_seconds=60) as imds, stubber:
        agent = _agent(
            imds,
            RecordingServing(events, busy_checks=10_000),
            client,
            drain_seconds=90,
            clock=clock,
            sleep=clock.sleep,
        )
        start = clock()
        assert agent.run(max_polls=10) == 0
    # 60 s to the interruption - 15 s margin = 45 s (the notice's time has whole seconds, so 44-45 s).
    assert 43.5 <= completed_at[0] - start <= 46
    assert events[0] == "stop" and events[-1] == "complete"


def test_completion_is_retried_until_the_group_holds_the_instance() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_client_error(
        "complete_lifecycle_action",
        service_error_code="ValidationError",
        service_message=f"No active Lifecycle Action found with instance ID {INSTANCE_ID}",
        http_status_code=400,
        expected_params=EXPECTED_PARAMS,
    )
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(spot_404s=0) as imds, stubber:
        status = _agent(imds, None, client).run(max_polls=10)
        stubber.assert_no_pending_responses()
    assert status == 0 and events == ["complete", "complete"]


class BrokenServing:
    def stop(self, timeout: float) -> None:
        raise FileNotFoundError("docker: command not found")

    def busy(self, timeout: float) -> bool:
        raise FileNotFoundError("docker: command not found")


def test_a_failing_stop_command_does_not_keep_the_action_from_completing() -> None:
    events: list[str] = []
    client, stubber = _stubbed_client(events)
    stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)
    with FakeImds(lifecycle="Terminated") as imds, stubber:
        assert _agent(imds, BrokenServing(), client).run(max_polls=3) == 0
    assert events == ["complete"]


def test_it_gives_up_after_the_deadline_with_status_2() -> None:
    clock = FakeClock()

    def never(instance_id: str, timeout: float) -> None:
        raise RuntimeError("No active Lifecycle Action found")

    with FakeImds(lifecycle="Terminated") as imds:
        agent = Agent(
            Imds(imds.url), None, never, drain_seconds=5, poll_seconds=1, clock=clock, sleep=clock.sleep
        )
        assert agent.run(max_polls=3) == 2
    assert clock.now - 1000.0 >= 5 + 60


# ----------------------------------------------------------------------------- the program, end to end
def _fake_tool(bin_dir: Path, name: str, record: Path, body: str = "") -> Path:
    """An executable that appends its argv to `record` (JSON lines), then runs `body`."""
    path = bin_dir / name
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(record)!r}, 'a') as f:\n"
        f"    f.write(json.dumps([{name!r}, *sys.argv[1:]]) + '\\n')\n" + body
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def tools(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    record = tmp_path / "calls.jsonl"
    running = tmp_path / "running-checks"
    running.write_text("2")
    docker_body = (
        "if sys.argv[1] == 'inspect':\n"
        f"    left = int(open({str(running)!r}).read())\n"
        f"    open({str(running)!r}, 'w').write(str(left - 1))\n"
        "    print('true' if left > 0 else 'false')\n"
    )
    docker = _fake_tool(tmp_path, "docker", record, docker_body)
    aws = _fake_tool(tmp_path, "aws", record)
    yield docker, aws, record


def _python39() -> str | None:
    """A working Python 3.9 interpreter (Amazon Linux 2023's python3 is 3.9), if this machine has one."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    candidates += [found for found in [shutil.which("python3.9")] if found]
    for candidate in candidates:
        check = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 9)"]
        if subprocess.run(check, capture_output=True, timeout=30, check=False).returncode == 0:
            return candidate
    return None


def _run_program(
    imds: FakeImds, *args: str, python: str = sys.executable, script: str = drain.__file__
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "PYTHONPATH"}
    command = [python, script, "--group", GROUP, "--hook", HOOK, "--region", REGION]
    command += [
        "--imds-url",
        imds.url,
        "--poll-seconds",
        "0.05",
        "--max-polls",
        "100",
        "--complete-with",
        "cli",
    ]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _calls(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def _cli_params(call: list[str]) -> dict[str, str]:
    """The API parameters of a recorded `aws autoscaling complete-lifecycle-action` call."""
    assert call[:3] == ["aws", "autoscaling", "complete-lifecycle-action"]
    options = dict(zip(call[3::2], call[4::2], strict=True))
    # short timeouts, so one call fits the two-minute Spot notice (botocore's default is 60 s each)
    assert (options.pop("--cli-connect-timeout"), options.pop("--cli-read-timeout")) == ("2", "5")
    names = {
        "--auto-scaling-group-name": "AutoScalingGroupName",
        "--lifecycle-hook-name": "LifecycleHookName",
        "--instance-id": "InstanceId",
        "--lifecycle-action-result": "LifecycleActionResult",
    }
    assert options.pop("--region") == REGION
    return {names[k]: v for k, v in options.items()}


def test_program_drains_a_container_and_completes_through_the_aws_cli(tools: tuple[Path, Path, Path]) -> None:
    docker, aws, record = tools
    with FakeImds(lifecycle="Terminated") as imds:
        done = _run_program(
            imds, "--container", "inferwise-serving", "--docker", str(docker), "--aws-cli", str(aws)
        )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = _calls(record)
    inspect = ["docker", "inspect", "--format", "{{.State.Running}}", "inferwise-serving"]
    assert calls[:2] == [
        ["docker", "update", "--restart", "no", "inferwise-serving"],
        ["docker", "kill", "--signal", "SIGTERM", "inferwise-serving"],
    ]
    assert calls[2:5] == [inspect, inspect, inspect]  # running, running, exited
    [complete] = calls[5:]
    params = _cli_params(complete)
    assert params == EXPECTED_PARAMS
    model = boto3.client("autoscaling", region_name=REGION).meta.service_model.operation_model(
        "CompleteLifecycleAction"
    )
    validate_parameters(params, model.input_shape)
    assert "completed the lifecycle action (CONTINUE)" in done.stdout


def test_program_runs_on_python_3_9_as_on_amazon_linux_2023(
    tools: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """What instances run: the shipped text (docstrings blanked) under Amazon Linux 2023's Python 3.9."""
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter on this machine")
    docker, aws, record = tools
    shipped = tmp_path / "drain.py"
    shipped.write_bytes(shipped_agent_source())
    with FakeImds(spot_404s=1) as imds:
        done = _run_program(
            imds,
            "--container",
            "inferwise-serving",
            "--docker",
            str(docker),
            "--aws-cli",
            str(aws),
            python=python,
            script=str(shipped),
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _cli_params(_calls(record)[-1]) == EXPECTED_PARAMS
    assert "spot-interruption" in done.stdout


def test_program_runs_the_stop_and_busy_commands_on_a_spot_notice(
    tmp_path: Path, tools: tuple[Path, Path, Path]
) -> None:
    _, aws, record = tools
    in_flight = tmp_path / "in-flight"
    in_flight.write_text("1")
    stop = f"{sys.executable} -c \"open('{tmp_path / 'stopped'}', 'w').write('yes')\""
    # Busy while the file exists; the check itself finishes the "request" after being asked twice.
    busy = (
        f"{sys.executable} -c \"import os, sys; p = '{in_flight}'; n = int(open(p).read()); "
        "open(p, 'w').write(str(n + 1)); n >= 2 and os.remove(p); sys.exit(0 if n < 2 else 1)\""
    )
    with FakeImds(spot_404s=1) as imds:
        done = _run_program(imds, "--stop-command", stop, "--busy-command", busy, "--aws-cli", str(aws))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "stopped").read_text() == "yes"
    assert not in_flight.exists()
    [complete] = _calls(record)
    assert _cli_params(complete) == EXPECTED_PARAMS
    assert imds.reads(SPOT_PATH) == 2


def test_program_without_a_notice_exits_after_its_polls_without_calling_anything(
    tools: tuple[Path, Path, Path],
) -> None:
    docker, aws, record = tools
    with FakeImds() as imds:
        done = _run_program(
            imds,
            "--container",
            "inferwise-serving",
            "--docker",
            str(docker),
            "--aws-cli",
            str(aws),
            "--max-polls",
            "3",
        )
    assert done.returncode == 0
    assert not record.exists()
    assert imds.reads(SPOT_PATH) == 3
    assert "no notice after 3 polls" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--container", "x", "--stop-command", "true"], "--container replaces --stop-command"),
        (["--poll-seconds", "0"], "--poll-seconds > 0"),
    ],
)
def test_program_refuses_contradictory_options(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        drain.parse_args(["--group", GROUP, "--hook", HOOK, "--region", REGION, *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_auto_completer_prefers_boto3_and_falls_back_to_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = Hook(GROUP, HOOK, REGION)
    assert isinstance(drain.make_completer(hook), Boto3Completer)
    real_import: Callable[[str], Any] = drain.importlib.import_module

    def without_boto3(name: str) -> Any:
        if name == "boto3":
            raise ImportError("No module named 'boto3'")
        return real_import(name)

    monkeypatch.setattr(drain.importlib, "import_module", without_boto3)
    assert isinstance(drain.make_completer(hook), drain.CliCompleter)


def test_agent_source_parses_as_python_3_9_and_imports_only_the_standard_library() -> None:
    source = Path(drain.__file__).read_text()
    tree = ast.parse(source, feature_version=(3, 9))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
    assert "UTC" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}  # datetime.UTC is 3.11+
