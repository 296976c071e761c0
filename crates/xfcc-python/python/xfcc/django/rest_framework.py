"""Django REST framework: authentication by the forwarded client
certificate that :class:`xfcc.django.ClientCertMiddleware` verified.

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["xfcc.django.rest_framework.ClientCertAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }

``request.user`` is the certificate's user (found by the
:class:`xfcc.django.ClientCertBackend` in ``AUTHENTICATION_BACKENDS``, or
the default one) and ``request.auth`` the :class:`xfcc.ClientCert`. A
request with no verified client is not authenticated by this class; a
verified one that maps to no active user is refused (403
``{"detail": ...}``). Without the middleware it raises
``ImproperlyConfigured`` (a 500): it verifies nothing itself.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from . import _configured_backend
from .backends import ClientCertBackend

__all__ = ["ClientCertAuthentication"]


class ClientCertAuthentication(BaseAuthentication):
    """Returns ``(user, ClientCert)`` for a request with a verified client."""

    def authenticate(self, request: Any) -> Optional[Tuple[Any, Any]]:
        django_request = getattr(request, "_request", request)
        if not hasattr(django_request, "xfcc_verdict"):
            raise ImproperlyConfigured(
                "xfcc: ClientCertAuthentication needs xfcc.django.ClientCertMiddleware in MIDDLEWARE: "
                "it verifies nothing itself"
            )
        cert = django_request.client_cert
        if cert is None:
            return None
        backend = _configured_backend() or ClientCertBackend()
        user = backend.authenticate(django_request, client_cert=cert)
        if user is None:
            raise exceptions.AuthenticationFailed("no active user for this client certificate")
        return user, cert
