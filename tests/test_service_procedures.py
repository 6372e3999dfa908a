"""The read-only endpoints a desk client needs besides cases: who the credential is, and a
process's procedure (manual section and diagram) as the estate customised it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.render.svg import find_dot
from engine.store import Store
from tests.service_harness import ESTATES, LiveServer, bearer, serving


@pytest.fixture(scope="module")
def server(workdir: Path, store: Store) -> Iterator[LiveServer]:
    with serving(workdir, f"deployment: test\nstore: cases.db\nestates: {ESTATES}\n") as live:
        yield live


@pytest.fixture(scope="module")
def desk(store: Store) -> dict[str, str]:
    return bearer(store, "lakeside", "li", "receptionist", "cs_supervisor")


def test_me_names_the_credential_s_actor_roles_and_estates(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    me = client.get("/me", headers=desk)
    assert me.status_code == 200
    assert me.json() == {
        "actor": "li",
        "roles": ["cs_supervisor", "receptionist"],
        "estates": ["lakeside"],
    }
    assert client.get("/me").status_code == 401
    assert client.get("/me", headers={"Authorization": "Bearer pf_nothing"}).status_code == 401


def test_the_manual_section_is_the_estate_s_own_in_plain_text_blocks(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    zh = client.get("/estates/lakeside/processes/repair/manual", headers=desk).json()
    assert zh["process"] == "repair" and zh["lang"] == "zh-CN"
    kinds = [block["kind"] for block in zh["blocks"]]
    assert kinds[0] == "heading" and zh["blocks"][0]["text"] == "报修处理"
    assert {"paragraph", "list", "figure"} <= set(kinds)
    # the estate's changes show: lakeside drops the on-site limit the shipped library has
    text = str(zh)
    assert "服务响应30分钟内" in text and "10分钟内到达现场" not in text
    other = client.get(
        "/estates/tingtao/processes/repair/manual",
        headers=bearer(store, "tingtao", "zhou", "receptionist"),
    )
    assert "10分钟内到达现场" in str(other.json())
    en = client.get(
        "/estates/lakeside/processes/repair/manual", params={"lang": "en"}, headers=desk
    ).json()
    assert en["blocks"][0]["text"] == "Repair request"
    # an unknown process, another estate, another language: refused as any request
    unknown = client.get("/estates/lakeside/processes/no_such/manual", headers=desk)
    assert unknown.status_code == 404
    assert client.get("/estates/tingtao/processes/repair/manual", headers=desk).status_code == 404
    wrong = client.get(
        "/estates/lakeside/processes/repair/manual", params={"lang": "fr"}, headers=desk
    )
    assert wrong.status_code == 400


def test_the_diagram_is_svg_drawn_by_graphviz(client: httpx.Client, desk: dict[str, str]) -> None:
    answer = client.get("/estates/lakeside/processes/repair/diagram.svg", headers=desk)
    if find_dot() is None:
        assert answer.status_code == 503 and answer.json()["title"] == "DiagramUnavailable"
        return
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in answer.text and answer.text.rstrip().endswith("</svg>")
    assert "受理中" in answer.text  # the states, labelled in Chinese
    assert client.get("/estates/lakeside/processes/repair/diagram.svg").status_code == 401
