"""The gateway's own Runtime API loop, started by `launch` (AWS_LAMBDA_EXEC_WRAPPER) in place of the
managed Python runtime's, because that one cannot stream a response (docs/gateway.md, "Streaming").

Init: read GATEWAY_CONFIG and TABLE_NAME, make the boto3 clients; a failure is posted to `init/error` and
the process exits. Then, per invocation: fetch it, set `_X_AMZN_TRACE_ID`, answer it with
`streaming.respond` and stream the reply to `invocation/<id>/response` (a whole answer is one chunk). An
exception before the reply exists is posted to `invocation/<id>/error`; one while streaming goes in the
response's error trailers (`api.py`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..common.config import load_config
from ..common.sse import Reply
from ..handler.streaming import respond
from .api import Invocation, RuntimeAPI

App = Callable[[Mapping[str, Any]], Reply]
INIT_ERROR = "Runtime.InitError"
HANDLER_ERROR = "Function.Unhandled"

logger = logging.getLogger(__name__)


def gateway_app(environ: Mapping[str, str]) -> App:
    """The gateway wired to its configuration and AWS clients, as the managed runtime's handler is."""
    import boto3  # type: ignore[import-untyped]

    config = load_config(environ["GATEWAY_CONFIG"])
    table = environ["TABLE_NAME"]
    bedrock = boto3.client("bedrock-runtime")
    dynamodb = boto3.client("dynamodb")

    def app(event: Mapping[str, Any]) -> Reply:
        return respond(event, config=config, bedrock=bedrock, dynamodb=dynamodb, table=table, emit=_log)

    return app


def serve_forever(api: RuntimeAPI, app: App, invocations: int | None = None) -> None:
    """Answer invocations one after the other (`invocations` bounds them, for tests)."""
    served = 0
    while invocations is None or served < invocations:
        handle(api, app, api.next())
        served += 1


def handle(api: RuntimeAPI, app: App, invocation: Invocation) -> None:
    if invocation.trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        reply = app(json.loads(invocation.event))
    except Exception as failed:
        logger.exception("invocation %s failed", invocation.request_id)
        api.invocation_error(invocation.request_id, HANDLER_ERROR, failed)
        return
    try:
        api.respond(invocation.request_id, reply)
    except Exception:  # the response has begun: nothing else can be reported for it
        logger.exception("could not deliver the response of %s", invocation.request_id)


def main(environ: Mapping[str, str] = os.environ) -> int:
    # as under the managed runtime: warnings from libraries (boto3 logs every endpoint at INFO), INFO from ours
    logging.basicConfig(
        stream=sys.stdout, level=logging.WARNING, format="[%(levelname)s] %(name)s: %(message)s"
    )
    logging.getLogger("gateway").setLevel(logging.INFO)
    api = RuntimeAPI(environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        app = gateway_app(environ)
    except Exception as failed:
        logger.exception("the gateway could not start")
        api.init_error(INIT_ERROR, failed)
        return 1
    serve_forever(api, app)
    return 0


def _log(line: str) -> None:
    """EMF lines go to stdout, flushed at once: the environment may be frozen right after the response."""
    print(line, flush=True)
