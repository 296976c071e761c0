"""A Django site for the hostile table: the policy file HOSTILE_POLICY
names, /health exempt, every other path the protected view."""

import os

SECRET_KEY = "hostile-table-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_site.urls"
INSTALLED_APPS = []
MIDDLEWARE = ["xfcc.django.ClientCertMiddleware"]
DATABASES = {}
USE_TZ = True
XFCC = os.environ["HOSTILE_POLICY"]
XFCC_EXEMPT = ["/health"]
LOGGING_CONFIG = None
