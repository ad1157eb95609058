from django.urls import path

from shijian.dataadmin import views, views_mapping, views_upload

urlpatterns = [
    path("data/", views.home, name="dataadmin_home"),
    path("data/feeds/add/", views.feed_add, name="feed_add"),
    path("data/feeds/<int:pk>/", views.feed_detail, name="feed_detail"),
    path("data/feeds/<int:pk>/mapping/", views_mapping.feed_mapping, name="feed_mapping"),
    path("data/feeds/<int:pk>/upload/", views_upload.feed_upload, name="feed_upload"),
    path("data/feeds/<int:pk>/uploads/", views_upload.upload_create, name="upload_create"),
    path("data/uploads/<int:pk>/", views_upload.upload_detail, name="upload_detail"),
    path("data/feeds/<int:pk>/quarantine/", views.feed_quarantine, name="feed_quarantine"),
    path("data/feeds/<int:pk>/reprocess/", views.feed_reprocess, name="feed_reprocess"),
    path("data/departments/<int:pk>/", views.department_quality, name="department_quality"),
]
