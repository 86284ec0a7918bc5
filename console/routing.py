from django.urls import path

from .consumers import SerialConsumer, VncConsumer

websocket_urlpatterns = [
    path("ws/instances/<int:pk>/vnc/", VncConsumer.as_asgi()),
    path("ws/instances/<int:pk>/serial/", SerialConsumer.as_asgi()),
]
