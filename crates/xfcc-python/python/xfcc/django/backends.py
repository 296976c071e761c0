"""The authentication backend: a verified client certificate's ``User``
(needs ``django.contrib.auth``)."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured

from .. import ClientCert

__all__ = ["ClientCertBackend", "USER_KEYS"]


#: How a certificate names its user: the keys ``ClientCertBackend.user_key``
#: may be. A key a certificate holds several of (two CNs, two e-mail
#: addresses) names no one: an attacker's certificate does not choose.
USER_KEYS: Dict[str, Callable[[ClientCert], Optional[str]]] = {
    "spiffe_id": lambda c: c.spiffe_id,
    "sha256": lambda c: c.sha256,
    "spki_sha256": lambda c: c.spki_sha256,
    "subject_cn": lambda c: c.subject_cn[0] if len(c.subject_cn) == 1 else None,
    "email": lambda c: c.san_email[0] if len(c.san_email) == 1 else None,
}


class ClientCertBackend(ModelBackend):
    """Maps a verified client certificate to a ``User``, in the shape of
    Django's ``RemoteUserBackend``: ``authenticate(request,
    client_cert=cert)`` finds the user whose username is the certificate's
    ``user_key`` (``"spiffe_id"`` by default; ``"sha256"``,
    ``"spki_sha256"``, ``"subject_cn"`` or ``"email"``). Subclass it to
    change ``user_key``, ``create_unknown_user``, :meth:`clean_username` or
    :meth:`configure_user`.

    With ``create_unknown_user`` (off by default) an unknown certificate
    creates its user, inactive (``is_active = False``): it authenticates
    once someone activates it. An inactive user never authenticates (as
    with ``ModelBackend``). It authenticates only a certificate the
    middleware verified: give it ``request.client_cert``."""

    #: Which of :data:`USER_KEYS` names the user.
    user_key = "spiffe_id"
    #: Whether an unknown certificate creates its (inactive) user.
    create_unknown_user = False

    def __init__(self) -> None:
        if self.user_key not in USER_KEYS:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.user_key: one of {', '.join(USER_KEYS)}, not {self.user_key!r}"
            )

    def username_for(self, client_cert: ClientCert) -> Optional[str]:
        """The certificate's ``user_key``, or ``None`` when it has none (or
        several)."""
        return USER_KEYS[self.user_key](client_cert)

    def authenticate(self, request: Any, client_cert: Optional[ClientCert] = None, **kwargs: Any) -> Any:
        if not isinstance(client_cert, ClientCert):
            return None
        key = self.username_for(client_cert)
        if not key:
            return None
        username = self.clean_username(key)
        from django.contrib.auth import get_user_model

        model = get_user_model()
        manager = model._default_manager
        if self.create_unknown_user:
            user, created = manager.get_or_create(**{model.USERNAME_FIELD: username})
            if created:
                if hasattr(user, "is_active"):
                    user.is_active = False
                user = self.configure_user(request, user, created=True, client_cert=client_cert)
                user.save()
        else:
            try:
                user = manager.get_by_natural_key(username)
            except model.DoesNotExist:
                return None
        return user if self.user_can_authenticate(user) else None

    def clean_username(self, username: str) -> str:
        """The username for a key (unchanged by default)."""
        return username

    def configure_user(self, request: Any, user: Any, created: bool = True, client_cert: Any = None) -> Any:
        """Called for a user created from a certificate, before it is saved
        (inactive); returns the user."""
        return user
