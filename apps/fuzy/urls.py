"""The Fuzy-style API under /v3/."""

from django.urls import path

from apps.fuzy import apis

urlpatterns = [
    path("product", apis.ProductListApi.as_view(), name="fuzy-product-list"),
    path("product/<str:product_id>", apis.ProductDetailApi.as_view(), name="fuzy-product"),
    path("account", apis.AccountListApi.as_view(), name="fuzy-account-list"),
    path("account/<str:account_id>", apis.AccountDetailApi.as_view(), name="fuzy-account"),
    path("user", apis.UserListApi.as_view(), name="fuzy-user-list"),
    path("user/<str:user_id>", apis.UserDetailApi.as_view(), name="fuzy-user"),
    path("event", apis.EventApi.as_view(), name="fuzy-event"),
]
