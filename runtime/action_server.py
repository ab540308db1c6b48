"""`python -m runtime.action_server`: rasa-sdk's action server, closed to everyone but Rasa.

rasa-sdk's own server (`rasa run actions`) listens on every interface, answers any
caller, lets any web page call it (CORS `*`), accepts bodies of up to 100 MB and
inflates a deflate-compressed body without a limit. This one runs the same actions
with rasa-sdk's own app, and:

- listens on 127.0.0.1 unless told otherwise (`--host`, or ACTIONS_HOST);
- when ACTION_SERVER_TOKEN is set, answers only requests that carry it
  (`Authorization: Bearer <token>`, as endpoints.yml has Rasa send it) with 401 for
  the rest; `/health` stays open, for load balancers;
- refuses a compressed body (415) before reading it, and a body over
  `MAX_BODY_BYTES` (413: a call with the domain is about 30 kB); answers any other
  bad request with its own 4xx and a failed action with a 500, without echoing the
  request (rasa-sdk's server puts the whole conversation in its error);
- sends no CORS headers: no web page has any business calling it.

    python -m runtime.action_server [--actions actions] [--port 5055] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from runtime import ACTION_SERVER_TOKEN

DEFAULT_PORT = 5055
DEFAULT_HOST = "127.0.0.1"
MAX_BODY_BYTES = 1_000_000
OPEN_PATHS = ("/health",)

logger = logging.getLogger(__name__)


def create_app(actions: str = "actions", token: Optional[str] = None) -> Sanic:
    """rasa-sdk's app for the `actions` package, with the checks above."""
    from rasa_sdk.endpoint import create_app as create_rasa_sdk_app

    app = create_rasa_sdk_app(actions, cors_origins=None)
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

    @app.exception(SanicException)
    async def refused(request: Request, error: SanicException) -> HTTPResponse:
        # rasa-sdk answers every error with a 500 that echoes the request body: an
        # oversized or malformed request gets its own 4xx, with nothing echoed.
        return response.json({"error": str(error)}, status=error.status_code)

    @app.exception(Exception)
    async def failed(request: Request, error: Exception) -> HTTPResponse:
        logger.error(f"An action failed: {type(error).__name__}", exc_info=error)
        return response.json({"error": "The action failed; the action server's log says why."}, status=500)

    return app


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default="actions", help="the package of actions")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST") or DEFAULT_HOST)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    token = os.environ.get(ACTION_SERVER_TOKEN) or None
    if token is None:
        logger.warning(f"{ACTION_SERVER_TOKEN} is not set: any local process may call the actions.")
    app = create_app(args.actions, token)
    logger.info(f"Action server on http://{args.host}:{args.port} (actions from '{args.actions}')")
    app.run(host=args.host, port=args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
