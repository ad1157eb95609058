from django.apps import AppConfig


class DataAdminConfig(AppConfig):
    name = "shijian.dataadmin"
    label = "dataadmin"
    verbose_name = "Data administration"
    default_auto_field = "django.db.models.BigAutoField"
