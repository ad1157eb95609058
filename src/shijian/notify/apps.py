from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "shijian.notify"
    label = "notify"
    verbose_name = "Notifications"
