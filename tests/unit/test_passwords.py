"""Password hashes (`service/passwords.py`): argon2id, and the scrypt hashes written before it."""

from __future__ import annotations

from werkzeug.security import generate_password_hash

from service.passwords import hash_password, verify_password

PASSWORD = "sandi-yang-panjang-sekali"


def test_a_password_is_kept_as_a_salted_argon2id_hash() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and PASSWORD not in first
    assert first != second  # salted
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")


def test_a_scrypt_hash_from_before_argon2id_still_verifies() -> None:
    legacy = generate_password_hash(PASSWORD)
    assert legacy.startswith("scrypt:")
    assert verify_password(legacy, PASSWORD)
    assert not verify_password(legacy, "another password")


def test_no_hash_never_verifies() -> None:
    assert not verify_password(None, PASSWORD)
    assert not verify_password("$argon2id$not-a-hash", PASSWORD)
