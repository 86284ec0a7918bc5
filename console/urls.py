from django.urls import path

from . import views

app_name = "console"
urlpatterns = [
    path("<int:pk>/console/", views.ConsoleView.as_view(), name="instance_console"),
    path("<int:pk>/console/serial/", views.SerialConsoleView.as_view(), name="instance_serial"),
    path("<int:pk>/console/screenshot.png", views.ScreenshotView.as_view(), name="instance_screenshot"),
]
