"""Password hashes: argon2id (argon2-cffi's recommended parameters), salted, never the password. A
hash written before argon2id was used (werkzeug's salted scrypt) still verifies."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

_HASHER = PasswordHasher()  # argon2id


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches the stored hash. Without a hash (an unknown user, or one with no
    password yet) a hash is still checked, so that the answer takes as long as for a known one."""
    if stored_hash is None:
        _check_argon2(_NOBODY, password)
        return False
    if stored_hash.startswith("$argon2"):
        return _check_argon2(stored_hash, password)
    return check_password_hash(stored_hash, password)


def _check_argon2(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_NOBODY = hash_password("no user has this password, it only spends the time")
