from django.urls import path

from shijian.translog import views

urlpatterns = [
    path("public/log.json", views.log_json, name="public_log"),
    path("public/log-key.txt", views.public_key, name="public_log_key"),
]
