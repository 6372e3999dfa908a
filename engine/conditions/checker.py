"""Static check of a condition against the process it belongs to.

The evaluator never fails at run time: a misspelt field just reads as null and the guard is
quietly false forever. That is the worst kind of configuration bug, so every mistake that can
be seen from the definitions alone is reported at load time instead, with the offset of the
offending name or value and, where one is close, a "did you mean" suggestion:

- unknown-name: a name that is not a field, `payload.<field>`, `actor.id`, `actor.role`,
  `actor.roles` or `state`;
- impossible-value: text compared with an enum field, `actor.role`/`actor.roles` or `state`
  that is not one of its values, roles or states, so the comparison can never be true;
- type-mismatch: comparisons that can never be true or make no sense for the types involved,
  such as ordering text, comparing a yes/no field with text, or `in` without a list.

Names about child cases are checked against the processes the case opens as children
(`ConditionScope.children`): `children.count` and `children.open` anywhere, and
`children.state` / `children.FIELD` only inside `all(...)` or `any(...)`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal as TypingLiteral

from engine.diagnostics import suggest
from engine.diagnostics.catalogue import say

from .ast import (
    CHILDREN,
    MEMBERSHIP_OPS,
    ORDERING_OPS,
    BoolOp,
    Compare,
    Condition,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
    Quantified,
    iter_nodes,
)
from .render import literal_text

SYSTEM_ROLE = "system"
"""The engine's own role; never declared, always allowed."""

FIELD_TYPES = frozenset(
    {"text", "enum", "bool", "int", "money", "date", "datetime", "phone", "list"}
)

_FAMILY_OF_TYPE = {
    "text": "text",
    "enum": "text",
    "phone": "text",
    "bool": "bool",
    "int": "number",
    "money": "number",
    "date": "date",
    "datetime": "datetime",
    "list": "list",
}
_ORDERED_FAMILIES = frozenset({"number", "date", "datetime"})

ProblemKind = TypingLiteral["unknown-name", "impossible-value", "type-mismatch"]


@dataclass(frozen=True)
class FieldInfo:
    """What the checker needs to know of a declared field.

    `type` is one of FIELD_TYPES. `values` are the allowed values of an enum field, or the
    allowed items of a list field whose items are an enum (empty: anything goes)."""

    type: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConditionScope:
    """The names a condition may use: the process's fields, roles and states."""

    fields: Mapping[str, FieldInfo]
    roles: frozenset[str]
    states: frozenset[str]
    #: The names of the child cases (the processes this one opens with ``link: child``), or
    #: ``None`` when it opens none; their ``roles`` are not used.
    children: ConditionScope | None = None


@dataclass(frozen=True)
class ConditionProblem:
    """One mistake in a condition.

    `offset` is the 0-based character offset into the condition text of the name, value or
    operator at fault. `suggestion`, when one is likely, is what to write instead of the name,
    value or comparison that starts at `offset` (`'urgent'` for a misspelt enum value,
    `actor.role` for `role`), so an editor can offer it as a quick fix."""

    kind: ProblemKind
    message: str
    offset: int
    suggestion: str | None


@dataclass(frozen=True)
class _Domain:
    """The only text values a name can hold, and how to say a value is not one of them."""

    values: tuple[str, ...]
    what: str  # "a value of enum field 'urgency'", "a role of this process", ...
    listing: str  # "values", "roles", "states", in words

    def problem(self, literal: Literal, value: str) -> ConditionProblem | None:
        if value in self.values:
            return None
        return ConditionProblem(
            kind="impossible-value",
            message=say(
                "condition.not_one_of",
                value=literal_text(value),
                what=self.what,
                listing=self.listing,
                values=", ".join(self.values),
            ),
            offset=literal.offset,
            suggestion=_closest(value, self.values),
        )


@dataclass(frozen=True)
class _Kind:
    """What the checker knows of one side of a comparison."""

    family: str | None  # text, number, bool, date, datetime, list; None: null or unknown
    text: str  # how a message names it: "enum field 'urgency'", "the text 'x'"
    name: Name | None = None  # set when this side is a (known) name
    literal: Literal | None = None  # set when this side is a literal
    domain: _Domain | None = None  # for text names with a closed set of values
    item_domain: _Domain | None = None  # for lists of a closed set of values
    item_family: str | None = None  # for lists whose item type is known

    @property
    def is_null(self) -> bool:
        return self.literal is not None and self.literal.value is None

    @property
    def text_value(self) -> str | None:
        if self.literal is not None and isinstance(self.literal.value, str):
            return self.literal.value
        return None


_UNKNOWN = _Kind(family=None, text="")  # never named: its name is reported already


def check_condition(cond: Condition, scope: ConditionScope) -> list[ConditionProblem]:
    """All problems of a parsed condition against a process, in text order."""
    return _Checker(scope).run(cond.expr)


def _closest(word: str, candidates: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = [c for c in candidates if c.lower() == word.lower()]
    return lowered[0] if lowered else None


def _did_you_mean(suggestion: str | None) -> str:
    if not suggestion:
        return ""
    return say("words.hint", parts=say("words.did_you_mean", names=f"'{suggestion}'"))


class _Checker:
    def __init__(self, scope: ConditionScope) -> None:
        self.scope = scope
        self.problems: list[ConditionProblem] = []
        #: Ids of the nodes inside all(...)/any(...) bodies, where a child is being tested.
        self.inside: set[int] = set()
        roles = tuple(sorted(scope.roles | {SYSTEM_ROLE}))
        self.roles = _Domain(roles, say("condition.a_role"), say("condition.roles"))
        self.states = _Domain(
            tuple(sorted(scope.states)), say("condition.a_state"), say("condition.states")
        )

    def run(self, root: Expr) -> list[ConditionProblem]:
        nodes = iter_nodes(root)  # walked once: the checker runs on every condition of a library
        self.inside = {
            id(inner)
            for node in nodes
            if isinstance(node, Quantified)
            for inner in iter_nodes(node.body)
        }
        kinds: dict[int, _Kind] = {}
        for node in nodes:
            if isinstance(node, Name):
                kinds[id(node)] = self.resolve(node)
        self.check_truth_value(root)
        for node in nodes:
            if isinstance(node, Compare):
                self.check_compare(
                    node, self.kind_of(node.left, kinds), self.kind_of(node.right, kinds)
                )
            elif isinstance(node, BoolOp):
                for operand in node.operands:
                    self.check_truth_value(operand)
            elif isinstance(node, Not):
                self.check_truth_value(node.operand)
            elif isinstance(node, Quantified):
                self.check_truth_value(node.body)
                self.check_quantified(node)
        return sorted(self.problems, key=lambda problem: problem.offset)

    def report(
        self, kind: ProblemKind, message: str, offset: int, suggestion: str | None = None
    ) -> None:
        self.problems.append(ConditionProblem(kind, message, offset, suggestion))

    # -- names -------------------------------------------------------------------------------

    def field_kind(self, name: Name, field_name: str) -> _Kind:
        info = self.scope.fields[field_name]
        written = name.dotted
        family = _FAMILY_OF_TYPE.get(info.type)
        domain = item_domain = None
        if info.type == "enum" and info.values:
            domain = _Domain(
                info.values, say("condition.enum_value", field=written), say("condition.values")
            )
        if info.type == "list" and info.values:
            item_domain = _Domain(
                info.values, say("condition.list_item", field=written), say("condition.values")
            )
        return _Kind(
            family=family,
            text=say("condition.field", type=info.type, field=written),
            name=name,
            domain=domain,
            item_domain=item_domain,
        )

    def check_quantified(self, node: Quantified) -> None:
        if self.scope.children is None:
            self.report(
                "unknown-name",
                say("condition.tests_children", name=f"{node.quantifier}(...)"),
                node.offset,
            )

    def resolve_child(self, name: Name) -> _Kind:
        """``children.count``/``children.open``, or inside a quantifier a child's state or
        field, checked against the processes opened as children."""
        path = name.path
        children = self.scope.children
        if children is None:
            self.report(
                "unknown-name",
                say("condition.reads_children", name=name.dotted),
                name.offset,
            )
            return _UNKNOWN
        if len(path) != 2:
            self.report(
                "unknown-name",
                say("condition.children_name", name=name.dotted),
                name.offset,
            )
            return _UNKNOWN
        part = path[1]
        if part in ("count", "open"):
            return _Kind("number", say(f"condition.children_{part}"), name=name)
        if id(name) not in self.inside:
            self.report(
                "unknown-name",
                say("condition.per_child", name=name.dotted),
                name.offset,
            )
            return _UNKNOWN
        if part == "state":
            states = _Domain(
                tuple(sorted(children.states)),
                say("condition.a_child_state"),
                say("condition.states"),
            )
            return _Kind("text", "children.state", name=name, domain=states)
        if part in children.fields:
            return _Checker(children).field_kind(name, part)
        suggestion = _closest(part, [*children.fields, "state", "count", "open"])
        self.report(
            "unknown-name",
            say(
                "condition.no_child_field",
                field=part,
                hint=_did_you_mean(f"children.{suggestion}" if suggestion else None),
            ),
            name.offset,
            f"children.{suggestion}" if suggestion else None,
        )
        return _UNKNOWN

    def resolve(self, name: Name) -> _Kind:
        """The kind of a name, reporting it when it does not exist."""
        path = name.path
        fields = self.scope.fields
        head = path[0]
        if head == CHILDREN and len(path) > 1:
            return self.resolve_child(name)
        if path == ("state",):
            return _Kind("text", "state", name=name, domain=self.states)
        if len(path) == 1 and head in fields:
            return self.field_kind(name, head)
        if path == ("actor", "id"):
            return _Kind("text", "actor.id", name=name)
        if path == ("actor", "role"):
            return _Kind("text", "actor.role", name=name, domain=self.roles)
        if path == ("actor", "roles"):
            return _Kind(
                "list", "actor.roles", name=name, item_domain=self.roles, item_family="text"
            )
        if len(path) == 2 and head == "payload" and path[1] in fields:
            return self.field_kind(name, path[1])
        self.report_unknown(name)
        return _UNKNOWN

    def report_unknown(self, name: Name) -> None:
        path = name.path
        head = path[0]
        fields = list(self.scope.fields)
        actor_names = ["actor.id", "actor.role", "actor.roles"]
        payload_names = [f"payload.{f}" for f in fields]
        if len(path) == 1:
            quoted = self.looks_like_unquoted_value(head)
            if quoted:
                self.report(
                    "unknown-name",
                    say("condition.unquoted", name=head),
                    name.offset,
                    f"'{head}'",
                )
                return
            if head == "actor":
                self.report(
                    "unknown-name",
                    say("condition.actor_part"),
                    name.offset,
                    "actor.role",
                )
                return
            if head == "payload":
                self.report(
                    "unknown-name",
                    say("condition.payload_part"),
                    name.offset,
                )
                return
            suggestion = _closest(head, [*fields, "state"])
            hint = suggest(head, [*fields, "state"])
            if suggestion is None and head in ("id", "role", "roles"):
                suggestion = f"actor.{head}"
                hint = _did_you_mean(suggestion)
            self.report(
                "unknown-name",
                say("condition.no_field", field=head, hint=hint),
                name.offset,
                suggestion,
            )
            return
        dotted = name.dotted
        if head == "actor":
            suggestion = _closest(dotted, actor_names)
            self.report(
                "unknown-name",
                say("condition.no_actor_name", name=dotted, hint=_did_you_mean(suggestion)),
                name.offset,
                suggestion,
            )
            return
        if head == "payload":
            if len(path) == 2:
                suggestion = _closest(dotted, payload_names)
                self.report(
                    "unknown-name",
                    say(
                        "condition.no_payload_field",
                        field=path[1],
                        hint=suggest(dotted, payload_names),
                    ),
                    name.offset,
                    suggestion,
                )
                return
            suggestion = f"payload.{path[1]}" if path[1] in fields else None
            self.report(
                "unknown-name",
                say("condition.payload_parts", name=dotted, hint=_did_you_mean(suggestion)),
                name.offset,
                suggestion,
            )
            return
        if head in fields or head == "state":
            self.report(
                "unknown-name",
                say("condition.no_parts", name=dotted, hint=_did_you_mean(head)),
                name.offset,
                head,
            )
            return
        suggestion = _closest(dotted, actor_names + payload_names)
        self.report(
            "unknown-name",
            say("condition.dotted", name=dotted, hint=_did_you_mean(suggestion)),
            name.offset,
            suggestion,
        )

    def looks_like_unquoted_value(self, word: str) -> bool:
        """Whether a bare word is an enum value, role or state: text that lost its quotes."""
        if word in self.scope.fields:
            return False
        if word in self.scope.roles or word in self.scope.states:
            return True
        return any(word in info.values for info in self.scope.fields.values())

    def kind_of(self, expr: Expr, kinds: dict[int, _Kind]) -> _Kind:
        if isinstance(expr, Name):
            return kinds[id(expr)]
        if isinstance(expr, Literal):
            return _literal_kind(expr)
        if isinstance(expr, ListLiteral):
            return _Kind("list", say("condition.a_list"))
        return _Kind("bool", say("condition.a_condition"))

    # -- comparisons -------------------------------------------------------------------------

    def check_truth_value(self, expr: Expr) -> None:
        """A bare text, number or list where a condition belongs is always true or false."""
        if isinstance(expr, Literal) and not (expr.value is None or isinstance(expr.value, bool)):
            self.report(
                "type-mismatch",
                say("condition.lone_value", value=literal_text(expr.value)),
                expr.offset,
            )
        elif isinstance(expr, ListLiteral):
            self.report(
                "type-mismatch",
                say("condition.lone_list"),
                expr.offset,
            )

    def check_compare(self, node: Compare, left: _Kind, right: _Kind) -> None:
        if left.name is None and right.name is None:
            return  # only literals (or unknown names, already reported)
        if node.op in ORDERING_OPS:
            self.check_ordering(node, left, right)
        elif node.op in MEMBERSHIP_OPS:
            self.check_membership(node, left, right)
        else:
            if left.name is None:
                left, right = right, left
            self.check_equality(node, left, right)

    def check_ordering(self, node: Compare, left: _Kind, right: _Kind) -> None:
        op = node.op
        for side in (left, right):
            if side.is_null:
                self.report(
                    "type-mismatch",
                    say("condition.null_order", op=op),
                    node.offset,
                )
                return
        for side in (left, right):
            # A literal's type is judged against the name it is compared with, below: text is
            # fine next to a date field ('2026-01-31') and wrong next to a number field.
            if side.name is None:
                continue
            if side.family is not None and side.family not in _ORDERED_FAMILIES:
                self.report(
                    "type-mismatch",
                    say("condition.no_order", name=side.text, op=op),
                    node.offset,
                )
                return
        if left.name is None:
            left, right = right, left
        self.check_same_family(node, left, right)

    def check_equality(self, node: Compare, name: _Kind, other: _Kind) -> None:
        if name.family is None or other.family is None or other.is_null:
            return
        value = other.text_value
        if name.family == "list" and other.family != "list" and other.literal is not None:
            replacement = f"{literal_text(other.literal.value)} in {_written(name)}"
            self.report(
                "type-mismatch",
                say(
                    "condition.list_equals",
                    name=name.text,
                    other=other.text,
                    replacement=replacement,
                ),
                min(node.left.offset, node.right.offset),
                replacement,
            )
            return
        if not self.check_same_family(node, name, other):
            return
        if name.domain is not None and value is not None and other.literal is not None:
            self.add(name.domain.problem(other.literal, value))

    def check_membership(self, node: Compare, left: _Kind, right: _Kind) -> None:
        op = node.op
        if right.is_null or (right.family is not None and right.family != "list"):
            self.report(
                "type-mismatch",
                say("condition.needs_list", op=op, right=right.text),
                node.offset,
            )
            return
        if left.family == "list":
            self.report(
                "type-mismatch",
                say("condition.left_list", op=op, left=left.text),
                node.offset,
            )
            return
        if left.is_null:
            self.report(
                "type-mismatch",
                say("condition.null_in", op=op),
                node.offset,
            )
            return
        if isinstance(node.right, ListLiteral):
            if left.name is None:
                return
            for item in node.right.items:
                item_kind = _literal_kind(item)
                if item_kind.is_null or left.family is None:
                    continue
                if not self.check_same_family(node, left, item_kind, offset=item.offset):
                    continue
                value = item_kind.text_value
                if left.domain is not None and value is not None:
                    self.add(left.domain.problem(item, value))
            return
        # A list-valued name on the right: actor.roles or a list field.
        value = left.text_value
        if left.literal is not None and value is not None and right.item_domain is not None:
            self.add(right.item_domain.problem(left.literal, value))
        elif (
            left.family is not None
            and right.item_family is not None
            and left.family != right.item_family
        ):
            self.report(
                "type-mismatch",
                say("condition.holds_text", right=right.text, left=left.text),
                node.offset,
            )

    def check_same_family(
        self, node: Compare, name: _Kind, other: _Kind, offset: int | None = None
    ) -> bool:
        """Report a comparison between different types; True when the types agree."""
        where = offset
        if where is None:
            where = other.literal.offset if other.literal is not None else node.offset
        if name.family is None or other.family is None:
            return True
        value = other.text_value
        if name.family in ("date", "datetime") and value is not None:
            if _parses_as(name.family, value):
                return True
            example = "YYYY-MM-DD" if name.family == "date" else "YYYY-MM-DDTHH:MM"
            self.report(
                "type-mismatch",
                say("condition.not_date", other=other.text, family=name.family, example=example),
                where,
            )
            return False
        if name.family == other.family:
            return True
        suggestion = None
        hint = ""
        if name.family == "bool" and value is not None:
            hint = say("condition.hint_bool")
            if value.lower() in ("true", "false"):
                suggestion = value.lower()
        elif name.family == "number" and value is not None:
            hint = say("condition.hint_number")
            if _is_plain_number(value):
                suggestion = value
        elif name.family == "text" and other.family == "number" and other.literal is not None:
            hint = say("condition.hint_text")
            quoted = literal_text(other.literal.value)
            if name.domain is None or quoted in name.domain.values:
                suggestion = f"'{quoted}'"
        self.report(
            "type-mismatch",
            say("condition.never_matches", name=name.text, other=other.text, hint=hint),
            where,
            suggestion,
        )
        return False

    def add(self, problem: ConditionProblem | None) -> None:
        if problem is not None:
            self.problems.append(problem)


def _written(kind: _Kind) -> str:
    return kind.name.dotted if kind.name is not None else kind.text


def _literal_kind(literal: Literal) -> _Kind:
    value = literal.value
    if value is None:
        return _Kind(None, "null", literal=literal)
    if isinstance(value, bool):
        return _Kind("bool", literal_text(value), literal=literal)
    if isinstance(value, str):
        return _Kind("text", say("condition.the_text", value=literal_text(value)), literal=literal)
    return _Kind("number", say("condition.the_number", value=literal_text(value)), literal=literal)


def _parses_as(family: str, value: str) -> bool:
    try:
        if family == "date":
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_plain_number(value: str) -> bool:
    digits = value[1:] if value.startswith("-") else value
    whole, _, fraction = digits.partition(".")
    return (
        whole.isascii()
        and whole.isdigit()
        and (fraction == "" or (fraction.isascii() and fraction.isdigit()))
    )
