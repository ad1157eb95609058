from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("shijian.web.urls")),
]

handler400 = "shijian.web.views.bad_request"
