"""Domain errors raised by the service layer; views and API turn them into 4xx answers."""


class DomainError(Exception):
    """A rule of the desk refused the action; the message says which, for the operator."""

    status_code = 409


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
