#!/usr/bin/env python3
"""inferwise drain agent: lets an inference server finish its work before its instance goes away.

Installed on every instance of a SpotInferenceFleet as the systemd service `inferwise-drain`.
Standard library only (boto3 when installed), Python 3.9+ (Amazon Linux 2023's python3). Every
--poll-seconds (5) it reads through IMDSv2 `spot/instance-action` (the two-minute Spot interruption notice)
and `autoscaling/target-lifecycle-state` (`Terminated` while the group's termination hook holds the
instance). On either notice it:
1. tells the server to stop taking work: --container NAME (`docker update --restart no`, then
   `docker kill --signal SIGTERM`), --stop-command CMD (repeatable) or a POST to --stop-url;
2. waits while work is in flight (the container still runs, or --busy-command exits 0) until the
   deadline: --drain-seconds after the notice, never later than 15 s before a Spot interruption;
3. completes the lifecycle action (CONTINUE) for this instance with boto3 if installed, else the AWS
   CLI, retrying while the group has not started the action yet (a Spot notice can come first).
Failures never end it early: every IMDS read and Auto Scaling call is retried until the completion
deadline, commands are killed when the drain deadline passes, and SIGTERM ends the wait and completes
the lifecycle action before exiting.
Exit status: 0 when done (or after --max-polls quiet polls), 2 if the action could not be completed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import FrameType
from typing import Any, Protocol

LOG = logging.getLogger("inferwise-drain")
IMDS_URL = "http://169.254.169.254"
TOKEN_TTL_SECONDS = 21600
SPOT_NOTICE_SECONDS = 120.0
"""A Spot interruption notice comes two minutes ahead; assumed when its time cannot be read."""
SPOT_MARGIN_SECONDS = 15.0
COMPLETE_GRACE_SECONDS = 60.0
"""After the drain deadline of an Auto Scaling termination, how long the completion is retried."""
TERM_GRACE_SECONDS = 20.0
"""After SIGTERM, how long the completion is retried (the unit's TimeoutStopSec is 30 s)."""
MIN_STOP_SECONDS = 1.0
"""The stop commands get at least this long, so a zero drain budget still tells the server to stop."""
AWS_CONNECT_TIMEOUT = 2.0
AWS_READ_TIMEOUT = 5.0
AWS_MAX_ATTEMPTS = 3
"""Per CompleteLifecycleAction call: standard-mode retries, 3 attempts of at most 2 + 5 s plus backoff."""
INSTANCE_ID_FILES = ("/var/lib/cloud/data/instance-id", "/sys/devices/virtual/dmi/id/board_asset_tag")
"""Where the instance ID is also found when IMDS fails: cloud-init's copy, and the Nitro asset tag."""
SPOT_PATH = "spot/instance-action"
LIFECYCLE_PATH = "autoscaling/target-lifecycle-state"
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Imds:
    """IMDSv2 reads: a session token from PUT /latest/api/token, renewed before it expires or on 401.

    Any failure (timeout, refused connection, HTTP 5xx, a truncated body) is raised to the caller, which
    retries; nothing here waits longer than `timeout` per request.
    """

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
            token = self._open(request).strip()
            if not token:
                raise ValueError("IMDS answered an empty session token")
            self._token = token
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
    reason: str  # "spot-interruption", "asg-termination" or "sigterm"
    seconds_left: float | None = None  # until the Spot interruption
    detail: str = ""


class NoticeUnknown(Exception):
    """Neither IMDS item could be read: whether the instance is going away is unknown."""


def _spot_notice(imds: Imds, now: Callable[[], datetime]) -> Notice | None:
    action = imds.get(SPOT_PATH)
    if not action or not action.strip():
        return None
    try:
        when = datetime.strptime(json.loads(action)["time"], "%Y-%m-%dT%H:%M:%SZ")
        left = (when.replace(tzinfo=timezone.utc) - now()).total_seconds()  # noqa: UP017
    except (ValueError, KeyError, TypeError):  # a cut or odd document is still a notice
        left = SPOT_NOTICE_SECONDS
    return Notice("spot-interruption", max(0.0, left), action.strip())


def _lifecycle_notice(imds: Imds, now: Callable[[], datetime]) -> Notice | None:
    state = imds.get(LIFECYCLE_PATH)
    if state and state.strip().endswith("Terminated"):
        return Notice("asg-termination", None, state.strip())
    return None


def read_notice(imds: Imds, now: Callable[[], datetime]) -> Notice | None:
    """The Spot notice, else the group's termination, else None; a failed read does not hide the other.

    Raises NoticeUnknown when there is no notice and a read failed."""
    errors: list[str] = []
    for read in (_spot_notice, _lifecycle_notice):
        try:
            notice = read(imds, now)
        except Exception as error:  # anything IMDS or the network can do: timeouts, 5xx, cut bodies
            errors.append(f"{type(error).__name__}: {error}")
            continue
        if notice is not None:
            return notice
    if errors:
        raise NoticeUnknown("; ".join(errors))
    return None


class StopFlag:
    """Set by the SIGTERM handler: a plain attribute, because a handler must not take a lock the code it
    interrupted may hold (threading.Event.set can deadlock there). `wait` sleeps in 0.1 s steps."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._set and time.monotonic() < end:
            time.sleep(max(0.0, min(0.1, end - time.monotonic())))


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout or on SIGTERM
    stdout: str
    stderr: str


class Runner(Protocol):
    def __call__(self, command: Sequence[str], timeout: float, cancellable: bool = False) -> Finished: ...


class BoundedRunner:
    """Runs a command (no shell) in its own process group; kills the whole group when `timeout` passes (or,
    if `cancellable`, when `cancel` is set), so a hanging command or its children never outlive the budget."""

    def __init__(self, cancel: StopFlag | None = None, env: Mapping[str, str] | None = None) -> None:
        self.cancel = cancel
        self.env = dict(env) if env is not None else None

    def __call__(self, command: Sequence[str], timeout: float, cancellable: bool = False) -> Finished:
        cancel = self.cancel if cancellable else None
        deadline = time.monotonic() + max(0.0, timeout)
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
            env=self.env,
        )
        while True:
            left = deadline - time.monotonic()
            try:
                out, err = process.communicate(timeout=max(0.0, min(0.2, left)))
                return Finished(process.returncode, out, err)
            except subprocess.TimeoutExpired:
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    break
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            process.kill()
        try:
            out, err = process.communicate(timeout=1.0)
        except subprocess.TimeoutExpired:  # a child that left the group still holds the pipes
            out, err = "", ""
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        why = "on SIGTERM" if left > 0 else f"after {timeout:.1f} s"
        return Finished(None, out or "", f"{err or ''}killed {why}".strip())


class Serving(Protocol):
    def stop(self, timeout: float) -> None: ...

    def busy(self, timeout: float) -> bool: ...


class CommandServing:
    """Stop with commands and/or an HTTP POST; busy while `busy_command` exits 0 (always, without one).

    `stop(timeout)` shares `timeout` (at least MIN_STOP_SECONDS) among its commands and the POST;
    `busy(timeout)` kills a busy check still running after `timeout` (or SIGTERM) and counts it as busy."""

    def __init__(
        self,
        stop_commands: Sequence[Sequence[str]] = (),
        stop_url: str | None = None,
        busy_command: Sequence[str] | None = None,
        run: Runner | None = None,
    ) -> None:
        self.stop_commands = [list(c) for c in stop_commands]
        self.stop_url = stop_url
        self.busy_command = list(busy_command) if busy_command else None
        self.run: Runner = run or BoundedRunner()

    def stop(self, timeout: float) -> None:
        end = time.monotonic() + max(timeout, MIN_STOP_SECONDS)
        for command in self.stop_commands:
            left = end - time.monotonic()
            if left <= 0:
                LOG.warning("no time left to run %s", shlex.join(command))
                continue
            try:  # one failing command must not keep the next from running
                done = self.run(command, left)
                LOG.info("ran %s: exit %s %s", shlex.join(command), done.returncode, done.stderr.strip())
            except Exception as error:
                LOG.warning("could not run %s: %s", shlex.join(command), error)
        if self.stop_url:
            try:
                request = urllib.request.Request(self.stop_url, data=b"", method="POST")
                timeout_left = max(0.1, min(10.0, end - time.monotonic()))
                with _NO_PROXY.open(request, timeout=timeout_left) as response:
                    LOG.info("POST %s: HTTP %s", self.stop_url, response.status)
            except Exception as error:
                LOG.warning("POST %s failed: %s", self.stop_url, error)

    def busy(self, timeout: float) -> bool:
        if self.busy_command is None:
            return True
        done = self.run(self.busy_command, timeout, cancellable=True)
        return done.returncode is None or done.returncode == 0


class ContainerServing(CommandServing):
    """A Docker container: no restart, SIGTERM (the server stops accepting and finishes), busy while running."""

    def __init__(self, name: str, docker: str = "docker", run: Runner | None = None) -> None:
        super().__init__(
            stop_commands=[
                [docker, "update", "--restart", "no", name],
                [docker, "kill", "--signal", "SIGTERM", name],
            ],
            run=run,
        )
        self.inspect = [docker, "inspect", "--format", "{{.State.Running}}", name]

    def busy(self, timeout: float) -> bool:
        done = self.run(self.inspect, timeout, cancellable=True)
        if done.returncode is None:  # Docker did not answer in time: assume the container still runs
            return True
        return done.returncode == 0 and done.stdout.strip() == "true"


class Completer(Protocol):
    def __call__(self, instance_id: str, timeout: float) -> None: ...


@dataclass(frozen=True)
class Hook:
    group: str
    hook: str
    region: str


def autoscaling_client(
    region: str,
    *,
    connect_timeout: float = AWS_CONNECT_TIMEOUT,
    read_timeout: float = AWS_READ_TIMEOUT,
    max_attempts: int = AWS_MAX_ATTEMPTS,
    **client_options: Any,
) -> Any:
    """A boto3 Auto Scaling client whose calls fit the two-minute notice: seconds-long timeouts (botocore's
    default is 60 s each) and `max_attempts` standard-mode attempts in all."""
    config = importlib.import_module("botocore.config").Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
    )
    boto3 = importlib.import_module("boto3")
    return boto3.client("autoscaling", region_name=region, config=config, **client_options)


class Boto3Completer:
    def __init__(self, hook: Hook, client: Any = None) -> None:
        self.hook = hook
        self.client = client

    def __call__(self, instance_id: str, timeout: float) -> None:
        """One call; its own timeouts bound it (AWS_* constants), not `timeout`."""
        if self.client is None:
            self.client = autoscaling_client(self.hook.region)
        self.client.complete_lifecycle_action(
            AutoScalingGroupName=self.hook.group,
            LifecycleHookName=self.hook.hook,
            InstanceId=instance_id,
            LifecycleActionResult="CONTINUE",
        )


class CliCompleter:
    """`aws autoscaling complete-lifecycle-action` with short timeouts and standard retries, killed at `timeout`."""

    def __init__(self, hook: Hook, aws: str = "aws", run: Runner | None = None) -> None:
        self.hook = hook
        self.aws = aws
        retries = {"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": str(AWS_MAX_ATTEMPTS)}
        self.run: Runner = run or BoundedRunner(env={**os.environ, **retries})

    def __call__(self, instance_id: str, timeout: float) -> None:
        command = [self.aws, "autoscaling", "complete-lifecycle-action", "--region", self.hook.region]
        command += ["--cli-connect-timeout", f"{AWS_CONNECT_TIMEOUT:g}"]
        command += ["--cli-read-timeout", f"{AWS_READ_TIMEOUT:g}"]
        command += ["--auto-scaling-group-name", self.hook.group, "--lifecycle-hook-name", self.hook.hook]
        command += ["--instance-id", instance_id, "--lifecycle-action-result", "CONTINUE"]
        done = self.run(command, max(1.0, timeout))
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
    """Polls for a notice, drains, completes. `stopping` is set by SIGTERM (`terminate`); the default
    `sleep` waits on it, so SIGTERM ends a pause at once."""

    imds: Imds
    serving: Serving | None
    complete: Completer
    drain_seconds: float = 90.0
    poll_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] | None = None
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: UP017 - Python 3.9 has no datetime.UTC
    stopping: StopFlag = field(default_factory=StopFlag)
    instance_id_files: Sequence[str] = INSTANCE_ID_FILES
    instance_id: str | None = None
    _term_at: float | None = field(default=None, init=False, repr=False)

    def terminate(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        """The SIGTERM handler: end the wait, complete the lifecycle action, exit."""
        if self._term_at is None:
            self._term_at = self.clock()
        self.stopping.set()

    def _pause(self, seconds: float, interruptible: bool = True) -> None:
        if seconds <= 0 or (interruptible and self.stopping.is_set()):
            return
        if self.sleep is not None:
            self.sleep(seconds)
        elif interruptible:
            self.stopping.wait(seconds)
        else:
            time.sleep(seconds)

    def run(self, max_polls: int | None = None) -> int:
        """Poll until a notice (then drain and return its status) or until `max_polls` quiet polls (0)."""
        polls = 0
        while max_polls is None or polls < max_polls:
            if self.stopping.is_set():
                return self._on_sigterm()
            polls += 1
            try:
                notice = read_notice(self.imds, self.now)
            except NoticeUnknown as error:  # IMDS not reachable or answering badly: keep polling
                LOG.warning("IMDS read failed: %s", error)
                notice = None
            if notice is not None:
                return self.drain(notice)
            if self.instance_id is None:  # learn it while IMDS answers, in case it fails later
                self.instance_id = self._read_instance_id(quiet=True)
            self._pause(self.poll_seconds)
        if self.stopping.is_set():
            return self._on_sigterm()
        LOG.info("no notice after %d polls", polls)
        return 0

    def _on_sigterm(self) -> int:
        """SIGTERM while no notice was seen: complete if the instance is going away (or IMDS cannot tell)."""
        try:
            notice = read_notice(self.imds, self.now)
        except NoticeUnknown as error:
            notice = Notice("sigterm", None, f"IMDS unreadable: {error}")
        if notice is None:
            LOG.info("SIGTERM without an interruption or termination notice: exiting")
            return 0
        return self.drain(notice)

    def drain(self, notice: Notice) -> int:
        start = self.clock()
        budget = 0.0 if self.stopping.is_set() else self.drain_seconds
        if notice.seconds_left is not None:
            budget = min(budget, max(0.0, notice.seconds_left - SPOT_MARGIN_SECONDS))
        deadline = start + budget
        # retry the completion until the interruption, or for a minute past the drain deadline
        if notice.seconds_left is not None:
            complete_by = start + notice.seconds_left
        else:
            complete_by = deadline + COMPLETE_GRACE_SECONDS
        LOG.warning("%s (%s): draining for up to %.0f s", notice.reason, notice.detail, budget)
        if self.serving is not None:
            self._stop_and_wait(self.serving, start, deadline)
        return self._complete(complete_by)

    def _stop_and_wait(self, serving: Serving, start: float, deadline: float) -> None:
        """Stop the server, then wait while it is busy, until the deadline or SIGTERM; errors end the wait."""
        try:  # a failing stop must not keep the action from completing
            serving.stop(max(0.0, deadline - self.clock()))
        except Exception as error:
            LOG.error("stopping the server failed: %s", error)
        try:
            while not self.stopping.is_set():
                left = deadline - self.clock()
                if left <= 0 or not serving.busy(left):
                    break
                self._pause(min(1.0, self.poll_seconds, max(0.0, deadline - self.clock())))
        except Exception as error:
            LOG.error("busy check failed, completing now: %s", error)
        if self.stopping.is_set():
            LOG.warning("SIGTERM: ending the wait")
        LOG.info("drained after %.1f s", self.clock() - start)

    def _complete(self, complete_by: float) -> int:
        """CompleteLifecycleAction(CONTINUE), retried on any error until `complete_by` (sooner after SIGTERM)."""
        while True:
            if self._term_at is not None:
                complete_by = min(complete_by, self._term_at + TERM_GRACE_SECONDS)
            try:
                if self.instance_id is None:
                    self.instance_id = self._read_instance_id(quiet=False)
                if self.instance_id is None:
                    raise RuntimeError("the instance ID is unknown (IMDS and the local copies failed)")
                self.complete(self.instance_id, max(0.0, complete_by - self.clock()))
                LOG.warning("completed the lifecycle action (CONTINUE) for %s", self.instance_id)
                return 0
            except Exception as error:  # the group may not hold the instance in Terminating:Wait yet
                if self.clock() >= complete_by:
                    LOG.error("could not complete the lifecycle action: %s", error)
                    return 2
                LOG.info("lifecycle action not completed yet (%s); retrying", error)
                self._pause(min(self.poll_seconds, complete_by - self.clock()), interruptible=False)

    def _read_instance_id(self, quiet: bool) -> str | None:
        """This instance's ID from IMDS, else from the local copies; None if neither has a valid one."""
        log = LOG.debug if quiet else LOG.warning
        try:
            value = (self.imds.get("instance-id") or "").strip()
            if _INSTANCE_ID.match(value):
                return value
            log("IMDS instance-id answered %r", value[:40])
        except Exception as error:
            log("IMDS instance-id read failed: %s: %s", type(error).__name__, error)
        for path in self.instance_id_files:
            try:
                with open(path) as file:
                    value = file.read(64).strip()
            except OSError:
                continue
            if _INSTANCE_ID.match(value):
                log("instance ID %s read from %s", value, path)
                return value
        return None


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
    stopping = StopFlag()
    runner = BoundedRunner(cancel=stopping)
    serving: Serving | None = None
    if args.container:
        serving = ContainerServing(args.container, args.docker, run=runner)
    elif args.stop_command or args.stop_url or args.busy_command:
        busy = shlex.split(args.busy_command) if args.busy_command else None
        serving = CommandServing([shlex.split(c) for c in args.stop_command], args.stop_url, busy, runner)
    hook = Hook(args.group, args.hook, args.region)
    agent = Agent(
        Imds(args.imds_url),
        serving,
        make_completer(hook, args.complete_with, args.aws_cli),
        drain_seconds=args.drain_seconds,
        poll_seconds=args.poll_seconds,
        stopping=stopping,
    )
    signal.signal(signal.SIGTERM, agent.terminate)
    LOG.info("watching for a Spot interruption or termination of %s (hook %s)", args.group, args.hook)
    try:
        return agent.run(args.max_polls)
    except Exception:  # a bug, not a failure of IMDS or AWS (those are retried): systemd restarts the agent
        LOG.exception("drain agent failed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
