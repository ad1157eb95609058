from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shijian.accounts"
    label = "accounts"
    verbose_name = "Accounts"
