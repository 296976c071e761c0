"""The Azure Container Apps mTLS recipe as a Django site, with the client
certificate verified by xfcc's middleware: `/cert-info` (the verified
client), `/api/whoami` (Django REST framework: the certificate's user)
and `/health` (open, for the platform's probes).

The policy is the environment, as in the recipe (ALLOWED_CERT_THUMBPRINTS,
any XFCC_* variable, or XFCC_POLICY_FILE), because `XFCC` is not set here;
set it to a dict with the policy file's keys to keep the policy in
settings instead:

    XFCC = {
        "allow": [{"subject_cn": ["client-app.contoso.example"], "chain": "contoso"}],
        "chain": {"contoso": {"trust_anchors": "ca.pem"}},   # relative to BASE_DIR
    }

Serve it with gunicorn (WSGI; it drops header names with underscores) or
uvicorn (ASGI; the middleware reads the raw header list), without proxy
headers:

    gunicorn django_example.wsgi
    uvicorn django_example.asgi:application --no-proxy-headers
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_example.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
# No sessions: each request is authenticated by its certificate alone
# (ClientCertMiddleware sets request.user through the backend below).
MIDDLEWARE = ["xfcc.django.ClientCertMiddleware"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ.get("DJANGO_DB", str(BASE_DIR / "db.sqlite3"))}}
USE_TZ = True
# The certificate's user: the user whose username is its SPIFFE ID.
AUTHENTICATION_BACKENDS = ["xfcc.django.ClientCertBackend"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["xfcc.django.rest_framework.ClientCertAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
XFCC_EXEMPT = ["/health"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"xfcc": {"handlers": ["console"], "level": "INFO"}},
}
