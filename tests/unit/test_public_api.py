from __future__ import annotations

import subprocess
import sys

import inferwise


def test_every_public_name_resolves() -> None:
    for name in inferwise.__all__:
        assert getattr(inferwise, name) is not None, name


def test_the_cli_modules_do_not_load_aws_cdk_lib() -> None:
    """`inferwise report` and `inferwise diff` work from templates alone, without starting jsii."""
    code = "import sys, inferwise.cli; print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
