"""How long synthesis takes: the reference app against a one-bucket CDK app, and what the cost report adds.

Prints figures only (no assertions):
1. median wall time of `python app.py` (the reference app: every reference stack, cdk-nag and the cost
   report on) and of a one-bucket CDK app, each a fresh subprocess with CDK_OUTDIR in a temp dir, and
   their ratio;
2. median in-process time to build and synthesize the reference stacks with and without
   `enable_cost_report`, the difference (what the cost plugin costs at synth), and the time spent
   inside the plugin itself (the direct figure: the difference of medians is within run-to-run noise).

Usage: python benchmarks/synth_time.py [--runs N] [--in-process-runs M]
(N default 5, or env INFERWISE_BENCH_RUNS; M default 15)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

ONE_BUCKET_APP = textwrap.dedent(
    """
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    app = cdk.App()
    stack = cdk.Stack(app, "OneBucket", env=cdk.Environment(region="us-east-1"))
    s3.Bucket(stack, "Bucket")
    app.synth()
    """
)


def _environment() -> dict[str, str]:
    """This interpreter's venv first on PATH, so jsii runs the venv's Node 24 as `make` would."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.prefix) / "bin"), env.get("PATH", "")])
    return env


def _time_subprocess(args: list[str], cwd: Path, runs: int, label: str) -> list[float]:
    env = _environment()
    times: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as outdir:
            started = time.perf_counter()
            done = subprocess.run(
                args, cwd=cwd, env={**env, "CDK_OUTDIR": outdir}, capture_output=True, text=True, check=False
            )
            times.append(time.perf_counter() - started)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            print(f"  warning: {label} exited {done.returncode} (timed anyway):\n{tail}", file=sys.stderr)
    return times


def _time_in_process(build: Callable[[], None], runs: int) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    return times


def _summary(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s  (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


def subprocess_figures(runs: int) -> None:
    print(f"Wall time of `python app.py`, fresh process each run, {runs} run(s):")
    with tempfile.TemporaryDirectory(prefix="bench-one-bucket-") as scratch:
        one_bucket = Path(scratch) / "app.py"
        one_bucket.write_text(ONE_BUCKET_APP)
        # Interleave the two apps so machine load drifts over both alike.
        reference: list[float] = []
        baseline: list[float] = []
        for _ in range(runs):
            reference += _time_subprocess([sys.executable, "app.py"], REPO_ROOT, 1, "reference app")
            baseline += _time_subprocess(
                [sys.executable, str(one_bucket)], Path(scratch), 1, "one-bucket app"
            )
    print(f"  reference app (all reference stacks, cdk-nag, cost report): {_summary(reference)}")
    print(f"  one-bucket CDK app:                                         {_summary(baseline)}")
    ratio = statistics.median(reference) / statistics.median(baseline)
    print(f"  ratio reference / one-bucket: {ratio:.2f}x")


def cost_plugin_figures(runs: int) -> None:
    os.environ["PATH"] = _environment()["PATH"]  # before jsii starts its Node process
    import aws_cdk as cdk

    from inferwise import enable_cost_report
    from inferwise.stacks import REFERENCE_STACKS, add_reference_stacks

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]

    plugin_times: list[float] = []

    def synth(with_report: bool) -> Callable[[], None]:
        def build() -> None:
            with tempfile.TemporaryDirectory(prefix="bench-in-process-") as outdir:
                app = cdk.App(outdir=outdir, context=context)
                if with_report:
                    plugin = enable_cost_report(app)
                    validate = plugin.validate

                    def timed_validate(ctx: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
                        started = time.perf_counter()
                        try:
                            return validate(ctx)
                        finally:
                            plugin_times.append(time.perf_counter() - started)

                    plugin.validate = timed_validate  # type: ignore[method-assign,assignment]
                add_reference_stacks(app)
                with contextlib.redirect_stderr(io.StringIO()):  # the plugin prints its table
                    app.synth()

        return build

    names = ", ".join(name for name, _ in REFERENCE_STACKS) or "(none yet)"
    print(
        f"\nIn-process build + synth of the reference stacks ({names}), {runs} run(s) each after a warm-up:"
    )
    synth(True)()  # warm-up: jsii start, imports, first-time code paths
    plugin_times.clear()
    with_report: list[float] = []
    without: list[float] = []
    for i in range(runs):  # alternate the order so neither variant always runs second
        pair = (synth(False), synth(True)) if i % 2 == 0 else (synth(True), synth(False))
        first, second = (_time_in_process(build, 1) for build in pair)
        without += first if i % 2 == 0 else second
        with_report += second if i % 2 == 0 else first
    print(f"  without enable_cost_report: {_summary(without)}")
    print(f"  with enable_cost_report:    {_summary(with_report)}")
    added = statistics.median(with_report) - statistics.median(without)
    share = 100 * added / statistics.median(without)
    print(
        f"  difference of medians (what the cost report adds): {added * 1000:+.0f} ms per synth ({share:+.1f}%)"
    )
    print(
        f"  time inside the cost plugin's validate (report, files, table): median "
        f"{statistics.median(plugin_times) * 1000:.1f} ms (n={len(plugin_times)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=int(os.environ.get("INFERWISE_BENCH_RUNS", "5")),
        help="subprocess runs per app (default 5)",
    )
    parser.add_argument(
        "--in-process-runs",
        type=int,
        default=15,
        help="in-process synths with and without the cost report (default 15; each is < 1 s)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.in_process_runs < 1:
        parser.error("--runs and --in-process-runs must be at least 1")
    subprocess_figures(args.runs)
    cost_plugin_figures(args.in_process_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
