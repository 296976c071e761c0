from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


def health(request):
    return JsonResponse({"status": "healthy"})


def cert_info(request):
    c = request.client_cert
    return JsonResponse({
        "rule": c.rule,
        "element": c.element,
        "source": c.source,
        "verified_from": c.verified_from,
        "chain_verified": c.chain_verified,
        "identity": {
            "sha256": c.sha256,
            "sha1": c.sha1,
            "subject": c.subject,
            "subject_cn": c.subject_cn,
            "issuer": c.issuer,
            "san_uri": c.san_uri,
            "spiffe_id": c.spiffe_id,
        },
    })


class WhoAmI(APIView):
    """The certificate's user (a user whose username is its SPIFFE ID)."""

    def get(self, request):
        return Response({"user": request.user.get_username(), "sha256": request.auth.sha256})


urlpatterns = [path("health", health), path("cert-info", cert_info), path("api/whoami", WhoAmI.as_view())]
