from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.ApiTokenListView.as_view(), name="token_list"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="token_revoke"),
]
