"""Two per-turn costs of Rasa 3.6 that a replica under load pays for nothing.

**The action-reply check.** Rasa checks every action server reply against a JSON
schema, and builds the checker anew each time: ``jsonschema.validate`` first validates
the *schema* against its meta-schema, then the reply. Profiled under load (py-spy on a
replica, README "Production profile"), that was a fifth of a Rasa replica's CPU per
knowledge turn, more than the whole NLU pipeline's e5 featurizer.

:func:`install` replaces ``RemoteAction._validate_action_result`` with the same check
on a validator built once: the same schema, the same ``best_match`` error and the same
message Rasa adds. Replies are checked exactly as strictly as before.

**A new HTTP client per action call.** ``EndpointConfig.request`` opens a new
``aiohttp.ClientSession`` (and so a new TCP connection to the action endpoint) for
every request, and closes it after: a connect, a session and a connector built and torn
down per action call, in the Rasa process and in nginx. :func:`install` makes
``EndpointConfig.session`` hand out one kept session per endpoint and event loop,
built exactly as Rasa builds it (same headers, auth and timeout), whose connections
are reused (keep-alive; aiohttp drops an idle one after 15 s, well before the server
side does: nginx's 75 s in the production profile, and the action server's own
``SANIC_KEEP_ALIVE_TIMEOUT``, raised from Sanic's 5 s to 75 s in ``bot.processes``; so a
reused connection is never one the server is closing). Requests, errors and timeouts are
unchanged.

Runs inside the Rasa server (Python 3.10); ``bot.rasa_server`` installs both.
"""

from __future__ import annotations

import asyncio
from typing import Any

_validator: Any = None
_rasa_session: Any = None


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    global _validator
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    error = best_match(_validator.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


class _Kept:
    """``async with`` over a kept session: enters it, and leaves it open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        return None


def _session(self: Any) -> Any:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop: the caller owns (and closes) a session of its own
        return _rasa_session(self)
    # Kept on the endpoint itself: its headers and auth are the session's.
    kept_loop, session = getattr(self, "_yiwen_session", (None, None))
    if kept_loop is not loop or session is None or session.closed:
        session = _rasa_session(self)
        self._yiwen_session = (loop, session)
    return _Kept(session)


def install() -> None:
    global _rasa_session
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    RemoteAction._validate_action_result = _validate_action_result
    if EndpointConfig.session is not _session:
        _rasa_session = EndpointConfig.session
        EndpointConfig.session = _session
