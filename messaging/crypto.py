"""Encryption at rest for LinkedIn tokens (docs/architecture.md).

Fernet (AES-128-CBC with HMAC) under MultiFernet: the first key of FIELD_ENCRYPTION_KEYS
encrypts, every key decrypts, so keys can be rotated without downtime
(`manage.py rotate_encryption_keys` then re-encrypts under the newest key).
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Say what is wrong without echoing the stored value.
        raise ImproperlyConfigured(
            "A stored token cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: "
            "was a key removed before rotate_encryption_keys ran?"
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the newest key without the plaintext leaving this function."""
    return fernet().rotate(ciphertext.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column that holds only Fernet ciphertext; the model attribute is plaintext.

    Empty values stay empty (nothing to hide), so "no token" remains checkable in SQL.
    """

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
