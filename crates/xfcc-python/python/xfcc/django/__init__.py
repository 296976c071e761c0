"""Django: a middleware that verifies the forwarded client certificate of
every request (``request.client_cert``), an authentication backend in the
shape of Django's ``RemoteUserBackend`` (:class:`ClientCertBackend`), and a
Django REST framework authentication class
(:mod:`xfcc.django.rest_framework`).

Settings:

``XFCC``
    The policy: a dict with the policy file's keys and values (``{"mode":
    "require", "allow": [{"subject_cn": ["orders"], "chain": "partners"}],
    "chain": {"partners": {"trust_anchors": "ca.pem"}}}``: the same settings
    table as a policy file and the environment, read by
    :meth:`xfcc.Policy.from_settings`, with paths relative to ``BASE_DIR``),
    or a policy file's path. Unset, the environment
    (:meth:`xfcc.Policy.from_env`: the recipe's variables, every
    ``XFCC_*`` variable, or ``XFCC_POLICY_FILE``).
``XFCC_EXEMPT``
    Paths served without a check (the platform's health probe).
``XFCC_PROXY_DROPS_UNDERSCORES``
    Under WSGI: the proxy in front drops or refuses header names with
    underscores, so any WSGI server is safe (see :mod:`xfcc.wsgi`).

Any other ``XFCC_*`` setting is a misspelling and refused at start, as is a
setting of the wrong type.

The middleware reads what each server hands it: under WSGI (gunicorn) the
environ, with the WSGI middleware's checks (a server that keeps header
names with underscores answers 500 ``unsafe_server``: Django's
``runserver`` is one, see ``XFCC_DEV_SERVER``); under ASGI (uvicorn,
daphne, hypercorn) the raw header list of the scope, never ``request.META``,
where Django joins a client's ``X_Forwarded_Client_Cert`` to the real
header. Refusals answer 403 ``{"error": "<code>"}`` (500 for a wiring
error) and never reach a view.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable, Tuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse

from .. import ConfigError, Policy
from .._guard import Answer, RequestPath
from ..asgi import scope_answer
from ..wsgi import EnvironReader

try:  # Django >= 5.0 and asgiref >= 3.8 name it so; older asgiref: asyncio's.
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
except ImportError:  # pragma: no cover
    from asyncio import iscoroutinefunction  # type: ignore[assignment]

    def markcoroutinefunction(func: Any) -> Any:  # type: ignore[misc]
        import asyncio

        func._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
        return func


__all__ = ["ClientCertBackend", "ClientCertMiddleware", "policy_from_settings"]

#: The Django settings this package reads.
SETTINGS = ("XFCC", "XFCC_EXEMPT", "XFCC_PROXY_DROPS_UNDERSCORES")


def _check_settings() -> None:
    """Refuses an ``XFCC_*`` setting this package does not read (a
    misspelling would otherwise be ignored) and the known ones of the wrong
    type."""
    for name in dir(settings):
        if name.startswith("XFCC") and name.isupper() and name not in SETTINGS:
            raise ImproperlyConfigured(f"{name}: not a setting of xfcc (it reads {', '.join(SETTINGS)})")
    exempt = getattr(settings, "XFCC_EXEMPT", [])
    if isinstance(exempt, str) or not all(isinstance(p, str) for p in exempt):
        raise ImproperlyConfigured("XFCC_EXEMPT: a list of paths, such as ['/health']")
    drops = getattr(settings, "XFCC_PROXY_DROPS_UNDERSCORES", False)
    if not isinstance(drops, bool):
        raise ImproperlyConfigured(f"XFCC_PROXY_DROPS_UNDERSCORES: True or False, not {drops!r}")


def policy_from_settings() -> Policy:
    """The policy the ``XFCC`` setting describes (see the module's
    documentation). A setting the library cannot honour is
    ``ImproperlyConfigured`` with the core's message, which names it."""
    value = getattr(settings, "XFCC", None)
    base_dir = getattr(settings, "BASE_DIR", None)
    try:
        if value is None:
            return Policy.from_env()
        if isinstance(value, (str, os.PathLike)):
            return Policy.from_toml(value)
        if isinstance(value, dict):
            return Policy.from_settings(value, base_dir=os.fspath(base_dir) if base_dir is not None else None)
    except ConfigError as e:
        raise ImproperlyConfigured(f"XFCC: {e}") from e
    raise ImproperlyConfigured(
        f"XFCC: a dict with the policy file's keys, a policy file's path, or unset (the environment), "
        f"not a {type(value).__name__}"
    )


def _respond(answer: Answer) -> HttpResponse:
    return HttpResponse(answer.body or b"", status=answer.status, content_type="application/json")


class ClientCertMiddleware:
    """Verifies the forwarded client certificate of every request: the core
    decides (:meth:`xfcc.Policy.decide`), this translates its verdict into
    Django's answer. Sync and async capable (Django runs it in the mode of
    the stack around it, without a thread switch).

    On a request it serves it sets ``request.client_cert`` (the
    :class:`xfcc.ClientCert`, or ``None`` on an exempt path and in accept
    or report mode without one) and ``request.xfcc_rejection`` (report
    mode's would-be refusal). With :class:`ClientCertBackend` in
    ``AUTHENTICATION_BACKENDS``, ``request.user`` is the certificate's user
    for a request with a verified client (per request, no session; an
    anonymous user when it maps to none): put the middleware after
    ``AuthenticationMiddleware``, or it is refused at start."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        _check_settings()
        policy = policy_from_settings()
        path = RequestPath(policy, getattr(settings, "XFCC_EXEMPT", []), None, "Django middleware")
        self.path = path
        self.environ_reader = EnvironReader(
            path, proxy_drops_underscores=getattr(settings, "XFCC_PROXY_DROPS_UNDERSCORES", False)
        )
        self.backend = _configured_backend()
        if self.backend is not None:
            _check_order()

    def answer(self, request: Any) -> Answer:
        """The core's answer for a Django request: from the ASGI scope when
        Django runs under ASGI, else from the WSGI environ."""
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            return scope_answer(self.path, scope)
        return self.environ_reader.answer(request.META)

    def _attach(self, request: Any, answer: Answer) -> None:
        verdict = answer.verdict
        cert = answer.client_cert
        request.client_cert = cert
        request.xfcc_rejection = answer.rejection
        request.xfcc_verdict = verdict
        if self.backend is not None and cert is None and not hasattr(request, "user"):
            # No AuthenticationMiddleware, no client: anonymous, as Django's
            # own middleware would say.
            from django.contrib.auth.models import AnonymousUser

            request.user = AnonymousUser()
        if cert is not None and self.backend is not None:
            from django.contrib.auth.models import AnonymousUser
            from django.utils.functional import SimpleLazyObject

            backend = self.backend

            def user() -> Any:
                found = backend.authenticate(request, client_cert=cert)
                if found is not None:
                    found.backend = f"{type(backend).__module__}.{type(backend).__qualname__}"
                return found or AnonymousUser()

            request.user = SimpleLazyObject(user)

            async def auser() -> Any:
                from asgiref.sync import sync_to_async

                return await sync_to_async(user)()

            request.auser = auser

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        answer = self.answer(request)
        if answer.status is not None:
            return _respond(answer)
        self._attach(request, answer)
        return self.get_response(request)

    async def __acall__(self, request: Any) -> Any:
        answer = self.answer(request)
        if answer.status is not None:
            return _respond(answer)
        self._attach(request, answer)
        return await self.get_response(request)


def __getattr__(name: str) -> Any:
    # The backend needs django.contrib.auth: imported when asked for, so
    # the middleware serves a site without it.
    if name in ("ClientCertBackend", "USER_KEYS"):
        from . import backends

        return getattr(backends, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _configured_backend() -> Any:
    """The first :class:`ClientCertBackend` (or subclass) in
    ``AUTHENTICATION_BACKENDS``, if any. The REST framework class asks on
    every request: the answer is kept per list of backends (a changed
    setting, as tests make, is looked up anew)."""
    return _backend_for(tuple(getattr(settings, "AUTHENTICATION_BACKENDS", ())))


@functools.lru_cache(maxsize=8)
def _backend_for(paths: Tuple[str, ...]) -> Any:
    from django.apps import apps

    # Without django.contrib.auth there are no users (and the backend
    # cannot be imported).
    if not apps.is_installed("django.contrib.auth"):
        return None
    from django.utils.module_loading import import_string

    from .backends import ClientCertBackend

    for path in paths:
        cls = import_string(path)
        if isinstance(cls, type) and issubclass(cls, ClientCertBackend):
            return cls()
    return None


def _check_order() -> None:
    """With the backend, ``request.user`` is set here: Django's
    ``AuthenticationMiddleware`` after this one would set it back to the
    session's user."""
    chain = list(getattr(settings, "MIDDLEWARE", []))
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    ours = [i for i, m in enumerate(chain) if m.startswith("xfcc.django.")]
    if auth in chain and ours and chain.index(auth) > ours[0]:
        raise ImproperlyConfigured(
            "MIDDLEWARE: put xfcc.django.ClientCertMiddleware after "
            "django.contrib.auth.middleware.AuthenticationMiddleware, which would otherwise replace the "
            "certificate's user with the session's"
        )
