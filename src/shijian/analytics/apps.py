from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "shijian.analytics"
    label = "analytics"
    verbose_name = "Analytics"
