"""JWT bearer validation: tokens made here with HS256 and RS256 keys generated in the test."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fmgate.security.jwt_auth import JwtPolicy, JwtVerifier, TokenRejected

ISSUER = "https://issuer.test/"
AUDIENCE = "fmgate"
HMAC_SECRET = "hs-test-secret-" + "0123456789abcdef" * 4  # 79 bytes: enough for HS512


def rsa_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


RSA_PRIVATE, RSA_PUBLIC = rsa_pair()
OTHER_RSA_PRIVATE, _ = rsa_pair()


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "caller-1",
        "iat": now,
        "exp": now + 300,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs_verifier(**policy: object) -> JwtVerifier:
    settings: dict[str, object] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": ("HS256",),
        "keys": {"k1": HMAC_SECRET},
        **policy,
    }
    return JwtVerifier(JwtPolicy(**settings))  # type: ignore[arg-type]


def rs_verifier() -> JwtVerifier:
    return JwtVerifier(
        JwtPolicy(
            issuer=ISSUER,
            audience=AUDIENCE,
            algorithms=("RS256",),
            keys={"rsa-1": RSA_PUBLIC},
        )
    )


def unsigned(payload: Mapping[str, object], alg: str = "none") -> str:
    def part(data: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(payload)}."


def test_valid_hs256_token_is_accepted() -> None:
    token = jwt.encode(claims(), HMAC_SECRET, algorithm="HS256")
    verified = hs_verifier().verify(token)
    assert verified.subject == "caller-1"
    assert verified.claims["aud"] == AUDIENCE


def test_valid_rs256_token_is_accepted_by_kid() -> None:
    token = jwt.encode(claims(), RSA_PRIVATE, algorithm="RS256", headers={"kid": "rsa-1"})
    assert rs_verifier().verify_authorization(f"Bearer {token}").subject == "caller-1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": -3600}, "token expired"),
        ({"exp": None}, "required claim missing"),
        ({"nbf": 3600}, "token not yet valid"),
        ({"iss": "https://evil.test/"}, "wrong issuer"),
        ({"iss": None}, "required claim missing"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": None}, "required claim missing"),
    ],
)
def test_claims_are_checked(changes: dict[str, object], reason: str) -> None:
    # Times are offsets from when the test runs (collection can be minutes earlier).
    now = int(time.time())
    timed = {"exp", "nbf"}
    token_claims = claims(
        **{k: now + v if k in timed and isinstance(v, int) else v for k, v in changes.items()}
    )
    token = jwt.encode(token_claims, HMAC_SECRET, algorithm="HS256")
    with pytest.raises(TokenRejected) as caught:
        hs_verifier().verify(token)
    assert caught.value.reason == reason


def test_leeway_absorbs_small_clock_skew() -> None:
    token = jwt.encode(claims(exp=int(time.time()) - 5), HMAC_SECRET, algorithm="HS256")
    assert hs_verifier(leeway_seconds=30).verify(token).subject == "caller-1"
    with pytest.raises(TokenRejected):
        hs_verifier(leeway_seconds=0).verify(token)


def test_wrong_secret_is_a_bad_signature() -> None:
    token = jwt.encode(claims(), "another-secret-of-sufficient-length-98765", algorithm="HS256")
    with pytest.raises(TokenRejected) as caught:
        hs_verifier().verify(token)
    assert caught.value.reason == "bad signature"


def test_token_signed_by_another_rsa_key_is_rejected() -> None:
    token = jwt.encode(claims(), OTHER_RSA_PRIVATE, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(TokenRejected, match="bad signature"):
        rs_verifier().verify(token)


def test_alg_none_is_rejected() -> None:
    with pytest.raises(TokenRejected) as caught:
        hs_verifier().verify(unsigned(claims()))
    assert caught.value.reason in ("algorithm not allowed", "malformed token")


def test_algorithm_outside_the_allow_list_is_rejected() -> None:
    token = jwt.encode(claims(), HMAC_SECRET, algorithm="HS512")
    with pytest.raises(TokenRejected, match="algorithm not allowed"):
        hs_verifier().verify(token)


def test_rs256_public_key_cannot_be_used_as_an_hmac_secret() -> None:
    """Algorithm confusion: an HS256 token 'signed' with the public key must not pass."""
    forged = jwt.api_jws.PyJWS().encode(
        json.dumps(claims()).encode(), HMAC_SECRET, algorithm="HS256", headers={"kid": "rsa-1"}
    )
    with pytest.raises(TokenRejected, match="algorithm not allowed"):
        rs_verifier().verify(forged)


def test_unknown_kid_is_rejected() -> None:
    token = jwt.encode(claims(), RSA_PRIVATE, algorithm="RS256", headers={"kid": "rsa-9"})
    with pytest.raises(TokenRejected, match="unknown key id"):
        rs_verifier().verify(token)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "bearer x.y"]
)
def test_malformed_authorization_is_rejected(header: str | None) -> None:
    with pytest.raises(TokenRejected):
        hs_verifier().verify_authorization(header)


@pytest.mark.parametrize("garbage", ["", "a", "a.b", "a.b.c", "é.é.é", "x" * 10000, "...."])
def test_garbage_tokens_are_rejected_not_crashing(garbage: str) -> None:
    with pytest.raises(TokenRejected):
        hs_verifier().verify(garbage)


def test_rejections_never_carry_the_token_or_key() -> None:
    token = jwt.encode(claims(aud="x"), HMAC_SECRET, algorithm="HS256")
    with pytest.raises(TokenRejected) as caught:
        hs_verifier().verify(token)
    text = repr(caught.value) + str(caught.value)
    assert token not in text
    assert HMAC_SECRET not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("algorithms", "keys"),
    [
        ((), {"k": HMAC_SECRET}),
        (("none",), {"k": HMAC_SECRET}),
        (("HS256", "RS256"), {"k": HMAC_SECRET}),
        (("HS256",), {}),
        (("HS256",), {"k": RSA_PUBLIC}),  # a public key is not an HMAC secret
        (("RS256",), {"k": HMAC_SECRET}),  # nor the other way round
        (("XS999",), {"k": HMAC_SECRET}),
    ],
)
def test_unsafe_policies_fail_at_start_up(
    algorithms: tuple[str, ...], keys: dict[str, str | bytes]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by policy
        JwtPolicy(issuer=ISSUER, audience=AUDIENCE, algorithms=algorithms, keys=keys)


def test_es256_is_supported() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier = JwtVerifier(
        JwtPolicy(issuer=ISSUER, audience=AUDIENCE, algorithms=("ES256",), keys={"ec": public})
    )
    assert verifier.verify(jwt.encode(claims(), key, algorithm="ES256")).subject == "caller-1"
