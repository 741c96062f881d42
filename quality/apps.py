from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"

    def ready(self) -> None:
        # Quality's parts of annotation's data manager (dependency inversion: annotation never imports
        # quality): the "mark gold" bulk action, the agreement column, consensus in exported rows.
        from .data_manager import register

        register()
