"""Standard Webhooks signatures, checked with the reference implementation against the spec's test
vector, with the clock injected, and with every secret form the library accepts."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from chalicelib.service_layer.errors import Unauthorized
from chalicelib.sources.base import IncomingRequest
from chalicelib.sources.generic import verify

# The specification's test vector (standard-webhooks, libraries' shared tests).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID, TIMESTAMP, BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SENT = datetime.fromtimestamp(TIMESTAMP, tz=UTC)


def request(signature: str = SIGNATURE, body: str = BODY, timestamp: int = TIMESTAMP) -> IncomingRequest:
    headers = {"webhook-id": MESSAGE_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    return IncomingRequest("POST", "https://hooks.example/webhooks/forms/generic", headers, body.encode(), {}, SENT)


def test_the_spec_test_vector_verifies_at_its_own_time() -> None:
    verify(request(), SECRET, SENT + timedelta(seconds=30))


def test_rotated_keys_a_tampered_body_and_a_stale_timestamp() -> None:
    verify(request(f"v1,bm9wZQ== {SIGNATURE}"), SECRET, SENT)  # several signatures during key rotation
    with pytest.raises(Unauthorized):
        verify(request(body='{"test": 2432232315}'), SECRET, SENT)
    with pytest.raises(Unauthorized, match="stale"):
        verify(request(), SECRET, SENT + timedelta(minutes=6))


@pytest.mark.parametrize("raw", [b"0123456789abcdef01234", b"a-24-byte-long-secret-!!"])
def test_unpadded_and_bare_secrets_that_the_library_accepts(raw: bytes) -> None:
    encoded = base64.b64encode(raw).decode()
    for secret in (f"whsec_{encoded.rstrip('=')}", encoded.rstrip("="), f"whsec_{encoded}"):
        signature = Webhook(secret).sign(MESSAGE_ID, SENT, BODY)
        verify(request(signature), secret, SENT)


def test_a_secret_that_is_not_base64_is_a_401_not_a_500() -> None:
    with pytest.raises(Unauthorized, match="FORMS_SECRET"):
        verify(request(), "whsec_!!!not base64!!!", SENT)
