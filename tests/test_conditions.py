"""The condition language: parsing, precedence, errors, limits, checking, evaluation, rendering."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.conditions import (
    MAX_DEPTH,
    MAX_LENGTH,
    BoolOp,
    Compare,
    ConditionScope,
    ConditionSyntaxError,
    EvalContext,
    Expr,
    FieldInfo,
    ListLiteral,
    Literal,
    Name,
    Not,
    check_condition,
    evaluate,
    parse_condition,
    referenced_names,
    to_text,
)
from engine.conditions.ast import CompareOp, iter_nodes

# -- helpers ------------------------------------------------------------------------------------


def n(dotted: str) -> Name:
    return Name(tuple(dotted.split(".")))


def lit(value: str | int | Decimal | bool | None) -> Literal:
    return Literal(value)


def cmp(op: CompareOp, left: Expr, right: Expr) -> Compare:
    return Compare(op, left, right)


def shape(expr: Expr) -> object:
    """The tree as nested tuples, with each literal's Python type: `==` on nodes alone would let
    true equal 1 and Decimal('1.0') equal 1, since bool and Decimal compare equal to int."""
    if isinstance(expr, Literal):
        return ("lit", type(expr.value).__name__, repr(expr.value))
    if isinstance(expr, ListLiteral):
        return ("list", tuple(shape(item) for item in expr.items))
    if isinstance(expr, Name):
        return ("name", expr.path)
    if isinstance(expr, Not):
        return ("not", shape(expr.operand))
    if isinstance(expr, Compare):
        return ("cmp", expr.op, shape(expr.left), shape(expr.right))
    return (expr.op, tuple(shape(operand) for operand in expr.operands))


def syntax_error(text: str) -> ConditionSyntaxError:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    return info.value


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urgency == 'urgent'", cmp("==", n("urgency"), lit("urgent"))),
        ('urgency == "urgent"', cmp("==", n("urgency"), lit("urgent"))),
        ("actor.role != 'head'", cmp("!=", n("actor.role"), lit("head"))),
        ("payload.fee >= 100", cmp(">=", n("payload.fee"), lit(100))),
        ("hours < 2.5", cmp("<", n("hours"), lit(Decimal("2.5")))),
        ("hours > -3", cmp(">", n("hours"), lit(-3))),
        ("x <= 0", cmp("<=", n("x"), lit(0))),
        ("chargeable == true", cmp("==", n("chargeable"), lit(True))),
        ("chargeable == false", cmp("==", n("chargeable"), lit(False))),
        ("phone == null", cmp("==", n("phone"), lit(None))),
        ("state in ['a', \"b\"]", cmp("in", n("state"), ListLiteral((lit("a"), lit("b"))))),
        ("state not in []", cmp("not in", n("state"), ListLiteral(()))),
        ("'head' in actor.roles", cmp("in", lit("head"), n("actor.roles"))),
        (
            "x in [1, 2.50, true, null]",
            cmp("in", n("x"), ListLiteral((lit(1), lit(Decimal("2.50")), lit(True), lit(None)))),
        ),
        ("chargeable", n("chargeable")),
        ("true", lit(True)),
        ("not chargeable", Not(n("chargeable"))),
        ("((x))", n("x")),
        ("a\n  and\tb", BoolOp("and", (n("a"), n("b")))),
        ("unit == '3栋 1201'", cmp("==", n("unit"), lit("3栋 1201"))),
        (r"note == 'it\'s \"x\" \\ \n\t\r'", cmp("==", n("note"), lit('it\'s "x" \\ \n\t\r'))),
        (r'note == "say \"hi\""', cmp("==", n("note"), lit('say "hi"'))),
        (r"note == '\u4e2d\U0001F600\u000b'", cmp("==", n("note"), lit("中\U0001f600\x0b"))),
    ],
)
def test_parse(text: str, expected: Expr) -> None:
    cond = parse_condition(text)
    assert cond.text == text
    assert shape(cond.expr) == shape(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # or < and < not < comparison
        ("a or b and c", BoolOp("or", (n("a"), BoolOp("and", (n("b"), n("c")))))),
        ("a and b or c", BoolOp("or", (BoolOp("and", (n("a"), n("b"))), n("c")))),
        ("(a or b) and c", BoolOp("and", (BoolOp("or", (n("a"), n("b"))), n("c")))),
        ("not a and b", BoolOp("and", (Not(n("a")), n("b")))),
        ("not (a and b)", Not(BoolOp("and", (n("a"), n("b"))))),
        ("not a == 1", Not(cmp("==", n("a"), lit(1)))),
        ("not not a", Not(Not(n("a")))),
        (
            "a == 1 or b != 2 and not c in [3]",
            BoolOp(
                "or",
                (
                    cmp("==", n("a"), lit(1)),
                    BoolOp(
                        "and",
                        (cmp("!=", n("b"), lit(2)), Not(cmp("in", n("c"), ListLiteral((lit(3),))))),
                    ),
                ),
            ),
        ),
        # chains of one operator are flat; explicit parentheses keep a nested chain
        ("a and b and c", BoolOp("and", (n("a"), n("b"), n("c")))),
        ("a or b or c or d", BoolOp("or", (n("a"), n("b"), n("c"), n("d")))),
        ("a and (b and c)", BoolOp("and", (n("a"), BoolOp("and", (n("b"), n("c")))))),
        # a parenthesised condition can be compared
        ("(a == 1) == true", cmp("==", cmp("==", n("a"), lit(1)), lit(True))),
        ("a not in b", cmp("not in", n("a"), n("b"))),
    ],
)
def test_precedence(text: str, expected: Expr) -> None:
    assert shape(parse_condition(text).expr) == shape(expected)


def test_literal_types_are_exact() -> None:
    expr = parse_condition("x in [1, 1.0, true, '1', null]").expr
    assert isinstance(expr, Compare) and isinstance(expr.right, ListLiteral)
    values = [item.value for item in expr.right.items]
    assert [type(value) for value in values] == [int, Decimal, bool, str, type(None)]
    assert values[1] == Decimal("1.0") and str(values[1]) == "1.0"


def test_nodes_keep_offsets() -> None:
    expr = parse_condition("urgency == 'urgent' or not actor.role in ['a', 'b']").expr
    assert isinstance(expr, BoolOp)
    first, second = expr.operands
    assert isinstance(first, Compare) and isinstance(second, Not)
    assert (first.left.offset, first.offset, first.right.offset) == (0, 8, 11)
    assert second.offset == 23
    inner = second.operand
    assert isinstance(inner, Compare) and isinstance(inner.right, ListLiteral)
    assert (inner.left.offset, inner.offset, inner.right.offset) == (27, 38, 41)
    assert [item.offset for item in inner.right.items] == [42, 47]


def test_offsets_do_not_affect_equality() -> None:
    assert parse_condition("a==1").expr == parse_condition("  ( a  ==  1 ) ").expr


# -- syntax errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("", 0, "the condition is empty"),
        ("   ", 0, "the condition is empty"),
        ("urgency ==", 10, "the condition ends too early: a value is missing after '=='"),
        ("urgency = 'urgent'", 8, "use '==' to compare"),
        ("a && b", 2, "use 'and' instead of '&&'"),
        ("a || b", 2, "use 'or' instead of '||'"),
        ("!a", 0, "use 'not' instead of '!'"),
        ("a <> b", 2, "use '!='"),
        ("x is null", 2, "use '==' or '!=' instead of 'is'"),
        ("(x is null)", 3, "use '==' or '!=' instead of 'is'"),
        ("(a == 1", 0, "this '(' is never closed"),
        ("a == 1)", 6, "')' has no matching '('"),
        ("a < b < c", 6, "comparisons cannot be chained"),
        ("(a == b != c)", 8, "comparisons cannot be chained"),
        ("a == 1 b", 7, "the name 'b' is not expected after a complete condition (is an"),
        ("a == 'x' 'y'", 9, "the text 'y' is not expected after a complete condition"),
        ("(a b)", 3, "the name 'b' is not expected inside parentheses"),
        ("a not b", 6, "expected 'in' after 'not'"),
        ("x == 'open", 5, "has no closing quote (')"),
        ('x == "open', 5, 'has no closing quote (")'),
        ("x == 'a\\qb'", 7, "a backslash in text must be followed by"),
        ("x == 'a\\", 7, "not the end of the condition; write \\\\ for a backslash"),
        ("x == 'a\\\n'", 7, "not U+000A"),
        ("x == '\\u12'", 6, "'\\u' must be followed by 4 hexadecimal digits"),
        ("x == '\\u12G4'", 6, "'\\u' must be followed by 4 hexadecimal digits"),
        ("x == '\\U00110000'", 6, "'\\U00110000' is not a character"),
        ("x == True", 5, "write 'true' in lower case"),
        ("a AND b", 2, "write 'and' in lower case"),
        ("x == NULL", 5, "write 'null' in lower case"),
        ("x == 3d", 5, "a number cannot be followed directly by letters"),
        ("x == 1.", 6, "a decimal number needs digits after the point"),
        ("x == 1.2.3", 5, "a number cannot be followed directly by letters or another point"),
        ("actor.", 6, "a name part must follow the '.'"),
        ("actor..role", 6, "a name part must follow the '.'"),
        (
            "x in [urgent]",
            6,
            "list items must be values; to mean the text urgent, put it in quotes: 'urgent'",
        ),
        ("x in [1, [2]]", 9, "list items must be values"),
        ("x in [1,]", 8, "a value is missing before ']'"),
        ("x in [1 2]", 8, "expected ',' or ']' in the list"),
        ("x in [1, 2", 5, "this '[' is never closed"),
        ("x == (", 6, "the condition ends too early"),
        ("x not in", 8, "the condition ends too early: a value is missing after 'not in'"),
        ("x > 0.0000001 1", 14, "the number 1 is not expected"),
        ("x < 1 0.0000001", 6, "the number 0.0000001 is not expected"),
        ("and", 0, "expected a value"),
        ("x == ==", 5, "expected a value"),
        ("x == a.b(1)", 8, "'(' is not expected after a complete condition"),
        ("x == y[0]", 6, "'[' is not expected"),
        ("x + 1 == 2", 2, "unexpected character '+'"),
        ("x == -y", 5, "unexpected character '-'"),
        ("（a == 1）", 0, "full-width character '（'"),
        ("a == ‘x’", 5, "full-width character '‘'"),
        ("a\u3000== 1", 1, "type a space instead"),
        ("x == 1\x00", 6, "unexpected character U+0000"),
        ("__import__('os')", 10, "'(' is not expected"),
    ],
)
def test_syntax_errors(text: str, offset: int, message: str) -> None:
    error = syntax_error(text)
    assert error.offset == offset
    assert message in error.message
    assert len(error.message.splitlines()) == 1
    assert str(error) == f"{error.message} (at character {offset + 1})"


def test_syntax_error_is_a_value_error() -> None:
    # So that pydantic validators turn it into an ordinary validation error.
    assert issubclass(ConditionSyntaxError, ValueError)


def test_non_text_condition_is_a_syntax_error() -> None:
    with pytest.raises(ConditionSyntaxError, match="must be text"):
        parse_condition(42)  # type: ignore[arg-type]


# -- limits -------------------------------------------------------------------------------------


def test_length_limit() -> None:
    at_limit = ("a" + " or a" * 399).ljust(MAX_LENGTH)
    assert len(at_limit) == MAX_LENGTH
    expr = parse_condition(at_limit).expr
    assert isinstance(expr, BoolOp) and len(expr.operands) == 400
    error = syntax_error(at_limit + " ")
    assert error.offset == MAX_LENGTH
    assert "too long" in error.message


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("not ", ""), ("not (", ")"), ("(not ", ")")],
)
def test_nesting_limit(opening: str, closing: str) -> None:
    # Count levels as the parser does: every "(" and every "not" is one level.
    levels_per_unit = opening.count("(") + opening.count("not")
    units_at_limit = MAX_DEPTH // levels_per_unit
    ok = opening * units_at_limit + "x" + closing * units_at_limit
    parse_condition(ok)
    too_deep = opening * (units_at_limit + 1) + "x" + closing * (units_at_limit + 1)
    error = syntax_error(too_deep)
    assert "nested too deeply" in error.message
    assert too_deep[error.offset] in "(n"


def test_exactly_fifty_levels_parse_and_fifty_one_do_not() -> None:
    parse_condition("(" * 50 + "x" + ")" * 50)
    error = syntax_error("(" * 51 + "x" + ")" * 51)
    assert error.offset == 50


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000,
        "(" * 999 + "x" + ")" * 999,
        "not " * 499 + "x",
        "[" * 1000,
        "x == " + "(" * 990,
        "x == 1 " + ")" * 1000,
    ],
)
def test_hostile_input_is_a_syntax_error_never_a_recursion_error(text: str) -> None:
    syntax_error(text)


def test_long_flat_chains_are_fine() -> None:
    # and/or chains are flat, so their length does not count as nesting.
    expr = parse_condition("a" + " and a" * 330).expr
    assert isinstance(expr, BoolOp) and len(expr.operands) == 331


# -- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("urgency=='urgent'", "urgency == 'urgent'"),
        ('x == "it\'s"', "x == 'it\\'s'"),
        ("x == 'a\nb'", "x == 'a\\nb'"),
        ("x == 'a\u2028b\x00c\U000e0001'", "x == 'a\\u2028b\\u0000c\\U000e0001'"),
        ("x == '中文 ok'", "x == '中文 ok'"),
        ("(a)and(b)", "a and b"),
        ("((a or b)) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("a and (b and c)", "a and (b and c)"),
        ("not (a == 1)", "not a == 1"),
        ("not (a or b)", "not (a or b)"),
        ("(a == 1) == (b == 2)", "(a == 1) == (b == 2)"),
        ("(not a) == true", "(not a) == true"),
        ("x in [1,2.50,  null,true]", "x in [1, 2.50, null, true]"),
        ("x not   in []", "x not in []"),
        ("x == 0.0000001", "x == 0.0000001"),
        ("x == -0.0", "x == -0.0"),
    ],
)
def test_to_text(text: str, canonical: str) -> None:
    expr = parse_condition(text).expr
    assert to_text(expr) == canonical
    assert shape(parse_condition(canonical).expr) == shape(expr)


# -- referenced names ---------------------------------------------------------------------------


def test_referenced_names() -> None:
    cond = parse_condition(
        "urgency == 'urgent' and (actor.role == 'head' or 'x' in actor.roles) "
        "and not payload.fee > fee and urgency != null and state in ['a']"
    )
    assert referenced_names(cond) == {
        ("urgency",),
        ("actor", "role"),
        ("actor", "roles"),
        ("payload", "fee"),
        ("fee",),
        ("state",),
    }
    assert referenced_names(parse_condition("true")) == frozenset()


# -- checking -----------------------------------------------------------------------------------

SCOPE = ConditionScope(
    fields={
        "urgency": FieldInfo("enum", ("urgent", "general")),
        "scope": FieldInfo("enum", ("public", "in_unit")),
        "unit": FieldInfo("text"),
        "phone": FieldInfo("phone"),
        "fee": FieldInfo("money"),
        "hours": FieldInfo("int"),
        "chargeable": FieldInfo("bool"),
        "handover_date": FieldInfo("date"),
        "appointment_at": FieldInfo("datetime"),
        "defects": FieldInfo("list"),
        "rooms": FieldInfo("list", ("kitchen", "bathroom")),
    },
    roles=frozenset({"receptionist", "supervisor", "technician", "head"}),
    states=frozenset({"reported", "dispatched", "closed"}),
)


@pytest.mark.parametrize(
    "text",
    [
        "urgency == 'urgent' or actor.role == 'supervisor'",
        "payload.urgency != 'general'",
        "urgency in ['urgent', 'general'] and scope not in ['public']",
        "actor.role == 'system'",
        "actor.role in ['head', 'system']",
        "'head' in actor.roles and 'system' not in actor.roles",
        "state == 'closed' or state in ['reported', 'dispatched']",
        "fee > 100 and fee <= 2.50 and hours >= 0 and 3 < hours",
        "handover_date < '2026-12-31' and appointment_at >= '2026-01-01T09:00:00+08:00'",
        "chargeable and not chargeable == false",
        "urgency == null or phone != null or defects == null",
        "unit == payload.unit and fee == payload.fee",
        "'leak' in defects and 'kitchen' in rooms",
        "actor.id == 'u-17' and unit == '3-1201'",
        "true",
        "hours == 3 and fee == 3",
    ],
)
def test_check_accepts_good_conditions(text: str) -> None:
    assert check_condition(parse_condition(text), SCOPE) == []


@pytest.mark.parametrize(
    ("text", "kind", "offset", "suggestion", "message"),
    [
        # unknown names
        (
            "urgncy == 'urgent'",
            "unknown-name",
            0,
            "urgency",
            "field 'urgncy' is not defined (did you mean 'urgency'?)",
        ),
        ("zzz == 1", "unknown-name", 0, None, "field 'zzz' is not defined"),
        (
            "hours == 1 or payload.urgncy == 'urgent'",
            "unknown-name",
            14,
            "payload.urgency",
            "payload field 'urgncy' is not defined (did you mean 'payload.urgency'?)",
        ),
        (
            "actor.rol == 'head'",
            "unknown-name",
            0,
            "actor.role",
            "'actor.rol' is not defined: the actor has only actor.id, actor.role and actor.roles "
            "(did you mean 'actor.role'?)",
        ),
        (
            "role == 'head'",
            "unknown-name",
            0,
            "actor.role",
            "field 'role' is not defined (did you mean 'actor.role'?)",
        ),
        (
            "actor == 'x'",
            "unknown-name",
            0,
            "actor.role",
            "'actor' needs a part: actor.id, actor.role or actor.roles",
        ),
        (
            "payload == 'x'",
            "unknown-name",
            0,
            None,
            "'payload' needs a field name after it, like payload.<field>",
        ),
        (
            "payload.fee.amount > 1",
            "unknown-name",
            0,
            "payload.fee",
            "'payload.fee.amount' is not allowed: a payload name has one part after 'payload.' "
            "(did you mean 'payload.fee'?)",
        ),
        (
            "fee.amount > 1",
            "unknown-name",
            0,
            "fee",
            "'fee.amount' is not allowed: only actor.* and payload.* names have parts after a '.' "
            "(did you mean 'fee'?)",
        ),
        (
            "acter.role == 'head'",
            "unknown-name",
            0,
            "actor.role",
            "'acter.role' is not defined: names with a '.' start with 'actor.' or 'payload.' "
            "(did you mean 'actor.role'?)",
        ),
        (
            "stat == 'closed'",
            "unknown-name",
            0,
            "state",
            "field 'stat' is not defined (did you mean 'state'?)",
        ),
        (
            "urgency == urgent",
            "unknown-name",
            11,
            "'urgent'",
            "'urgent' is not a field; to compare with the text urgent, put it in quotes: 'urgent'",
        ),
        (
            "state == closed",
            "unknown-name",
            9,
            "'closed'",
            "'closed' is not a field; to compare with the text closed, put it in quotes: 'closed'",
        ),
        # impossible values
        (
            "urgency == 'urgnt'",
            "impossible-value",
            11,
            "urgent",
            "'urgnt' is not a value of enum field 'urgency' (values: urgent, general)",
        ),
        (
            "'Urgent' != urgency",
            "impossible-value",
            0,
            "urgent",
            "'Urgent' is not a value of enum field 'urgency' (values: urgent, general)",
        ),
        (
            "payload.scope in ['public', 'in-unit']",
            "impossible-value",
            28,
            "in_unit",
            "'in-unit' is not a value of enum field 'payload.scope' (values: public, in_unit)",
        ),
        (
            "urgency not in ['zzz']",
            "impossible-value",
            16,
            None,
            "'zzz' is not a value of enum field 'urgency' (values: urgent, general)",
        ),
        (
            "actor.role == 'supervsor'",
            "impossible-value",
            14,
            "supervisor",
            "'supervsor' is not a role of this process "
            "(roles: head, receptionist, supervisor, system, technician)",
        ),
        (
            "actor.role in ['head', 'manager']",
            "impossible-value",
            23,
            None,
            "'manager' is not a role of this process",
        ),
        (
            "'haed' in actor.roles",
            "impossible-value",
            0,
            "head",
            "'haed' is not a role of this process",
        ),
        (
            "state == 'closd'",
            "impossible-value",
            9,
            "closed",
            "'closd' is not a state of this process (states: closed, dispatched, reported)",
        ),
        (
            "state not in ['reported', 'dispached']",
            "impossible-value",
            26,
            "dispatched",
            "'dispached' is not a state of this process",
        ),
        (
            "'bathrom' in rooms",
            "impossible-value",
            0,
            "bathroom",
            "'bathrom' is not an allowed item of list field 'rooms' (values: kitchen, bathroom)",
        ),
        # type mismatches
        (
            "unit < 'b'",
            "type-mismatch",
            5,
            None,
            "text field 'unit' has no order, so '<' cannot be used on it; use ==, != or in",
        ),
        ("urgency >= 'general'", "type-mismatch", 8, None, "enum field 'urgency' has no order"),
        ("chargeable > false", "type-mismatch", 11, None, "bool field 'chargeable' has no order"),
        ("state > 'a'", "type-mismatch", 6, None, "state has no order"),
        (
            "chargeable == 'true'",
            "type-mismatch",
            14,
            "true",
            "bool field 'chargeable' is compared with the text 'true', which can never match; "
            "write true or false without quotes",
        ),
        (
            "chargeable != 'yes'",
            "type-mismatch",
            14,
            None,
            "bool field 'chargeable' is compared with the text 'yes'",
        ),
        (
            "hours > '5'",
            "type-mismatch",
            8,
            "5",
            "int field 'hours' is compared with the text '5', which can never match; "
            "write numbers without quotes",
        ),
        ("fee == 'cheap'", "type-mismatch", 7, None, "money field 'fee' is compared with the text"),
        (
            "unit == 1201",
            "type-mismatch",
            8,
            "'1201'",
            "text field 'unit' is compared with the number 1201, which can never match; "
            "put text in quotes",
        ),
        (
            "urgency == 1",
            "type-mismatch",
            11,
            None,
            "enum field 'urgency' is compared with the number 1",
        ),
        (
            "hours == fee or hours == unit",
            "type-mismatch",
            22,
            None,
            "int field 'hours' is compared with text field 'unit'",
        ),
        (
            "hours < null",
            "type-mismatch",
            6,
            None,
            "comparing with null using '<' is always false; use == null or != null",
        ),
        (
            "handover_date < 'tomorrow'",
            "type-mismatch",
            16,
            None,
            "the text 'tomorrow' is not a date; write it as YYYY-MM-DD",
        ),
        (
            "appointment_at == '9am'",
            "type-mismatch",
            18,
            None,
            "the text '9am' is not a datetime; write it as YYYY-MM-DDTHH:MM",
        ),
        (
            "handover_date < appointment_at",
            "type-mismatch",
            14,
            None,
            "date field 'handover_date' is compared with datetime field 'appointment_at'",
        ),
        (
            "actor.roles == 'head'",
            "type-mismatch",
            0,
            "'head' in actor.roles",
            "actor.roles is a list, so it never equals the text 'head'; "
            "to test one item write 'head' in actor.roles",
        ),
        (
            "urgency in 'urgent'",
            "type-mismatch",
            8,
            None,
            "'in' needs a list on the right, like ['a', 'b'], but the text 'urgent' is not a list",
        ),
        ("'x' in unit", "type-mismatch", 4, None, "but text field 'unit' is not a list"),
        ("urgency in null", "type-mismatch", 8, None, "but null is not a list"),
        (
            "defects in ['a']",
            "type-mismatch",
            8,
            None,
            "the left side of 'in' must be a single value, but list field 'defects' is a list",
        ),
        (
            "hours in [1, 'two']",
            "type-mismatch",
            13,
            None,
            "int field 'hours' is compared with the text 'two'",
        ),
        ("3 in actor.roles", "type-mismatch", 2, None, "actor.roles holds text"),
        (
            "urgency == 'urgent' or 'general'",
            "type-mismatch",
            23,
            None,
            "'general' on its own is not a condition",
        ),
        ("not 1", "type-mismatch", 4, None, "1 on its own is not a condition"),
        ("['a'] and x == 1", "type-mismatch", 0, None, "a list on its own is not a condition"),
    ],
)
def test_check_reports_problem(
    text: str, kind: str, offset: int, suggestion: str | None, message: str
) -> None:
    problems = [p for p in check_condition(parse_condition(text), SCOPE) if p.kind == kind]
    assert len(problems) == 1, check_condition(parse_condition(text), SCOPE)
    problem = problems[0]
    assert problem.offset == offset
    assert problem.suggestion == suggestion
    assert problem.message.startswith(message) or message in problem.message
    assert len(problem.message.splitlines()) == 1


def test_check_reports_every_problem_in_text_order() -> None:
    cond = parse_condition("state == 'closd' and urgncy == 'x' and actor.role == 'hed'")
    problems = check_condition(cond, SCOPE)
    assert [(p.kind, p.offset) for p in problems] == [
        ("impossible-value", 9),
        ("unknown-name", 21),
        ("impossible-value", 53),
    ]


def test_unknown_name_is_not_also_a_type_problem() -> None:
    problems = check_condition(parse_condition("urgncy > 'x'"), SCOPE)
    assert [p.kind for p in problems] == ["unknown-name"]


def test_only_literal_comparisons_are_not_checked() -> None:
    assert check_condition(parse_condition("1 == 'a' or 'b' < 2"), SCOPE) == []


def test_unknown_field_type_is_not_guessed() -> None:
    scope = ConditionScope({"odd": FieldInfo("string")}, frozenset(), frozenset())
    assert check_condition(parse_condition("odd < 3 and odd == 'x'"), scope) == []


# -- evaluation ---------------------------------------------------------------------------------

DATA: dict[str, object] = {
    "urgency": "urgent",
    "hours": 3,
    "fee": Decimal("120.50"),
    "chargeable": True,
    "free": False,
    "unit": "3-1201",
    "defects": ["leak", "crack"],
    "handover_date": date(2026, 6, 1),
    "appointment_at": datetime(2026, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    "naive_at": datetime(2026, 6, 1, 9, 0),
    "ratio": 0.5,
    "nan": Decimal("NaN"),
    "snan": Decimal("sNaN"),
    "empty_text": "",
    "zero": 0,
}
CTX = EvalContext(
    data=DATA,
    actor_id="u-17",
    actor_role="supervisor",
    actor_roles=frozenset({"supervisor", "head"}),
    payload={"urgency": "general", "fee": 80},
    state="reported",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urgency == 'urgent'", True),
        ("urgency != 'urgent'", False),
        ("urgency == 'urgent' or actor.role == 'supervisor'", True),
        ("urgency == 'general' and actor.role == 'supervisor'", False),
        ("actor.id == 'u-17'", True),
        ("state == 'reported'", True),
        ("payload.urgency == 'general' and payload.fee < fee", True),
        ("payload.missing == null", True),
        # missing fields read as null
        ("missing == null", True),
        ("missing != null", False),
        ("missing == 'x'", False),
        ("missing != 'x'", True),
        ("missing < 3", False),
        ("missing >= 3", False),
        ("missing", False),
        ("not missing", True),
        # null only equals null; membership needs a value
        ("null == null", True),
        ("missing in [null, 'a']", False),
        ("missing not in ['a']", False),
        ("urgency in null", False),
        ("urgency not in null", False),
        # numbers compare by value across int and Decimal
        ("hours == 3.0", True),
        ("hours < 3.5", True),
        ("fee > 120", True),
        ("fee == 120.50", True),
        ("fee == 120.5", True),
        ("fee >= 120.51", False),
        ("ratio < 1", True),
        ("hours in [1, 2, 3.00]", True),
        ("hours > -1", True),
        # bools are not numbers
        ("chargeable == true", True),
        ("chargeable == 1", False),
        ("zero == false", False),
        ("chargeable > false", False),
        ("1 == true", False),
        ("true in [1]", False),
        # incompatible ordering is false, never an error
        ("'a' < 3", False),
        ("unit < 3", False),
        ("3 > 'a'", False),
        ("defects < ['z']", False),
        ("urgency > null", False),
        ("nan < 1", False),
        ("nan == nan", False),
        ("snan == 1", False),
        ("snan > 1", False),
        ("appointment_at < naive_at", False),
        ("handover_date < appointment_at", False),
        # text orders as text
        ("'a' < 'b'", True),
        ("unit >= '3'", True),
        # membership
        ("'head' in actor.roles", True),
        ("'manager' in actor.roles", False),
        ("'manager' not in actor.roles", True),
        ("'leak' in defects", True),
        ("'leak' not in defects", False),
        ("urgency in ['urgent', 'general']", True),
        ("urgency not in ['urgent', 'general']", False),
        ("urgency in []", False),
        ("'urg' in urgency", False),  # no substring matching
        ("defects == ['leak', 'crack']", True),
        ("defects == ['crack', 'leak']", False),
        ("actor.roles == ['head', 'supervisor']", True),
        ("actor.roles == ['head']", False),
        # dates compare with ISO text
        ("handover_date == '2026-06-01'", True),
        ("handover_date < '2026-12-31'", True),
        ("handover_date > 'soon'", False),
        ("appointment_at == '2026-06-01T09:00:00+08:00'", True),
        ("appointment_at == '2026-06-01T01:00:00+00:00'", True),
        ("appointment_at < '2026-06-01T10:00'", True),  # same timezone as the field
        ("appointment_at < '2026-06-01T08:30'", False),
        ("naive_at > '2026-06-01T08:00'", True),
        ("handover_date == '2026-06-01T00:00'", False),
        # truthiness of bare values at the top level and in and/or/not
        ("chargeable", True),
        ("free", False),
        ("empty_text", False),
        ("unit", True),
        ("zero or hours", True),
        ("defects and not free", True),
        ("not (a or b)", True),
        ("(hours == 3) == true", True),
        ("(hours == 3) == 1", False),
    ],
)
def test_evaluate(text: str, expected: bool) -> None:
    assert evaluate(parse_condition(text), CTX) is expected


def test_evaluate_short_circuits() -> None:
    # The right side of a decided and/or is never read: a data mapping that fails on the key
    # proves it.
    class Strict(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            if key == "boom":
                raise AssertionError("evaluated past a decided and/or")
            return super().get(key, default)

    ctx = EvalContext(data=Strict(x=1))
    assert evaluate(parse_condition("x == 2 and boom == 1"), ctx) is False
    assert evaluate(parse_condition("x == 1 or boom == 1"), ctx) is True


def test_default_context_is_empty() -> None:
    ctx = EvalContext(data={})
    assert ctx.payload == {} and ctx.actor_roles == frozenset()
    assert evaluate(parse_condition("actor.role == null and state == null"), ctx) is True
    assert evaluate(parse_condition("'head' in actor.roles"), ctx) is False


def test_aware_datetime_with_utc() -> None:
    ctx = EvalContext(data={"at": datetime(2026, 1, 1, 12, 0, tzinfo=UTC)})
    assert evaluate(parse_condition("at > '2026-01-01T11:59Z'"), ctx) is True


# -- properties ---------------------------------------------------------------------------------

_TOKENS = [
    "urgency",
    "actor.role",
    "actor.roles",
    "payload.fee",
    "state",
    "x",
    "and",
    "or",
    "not",
    "in",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'a'",
    '"b"',
    "'",
    "1",
    "-2",
    "3.5",
    "true",
    "false",
    "null",
    "True",
    "=",
    "&&",
    ".",
    "\\",
    "'x\\'y'",
    "\n",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(),
    st.floats(),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.frozensets(st.text(max_size=3)))
CONTEXTS = st.builds(
    EvalContext,
    data=st.dictionaries(st.sampled_from(["urgency", "x", "fee", "state"]), VALUES),
    actor_id=st.none() | st.text(max_size=3),
    actor_role=st.none() | st.sampled_from(["head", "system"]),
    actor_roles=st.frozensets(st.sampled_from(["head", "system", "x"])),
    payload=st.dictionaries(st.sampled_from(["fee", "urgency"]), VALUES),
    state=st.none() | st.text(max_size=3),
)


def _check_only_syntax_errors(text: str) -> None:
    try:
        cond = parse_condition(text)
    except ConditionSyntaxError as error:
        assert 0 <= error.offset <= len(text)
        assert len(error.message.splitlines()) == 1
        return
    # Whatever parses must render, re-parse to the same tree, and check without crashing.
    assert shape(parse_condition(to_text(cond.expr)).expr) == shape(cond.expr)
    check_condition(cond, SCOPE)


@given(st.text(max_size=300))
@settings(max_examples=500)
def test_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    _check_only_syntax_errors(text)


@given(st.lists(st.sampled_from(_TOKENS), max_size=25).map(" ".join))
@settings(max_examples=1000)
def test_token_soup_raises_only_syntax_errors(text: str) -> None:
    _check_only_syntax_errors(text)


_NAMES = st.sampled_from(["urgency", "actor.role", "actor.roles", "payload.fee", "state", "x"]) | (
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=6).filter(
        lambda word: word not in {"and", "or", "not", "in", "true", "false", "null", "is"}
    )
)
_LITERALS = st.builds(
    Literal,
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=1, max_value=6).flatmap(
            lambda places: st.decimals(places=places, allow_nan=False, allow_infinity=False)
        ),
        st.text(max_size=8),
    ),
)
_OPS: list[CompareOp] = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
_ATOMS = st.one_of(
    _LITERALS,
    _NAMES.map(lambda dotted: Name(tuple(dotted.split(".")))),
    st.lists(_LITERALS, max_size=3).map(lambda items: ListLiteral(tuple(items))),
)
EXPRESSIONS: st.SearchStrategy[Expr] = st.recursive(
    _ATOMS,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.builds(Compare, st.sampled_from(_OPS), children, children),
        st.builds(
            BoolOp,
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=4).map(tuple),
        ),
    ),
    max_leaves=25,
)


def _depth(expr: Expr) -> int:
    if isinstance(expr, Not):
        return 1 + _depth(expr.operand)
    if isinstance(expr, Compare):
        return 1 + max(_depth(expr.left), _depth(expr.right))
    if isinstance(expr, BoolOp):
        return 1 + max(_depth(operand) for operand in expr.operands)
    return 1


@given(EXPRESSIONS)
@settings(max_examples=500)
def test_to_text_round_trips(expr: Expr) -> None:
    assume(_depth(expr) <= 20)
    text = to_text(expr)
    assume(len(text) <= MAX_LENGTH)
    reparsed = parse_condition(text).expr
    assert shape(reparsed) == shape(expr)
    assert to_text(reparsed) == text


@given(EXPRESSIONS, CONTEXTS)
@settings(max_examples=500)
def test_evaluate_never_raises(expr: Expr, ctx: EvalContext) -> None:
    assume(_depth(expr) <= 20)
    text = to_text(expr)
    assume(len(text) <= MAX_LENGTH)
    cond = parse_condition(text)
    assert evaluate(cond, ctx) in (True, False)
    check_condition(cond, SCOPE)


def test_iter_nodes_visits_every_node_parents_first() -> None:
    expr = parse_condition("a == 1 and not b in [2, 3]").expr
    nodes = iter_nodes(expr)
    assert [type(node).__name__ for node in nodes] == [
        "BoolOp", "Compare", "Name", "Literal", "Not", "Compare", "Name", "ListLiteral",
        "Literal", "Literal",
    ]  # fmt: skip
