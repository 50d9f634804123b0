#!/usr/bin/env python3
"""inferwise drain agent: lets an inference server finish its work before its instance goes away.

Installed on every instance of a SpotInferenceFleet as the systemd service `inferwise-drain`.
Standard library only, Python 3.9+ (Amazon Linux 2023's python3). Every --poll-seconds (5) it reads
through IMDSv2 `spot/instance-action` (the two-minute Spot interruption notice) and
`autoscaling/target-lifecycle-state` (`Terminated` while the group's termination hook holds the instance).
On either notice it:
1. tells the server to stop taking work: --container NAME (`docker update --restart no`, then
   `docker kill --signal SIGTERM`), --stop-command CMD (repeatable) or a POST to --stop-url;
2. waits while work is in flight (the container still runs, or --busy-command exits 0) until the
   deadline: --drain-seconds after the notice, never later than 15 s before a Spot interruption;
3. completes the lifecycle action (CONTINUE) for this instance with boto3 if installed, else the AWS
   CLI, retrying while the group has not started the action yet (a Spot notice can come first).
Exit status: 0 when done (or after --max-polls quiet polls), 2 if the action could not be completed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

LOG = logging.getLogger("inferwise-drain")
IMDS_URL = "http://169.254.169.254"
TOKEN_TTL_SECONDS = 21600
SPOT_MARGIN_SECONDS = 15.0
SPOT_PATH = "spot/instance-action"
LIFECYCLE_PATH = "autoscaling/target-lifecycle-state"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Imds:
    """IMDSv2 reads: a session token from PUT /latest/api/token, renewed before it expires or on 401."""

    def __init__(self, base_url: str = IMDS_URL, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token: str | None = None
        self._renew_at = 0.0

    def _open(self, request: urllib.request.Request) -> str:
        with _NO_PROXY.open(request, timeout=self.timeout) as response:
            return str(response.read().decode())

    def token(self) -> str:
        if self._token is None or time.monotonic() >= self._renew_at:
            ttl = {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)}
            request = urllib.request.Request(self.base_url + "/latest/api/token", headers=ttl, method="PUT")
            self._token = self._open(request)
            self._renew_at = time.monotonic() + TOKEN_TTL_SECONDS - 60
        return self._token

    def get(self, path: str) -> str | None:
        """The metadata item at `path`, or None when IMDS has none (404)."""
        for attempt in (1, 2):
            headers = {"X-aws-ec2-metadata-token": self.token()}
            request = urllib.request.Request(f"{self.base_url}/latest/meta-data/{path}", headers=headers)
            try:
                return self._open(request)
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    return None
                if error.code != 401 or attempt == 2:
                    raise
                self._token = None
        return None


@dataclass(frozen=True)
class Notice:
    reason: str  # "spot-interruption" or "asg-termination"
    seconds_left: float | None = None  # until the Spot interruption, when IMDS gives its time
    detail: str = ""


def read_notice(imds: Imds, now: Callable[[], datetime]) -> Notice | None:
    action = imds.get(SPOT_PATH)
    if action:
        try:
            when = datetime.strptime(json.loads(action)["time"], "%Y-%m-%dT%H:%M:%SZ")
            left: float | None = (when.replace(tzinfo=timezone.utc) - now()).total_seconds()  # noqa: UP017
        except (ValueError, KeyError, TypeError):
            left = None
        return Notice("spot-interruption", left, action.strip())
    state = imds.get(LIFECYCLE_PATH)
    if state and state.strip().endswith("Terminated"):
        return Notice("asg-termination", None, state.strip())
    return None


class Serving(Protocol):
    def stop(self) -> None: ...

    def busy(self) -> bool: ...


if TYPE_CHECKING:
    Runner = Callable[..., subprocess.CompletedProcess[str]]


class CommandServing:
    """Stop with commands and/or an HTTP POST; busy while `busy_command` exits 0 (always, without one)."""

    def __init__(
        self,
        stop_commands: Sequence[Sequence[str]] = (),
        stop_url: str | None = None,
        busy_command: Sequence[str] | None = None,
        run: Runner = subprocess.run,
    ) -> None:
        self.stop_commands = [list(c) for c in stop_commands]
        self.stop_url = stop_url
        self.busy_command = list(busy_command) if busy_command else None
        self.run = run

    def stop(self) -> None:
        for command in self.stop_commands:
            done = self.run(command, capture_output=True, text=True, timeout=30, check=False)
            LOG.info("ran %s: exit %s %s", shlex.join(command), done.returncode, done.stderr.strip())
        if self.stop_url:
            try:
                request = urllib.request.Request(self.stop_url, data=b"", method="POST")
                with _NO_PROXY.open(request, timeout=10) as response:
                    LOG.info("POST %s: HTTP %s", self.stop_url, response.status)
            except OSError as error:
                LOG.warning("POST %s failed: %s", self.stop_url, error)

    def busy(self) -> bool:
        if self.busy_command is None:
            return True
        return (
            self.run(self.busy_command, capture_output=True, text=True, timeout=30, check=False).returncode
            == 0
        )


class ContainerServing(CommandServing):
    """A Docker container: no restart, SIGTERM (the server stops accepting and finishes), busy while running."""

    def __init__(self, name: str, docker: str = "docker", run: Runner = subprocess.run) -> None:
        super().__init__(
            stop_commands=[
                [docker, "update", "--restart", "no", name],
                [docker, "kill", "--signal", "SIGTERM", name],
            ],
            run=run,
        )
        self.inspect = [docker, "inspect", "--format", "{{.State.Running}}", name]

    def busy(self) -> bool:
        done = self.run(self.inspect, capture_output=True, text=True, timeout=30, check=False)
        return done.returncode == 0 and done.stdout.strip() == "true"


class Completer(Protocol):
    def __call__(self, instance_id: str) -> None: ...


@dataclass(frozen=True)
class Hook:
    group: str
    hook: str
    region: str


class Boto3Completer:
    def __init__(self, hook: Hook, client: Any = None) -> None:
        self.hook = hook
        self.client = client

    def __call__(self, instance_id: str) -> None:
        if self.client is None:
            self.client = importlib.import_module("boto3").client("autoscaling", region_name=self.hook.region)
        self.client.complete_lifecycle_action(
            AutoScalingGroupName=self.hook.group,
            LifecycleHookName=self.hook.hook,
            InstanceId=instance_id,
            LifecycleActionResult="CONTINUE",
        )


class CliCompleter:
    def __init__(self, hook: Hook, aws: str = "aws", run: Runner = subprocess.run) -> None:
        self.hook = hook
        self.aws = aws
        self.run = run

    def __call__(self, instance_id: str) -> None:
        command = [self.aws, "autoscaling", "complete-lifecycle-action", "--region", self.hook.region]
        command += ["--auto-scaling-group-name", self.hook.group, "--lifecycle-hook-name", self.hook.hook]
        command += ["--instance-id", instance_id, "--lifecycle-action-result", "CONTINUE"]
        done = self.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"aws exited {done.returncode}: {done.stderr.strip()}")


def make_completer(hook: Hook, how: str = "auto", aws: str = "aws") -> Completer:
    if how == "auto":
        try:
            importlib.import_module("boto3")
            how = "boto3"
        except ImportError:
            how = "cli"
    return Boto3Completer(hook) if how == "boto3" else CliCompleter(hook, aws)


@dataclass
class Agent:
    imds: Imds
    serving: Serving | None
    complete: Completer
    drain_seconds: float = 90.0
    poll_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: UP017 - Python 3.9 has no datetime.UTC

    def run(self, max_polls: int | None = None) -> int:
        """Poll until a notice (then drain and return its status) or until `max_polls` quiet polls (0)."""
        polls = 0
        while max_polls is None or polls < max_polls:
            polls += 1
            try:
                notice = read_notice(self.imds, self.now)
            except OSError as error:  # IMDS not reachable yet: keep polling
                LOG.warning("IMDS read failed: %s", error)
                notice = None
            if notice is not None:
                return self.drain(notice)
            self.sleep(self.poll_seconds)
        LOG.info("no notice after %d polls", polls)
        return 0

    def drain(self, notice: Notice) -> int:
        start = self.clock()
        budget = self.drain_seconds
        if notice.seconds_left is not None:
            budget = min(budget, max(0.0, notice.seconds_left - SPOT_MARGIN_SECONDS))
        deadline = start + budget
        # retry the completion until the interruption, or for a minute past the drain deadline
        complete_by = start + (notice.seconds_left if notice.seconds_left is not None else budget + 60.0)
        instance_id = self.imds.get("instance-id") or ""
        LOG.warning(
            "%s (%s) on %s: draining for up to %.0f s", notice.reason, notice.detail, instance_id, budget
        )
        if self.serving is not None:
            try:  # a failing stop or busy check must not keep the action from completing
                self.serving.stop()
                while self.serving.busy() and self.clock() < deadline:
                    self.sleep(min(1.0, self.poll_seconds))
            except Exception as error:
                LOG.error("draining failed, completing anyway: %s", error)
            LOG.info("drained after %.1f s", self.clock() - start)
        while True:
            try:
                self.complete(instance_id)
                LOG.warning("completed the lifecycle action (CONTINUE) for %s", instance_id)
                return 0
            except Exception as error:  # the group may not hold the instance in Terminating:Wait yet
                if self.clock() >= complete_by:
                    LOG.error("could not complete the lifecycle action: %s", error)
                    return 2
                LOG.info("lifecycle action not completed yet (%s); retrying", error)
                self.sleep(self.poll_seconds)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inferwise-drain", description=__doc__.splitlines()[0])
    parser.add_argument("--group", required=True, help="Auto Scaling group name")
    parser.add_argument("--hook", required=True, help="termination lifecycle hook name")
    parser.add_argument("--region", required=True)
    parser.add_argument("--drain-seconds", type=float, default=90.0)
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--container", help="Docker container serving the model")
    parser.add_argument("--docker", default="docker")
    parser.add_argument(
        "--stop-command", action="append", default=[], help="command (shell words) to stop taking work"
    )
    parser.add_argument("--stop-url", help="URL to POST to stop taking work")
    parser.add_argument("--busy-command", help="command (shell words) exiting 0 while work is in flight")
    parser.add_argument("--complete-with", choices=("auto", "boto3", "cli"), default="auto")
    parser.add_argument("--aws-cli", default="aws")
    parser.add_argument("--imds-url", default=IMDS_URL)
    parser.add_argument("--max-polls", type=int)
    args = parser.parse_args(argv)
    if args.container and (args.stop_command or args.stop_url or args.busy_command):
        parser.error("--container replaces --stop-command, --stop-url and --busy-command")
    if args.drain_seconds < 0 or args.poll_seconds <= 0:
        parser.error("--drain-seconds must be >= 0 and --poll-seconds > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serving: Serving | None = None
    if args.container:
        serving = ContainerServing(args.container, args.docker)
    elif args.stop_command or args.stop_url or args.busy_command:
        busy = shlex.split(args.busy_command) if args.busy_command else None
        serving = CommandServing([shlex.split(c) for c in args.stop_command], args.stop_url, busy)
    hook = Hook(args.group, args.hook, args.region)
    agent = Agent(
        Imds(args.imds_url),
        serving,
        make_completer(hook, args.complete_with, args.aws_cli),
        drain_seconds=args.drain_seconds,
        poll_seconds=args.poll_seconds,
    )
    return agent.run(args.max_polls)


if __name__ == "__main__":
    sys.exit(main())
