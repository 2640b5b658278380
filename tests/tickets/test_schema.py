"""Property-based tests of the live OpenAPI schema with schemathesis.

Every generated request, valid or deliberately invalid, must get a documented status and
body shape, and never a 5xx. The schema is fetched from the running server. Examples are
capped so the run stays well under a minute per database.

(schemathesis' own pytest loader, ``from_fixture``, does not work with pytest 9 — it
writes ``request.node._nodeid`` — so each operation is driven through hypothesis here.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.tickets.helpers import Server

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _exercise(operation: APIOperation, base_url: str, headers: dict[str, str]) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    run()


def test_api_never_fails_and_matches_its_schema(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 8
    admin = {"Authorization": f"Bearer {server.tokens['admin']}"}
    for operation in operations:
        headers = admin if operation.path.startswith("/api/staff") else {}
        _exercise(operation, server.base_url, headers)
