"""The drain agent when things fail: IMDS cut short, answering 500, slow or without tokens; SIGTERM; stop and
busy commands that hang; an Auto Scaling endpoint that times out. In every case the lifecycle action is
completed exactly once, and within the budget (the drain deadline, or the completion deadline after it)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from inferwise.fleet_agent import drain
from inferwise.fleet_agent.drain import (
    Agent,
    Boto3Completer,
    BoundedRunner,
    CommandServing,
    Hook,
    Imds,
    autoscaling_client,
)
from tests.fleet_agent.fakes import (
    INSTANCE_ID,
    INSTANCE_ID_PATH,
    LIFECYCLE_PATH,
    SPOT_PATH,
    FakeAutoScaling,
    FakeImds,
)

GROUP = "SpotFleetStack-Chat"
HOOK = "inferwise-drain"
REGION = "us-east-1"
EXPECTED_PARAMS = {
    "AutoScalingGroupName": GROUP,
    "LifecycleHookName": HOOK,
    "InstanceId": INSTANCE_ID,
    "LifecycleActionResult": "CONTINUE",
}
DRAIN_SECONDS = 10.0
SLACK_SECONDS = 3.0
"""How far past a deadline a test accepts the completion (process start, thread scheduling on 2 cores)."""


class Completions:
    """A stubbed boto3 client that accepts exactly one CompleteLifecycleAction; records when each was made."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "autoscaling", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.times: list[float] = []
        self.client.meta.events.register(
            "before-parameter-build.auto-scaling.CompleteLifecycleAction",
            lambda **_: self.times.append(time.monotonic()),
        )
        self.stubber = Stubber(self.client)
        self.stubber.add_response("complete_lifecycle_action", {}, EXPECTED_PARAMS)

    def __enter__(self) -> Completions:
        self.stubber.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stubber.deactivate()


class RecordingServing:
    """Busy for `busy_checks` checks (forever when None); records stop and each check with its timeout."""

    def __init__(self, busy_checks: int | None = None) -> None:
        self.busy_checks = busy_checks
        self.events: list[tuple[str, float]] = []

    def stop(self, timeout: float) -> None:
        self.events.append(("stop", timeout))

    def busy(self, timeout: float) -> bool:
        self.events.append(("busy?", timeout))
        if self.busy_checks is None:
            return True
        self.busy_checks -= 1
        return self.busy_checks >= 0


def _agent(imds: FakeImds, completer: Any, serving: Any = None, **options: Any) -> Agent:
    options.setdefault("instance_id_files", ())
    options.setdefault("drain_seconds", DRAIN_SECONDS)
    return Agent(
        Imds(imds.url, timeout=options.pop("imds_timeout", 2.0)),
        serving,
        completer,
        poll_seconds=options.pop("poll_seconds", 0.02),
        **options,
    )


def _run(agent: Agent, max_polls: int = 200) -> tuple[int, float]:
    start = time.monotonic()
    status = agent.run(max_polls=max_polls)
    return status, time.monotonic() - start


def _completes_once(completions: Completions, start_to_end: float, budget: float = DRAIN_SECONDS) -> None:
    completions.stubber.assert_no_pending_responses()
    assert len(completions.times) == 1, f"CompleteLifecycleAction called {len(completions.times)} times"
    assert start_to_end <= budget + SLACK_SECONDS


# ----------------------------------------------------------------------------------------------- IMDS
def test_a_notice_cut_short_is_read_again_and_drained() -> None:
    with FakeImds(spot_404s=0, truncate_reads={SPOT_PATH: 2}) as imds, Completions() as done:
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client)))
    assert status == 0
    assert imds.answered[(SPOT_PATH, 200)] == 3  # two cut, then the whole notice
    _completes_once(done, elapsed)


def test_a_notice_cut_without_a_length_is_still_a_spot_notice(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="inferwise-drain")
    with (
        FakeImds(spot_404s=0, truncate_reads={SPOT_PATH: 1}, truncate_with_length=False) as imds,
        Completions() as done,
    ):
        status, elapsed = _run(
            _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), drain_seconds=200)
        )
    assert status == 0
    # the time cannot be read: the notice's two minutes are assumed, less the 15 s margin
    assert "spot-interruption" in caplog.text and "draining for up to 105 s" in caplog.text
    _completes_once(done, elapsed)


@pytest.mark.parametrize("with_length", [True, False], ids=["incomplete-read", "short-body"])
def test_an_instance_id_cut_short_is_read_again(with_length: bool) -> None:
    with (
        FakeImds(
            lifecycle="Terminated", truncate_reads={INSTANCE_ID_PATH: 2}, truncate_with_length=with_length
        ) as imds,
        Completions() as done,
    ):
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client)))
    assert status == 0 and imds.reads(INSTANCE_ID_PATH) >= 3
    _completes_once(done, elapsed)  # with the whole ID: the stub checks InstanceId


def test_a_500_on_instance_id_then_success_completes_with_the_id() -> None:
    with FakeImds(spot_404s=0, fail_reads={INSTANCE_ID_PATH: 3}) as imds, Completions() as done:
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client)))
    assert status == 0
    assert imds.answered[(INSTANCE_ID_PATH, 500)] == 3 and imds.answered[(INSTANCE_ID_PATH, 200)] == 1
    _completes_once(done, elapsed)


def test_a_500_on_instance_id_every_time_falls_back_to_the_local_copy(tmp_path: Path) -> None:
    copy = tmp_path / "instance-id"
    copy.write_text(INSTANCE_ID + "\n")
    files = (str(tmp_path / "missing"), str(copy))
    with (
        FakeImds(lifecycle="Terminated", fail_reads={INSTANCE_ID_PATH: 10**6}) as imds,
        Completions() as done,
    ):
        status, elapsed = _run(
            _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), instance_id_files=files)
        )
    assert status == 0 and imds.answered[(INSTANCE_ID_PATH, 500)] >= 1
    _completes_once(done, elapsed)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_without_any_instance_id_it_gives_up_at_the_completion_deadline_with_status_2() -> None:
    clock = FakeClock()
    calls: list[str] = []

    def complete(instance_id: str, timeout: float) -> None:
        calls.append(instance_id)

    with FakeImds(lifecycle="Terminated", fail_reads={INSTANCE_ID_PATH: 10**6}) as imds:
        agent = _agent(imds, complete, drain_seconds=5, poll_seconds=1, clock=clock, sleep=clock.sleep)
        assert agent.run(max_polls=3) == 2
    assert calls == []
    assert 65 <= clock.now - 1000.0 <= 66  # drain deadline (5 s) + the completion grace (60 s)


def test_a_failing_token_endpoint_is_retried_until_it_answers() -> None:
    with FakeImds(lifecycle="Terminated", token_failures=4) as imds, Completions() as done:
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client)))
    assert status == 0 and imds.puts == 5 and imds.tokens_issued == 1
    _completes_once(done, elapsed)


def test_500s_on_both_notice_paths_keep_it_polling() -> None:
    with (
        FakeImds(spot_404s=0, fail_reads={SPOT_PATH: 2, LIFECYCLE_PATH: 2}) as imds,
        Completions() as done,
    ):
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client)))
    assert status == 0 and imds.answered[(SPOT_PATH, 500)] == 2
    _completes_once(done, elapsed)


def test_a_slow_imds_times_out_and_is_read_again() -> None:
    with FakeImds(spot_404s=0, slow_reads=3, slow_seconds=0.8) as imds, Completions() as done:
        status, elapsed = _run(
            _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), imds_timeout=0.2)
        )
    assert status == 0 and imds.reads(SPOT_PATH) >= 2
    _completes_once(done, elapsed)


# ---------------------------------------------------------------------------------------------- SIGTERM
def test_sigterm_during_the_wait_ends_it_and_completes_at_once() -> None:
    serving = RecordingServing(busy_checks=None)  # never finishes its work
    with FakeImds(lifecycle="Terminated") as imds, Completions() as done:
        agent = _agent(
            imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), serving, drain_seconds=60
        )
        threading.Timer(0.5, agent.terminate).start()
        status, elapsed = _run(agent)
    assert status == 0
    assert serving.events[0][0] == "stop" and serving.events[-1][0] == "busy?"
    _completes_once(done, elapsed, budget=0.5)  # not the 60 s drain budget


def test_sigterm_before_any_notice_completes_if_the_group_is_terminating() -> None:
    serving = RecordingServing(busy_checks=None)
    with FakeImds(lifecycle="Terminated") as imds, Completions() as done:
        agent = _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), serving)
        agent.terminate()
        status, elapsed = _run(agent)
    assert status == 0
    assert [name for name, _ in serving.events] == ["stop"]  # no wait after SIGTERM
    _completes_once(done, elapsed, budget=0)


def test_sigterm_without_a_notice_exits_without_completing() -> None:
    calls: list[str] = []
    with FakeImds() as imds:
        agent = _agent(imds, lambda instance_id, timeout: calls.append(instance_id))
        threading.Timer(0.3, agent.terminate).start()
        status, elapsed = _run(agent, max_polls=10_000)
    assert status == 0 and calls == [] and elapsed < 0.3 + SLACK_SECONDS


def _fake_aws(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "aws-calls.jsonl"
    aws = tmp_path / "aws"
    aws.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"with open({str(record)!r}, 'a') as f:\n    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    aws.chmod(0o755)
    return aws, record


def test_program_on_sigterm_kills_a_hanging_busy_check_and_completes(tmp_path: Path) -> None:
    aws, record = _fake_aws(tmp_path)
    stopped = tmp_path / "stopped"
    stop = f"{sys.executable} -c \"open('{stopped}', 'w').write('yes')\""
    hang = f'{sys.executable} -c "import time; time.sleep(60)"'
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "PYTHONPATH"}
    with FakeImds(lifecycle="Terminated") as imds:
        command = [sys.executable, drain.__file__, "--group", GROUP, "--hook", HOOK, "--region", REGION]
        command += ["--imds-url", imds.url, "--poll-seconds", "0.05", "--drain-seconds", "60"]
        command += ["--stop-command", stop, "--busy-command", hang]
        command += ["--complete-with", "cli", "--aws-cli", str(aws)]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        try:
            deadline = time.monotonic() + 20
            while not stopped.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert stopped.exists(), "the stop command never ran"
            time.sleep(0.5)  # now inside the hanging busy check
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
            elapsed = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, output
    [call] = [json.loads(line) for line in record.read_text().splitlines()]
    assert call[:2] == ["autoscaling", "complete-lifecycle-action"] and INSTANCE_ID in call
    assert elapsed < SLACK_SECONDS + 1.0, output  # not the 60 s drain budget
    assert "SIGTERM: ending the wait" in output and "completed the lifecycle action (CONTINUE)" in output


# ------------------------------------------------------------------------------- commands that hang
def _state(pid: int) -> str:
    """A process's state letter, or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


def test_a_stop_command_that_hangs_past_the_budget_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # the shell backgrounds a child that holds the output pipe, then hangs itself
    hang = ["sh", "-c", f"sleep 60 & echo $! > {pids}; echo $$ >> {pids}; exec sleep 60"]
    serving = CommandServing(stop_commands=[hang], run=BoundedRunner())
    with FakeImds(lifecycle="Terminated") as imds, Completions() as done:
        status, elapsed = _run(
            _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), serving, drain_seconds=1.5)
        )
    assert status == 0
    _completes_once(done, elapsed, budget=1.5)
    assert {_state(int(pid)) for pid in pids.read_text().split()} <= {"gone", "Z"}


def test_a_busy_check_that_hangs_past_the_budget_is_killed() -> None:
    hang = [sys.executable, "-c", "import time; time.sleep(60)"]
    serving = CommandServing(stop_commands=[["true"]], busy_command=hang, run=BoundedRunner())
    with FakeImds(spot_404s=0) as imds, Completions() as done:
        status, elapsed = _run(
            _agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), done.client), serving, drain_seconds=1.5)
        )
    assert status == 0
    _completes_once(done, elapsed, budget=1.5)


def test_commands_get_the_time_left_in_the_budget_not_a_fixed_30_seconds() -> None:
    serving = RecordingServing(busy_checks=2)
    clock = FakeClock()
    with FakeImds(lifecycle="Terminated") as imds, Completions() as done:
        agent = _agent(
            imds,
            Boto3Completer(Hook(GROUP, HOOK, REGION), done.client),
            serving,
            drain_seconds=7,
            poll_seconds=1,
            clock=clock,
            sleep=clock.sleep,
        )
        assert agent.run(max_polls=3) == 0
    assert serving.events == [("stop", 7), ("busy?", 7), ("busy?", 6), ("busy?", 5)]


# ------------------------------------------------------------------------------------------ Auto Scaling
def test_the_default_client_has_short_timeouts_and_standard_retries() -> None:
    client = autoscaling_client(REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def _fake_endpoint_client(endpoint: FakeAutoScaling, max_attempts: int) -> Any:
    return autoscaling_client(
        REGION,
        connect_timeout=0.5,
        read_timeout=0.3,
        max_attempts=max_attempts,
        endpoint_url=endpoint.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_an_auto_scaling_call_that_times_out_is_retried_by_botocore() -> None:
    with FakeImds(lifecycle="Terminated") as imds, FakeAutoScaling(hang=1, hang_seconds=1.0) as autoscaling:
        client = _fake_endpoint_client(autoscaling, max_attempts=3)
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), client)))
    assert status == 0 and elapsed <= DRAIN_SECONDS
    assert len(autoscaling.requests) == 2  # the one that timed out, then its retry
    [completed] = autoscaling.completed
    assert {k: completed[k] for k in EXPECTED_PARAMS} == EXPECTED_PARAMS
    assert completed["Action"] == "CompleteLifecycleAction"


def test_an_auto_scaling_call_that_outlasts_botocores_attempts_is_retried_by_the_agent() -> None:
    with FakeImds(spot_404s=0) as imds, FakeAutoScaling(hang=3, hang_seconds=1.0) as autoscaling:
        client = _fake_endpoint_client(autoscaling, max_attempts=2)
        status, elapsed = _run(_agent(imds, Boto3Completer(Hook(GROUP, HOOK, REGION), client)))
    assert status == 0 and elapsed <= DRAIN_SECONDS
    assert len(autoscaling.requests) == 4 and len(autoscaling.completed) == 1
