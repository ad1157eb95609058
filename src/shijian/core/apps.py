from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shijian.core"
    label = "core"
    verbose_name = "Core"
