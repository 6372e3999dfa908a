"""The condition language of `if:` guards and time-limit rules.

One small, safe expression language, parsed once at load time and evaluated by closures built
from its tree on first use, never passed to `eval`:
`urgency == 'urgent' or actor.role == 'supervisor'`. See the "Conditions" section of
docs/format.md.

    cond = parse_condition("urgency == 'urgent'")        # ConditionSyntaxError on bad text
    problems = check_condition(cond, scope)              # unknown names, impossible values
    evaluate(cond, EvalContext(data={"urgency": "urgent"}))   # True
"""

from .ast import (
    CHILDREN,
    BoolOp,
    Compare,
    Condition,
    Expr,
    ListLiteral,
    Literal,
    LiteralValue,
    Name,
    Not,
    Quantified,
    referenced_names,
    uses_linked_cases,
)
from .checker import (
    SYSTEM_ROLE,
    ConditionProblem,
    ConditionScope,
    FieldInfo,
    check_condition,
)
from .evaluator import EvalContext, evaluate
from .lexer import KEYWORDS, MAX_LENGTH, ConditionSyntaxError
from .parser import MAX_DEPTH, parse_condition
from .render import to_text

RESERVED_NAMES = KEYWORDS | {"state", "actor", "payload", CHILDREN}
"""Words a field id must not be: the condition language would read them as something else."""

__all__ = [
    "CHILDREN",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESERVED_NAMES",
    "SYSTEM_ROLE",
    "BoolOp",
    "Compare",
    "Condition",
    "ConditionProblem",
    "ConditionScope",
    "ConditionSyntaxError",
    "EvalContext",
    "Expr",
    "FieldInfo",
    "ListLiteral",
    "Literal",
    "LiteralValue",
    "Name",
    "Not",
    "Quantified",
    "check_condition",
    "evaluate",
    "parse_condition",
    "referenced_names",
    "to_text",
    "uses_linked_cases",
]
