"""X-WSSE ``UsernameToken`` authentication of Huawei MSGSMS (build and parse, no I/O).

The digest is ``Base64(hex(SHA256(Nonce + Created + AppSecret)))``: the SHA-256 rendered as
64 lower-case hex characters, and that ASCII text Base64-encoded (88 characters). Some
community clients Base64 the raw 32-byte digest instead; :func:`digest_matches` accepts
both so an emulator can be lenient, while :func:`password_digest` builds only the official
form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets as _random
from datetime import UTC, datetime

import attrs

from smsbridge.sdk import Secret

__all__ = [
    "AUTHORIZATION",
    "WsseError",
    "WsseToken",
    "created_stamp",
    "digest_matches",
    "new_nonce",
    "parse_created",
    "parse_headers",
    "password_digest",
    "raw_password_digest",
    "wsse_headers",
]

AUTHORIZATION = 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"'
_CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_ATTR_RE = re.compile(r'\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*')
_NONCE_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")


def _sha256(nonce: str, created: str, secret: str) -> bytes:
    return hashlib.sha256((nonce + created + secret).encode("utf-8")).digest()


def password_digest(nonce: str, created: str, app_secret: str) -> str:
    """The official ``PasswordDigest``: hex SHA-256 of nonce+created+secret, then Base64."""
    hexdigest = _sha256(nonce, created, app_secret).hex()
    return base64.b64encode(hexdigest.encode("ascii")).decode("ascii")


def raw_password_digest(nonce: str, created: str, app_secret: str) -> str:
    """The community variant: Base64 of the raw 32-byte SHA-256 (accepted by emulators)."""
    return base64.b64encode(_sha256(nonce, created, app_secret)).decode("ascii")


def digest_matches(digest: str, nonce: str, created: str, app_secret: str) -> bool:
    """True when ``digest`` is either encoding of the expected digest (constant time)."""
    given = digest.encode("utf-8", "replace")
    official = password_digest(nonce, created, app_secret).encode("ascii")
    raw = raw_password_digest(nonce, created, app_secret).encode("ascii")
    # Evaluate both comparisons so timing does not reveal which form nearly matched.
    first = hmac.compare_digest(given, official)
    second = hmac.compare_digest(given, raw)
    return first or second


def created_stamp(now: datetime) -> str:
    """``Created`` for ``now``, in UTC (``2018-02-12T15:30:20Z``).

    Raises:
        ValueError: ``now`` is naive (its UTC offset is unknown).
    """
    if now.tzinfo is None:
        raise ValueError("Created needs a timezone-aware time")
    return now.astimezone(UTC).strftime(_CREATED_FORMAT)


def parse_created(value: str) -> datetime | None:
    """The UTC time of a ``Created`` value, or None when it is not in the documented form."""
    try:
        return datetime.strptime(value, _CREATED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def new_nonce() -> str:
    """A fresh nonce: 32 hex characters, like Huawei's samples."""
    return _random.token_hex(16)


def wsse_headers(
    app_key: Secret, app_secret: Secret, *, now: datetime, nonce: str | None = None
) -> dict[str, str | Secret]:
    """The two authentication headers of a request.

    The ``X-WSSE`` value is returned as a :class:`~smsbridge.Secret` because it carries the
    app key; the HTTP client reveals it on the wire only and redacts it elsewhere.

    Args:
        app_key: The application key (``Username``).
        app_secret: The application secret; never sent, only hashed.
        now: The current time (any timezone; sent as UTC).
        nonce: A fixed nonce for tests; a random one otherwise.
    """
    nonce = nonce or new_nonce()
    created = created_stamp(now)
    digest = password_digest(nonce, created, app_secret.reveal())
    token = (
        f'UsernameToken Username="{app_key.reveal()}",PasswordDigest="{digest}",'
        f'Nonce="{nonce}",Created="{created}"'
    )
    return {"Authorization": AUTHORIZATION, "X-WSSE": Secret(token)}


@attrs.frozen
class WsseToken:
    """A parsed X-WSSE ``UsernameToken``."""

    username: str
    digest: str
    nonce: str
    created: str


class WsseError(Exception):
    """An authentication header is missing or malformed; ``code`` is Huawei's E0000xx."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for piece in text.split(","):
        match = _ATTR_RE.fullmatch(piece)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def parse_headers(authorization: str | None, x_wsse: str | None) -> WsseToken:
    """Validate both headers exactly, as the platform does.

    Accepts ``,`` and ``, `` between attributes; attribute names are case-insensitive.

    Raises:
        WsseError: With the E0000xx code the platform answers.
    """
    if authorization is None or not authorization.strip():
        raise WsseError("E000001", "Authorization header missing")
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != "WSSE":
        raise WsseError("E000008", "WSSE missing in Authorization")
    attrs_ = _attributes(rest)
    if "realm" not in attrs_:
        raise WsseError("E000002", "realm missing in Authorization")
    if "profile" not in attrs_:
        raise WsseError("E000003", "profile missing in Authorization")
    if "type" not in attrs_:
        raise WsseError("E000007", "type missing in Authorization")
    if attrs_["realm"] != "SDP":
        raise WsseError("E000004", "realm must be SDP")
    if attrs_["profile"] != "UsernameToken":
        raise WsseError("E000005", "profile must be UsernameToken")
    if attrs_["type"] != "Appkey":
        raise WsseError("E000006", "type must be Appkey")
    if x_wsse is None or not x_wsse.strip():
        raise WsseError("E000020", "X-WSSE header missing")
    kind, _, rest = x_wsse.strip().partition(" ")
    if kind != "UsernameToken":
        raise WsseError("E000025", "UsernameToken missing")
    token = _attributes(rest)
    if not token.get("username"):
        raise WsseError("E000021", "UserName missing in X-WSSE")
    if not token.get("nonce"):
        raise WsseError("E000022", "Nonce missing in X-WSSE")
    if not token.get("created"):
        raise WsseError("E000023", "Created missing in X-WSSE")
    if not token.get("passworddigest"):
        raise WsseError("E000024", "PasswordDigest missing in X-WSSE")
    if not _NONCE_RE.match(token["nonce"]):
        raise WsseError("E000022", "Nonce must be 1-128 letters and digits")
    return WsseToken(token["username"], token["passworddigest"], token["nonce"], token["created"])
