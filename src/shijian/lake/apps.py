from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "shijian.lake"
    label = "lake"
    verbose_name = "Lake"
