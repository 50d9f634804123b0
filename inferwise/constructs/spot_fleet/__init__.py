"""`SpotInferenceFleet`: an EC2 Auto Scaling group of Inferentia2 or Graviton instances, mostly on Spot.

What it builds (docs/aws-facts.md#spot-mixed-instances to #amis):
- a launch template: IMDSv2 only (hop limit 1; 2 with `container_needs_instance_role`), an encrypted gp3
  root volume sized for the AMI, the AMI resolved from a public SSM parameter at every launch (the Neuron
  DLAMI base on Amazon Linux 2023 for inf2, Amazon Linux 2023 `kernel-default` arm64 for Graviton), an
  instance profile with least privilege (Session Manager only with `session_manager`), and user data that
  installs the drain agent and starts the server;
- the group, with a mixed-instances policy whose every distribution field is explicit (the API defaults
  are 100 % On-Demand and lowest-price Spot): an On-Demand base, price-capacity-optimized Spot above it,
  several instance-type overrides, capacity rebalancing;
- a termination lifecycle hook (explicit heartbeat, default result CONTINUE) that the on-instance drain
  agent (`inferwise/fleet_agent/drain.py`) completes once in-flight work is done, on a Spot interruption
  notice or any other termination;
- target tracking on CPU, optionally on queue backlog per instance (metric math through the L1 policy,
  which the L2 refuses), and optional off-hours scheduled actions to zero.

The package, one room per part: `props` (the options, defaults and prop checks), `launch` (subnets,
security group, AMI, launch template), `user_data` (boot script and drain agent), `iam` (the instance
role), `scaling` (backlog and off-hours scaling) and `construct` (the construct, which puts them together).
`__all__` is the public API; the constants and helpers of the former single module stay importable here.
"""

from inferwise.constructs.schedule import OffHours
from inferwise.constructs.spot_fleet.construct import SpotInferenceFleet
from inferwise.constructs.spot_fleet.props import AL2023_ARM64_PARAMETER as AL2023_ARM64_PARAMETER
from inferwise.constructs.spot_fleet.props import AMI_PARAMETERS as AMI_PARAMETERS
from inferwise.constructs.spot_fleet.props import COMPLETE_MARGIN_SECONDS as COMPLETE_MARGIN_SECONDS
from inferwise.constructs.spot_fleet.props import DEFAULT_DRAIN_SECONDS as DEFAULT_DRAIN_SECONDS
from inferwise.constructs.spot_fleet.props import DEFAULT_HEARTBEAT_SECONDS as DEFAULT_HEARTBEAT_SECONDS
from inferwise.constructs.spot_fleet.props import DEFAULT_WARMUP_SECONDS as DEFAULT_WARMUP_SECONDS
from inferwise.constructs.spot_fleet.props import MAX_OVERRIDES as MAX_OVERRIDES
from inferwise.constructs.spot_fleet.props import MIN_ROOT_VOLUME_GIB as MIN_ROOT_VOLUME_GIB
from inferwise.constructs.spot_fleet.props import NEURON_DLAMI_PARAMETER as NEURON_DLAMI_PARAMETER
from inferwise.constructs.spot_fleet.props import (
    ContainerServing,
    QueueBacklogScaling,
    UserDataServing,
)
from inferwise.constructs.spot_fleet.props import unix_recurrence as unix_recurrence
from inferwise.constructs.spot_fleet.user_data import AGENT_PATH as AGENT_PATH
from inferwise.constructs.spot_fleet.user_data import DRAIN_LOG as DRAIN_LOG
from inferwise.constructs.spot_fleet.user_data import LIFECYCLE_HOOK_NAME as LIFECYCLE_HOOK_NAME
from inferwise.constructs.spot_fleet.user_data import TOKEN_BYTES as TOKEN_BYTES
from inferwise.constructs.spot_fleet.user_data import USER_DATA_LIMIT_BYTES as USER_DATA_LIMIT_BYTES
from inferwise.constructs.spot_fleet.user_data import agent_source as agent_source
from inferwise.cost.estimators.spot_fleet import FleetUsage

__all__ = [
    "ContainerServing",
    "FleetUsage",
    "OffHours",
    "QueueBacklogScaling",
    "SpotInferenceFleet",
    "UserDataServing",
]
