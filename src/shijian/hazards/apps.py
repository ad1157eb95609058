from django.apps import AppConfig


class HazardsConfig(AppConfig):
    name = "shijian.hazards"
    label = "hazards"
    verbose_name = "Hazards"
