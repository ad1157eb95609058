from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "shijian.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from shijian.registry import signals  # noqa: F401
