from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "shijian.supervision"
    label = "supervision"
    verbose_name = "Supervision"
