"""Party roles (``bound_to``): an owner reaches their own cases and nobody else's.

A post (the key clerk) works on every case of its process; the owner who left keys is a
party to that one case only, named by the case's ``owner_account`` field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.checks.validation import validate_paths
from engine.runtime import Actor, Engine, RoleRefused
from tests.conftest import run_cli

KEYS = """\
process: keys
title: {zh-CN: 保修钥匙, en: Warranty keys}
roles:
  owner: {bound_to: owner_account}
  clerk: {}
fields:
  owner_account: {type: text}
  unit: {type: text}
states:
  left: {initial: true}
  returned: {final: true}
events:
  collect: {from: left, to: returned, roles: [owner]}
  hand_back: {from: left, to: returned, roles: [clerk]}
"""

ZHANG, LI = Actor("zhang", "owner"), Actor("li", "owner")
CLERK = Actor("wu", "clerk")


def _library(tmp_path: Path, text: str = KEYS) -> Path:
    directory = tmp_path / "lib"
    directory.mkdir()
    (directory / "keys.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(library=_library(tmp_path), store="sqlite://")


def test_an_owner_acts_on_their_own_case_and_not_a_neighbours(engine: Engine) -> None:
    mine = engine.open_case("keys", {"owner_account": "zhang", "unit": "3-1-202"}, CLERK)
    with pytest.raises(RoleRefused) as refused:
        engine.fire(mine.id, "collect", LI)
    assert "acts as 'owner' only on their own cases" in refused.value.reason
    assert engine.get_case(mine.id).state == "left"  # nothing written
    assert engine.fire(mine.id, "collect", ZHANG).state == "returned"
    assert [e.role for e in engine.history(mine.id)] == ["clerk", "owner"]


def test_a_case_bound_to_no_one_is_no_owners(engine: Engine) -> None:
    unbound = engine.open_case("keys", {"unit": "3-1-202"}, CLERK)
    with pytest.raises(RoleRefused):
        engine.fire(unbound.id, "collect", ZHANG)


def test_the_events_an_owner_may_fire_say_why_not_on_another_case(engine: Engine) -> None:
    case = engine.open_case("keys", {"owner_account": "zhang"}, CLERK)
    theirs = {o.event: o for o in engine.available_events(case.id, ZHANG)}
    others = {o.event: o for o in engine.available_events(case.id, LI)}
    assert theirs["collect"].allowed and not others["collect"].allowed
    assert "only on their own cases" in (others["collect"].reason or "")


def test_an_owner_opens_a_case_for_themselves_only(engine: Engine) -> None:
    opened = engine.open_case("keys", {"unit": "9-1-101"}, ZHANG)
    assert opened.data["owner_account"] == "zhang"  # filled in from the credential
    with pytest.raises(RoleRefused) as refused:
        engine.open_case("keys", {"owner_account": "li"}, ZHANG)
    assert "for themselves only" in refused.value.reason
    # a post opens for anyone; holding a post as well, the owner acts as the post
    both = Actor("zhang", {"owner", "clerk"})
    assert engine.open_case("keys", {"owner_account": "li"}, both).data["owner_account"] == "li"


def test_a_party_field_must_be_a_text_field_of_the_form(tmp_path: Path) -> None:
    undefined = _library(tmp_path, KEYS.replace("bound_to: owner_account", "bound_to: owner_acc"))
    result = run_cli(["validate", "--format", "json", str(undefined)])
    diagnostics = json.loads(result.output)["diagnostics"]
    found = [(d["code"], d["line"], d["column"]) for d in diagnostics if d["severity"] == "error"]
    assert result.exit_code == 1 and found == [("PF105", 4, 21)]
    dated = tmp_path / "dated"
    dated.mkdir()
    (dated / "keys.yaml").write_text(
        KEYS.replace("owner_account: {type: text}", "owner_account: {type: date}"), "utf-8"
    )
    (diagnostic,) = [d for d in validate_paths([dated]).diagnostics if d.code != "PF302"]
    assert diagnostic.code == "PF116" and (diagnostic.span.line, diagnostic.span.column) == (4, 21)
    assert "must be 'text'" in diagnostic.message


def test_the_shipped_procedures_bind_their_owner(engine: Engine) -> None:
    shipped = Engine(store="sqlite://")
    bound = {p for p in shipped.processes if "owner" in shipped.definition(p).roles}
    assert bound >= {"repair", "complaint", "renovation", "handover", "paid_service"}
    assert all(shipped.definition(p).roles["owner"].bound_to == "owner_account" for p in bound)
    shipped.close()
