"""`python -m runtime.action_server`: the project's actions served over HTTP to Rasa only.

It runs in an environment of its own (`.venv-actions`, Python 3.13, the newest
rasa-sdk: requirements-actions.txt), apart from Rasa 3.6's, and serves Rasa 3.6's
webhook contract with rasa-sdk's executor, dispatcher and tracker. It keeps
rasa-sdk's routes (/health, /webhook, /actions) but not its app, because:

- rasa-sdk 3.7 and later ask for the domain (HTTP 449) when a call has none and no
  digest of an earlier one; Rasa 3.6 sends the domain only to the actions that
  need it (`enable_selective_domain` in endpoints.yml) and never a digest. As
  rasa-sdk 3.6 did, an action called without the domain gets `{}`;
- rasa-sdk's server listens on every interface, answers any caller, lets any web
  page call it (CORS `*`), accepts bodies of up to 100 MB, inflates a
  deflate-compressed body without a limit and puts the whole conversation in its
  errors.

So this server:

- listens on 127.0.0.1 unless told otherwise (`--host`, or ACTIONS_HOST);
- when ACTION_SERVER_TOKEN is set, answers only requests that carry it
  (`Authorization: Bearer <token>`, as endpoints.yml has Rasa send it) with 401 for
  the rest; `/health` stays open, for load balancers;
- refuses a compressed body (415) before reading it, and a body over
  `MAX_BODY_BYTES` (413: a call with the domain is about 30 kB); answers any other
  bad request with its own 4xx and a failed action with a 500, with a fixed message
  that echoes nothing of the request;
- sends no CORS headers: no web page has any business calling it.

The same module runs on rasa-sdk 3.6 (Rasa's environment), which the contract test
(tests/test_action_contract.py) uses as the reference for every event.

    python -m runtime.action_server [--actions actions] [--port 5055] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import hmac
import inspect
import json
import logging
import os
from typing import TYPE_CHECKING, Any, Dict, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from runtime import ACTION_SERVER_TOKEN

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor

DEFAULT_PORT = 5055
DEFAULT_HOST = "127.0.0.1"
MAX_BODY_BYTES = 1_000_000
OPEN_PATHS = ("/health",)
APP_NAME = "careers_actions"

logger = logging.getLogger(__name__)


def executor_for(package: str) -> "ActionExecutor":
    """rasa-sdk's executor with the actions of `package`, handing an action called
    without the domain `{}` (Rasa 3.6's contract) on every rasa-sdk version."""
    from rasa_sdk.executor import ActionExecutor

    class Rasa36Executor(ActionExecutor):
        def update_and_return_domain(self, payload: Dict[str, Any], action_name: str) -> Dict[str, Any]:
            # Called by rasa-sdk 3.7 and later only; 3.6 reads the domain itself.
            return payload.get("domain") or {}

    executor = Rasa36Executor()
    executor.register_package(package)
    return executor


def as_json(result: Any) -> Any:
    """The executor's result as JSON data: a dict from rasa-sdk 3.6, a pydantic model
    from later versions, None for a call that names no action."""
    return result.model_dump() if hasattr(result, "model_dump") else result


def create_app(actions: str = "actions", token: Optional[str] = None) -> Sanic:
    """The action server for the `actions` package, with the checks above."""
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    executor = executor_for(actions)
    app = Sanic(APP_NAME, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    expected = f"Bearer {token}".encode() if token else None

    @app.on_request
    async def check(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if expected is not None:
            given = (request.headers.get("Authorization") or "").encode()
            if not hmac.compare_digest(given, expected):
                return response.json({"error": "This server answers only the Rasa server."}, status=401)
        encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            return response.json({"error": "Send the body uncompressed."}, status=415)
        return None

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def listed(_: Request) -> HTTPResponse:
        return response.json([{"name": name} for name in sorted(executor.actions)])

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        try:
            call = json.loads(request.body or b"null")
        except ValueError:
            return response.json({"error": "The body is not JSON."}, status=400)
        if not isinstance(call, dict):
            return response.json({"error": "The body is not an action call."}, status=400)
        try:
            result = await executor.run(call)
        except ActionNotFoundException as error:
            logger.error(f"No action named {error.action_name!r}")
            return response.json({"error": "No such action.", "action_name": error.action_name}, status=404)
        except ActionExecutionRejection as error:
            return response.json({"error": error.message, "action_name": error.action_name}, status=400)
        return response.json(as_json(result))

    @app.exception(SanicException)
    async def refused(request: Request, error: SanicException) -> HTTPResponse:
        # An oversized or malformed request gets its own 4xx, with nothing echoed.
        return response.json({"error": str(error)}, status=error.status_code)

    @app.exception(Exception)
    async def failed(request: Request, error: Exception) -> HTTPResponse:
        logger.error(f"An action failed: {type(error).__name__}", exc_info=error)
        return response.json({"error": "The action failed; the action server's log says why."}, status=500)

    return app


def serve(app: Sanic, host: str, port: int) -> None:
    """Runs `app` in this process (Sanic 22 and later would start a worker process)."""
    options: Dict[str, Any] = {"host": host, "port": port, "workers": 1, "access_log": False}
    if "single_process" in inspect.signature(app.run).parameters:
        options["single_process"] = True
    app.run(**options)


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--actions", default="actions", help="the package of actions")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST") or DEFAULT_HOST)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    token = os.environ.get(ACTION_SERVER_TOKEN) or None
    if token is None:
        logger.warning(f"{ACTION_SERVER_TOKEN} is not set: any local process may call the actions.")
    app = create_app(args.actions, token)
    from rasa_sdk import __version__ as sdk_version

    where = f"http://{args.host}:{args.port}"
    logger.info(f"Action server on {where} (actions from '{args.actions}', rasa-sdk {sdk_version})")
    serve(app, args.host, args.port)


if __name__ == "__main__":
    main()
