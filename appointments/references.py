"""Request reference numbers: short, unguessable and easy to read out on the phone.

Eight characters from an alphabet without 0/O and 1/I (32 symbols, 2**40 values), so a
patient can read one to the front desk and nobody can walk through other people's.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8


def new_reference():
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


class ReferenceConverter:
    """URL converter matching exactly one well-formed reference."""

    regex = f"[{ALPHABET}]{{{LENGTH}}}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
