"""The Google stand-in's token endpoint: service accounts, their keys, domain-wide delegation, and the
JWT-bearer grant (RFC 7523) as Google documents it for service accounts.

``POST /token`` with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>``: the
JWT's header names the key (`kid` = the key file's `private_key_id`, `alg` RS256), its claims are
`iss` (the service account's `client_email`), `sub` (the user to act as), `scope` (space-separated),
`aud` (``https://oauth2.googleapis.com/token``), `iat` and `exp` (at most an hour after `iat`).
Checked here, on the injected clock, in Google's order and with Google's answers:

- not the grant type -> 400 `unsupported_grant_type`;
- unreadable assertion, unknown `iss`, unknown or deleted key, bad signature -> 400 `invalid_grant`
  "Invalid JWT Signature." (a key deleted in the Cloud console answers so);
- `aud` not the token URI -> 400 `invalid_grant` "Invalid JWT: ... audience";
- `exp` more than an hour after `iat`, `iat` in the future, or `exp` past -> 400 `invalid_grant`
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe...";
- `sub` not a user of a domain that delegated to the account -> 400 `invalid_grant` "Invalid email or
  User ID";
- a scope the domain did not delegate to the account's client ID -> 401 `unauthorized_client`.

The access token answered lasts 3,599 seconds and carries the scopes asked, for the subject asked.
Whether the subject may use an API (an administrator) is the API's question, not the token endpoint's.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_URI = "https://oauth2.googleapis.com/token"
TOKEN_LIFETIME = 3599
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 300  # seconds an `iat` may be ahead of Google's clock

BAD_SIGNATURE = "Invalid JWT Signature."
BAD_TIME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
BAD_AUDIENCE = "Invalid JWT: Failed audience check. The right audience is https://oauth2.googleapis.com/token"
BAD_SUBJECT = "Invalid email or User ID"
UNAUTHORIZED = (
    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any "
    "of the scopes requested."
)


class Refused(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class ServiceAccount:
    email: str
    client_id: str  # the OAuth client ID delegation is granted to (21 digits)
    project: str
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # private_key_id -> public key


@dataclass(frozen=True)
class Token:
    customer_id: str
    subject: str  # the user's primary email
    scopes: frozenset[str]
    client_id: str
    expires_at: float


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class TokenAuthority:
    """Service accounts, their keys, what each domain delegated, and the tokens issued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.accounts: dict[str, ServiceAccount] = {}  # client_email -> account
        self.delegations: dict[tuple[str, str], frozenset[str]] = {}  # (customer, client_id) -> scopes
        self.tokens: dict[str, Token] = {}
        self.exchanges = 0

    # --- set-up ------------------------------------------------------------------------------------
    def create_key(self, project: str = "quolum-test", name: str = "quolum-reader") -> dict[str, str]:
        """A new service account (or a new key of it) and its JSON key file, as the Cloud console
        downloads it."""
        email = f"{name}@{project}.iam.gserviceaccount.com"
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        with self._lock:
            account = self.accounts.get(email)
            if account is None:
                client_id = "1" + "".join(secrets.choice("0123456789") for _ in range(20))
                account = self.accounts[email] = ServiceAccount(email, client_id, project)
            account.keys[key_id] = private.public_key()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": TOKEN_URI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email.replace('@', '%40')}",
            "universe_domain": "googleapis.com",
        }

    def register(self, key: dict[str, str]) -> None:
        """Know a key file made by another authority (tests share one: RSA keys are slow to make)."""
        private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
        with self._lock:
            account = self.accounts.setdefault(
                key["client_email"], ServiceAccount(key["client_email"], key["client_id"], key["project_id"])
            )
            account.keys[key["private_key_id"]] = private.public_key()

    def delete_key(self, key: dict[str, str]) -> None:
        with self._lock:
            self.accounts[key["client_email"]].keys.pop(key["private_key_id"], None)

    def delegate(self, customer_id: str, client_id: str, scopes: list[str]) -> None:
        """Admin console > Security > API controls > Domain-wide delegation: the client ID and its
        scopes (replacing what was there; an empty list removes the client)."""
        with self._lock:
            if scopes:
                self.delegations[(customer_id, client_id)] = frozenset(scopes)
            else:
                self.delegations.pop((customer_id, client_id), None)

    # --- the grant ---------------------------------------------------------------------------------
    def exchange(self, form: dict[str, str], now: float, find_subject) -> dict[str, object]:
        """The token endpoint's answer, or `Refused`. `find_subject(email)` -> (customer id, email) of
        a user of a seeded domain, or None."""
        if form.get("grant_type") != GRANT:
            raise Refused(400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        header, claims, account = self._verified(form.get("assertion") or "")
        if claims.get("aud") != TOKEN_URI:
            raise Refused(400, "invalid_grant", BAD_AUDIENCE)
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(iat, int)
            or not isinstance(exp, int)
            or exp - iat > MAX_ASSERTION_LIFETIME
            or exp <= now
            or iat > now + CLOCK_SKEW
        ):
            raise Refused(400, "invalid_grant", BAD_TIME)
        found = find_subject(str(claims.get("sub") or ""))
        if found is None:
            raise Refused(400, "invalid_grant", BAD_SUBJECT)
        customer_id, subject = found
        scopes = frozenset(str(claims.get("scope") or "").split())
        with self._lock:
            delegated = self.delegations.get((customer_id, account.client_id), frozenset())
        if not scopes or not scopes <= delegated:
            raise Refused(401, "unauthorized_client", UNAUTHORIZED)
        token = "ya29.c." + secrets.token_urlsafe(48)
        with self._lock:
            self.tokens[token] = Token(customer_id, subject, scopes, account.client_id, now + TOKEN_LIFETIME)
            self.exchanges += 1
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    def _verified(self, assertion: str) -> tuple[dict, dict, ServiceAccount]:
        try:
            head, body, signature = assertion.split(".")
            header, claims = json.loads(b64decode(head)), json.loads(b64decode(body))
            signed = b64decode(signature)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise Refused(400, "invalid_grant", BAD_SIGNATURE) from None
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            raise Refused(400, "invalid_grant", BAD_SIGNATURE)
        with self._lock:
            account = self.accounts.get(str(claims.get("iss") or ""))
            public = account.keys.get(str(header.get("kid") or "")) if account else None
        if account is None or public is None:
            raise Refused(400, "invalid_grant", BAD_SIGNATURE)
        try:
            public.verify(signed, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Refused(400, "invalid_grant", BAD_SIGNATURE) from None
        return header, claims, account

    def token(self, value: str) -> Token | None:
        with self._lock:
            return self.tokens.get(value)
