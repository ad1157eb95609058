from django.urls import include, path

from shijian.api.api import api
from shijian.ops.views import metrics

urlpatterns = [
    path("metrics", metrics, name="metrics"),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("shijian.web.urls")),
]

handler400 = "shijian.web.views.bad_request"
