from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operators"

    def ready(self) -> None:
        # Every way of logging in (our login view, the admin's, a test's force_login) ends in
        # django.contrib.auth.login; its signal is the one place that sees them all.
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import schema, security  # noqa: F401 - schema registers the OpenAPI scheme

        def began(sender: object, request: object, user: object, **kwargs: object) -> None:
            if request is not None and hasattr(request, "session"):
                security.session_begin(request, user)  # type: ignore[arg-type]

        def ended(sender: object, request: object, user: object, **kwargs: object) -> None:
            if request is not None and hasattr(request, "session"):
                security.session_forget(request.session.session_key)  # type: ignore[attr-defined]

        user_logged_in.connect(began, dispatch_uid="operators.session_begin", weak=False)
        user_logged_out.connect(ended, dispatch_uid="operators.session_forget", weak=False)
