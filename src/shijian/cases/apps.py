from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shijian.cases"
    label = "cases"
    verbose_name = "Complaints and enforcement cases"
