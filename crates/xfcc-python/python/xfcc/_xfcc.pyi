"""Type stubs of the extension module (the Rust core's bindings)."""

from os import PathLike
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple, Union

_Text = Union[str, bytes]

class Rejection(Exception):
    """A forwarded client certificate that does not authenticate the request."""

    code: str
    """The stable reason code (`not_allowed`, `missing`, `untrusted_peer`, ...), as in Rust."""
    reason: str
    """The reason (the same code family as `code`)."""
    detail: str
    """The precise detail code (`subject_cn`, `repeated_by`, a DER error, ...)."""
    explanation: Optional[str]
    """One bounded line: the certificate's values beside what did not hold; never certificate bytes."""
    hint: Optional[str]
    """The next step, when the request shows what it is."""
    element: Optional[int]
    peer: Optional[str]
    """For `untrusted_peer`: the TCP peer to add to `trusted_peers` if it is the proxy."""
    source: Optional[str]
    """With `[[sources]]`: the proxy's source name."""
    would_deny: bool
    """True in report mode: logged and counted, and the request goes on."""
    status: int
    """The HTTP status the core refuses it with (403, or 500 for a wiring error)."""

class ConfigError(ValueError):
    """A setting the library cannot honour; the message names it."""

    code: str
    """The stable code of its kind (`names_only_rule`, `value`, ...)."""
    setting: str
    """The setting at fault (`thumbprint`, `[elements] trust`), or the environment variable."""
    rule: Optional[str]
    """The `[[allow]]` rule it is in, if any."""

class ClientCert:
    """A verified client."""

    @property
    def subject(self) -> str: ...
    @property
    def issuer(self) -> Optional[str]: ...
    @property
    def subject_cn(self) -> List[str]: ...
    @property
    def issuer_cn(self) -> List[str]: ...
    @property
    def san_dns(self) -> List[str]: ...
    @property
    def san_uri(self) -> List[str]: ...
    @property
    def san_email(self) -> List[str]: ...
    @property
    def san_ip(self) -> List[str]: ...
    @property
    def spiffe_id(self) -> Optional[str]: ...
    @property
    def sha256(self) -> str: ...
    @property
    def sha1(self) -> Optional[str]: ...
    @property
    def x5t_s256(self) -> str: ...
    @property
    def spki_sha256(self) -> Optional[str]: ...
    @property
    def not_before(self) -> Optional[int]: ...
    @property
    def not_after(self) -> Optional[int]: ...
    @property
    def der(self) -> Optional[bytes]: ...
    @property
    def pem(self) -> Optional[str]:
        """The certificate as PEM (64-column base64, `\\n` line ends); `None` for proxy fields."""
        ...
    @property
    def rule(self) -> str: ...
    @property
    def element(self) -> int: ...
    @property
    def source(self) -> Optional[str]: ...
    @property
    def proxy(self) -> Optional[str]: ...
    @property
    def verified_from(self) -> str: ...
    @property
    def chain_verified(self) -> bool: ...
    @property
    def anchor_set(self) -> Optional[str]: ...

class Policy:
    """A validation policy (thread-safe, cheap to share)."""

    @staticmethod
    def from_env(environ: Optional[Mapping[str, str]] = None) -> "Policy": ...
    @staticmethod
    def from_toml(path: Union[str, PathLike]) -> "Policy": ...
    @staticmethod
    def from_toml_str(text: str, base_dir: Optional[Union[str, PathLike]] = None) -> "Policy": ...
    @staticmethod
    def from_settings(settings: Mapping[str, object], base_dir: Optional[Union[str, PathLike]] = None) -> "Policy":
        """The policy a mapping with the policy file's keys and values describes (Django's `XFCC`, Flask's `XFCC_*`)."""
        ...
    def verify(self, header: Optional[_Text], peer: Optional[str] = None,
               peer_cert_chain: Optional[Sequence[Union[str, bytes]]] = None) -> Optional[ClientCert]: ...
    def verify_request(self, headers: Iterable[Tuple[_Text, _Text]], peer: Optional[str] = None,
                       peer_cert_chain: Optional[Sequence[Union[str, bytes]]] = None) -> Optional[ClientCert]: ...
    @property
    def mode(self) -> str: ...
    @property
    def header_name(self) -> str: ...
    @property
    def header_names(self) -> List[str]: ...
    @property
    def has_trusted_peers(self) -> bool: ...
    def is_trusted_peer(self, peer: str) -> bool:
        """Whether a request from `peer` may carry the header (True without `trusted_peers`)."""
        ...
    @property
    def has_trusted_proxies(self) -> bool:
        """Whether the header is honoured only over connections presenting a
        `[[trusted_proxies]]` certificate (hand over `peer_cert_chain`)."""
        ...
    def decide(self, headers: Iterable[Tuple[_Text, _Text]], peer: Optional[str] = None,
               peer_cert_chain: Optional[Sequence[Union[str, bytes]]] = None) -> "Verdict":
        """The request's verdict from the core: what a middleware translates."""
        ...
    def warnings(self) -> List[Tuple[str, str, str]]: ...

def inspect(value: str) -> List[dict]: ...

class Verdict:
    """The core's verdict on one request (`Policy.decide`)."""

    @property
    def action(self) -> str:
        """`"allow"`, `"report"` (serve it, the would-be refusal in `rejection`) or `"refuse"`."""
        ...
    @property
    def client_cert(self) -> Optional[ClientCert]: ...
    @property
    def rejection(self) -> Optional[Rejection]: ...
    @property
    def status(self) -> Optional[int]:
        """The status to refuse with; `None` when served."""
        ...
    @property
    def body(self) -> Optional[bytes]:
        """The JSON body to refuse with; `None` when served."""
        ...
    @property
    def code(self) -> Optional[str]: ...
    @property
    def peer(self) -> Optional[str]: ...
    @property
    def header_names(self) -> List[str]: ...

class LogLimiter:
    """The core's rejection-record limiter: at most `per_second` per reason per second (`None`: no bound)."""

    def __init__(self, per_second: Optional[int] = None) -> None: ...
    @staticmethod
    def from_env() -> "LogLimiter":
        """At the rate `XFCC_LOG_RATE` gives (10 when unset); a bad value is a `ConfigError` naming it."""
        ...
    def admit(self, code: str) -> Tuple[bool, List[Tuple[str, int]]]:
        """Whether to write this record, and the `(code, count)` pairs not written in the second that ended."""
        ...
    def flush(self) -> List[Tuple[str, int]]: ...

def wiring_refusal(code: str) -> Tuple[int, bytes]:
    """The status and body of a refusal a middleware detects itself (`peer_rewritten`, `unsafe_server`)."""
    ...
