"""The action server: rasa-sdk's app, locked down.

`python -m actions.server [--port 5055]`

- Only calls carrying the shared secret (header `X-Action-Secret`, set by
  `python -m bot endpoints` in Rasa's endpoints file) reach the actions.
- rasa-sdk's own error handler answers a failure with the whole request body,
  i.e. the tracker with the borrower's personal data; ours says only that
  something went wrong, and logs no request.
- Personal data is masked in every log line (bot.domain.privacy).
- Rasa sends no domain with its calls (`enable_selective_domain`, written by
  `python -m bot endpoints`): 70 KB of JSON per call that Rasa encoded and
  this server parsed. The actions get the same domain, read once from
  domain.yml, which is deployed with them.
"""

from __future__ import annotations

import argparse
import hmac
import logging
from functools import lru_cache
from pathlib import Path

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.exceptions import SanicException

from actions.domain_file import load_domain
from bot.bootstrap import bootstrap
from bot.domain.privacy import install_log_masking
from bot.ops.endpoints import SECRET_HEADER
from bot.settings import PROJECT_ROOT

OPEN_PATHS = ("/health",)  # everything else (/webhook, /actions, with or without a slash) needs the secret

logger = logging.getLogger("actions.server")


@lru_cache(maxsize=1)
def local_domain(path: Path = PROJECT_ROOT / "domain.yml") -> dict:
    return load_domain(path)  # domain.yml is a directory of topic files


def create_action_server(secret: str) -> Sanic:
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def require_secret(request):
        if request.path.rstrip("/") in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("refused an action call without the shared secret from %s", request.ip)
            return response.json({"error": "forbidden"}, status=403)
        return None

    @app.middleware("request")
    async def fill_in_the_domain(request):
        if request.method != "POST" or request.path.rstrip("/") != "/webhook":
            return None
        try:
            call = request.json  # parsed once; the endpoint reads this same dict
        except Exception:  # unreadable: the endpoint answers 400
            return None
        if isinstance(call, dict) and not call.get("domain"):
            call["domain"] = local_domain()
        return None

    async def no_echo(request, exception: Exception):
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 400) or 400
            return response.json({"error": "bad request" if status < 500 else "server error"}, status=status)
        # Every action catches its own failures (SafeAction), so what reaches
        # here is a call rasa-sdk could not read: a malformed tracker or domain.
        logger.error("unreadable action call: %s", type(exception).__name__)
        return response.json({"error": "bad request"}, status=400)

    # Replaces rasa-sdk's handler, which echoes the request body.
    app.error_handler.add(Exception, no_echo)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--debug", action="store_true", help="log at debug level (personal data stays masked)")
    args = parser.parse_args(argv)
    install_log_masking()
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = bootstrap().settings  # reads and checks the settings once, at start-up
    app = create_action_server(settings.action_server_secret)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
