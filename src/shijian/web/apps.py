from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shijian.web"
    label = "web"
    verbose_name = "Web"
