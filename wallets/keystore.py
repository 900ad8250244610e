"""Envelope encryption of wallet private keys (AES-256-GCM).

Each key gets a random 256-bit data key; the data key is wrapped by the master key-encryption key
(KEY_ENCRYPTION_KEY, base64 of 32 bytes) identified by KEY_ENCRYPTION_KEY_ID, so master keys can be
rotated by re-wrapping data keys only. The stored form is a JSON object of base64 strings.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class KeystoreError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def master_keys() -> dict[str, str]:
    """The current master key plus retired ones kept for decryption during a rotation
    (KEY_ENCRYPTION_KEYS_RETIRED="id:base64key,id:base64key")."""
    keys = {}
    for item in settings.KEY_ENCRYPTION_KEYS_RETIRED:
        key_id, _, key = item.partition(":")
        keys[key_id.strip()] = key.strip()
    keys[settings.KEY_ENCRYPTION_KEY_ID] = settings.KEY_ENCRYPTION_KEY
    return keys


def _master_key(key_id: str) -> bytes:
    encoded = master_keys().get(key_id)
    if encoded is None:
        raise KeystoreError(f"unknown key-encryption key id {key_id!r}")
    key = _unb64(encoded)
    if len(key) != 32:
        raise KeystoreError(f"key-encryption key {key_id!r} must be 32 bytes, base64-encoded")
    return key


def private_key_encrypt(private_key_hex: str) -> str:
    data_key = AESGCM.generate_key(bit_length=256)
    key_id = settings.KEY_ENCRYPTION_KEY_ID
    wrap_nonce, data_nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(_master_key(key_id)).encrypt(wrap_nonce, data_key, key_id.encode())
    ciphertext = AESGCM(data_key).encrypt(data_nonce, private_key_hex.encode(), None)
    return json.dumps(
        {
            "v": 1,
            "kid": key_id,
            "wrap_nonce": _b64(wrap_nonce),
            "wrapped_key": _b64(wrapped),
            "nonce": _b64(data_nonce),
            "ciphertext": _b64(ciphertext),
        }
    )


def envelope_key_id(envelope: str) -> str:
    try:
        return json.loads(envelope)["kid"]
    except Exception:
        raise KeystoreError("private key envelope is not readable") from None


def envelope_rewrap(envelope: str) -> str:
    """Re-wrap the envelope's data key with the current master key; the ciphertext is untouched."""
    try:
        box = json.loads(envelope)
        old_id = box["kid"]
        data_key = AESGCM(_master_key(old_id)).decrypt(
            _unb64(box["wrap_nonce"]), _unb64(box["wrapped_key"]), old_id.encode())
    except KeystoreError:
        raise
    except Exception:
        raise KeystoreError("private key envelope cannot be decrypted") from None
    new_id = settings.KEY_ENCRYPTION_KEY_ID
    wrap_nonce = os.urandom(12)
    box.update(kid=new_id, wrap_nonce=_b64(wrap_nonce),
               wrapped_key=_b64(AESGCM(_master_key(new_id)).encrypt(wrap_nonce, data_key, new_id.encode())))
    return json.dumps(box)


def private_key_decrypt(envelope: str) -> str:
    try:
        box = json.loads(envelope)
        key_id = box["kid"]
        data_key = AESGCM(_master_key(key_id)).decrypt(
            _unb64(box["wrap_nonce"]), _unb64(box["wrapped_key"]), key_id.encode()
        )
        return AESGCM(data_key).decrypt(_unb64(box["nonce"]), _unb64(box["ciphertext"]), None).decode()
    except KeystoreError:
        raise
    except Exception:  # tampered or corrupt envelope: never echo its content
        raise KeystoreError("private key envelope cannot be decrypted") from None
