from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Organisations and projects"

    def ready(self) -> None:
        from . import feed_signals

        feed_signals.connect()  # sign-out, password change, deactivation close live feed sockets
