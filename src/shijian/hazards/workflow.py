"""The states of an entry and the changes allowed between them. Plain Python: the services and the tests use it.

registered -> assigned -> rectifying -> submitted -> closed (verified, 移出)
                                          submitted -> rectifying (verification failed: the entry becomes 隐患)
any open state -> escalated (立案; by an official, or by the overdue job) -> enforcement_closed (结案)
An entry leaves the library only when closed or enforcement_closed.
"""

from __future__ import annotations

REGISTERED, ASSIGNED, RECTIFYING, SUBMITTED = "registered", "assigned", "rectifying", "submitted"
CLOSED, ESCALATED, ENFORCEMENT_CLOSED = "closed", "escalated", "enforcement_closed"
STATES = (REGISTERED, ASSIGNED, RECTIFYING, SUBMITTED, CLOSED, ESCALATED, ENFORCEMENT_CLOSED)
OPEN = frozenset({REGISTERED, ASSIGNED, RECTIFYING, SUBMITTED, ESCALATED})  # still in the library
OVERDUE_CAN_ESCALATE = frozenset({REGISTERED, ASSIGNED, RECTIFYING})
ENDED = frozenset({CLOSED, ENFORCEMENT_CLOSED})

# (old, new) -> roles that may make the change (department staff only for their own department's entries)
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (REGISTERED, ASSIGNED): frozenset({"leader", "dept_staff"}),
    (ASSIGNED, RECTIFYING): frozenset({"dept_staff"}),
    (RECTIFYING, SUBMITTED): frozenset({"dept_staff", "inspector"}),
    (SUBMITTED, CLOSED): frozenset({"dept_staff", "leader"}),
    (SUBMITTED, RECTIFYING): frozenset({"dept_staff", "leader"}),
    (REGISTERED, ESCALATED): frozenset({"dept_staff", "leader"}),
    (ASSIGNED, ESCALATED): frozenset({"dept_staff", "leader"}),
    (RECTIFYING, ESCALATED): frozenset({"dept_staff", "leader"}),
    (SUBMITTED, ESCALATED): frozenset({"dept_staff", "leader"}),
    (ESCALATED, ENFORCEMENT_CLOSED): frozenset({"dept_staff", "leader"}),
}
NEEDS_EVIDENCE = frozenset({(SUBMITTED, CLOSED), (RECTIFYING, SUBMITTED), (ESCALATED, ENFORCEMENT_CLOSED)})


MESSAGES = {
    "forbidden": "an entry cannot go from {old} to {new}",
    "system": "the system only escalates overdue entries",
    "role": "a {role} cannot move an entry from {old} to {new}",
    "reason": "give the reason for the change",
    "evidence": "this change needs evidence (what was seen, documents, case number)",
}


class TransitionError(ValueError):
    """``code`` names the rule broken (a key of MESSAGES), so that screens can say it in the user's language."""

    def __init__(self, code: str, **params: str) -> None:
        self.code, self.params = code, params
        super().__init__(MESSAGES[code].format(**params))


def allowed_next(state: str) -> list[str]:
    return [new for (old, new) in TRANSITIONS if old == state]


def check(old: str, new: str, role: str, *, system: bool = False, evidence: str = "", reason: str = "") -> None:
    """Raise TransitionError unless ``role`` may move an entry from ``old`` to ``new``."""
    if (old, new) not in TRANSITIONS:
        raise TransitionError("forbidden", old=old, new=new)
    if system:
        if not (new == ESCALATED and old in OVERDUE_CAN_ESCALATE):
            raise TransitionError("system")
    elif role not in TRANSITIONS[(old, new)]:
        raise TransitionError("role", role=role, old=old, new=new)
    if not reason.strip():
        raise TransitionError("reason")
    if (old, new) in NEEDS_EVIDENCE and not evidence.strip():
        raise TransitionError("evidence")
