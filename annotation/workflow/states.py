"""The item state machine of the labeling workflow. Pure: no Django imports.

    open ──(last slot submitted, not sampled)──────────────► completed
      │                                                          ▲  │
      └─(last slot submitted, sampled for review)─► in_review ───┘  │ (re-review: label migration)
                                                     │   ▲  ▲ ◄─────┘
                              (a reviewer rejects)   ▼   │  │
                                                 correction  (corrections resubmitted)

    Escalation (more annotators) moves in_review, correction or completed back to open.

Every transition goes through annotation.workflow.services (which checks it with `ensure_transition`), is
audited and announced on the project feed after commit. docs/WORKFLOW.md draws the same machine.
"""

OPEN = "open"
IN_REVIEW = "in_review"
CORRECTION = "correction"
COMPLETED = "completed"

STATES = (OPEN, IN_REVIEW, CORRECTION, COMPLETED)

TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({IN_REVIEW, COMPLETED}),
    IN_REVIEW: frozenset({COMPLETED, CORRECTION, OPEN}),
    CORRECTION: frozenset({IN_REVIEW, OPEN}),
    COMPLETED: frozenset({IN_REVIEW, OPEN}),
}


class InvalidTransition(Exception):
    def __init__(self, source: str, target: str):
        super().__init__(f"An item cannot go from {source} to {target}.")
        self.source, self.target = source, target


def ensure_transition(source: str, target: str) -> None:
    """Raise InvalidTransition unless the machine allows source -> target."""
    if target not in TRANSITIONS.get(source, frozenset()):
        raise InvalidTransition(source, target)


def sampled_for_review(item_id: int, fraction: float) -> bool:
    """Whether an item goes to review, for a review fraction in [0, 1]. Deterministic per item (a
    multiplicative hash of its id), so a retried transition decides the same way, and spread evenly:
    over many items the share sampled is `fraction`."""
    if fraction >= 1:
        return True
    if fraction <= 0:
        return False
    return ((item_id * 2654435761) % 2**32) / 2**32 < fraction


def state_after_reviews(reviews: list[str]) -> str:
    """The item state once reviewers have decided: `reviews` are its annotations' review values."""
    if any(review == "pending" for review in reviews):
        return IN_REVIEW
    if any(review == "rejected" for review in reviews):
        return CORRECTION
    return COMPLETED
