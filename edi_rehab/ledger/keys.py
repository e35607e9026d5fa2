"""Patient identifiers as keyed hashes (HMAC-SHA256), and the key that makes them.

Why keyed: a member id is short and guessable (a payer's format, a few million values), so a
plain SHA-256 of it is reversed by hashing every candidate. With a secret key an attacker
holding the ledger but not the key can neither reverse a hash nor test a guess; anyone with
the key gets the same hash for the same patient on every machine, which is what the
duplicate and year-to-date queries need.

A key file holds one or more keys, one per line as 64 hex digits (32 bytes), oldest first;
``#`` starts a comment. The hash of an identifier is the HMAC chain over the keys: the first
key hashes the identifier, each later key hashes the previous hash's hex. Rotating the key
appends a new one and rehashes every stored value with it (:func:`rehash`), which needs no
identifier in clear: the ledger's hashes are the chain so far. Why and how, for an
operator: ``docs/ledger.md``.

Pure: text in, values out; the CLI reads and writes the file.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = ["LedgerKeyError", "PatientKey", "parse_key_file", "new_key_line", "rehash"]

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


class LedgerKeyError(ValueError):
    """A key file that cannot be used (message names the line, never a key)."""


@dataclass(frozen=True)
class PatientKey:
    """The chain of keys, oldest first."""

    keys: tuple[bytes, ...]

    def hash(self, identifier: str) -> str:
        """The keyed hash (64 hex digits) of a normalised identifier."""
        value = identifier.encode("utf-8")
        for key in self.keys:
            value = hmac.new(key, value, hashlib.sha256).hexdigest().encode("ascii")
        return value.decode("ascii")

    def patient(self, member: str, payer: str) -> str:
        """The hash of who a claim is for: member id (or name) and payer id, as
        :attr:`edi_rehab.claims.Claim.patient_key` defines them. Case and outer spaces do
        not change it; an unknown patient (both empty) hashes to ``""``."""
        member, payer = member.strip().upper(), payer.strip().upper()
        if not member and not payer:
            return ""
        return self.hash(f"{member}\x1f{payer}")

    @property
    def fingerprint(self) -> str:
        """Names the key chain without revealing it: stored in the ledger so that a run with
        another key is refused instead of writing hashes no query would ever join."""
        return self.hash("edi-rehab ledger key fingerprint")[:16]

    def rotated(self, new_key: bytes) -> PatientKey:
        return PatientKey((*self.keys, new_key))


def parse_key_file(text: str, source: str) -> PatientKey:
    """Raises LedgerKeyError for a line that is not 64 hex digits, or no key at all."""
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not _HEX_KEY.fullmatch(line):
            raise LedgerKeyError(f"{source}:{number}: a ledger key is 64 hex digits (32 bytes); this line is not one")
        keys.append(bytes.fromhex(line))
    if not keys:
        raise LedgerKeyError(f"{source}: holds no ledger key")
    return PatientKey(tuple(keys))


def new_key_line() -> str:
    """A fresh random key as a key-file line."""
    return secrets.token_hex(32) + "\n"


def rehash(stored: str, new_key: bytes) -> str:
    """A stored hash moved one step along the chain to ``new_key``; ``""`` stays ``""``."""
    if not stored:
        return ""
    return hmac.new(new_key, stored.encode("ascii"), hashlib.sha256).hexdigest()
