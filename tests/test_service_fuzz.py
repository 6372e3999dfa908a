"""Schemathesis against a live server: requests generated from /openapi.json, valid and
not, never get a 5xx. Path parameters are pointed at a real estate and case half the
time, so generated bodies reach the engine and not only the 404 of an unknown id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from engine.store import Store
from tests.service_harness import ESTATES, FORM, RECORD, LiveServer, bearer, running_server

#: Generated requests per mode, over every operation: enough to reach each one's bodies,
#: headers and parameters, few enough to run in seconds.
EXAMPLES = 300


@pytest.fixture(scope="module")
def live(workdir: Path) -> Iterator[LiveServer]:
    options = ["--db", str(workdir / "cases.db"), "--estates", str(ESTATES)]
    with running_server(options, workdir / "serve.log") as server:
        yield server


@pytest.fixture(scope="module")
def token(live: LiveServer, workdir: Path) -> dict[str, str]:
    store = Store(f"sqlite:///{workdir / 'cases.db'}")
    try:
        return bearer(store, "lakeside", "li", "receptionist", "supervisor", "head")
    finally:
        store.close()


@pytest.fixture(scope="module")
def case_id(live: LiveServer, token: dict[str, str]) -> str:
    with httpx.Client(base_url=live.url, headers=token) as client:
        case = client.post("/estates/lakeside/cases", json={"process": "repair", "data": FORM})
        assert case.status_code == 201, case.text
        identifier: str = case.json()["id"]
        fired = client.post(
            f"/estates/lakeside/cases/{identifier}/events",
            json={"event": "record", "payload": RECORD},
        )
        assert fired.status_code == 200, fired.text
        return identifier


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(
    mode: GenerationMode, live: LiveServer, token: dict[str, str], case_id: str
) -> None:
    api = schemathesis.openapi.from_url(f"{live.url}/openapi.json")

    @given(case=api.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def request(case: Any) -> None:
        parameters = case.path_parameters or {}
        if parameters and hash(repr(case.body)) % 2 == 0:
            for name, value in (
                ("estate", "lakeside"),
                ("case_id", case_id),
                ("process", "repair"),
            ):
                if name in parameters:
                    parameters[name] = value
        case.call_and_validate(base_url=live.url, headers=token, checks=[not_a_server_error])

    request()
    # the generated requests reached the engine, not only the routing's refusals
    metrics = httpx.get(f"{live.url}/metrics").text
    assert 'propflow_events_total{estate="lakeside"' in metrics
