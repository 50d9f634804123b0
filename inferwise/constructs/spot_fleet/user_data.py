"""The fleet's boot script: install and start the drain agent first, then ship logs, then start the server.

The drain agent is `inferwise/fleet_agent/drain.py`, read from the installed package, its docstrings and
comment lines blanked line for line (`shipped_agent_source`), and embedded gzip+base64 in the user data
(EC2 caps user data at 16 KB), checked against its sha256 on the instance.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import shlex
import textwrap
import tokenize
from base64 import b64encode
from collections.abc import Sequence
from importlib import resources

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from inferwise.constructs.spot_fleet.props import ContainerServing, UserDataServing
from inferwise.cost.specs.ec2 import Accelerator

LIFECYCLE_HOOK_NAME = "inferwise-drain"
USER_DATA_LIMIT_BYTES = 16 * 1024
"""EC2 refuses user data over 16 KB (before base64)."""
TOKEN_BYTES = 128
AGENT_PATH = "/opt/inferwise/drain.py"
DRAIN_LOG = "/var/log/inferwise/drain.log"
AGENT_STOP_TIMEOUT_SECONDS = 30
"""systemd's SIGKILL after SIGTERM: longer than the agent's own completion grace after SIGTERM (20 s)."""


def fleet_user_data(
    stack: cdk.Stack,
    *,
    group_name: str,
    serving: ContainerServing | UserDataServing,
    log_group_name: str,
    accelerator: Accelerator,
    drain_seconds: int,
) -> ec2.UserData:
    """Boot script: install and start the drain agent first, then the server (see docs/spot-fleet.md)."""
    user_data = ec2.UserData.for_linux()
    user_data.add_commands("set -euo pipefail")
    user_data.add_commands(*_agent_install_commands())
    args = [
        "--group",
        group_name,
        "--hook",
        LIFECYCLE_HOOK_NAME,
        "--region",
        stack.region,
        "--drain-seconds",
        str(drain_seconds),
    ]
    user_data.add_commands(*_agent_service_commands(args + _drain_args(serving)))
    user_data.add_commands(*_cloudwatch_agent_commands(log_group_name))
    if isinstance(serving, ContainerServing):
        user_data.add_commands(*_container_commands(serving, log_group_name, stack.region, accelerator))
    else:
        user_data.add_commands("# --- your user data (UserDataServing) ---", serving.user_data.render())
    size = _user_data_size(stack, user_data.render())
    if size > USER_DATA_LIMIT_BYTES:
        raise ValueError(
            f"serving: the user data would be about {size} bytes, over EC2's 16 KB limit; move your "
            "script to an S3 object or the AMI and fetch it from a shorter user data"
        )
    return user_data


def _drain_args(serving: ContainerServing | UserDataServing) -> list[str]:
    """How the agent stops the server: the container to kill, or the user's stop commands/URL and busy check."""
    if isinstance(serving, ContainerServing):
        return ["--container", serving.container_name]
    args: list[str] = []
    for command in serving.stop_commands:
        args += ["--stop-command", shlex.join(command)]
    if serving.stop_url:
        args += ["--stop-url", serving.stop_url]
    if serving.busy_command:
        args += ["--busy-command", shlex.join(serving.busy_command)]
    return args


def agent_source() -> bytes:
    """The drain agent's source as shipped in the wheel (`inferwise/fleet_agent/drain.py`)."""
    return resources.files("inferwise.fleet_agent").joinpath("drain.py").read_bytes()


def shipped_agent_source() -> bytes:
    """The agent as instances get it: the wheel's file with every docstring and bare string statement
    reduced to `""` on its first line (the module docstring keeps its first line, the --help description)
    and comment-only lines emptied. Line numbers stay those of the wheel's file, so a traceback in the drain
    log points at the source; compressed, it is about a quarter smaller (the 16 KB user-data limit)."""
    text = agent_source().decode()
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        indent = lines[first][: node.col_offset]
        if node is tree.body[0]:
            lines[first] = f'{indent}"""{node.value.value.splitlines()[0]}"""\n'
        else:
            lines[first] = f'{indent}""\n'
        lines[first + 1 : last + 1] = ["\n"] * (last - first)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        row, column = token.start
        if token.type == tokenize.COMMENT and row > 1 and not token.line[:column].strip():
            lines[row - 1] = "\n"
    return "".join(lines).encode()


def _agent_install_commands() -> list[str]:
    """Write the agent from a gzip+base64 heredoc (about 30 % of its size, for the 16 KB user-data limit)
    and check it against the sha256 of what was shipped."""
    source = shipped_agent_source()
    packed = b64encode(gzip.compress(source, compresslevel=9, mtime=0)).decode()
    digest = hashlib.sha256(source).hexdigest()
    return [
        f"# inferwise drain agent: inferwise/fleet_agent/drain.py, sha256 {digest}",
        "mkdir -p /opt/inferwise /var/log/inferwise",
        f"base64 -d > {AGENT_PATH}.gz <<'INFERWISE_AGENT'",
        *textwrap.wrap(packed, 76),
        "INFERWISE_AGENT",
        f"gunzip -f {AGENT_PATH}.gz",
        f"echo '{digest}  {AGENT_PATH}' | sha256sum -c -",
    ]


def _agent_service_commands(args: Sequence[str]) -> list[str]:
    command = shlex.join(["exec", "/usr/bin/python3", AGENT_PATH, *args])
    return [
        "cat > /opt/inferwise/drain.sh <<'INFERWISE_EOF'",
        "#!/bin/bash",
        command,
        "INFERWISE_EOF",
        "cat > /etc/systemd/system/inferwise-drain.service <<'INFERWISE_EOF'",
        "[Unit]",
        "Description=inferwise drain agent (Spot interruption notice and Auto Scaling termination)",
        "After=network-online.target docker.service",
        "Wants=network-online.target",
        "[Service]",
        "ExecStart=/bin/bash /opt/inferwise/drain.sh",
        "Restart=on-failure",
        "RestartSec=5",
        # on stop (e.g. shutdown) only the agent gets SIGTERM, so a completion call in flight is not killed;
        # it then completes the lifecycle action within TERM_GRACE_SECONDS (20 s) of drain.py
        "KillMode=mixed",
        f"TimeoutStopSec={AGENT_STOP_TIMEOUT_SECONDS}",
        f"StandardOutput=append:{DRAIN_LOG}",
        f"StandardError=append:{DRAIN_LOG}",
        "[Install]",
        "WantedBy=multi-user.target",
        "INFERWISE_EOF",
        "systemctl daemon-reload",
        "systemctl enable --now inferwise-drain.service",
    ]


def _cloudwatch_agent_commands(log_group_name: str) -> list[str]:
    """Ship the drain log and the boot log to the fleet's log group: a terminated instance's journal is gone."""
    return [
        "if dnf install -y amazon-cloudwatch-agent; then",
        "cat > /opt/inferwise/cloudwatch-agent.json <<'INFERWISE_EOF'",
        '{"logs": {"logs_collected": {"files": {"collect_list": [',
        f'  {{"file_path": "{DRAIN_LOG}", "log_group_name": "{log_group_name}", '
        '"log_stream_name": "{instance_id}/drain"},',
        f'  {{"file_path": "/var/log/cloud-init-output.log", "log_group_name": "{log_group_name}", '
        '"log_stream_name": "{instance_id}/boot"}',
        "]}}}}",
        "INFERWISE_EOF",
        "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
        "-c file:/opt/inferwise/cloudwatch-agent.json",
        "fi",
    ]


def _container_commands(
    serving: ContainerServing, log_group_name: str, region: str, accelerator: Accelerator
) -> list[str]:
    run = ["docker", "run", "--detach", "--name", serving.container_name, "--restart", "unless-stopped"]
    run += ["--publish", f"{serving.port}:{serving.port}", "--log-driver", "awslogs"]
    run += ["--log-opt", f"awslogs-region={region}", "--log-opt", f"awslogs-group={log_group_name}"]
    for key, value in serving.environment.items():
        run += ["--env", f"{key}={value}"]
    devices = " $NEURON_DEVICES" if accelerator == "inferentia2" else ""
    docker_run = (
        shlex.join(run)
        + ' --log-opt "awslogs-stream=$INSTANCE_ID/serving"'
        + devices
        + ' "$IMAGE"'
        + "".join(" " + shlex.quote(word) for word in serving.command)
    )
    commands = [
        "# --- serving container (ContainerServing) ---",
        "IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token "
        "-H 'X-aws-ec2-metadata-token-ttl-seconds: 300')",
        'INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" '
        "http://169.254.169.254/latest/meta-data/instance-id)",
        "command -v docker >/dev/null || dnf install -y docker",
        "systemctl enable --now docker",
        f"IMAGE={shlex.quote(serving.image)}",
        'REGISTRY="${IMAGE%%/*}"',
        'case "$REGISTRY" in *.dkr.ecr.*.amazonaws.com*)',
        '  aws ecr get-login-password --region "$(echo "$REGISTRY" | cut -d. -f4)" '
        '| docker login --username AWS --password-stdin "$REGISTRY";;',
        "esac",
        'docker pull "$IMAGE"',
    ]
    if accelerator == "inferentia2":
        commands.append(
            "NEURON_DEVICES=$( (ls /dev/neuron* 2>/dev/null || true) | sed 's/^/--device=/' | tr '\\n' ' ')"
        )
    commands.append(docker_run)
    return commands


def _user_data_size(stack: cdk.Stack, rendered: str) -> int:
    """Bytes of the user data once deployed, counting each deploy-time value (e.g. a log group name) as
    TOKEN_BYTES, more than CloudFormation-generated names take."""
    resolved = stack.resolve(rendered)
    if isinstance(resolved, str):
        return len(resolved.encode())
    parts = resolved["Fn::Join"][1]
    return sum(len(p.encode()) if isinstance(p, str) else TOKEN_BYTES for p in parts)
