"""Django: the middleware under both of Django's handlers (WSGI and ASGI),
the backend in the shape of RemoteUserBackend, the REST framework class
and the settings (the hostile table under gunicorn and uvicorn:
test_hostile.py)."""

import asyncio
import os
import tempfile

import django
import pytest
from django.conf import settings

from conftest import CERTS, capture

CN = "client-app.contoso.example"
DB = os.path.join(tempfile.mkdtemp(), "db.sqlite3")
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xfcc.django.ClientCertMiddleware",
]
POLICY = {
    "allow": [{"name": "partner", "subject_cn": [CN], "chain": "contoso"}],
    "chain": {"contoso": {"trust_anchors": str(CERTS / "root.pem")}},
}

if not settings.configured:
    settings.configure(
        SECRET_KEY="tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions",
                        "rest_framework"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB}},
        MIDDLEWARE=MIDDLEWARE,
        AUTHENTICATION_BACKENDS=["test_django.SpiffeBackend", "django.contrib.auth.backends.ModelBackend"],
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["xfcc.django.rest_framework.ClientCertAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "UNAUTHENTICATED_USER": None,
        },
        XFCC=POLICY,
        XFCC_EXEMPT=["/health"],
        # The test client is no known server; a real one is (test_hostile).
        XFCC_PROXY_DROPS_UNDERSCORES=True,
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

import xfcc  # noqa: E402
from xfcc.django import ClientCertBackend, ClientCertMiddleware  # noqa: E402

User = get_user_model()


class SpiffeBackend(ClientCertBackend):
    user_key = "spiffe_id"


class CreatingBackend(ClientCertBackend):
    user_key = "sha256"
    create_unknown_user = True


def whoami(request):
    c = request.client_cert
    return JsonResponse({
        "cn": c.subject_cn if c else None,
        "user": request.user.get_username() if request.user.is_authenticated else None,
        "would_deny": request.xfcc_rejection.code if request.xfcc_rejection else None,
    })


def health(request):
    return JsonResponse({"cert": request.client_cert is not None})


class ApiWhoami(APIView):
    def get(self, request):
        return Response({"user": request.user.get_username(), "sha256": request.auth.sha256})


urlpatterns = [path("whoami", whoami), path("health", health), path("api/whoami", ApiWhoami.as_view())]

SPIFFE = xfcc.Policy.from_settings(POLICY).verify(capture("rsa-chain")).spiffe_id
SHA256 = xfcc.Policy.from_settings(POLICY).verify(capture("rsa-chain")).sha256


@pytest.fixture(autouse=True)
def no_users():
    User.objects.all().delete()
    yield


def get(path, header=None, **extra):
    headers = {"X-Forwarded-Client-Cert": header} if header is not None else {}
    return Client().get(path, headers=headers, **extra)


def test_the_middleware_verifies_and_sets_request_client_cert():
    r = get("/whoami", capture("rsa-chain"))
    assert r.status_code == 200 and r.json()["cn"] == [CN]
    r = get("/whoami", capture("wrong-cn"))
    assert (r.status_code, r.json()) == (403, {"error": "not_allowed"})
    r = get("/whoami", capture("self-signed-lookalike"))
    assert r.status_code == 403
    assert (get("/whoami").status_code, get("/whoami").json()) == (403, {"error": "missing"})
    assert get("/health").json() == {"cert": False}


def asgi_get(headers):
    """One GET through Django's own ASGI handler, with the scope's header
    list as a server writes it (names as the client sent them)."""
    from django.core.asgi import get_asgi_application

    app = get_asgi_application()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/whoami", "raw_path": b"/whoami", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1")] + headers, "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}
    out = {"body": b""}
    sent = []

    async def receive():
        if not sent:
            sent.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # no disconnect: Django cancels this once it answered

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    import json

    return out["status"], json.loads(out["body"])


def test_under_asgi_the_raw_headers_are_read_never_django_s_merged_meta():
    # Django's ASGI request joins a client's X_Forwarded_Client_Cert into
    # HTTP_X_FORWARDED_CLIENT_CERT; the middleware reads the scope's list,
    # where it is another name.
    status, body = asgi_get([(b"x-forwarded-client-cert", capture("rsa-chain").encode())])
    assert status == 200 and body["cn"] == [CN]
    assert asgi_get([(b"x_forwarded_client_cert", capture("rsa-chain").encode())]) == (403, {"error": "missing"})
    # Beside the real header, the look-alike does not reach the verdict
    # (in META, Django would join the two with a comma).
    status, body = asgi_get([(b"x-forwarded-client-cert", capture("wrong-cn").encode()),
                             (b"x_forwarded_client_cert", capture("rsa-chain").encode())])
    assert (status, body) == (403, {"error": "not_allowed"})


def test_the_middleware_is_sync_and_async_capable():
    sync_mw = ClientCertMiddleware(lambda request: None)
    assert not asyncio.iscoroutinefunction(sync_mw)

    async def get_response(request):
        return None

    async_mw = ClientCertMiddleware(get_response)
    from asgiref.sync import iscoroutinefunction

    assert iscoroutinefunction(async_mw)


@override_settings(XFCC_PROXY_DROPS_UNDERSCORES=False)
def test_under_a_server_that_keeps_underscores_every_request_is_refused():
    r = get("/whoami", capture("rsa-chain"))
    assert (r.status_code, r.json()) == (500, {"error": "unsafe_server"})
    r = get("/whoami", capture("rsa-chain"), SERVER_SOFTWARE="gunicorn/23.0.0")
    assert r.status_code == 200


def test_request_user_is_the_certificate_s_user_by_spiffe_id():
    assert get("/whoami", capture("rsa-chain")).json()["user"] is None
    User.objects.create(username=SPIFFE)
    assert get("/whoami", capture("rsa-chain")).json()["user"] == SPIFFE


def test_an_inactive_user_does_not_authenticate():
    User.objects.create(username=SPIFFE, is_active=False)
    assert get("/whoami", capture("rsa-chain")).json()["user"] is None


@override_settings(AUTHENTICATION_BACKENDS=["test_django.CreatingBackend"])
def test_unknown_users_are_created_inactive_only_when_asked():
    assert get("/whoami", capture("rsa-chain")).json()["user"] is None
    created = User.objects.get(username=SHA256)
    assert created.is_active is False
    created.is_active = True
    created.save()
    assert get("/whoami", capture("rsa-chain")).json()["user"] == SHA256


def test_the_backend_alone_creates_no_one_and_keys_a_certificate_holds_twice_name_no_one():
    cert = xfcc.Policy.from_settings(POLICY).verify(capture("rsa-chain"))
    assert ClientCertBackend().authenticate(None, client_cert=cert) is None
    assert User.objects.count() == 0
    assert ClientCertBackend().authenticate(None, client_cert="not a certificate") is None

    class ByCN(ClientCertBackend):
        user_key = "subject_cn"

    User.objects.create(username=CN)
    assert ByCN().authenticate(None, client_cert=cert).get_username() == CN
    from xfcc.django.backends import USER_KEYS

    class TwoCNs:
        subject_cn = ["a", "b"]
        san_email = ["x@example.com", "y@example.com"]

    assert USER_KEYS["subject_cn"](TwoCNs) is None and USER_KEYS["email"](TwoCNs) is None

    class Typo(ClientCertBackend):
        user_key = "spiffe"

    with pytest.raises(ImproperlyConfigured, match="user_key"):
        Typo()


def test_rest_framework_authentication_returns_the_user_and_the_certificate():
    r = get("/api/whoami", capture("rsa-chain"))
    assert r.status_code == 403 and "no active user" in r.json()["detail"]
    User.objects.create(username=SPIFFE)
    r = get("/api/whoami", capture("rsa-chain"))
    assert r.status_code == 200 and r.json() == {"user": SPIFFE, "sha256": SHA256}
    # The middleware refuses before the view.
    assert get("/api/whoami", capture("wrong-cn")).json() == {"error": "not_allowed"}


@override_settings(MIDDLEWARE=[m for m in MIDDLEWARE if "xfcc" not in m])
def test_rest_framework_authentication_without_the_middleware_fails_closed():
    User.objects.create(username=SPIFFE)
    with pytest.raises(ImproperlyConfigured, match="ClientCertMiddleware"):
        get("/api/whoami", capture("rsa-chain"))


@pytest.mark.parametrize("overrides,words", [
    ({"XFCC_EXEMPT_PATHS": ["/health"]}, ["XFCC_EXEMPT_PATHS", "not a setting"]),
    ({"XFCC_EXEMPT": "/health"}, ["XFCC_EXEMPT", "list of paths"]),
    ({"XFCC_PROXY_DROPS_UNDERSCORES": "yes"}, ["XFCC_PROXY_DROPS_UNDERSCORES"]),
    ({"XFCC": {"allow": [{"subject_cn": [CN]}]}}, ["XFCC:", "self-signed"]),
    ({"XFCC": {"alow": []}}, ["XFCC:", "unknown field `alow`"]),
    ({"XFCC": 5}, ["XFCC:", "not a int"]),
    ({"MIDDLEWARE": ["xfcc.django.ClientCertMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
                     "django.contrib.auth.middleware.AuthenticationMiddleware"]}, ["after", "AuthenticationMiddleware"]),
])
def test_settings_it_cannot_honour_are_refused_at_start(overrides, words):
    with override_settings(**overrides):
        with pytest.raises(ImproperlyConfigured) as e:
            ClientCertMiddleware(lambda request: None)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_xfcc_as_a_path_reads_a_policy_file(tmp_path):
    (tmp_path / "ca.pem").write_text((CERTS / "root.pem").read_text())
    policy = tmp_path / "policy.toml"
    policy.write_text('[[allow]]\nsubject_cn = ["someone-else"]\nchain = "c"\n[chain.c]\ntrust_anchors = "ca.pem"\n')
    with override_settings(XFCC=policy):
        r = get("/whoami", capture("rsa-chain"))
    assert (r.status_code, r.json()) == (403, {"error": "not_allowed"})


def test_report_mode_serves_with_the_would_be_refusal():
    with override_settings(XFCC={"mode": "report", **POLICY}):
        r = get("/whoami", capture("wrong-cn"))
    assert (r.status_code, r.json()["would_deny"], r.json()["cn"]) == (200, "not_allowed", None)


@override_settings(MIDDLEWARE=["xfcc.django.ClientCertMiddleware"])
def test_without_sessions_the_certificate_alone_names_the_user():
    # No AuthenticationMiddleware: the middleware sets request.user itself,
    # anonymous where there is no client.
    User.objects.create(username=SPIFFE)
    assert get("/whoami", capture("rsa-chain")).json()["user"] == SPIFFE
    from django.test import RequestFactory

    request = RequestFactory().get("/health", SERVER_SOFTWARE="gunicorn/23.0.0")
    seen = {}
    ClientCertMiddleware(lambda r: seen.setdefault("user", r.user))(request)
    assert seen["user"].is_authenticated is False
