"""The service-account key and the JWT-bearer assertion signed with it (RFC 7523, Google's
"Using OAuth 2.0 for server to server applications").

The assertion is a JWT: ``base64url(header).base64url(claims).base64url(RS256 signature)``. The signing
is `cryptography`'s (RSA PKCS#1 v1.5 with SHA-256, already a dependency); the JWT framing around it is
three base64url parts joined by dots, written here rather than adding a JWT library for it (google-auth's
signer would also bring its blocking transport, which must not run on the event loop).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_URI = "https://oauth2.googleapis.com/token"
LIFETIME = 3600  # Google accepts an assertion whose exp is at most an hour after iat
KEY_FIELDS = ("type", "private_key_id", "private_key", "client_email", "client_id")

NOT_JSON = "This is not a service account's JSON key: paste the whole file Google downloaded, from { to }."
NOT_SERVICE_ACCOUNT = (
    'This JSON is not a service account key (its "type" is not "service_account"): create a key under '
    "IAM & Admin → Service accounts → Keys → Add key → JSON."
)
MISSING_FIELD = "The JSON key lacks its {field}: paste the whole file Google downloaded, unchanged."
BAD_PRIVATE_KEY = "The key's private_key cannot be read: paste the whole file Google downloaded, unchanged."


class KeyProblem(ValueError):
    """A pasted key that cannot be used (the message is one sentence, never the key)."""


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    client_id: str
    key_id: str
    token_uri: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    def assertion(self, subject: str, scopes: tuple[str, ...], now: int) -> str:
        """A signed JWT asking for `scopes` on behalf of `subject`, valid for an hour from `now`."""
        header = {"alg": "RS256", "typ": "JWT", "kid": self.key_id}
        claims = {
            "iss": self.client_email,
            "sub": subject,
            "scope": " ".join(scopes),
            "aud": self.token_uri,
            "iat": now,
            "exp": now + LIFETIME,
        }
        signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}".encode()
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64(signature)}"


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_key(text: str) -> ServiceAccountKey:
    """The pasted JSON key, read; `KeyProblem` (one sentence) when it cannot be used."""
    try:
        data = json.loads(text)
    except ValueError:
        raise KeyProblem(NOT_JSON) from None
    if not isinstance(data, dict):
        raise KeyProblem(NOT_JSON)
    if data.get("type") != "service_account":
        raise KeyProblem(NOT_SERVICE_ACCOUNT)
    for name in KEY_FIELDS:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise KeyProblem(MISSING_FIELD.format(field=name))
    try:
        private = serialization.load_pem_private_key(data["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise KeyProblem(BAD_PRIVATE_KEY) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyProblem(BAD_PRIVATE_KEY)
    token_uri = data.get("token_uri") if isinstance(data.get("token_uri"), str) else TOKEN_URI
    return ServiceAccountKey(
        data["client_email"], data["client_id"], data["private_key_id"], token_uri, private
    )
