from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from .. import services
from ..models import ApiToken
from .serializers import ApiTokenCreateSerializer, ApiTokenSerializer, IssuedTokenSerializer


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """Your named API tokens (`Authorization: Token vd_...`). The secret is shown once, when created; DELETE
    revokes. A read-only token is refused on every write, this route included."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return ApiToken.objects.none()
        return services.tokens_of(self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request):
        payload = ApiTokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token, secret = services.issue_token(request.user, **payload.validated_data)
        token.token = secret
        return Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)
