from django.apps import AppConfig


class TranslogConfig(AppConfig):
    name = "shijian.translog"
    label = "translog"
    verbose_name = "Transparency log"
