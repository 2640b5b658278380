"""Rasa 3.6 checks every action server reply against a JSON schema, and builds the
checker anew each time: ``jsonschema.validate`` first validates the *schema* against
its meta-schema, then the reply. Profiled under load (py-spy on a replica, README
"Production profile"), that was a fifth of a Rasa replica's CPU per knowledge turn,
more than the whole NLU pipeline's e5 featurizer.

:func:`install` replaces ``RemoteAction._validate_action_result`` with the same check
on a validator built once: the same schema, the same ``best_match`` error and the same
message Rasa adds. Replies are checked exactly as strictly as before.

Runs inside the Rasa server (Python 3.10); ``bot.rasa_server`` installs it.
"""

from __future__ import annotations

from typing import Any

_validator: Any = None


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


def install() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
