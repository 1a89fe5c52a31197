"""Domain errors raised by the service layer; views and API turn them into 4xx answers."""


class DomainError(Exception):
    """A rule of the desk refused the action; the message says which, for the operator."""

    status_code = 409
    # Which rule refused, for a form that offers a way past it (an over-the-limit confirmation).
    code = "refused"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        # The input the rule is about, when there is one: a page shows the message beside it.
        self.field = field


class CaseNotFound(DomainError):
    """Missing or not yours: the same answer for both, so a case's existence does not leak."""

    status_code = 404


class NotAllowed(DomainError):
    """The actor can see the case but their role does not allow this action."""

    status_code = 403


class InvalidTransition(DomainError):
    """The case's stage does not allow this action now."""

    status_code = 409


class InvalidInput(DomainError):
    status_code = 400


class OverCapacity(InvalidTransition):
    """Giving the case(s) would take an operator past their capacity; a supervisor may confirm."""

    code = "over_capacity"
