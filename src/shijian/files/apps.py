from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "shijian.files"
    label = "files"
    verbose_name = "Files"
