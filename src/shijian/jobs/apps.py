from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "shijian.jobs"
    label = "jobs"
    verbose_name = "Jobs"
