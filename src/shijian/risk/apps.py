from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "shijian.risk"
    label = "risk"
    verbose_name = "Risk"
