"""The reference app: every reference stack, with the cost report and cdk-nag AwsSolutions on."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from inferwise import enable_cost_report
from inferwise.stacks import add_reference_stacks

app = cdk.App()
enable_cost_report(app, max_monthly_usd=app.node.try_get_context("inferwise:max-monthly-usd"))
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
add_reference_stacks(app)
app.synth()
