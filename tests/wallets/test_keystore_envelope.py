"""Private-key envelope encryption: round trip, per-key randomness, tamper and wrong-key refusal."""

import base64
import json

import pytest
from django.test import override_settings

from wallets.keystore import KeystoreError, private_key_decrypt, private_key_encrypt

KEY = "0x" + "ab" * 32


def test_round_trip_and_no_plaintext_in_envelope():
    envelope = private_key_encrypt(KEY)
    assert KEY not in envelope and KEY[2:] not in envelope
    assert private_key_decrypt(envelope) == KEY


def test_each_encryption_uses_a_fresh_data_key_and_nonce():
    first, second = json.loads(private_key_encrypt(KEY)), json.loads(private_key_encrypt(KEY))
    assert first["wrapped_key"] != second["wrapped_key"]
    assert first["ciphertext"] != second["ciphertext"]


def test_tampered_ciphertext_is_refused_without_echoing_content():
    box = json.loads(private_key_encrypt(KEY))
    raw = bytearray(base64.b64decode(box["ciphertext"]))
    raw[0] ^= 1
    box["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(KeystoreError) as excinfo:
        private_key_decrypt(json.dumps(box))
    assert box["ciphertext"] not in str(excinfo.value)


def test_other_master_key_cannot_decrypt():
    envelope = private_key_encrypt(KEY)
    other = base64.b64encode(b"x" * 32).decode()
    with override_settings(KEY_ENCRYPTION_KEY=other), pytest.raises(KeystoreError):
        private_key_decrypt(envelope)


def test_unknown_key_id_is_refused():
    envelope = private_key_encrypt(KEY)
    with override_settings(KEY_ENCRYPTION_KEY_ID="k2"), pytest.raises(KeystoreError, match="unknown"):
        private_key_decrypt(envelope)


def test_key_id_is_authenticated():
    box = json.loads(private_key_encrypt(KEY))
    box["kid"] = "k2"
    with override_settings(KEY_ENCRYPTION_KEY_ID="k2"), pytest.raises(KeystoreError):
        private_key_decrypt(json.dumps(box))
