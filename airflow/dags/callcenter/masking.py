"""PII masking over whole Arrow columns.

Per-row Python is what made the old Lambda pattern slow, so every transform here
works on a column; the only per-value Python left is the keyed hash, and that
runs once per *distinct* value of a batch, not once per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callcenter.contract import (
    HASH_DIGEST_BYTES,
    HASH_KEY_MAX_BYTES,
    HASH_KEY_MIN_BYTES,
    PHONE_FORMATTING_CHARS,
)

# Over-redaction is the safe failure mode: an order number that looks like a
# phone number is redacted too. Emails are redacted first because they may
# contain digit runs that the phone pattern would otherwise split.
# Negated ASCII classes rather than \pL: they match any non-ASCII letter too (so
# "müller@x.de" is redacted whole, not as "mü[EMAIL]") yet compile to a small
# automaton; Arrow recompiles the pattern on every call, and \pL costs ~5 ms each.
_EMAIL_CHAR = r"[^\s@<>()\[\]{},;:\"'/\\]"
NOTES_EMAIL_PATTERN = _EMAIL_CHAR + r"+@" + _EMAIL_CHAR + r"+\." + _EMAIL_CHAR + r"+"
# 7-15 digits, each pair separated by at most two formatting characters.
NOTES_PHONE_PATTERN = r"\+?\d(?:[ ().\-/]{0,2}\d){6,14}"
# Any phone match holds a digit, a separator of at most two characters and so on;
# it must contain a run like "5 5" or "555": this prefilter accepts every note
# the phone pattern could match (7+ digits with <=2-char gaps) and few others.
_PHONE_PREFILTER = r"\d[ ().\-/]{0,2}\d[ ().\-/]{0,2}\d"
EMAIL_TOKEN = "[EMAIL]"
PHONE_TOKEN = "[PHONE]"

# Domain separation: the same string hashed as a name and as an e-mail must not
# give the same pseudonym, or one column could be used to join the other.
PERSON_NAME = b"cc-name-v1"
PERSON_EMAIL = b"cc-email-v1"


class MaskingKeyError(ValueError):
    """The pseudonymisation key is unusable."""


def check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)):
        raise MaskingKeyError("masking key must be bytes (fetch it from Vault, never hard-code it)")
    if not HASH_KEY_MIN_BYTES <= len(key) <= HASH_KEY_MAX_BYTES:
        raise MaskingKeyError(
            f"masking key must be {HASH_KEY_MIN_BYTES}-{HASH_KEY_MAX_BYTES} bytes, got {len(key)}"
        )


def _hasher(key: bytes, person: bytes) -> Callable[[bytes], bytes]:
    # Keying BLAKE2b costs one extra compression; doing it once and copying the
    # keyed state per value is ~4x cheaper than hmac.digest on this hardware.
    keyed = hashlib.blake2b(key=bytes(key), digest_size=HASH_DIGEST_BYTES, person=person)

    def digest(value: bytes) -> bytes:
        h = keyed.copy()
        h.update(value)
        return h.digest()

    return digest


def _fixed_width_strings(data: bytes, width: int, count: int) -> pa.StringArray:
    # Every hex digest has the same width, so offsets are an arithmetic series
    # and the array can wrap one buffer instead of `count` Python strings.
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(data))


def keyed_hash(values: pa.Array, key: bytes, person: bytes) -> pa.StringArray:
    """Hex pseudonym of every value (nulls stay null), keyed so it cannot be
    reversed by hashing a dictionary of known names or e-mails."""
    check_key(key)
    if len(values) == 0:
        return pa.array([], pa.string())
    encoded = pc.dictionary_encode(values)
    uniques = encoded.dictionary.cast(pa.binary()).to_pylist()
    digests = map(_hasher(key, person), uniques)
    hexed = b"".join(digests).hex().encode("ascii")
    table = _fixed_width_strings(hexed, HASH_DIGEST_BYTES * 2, len(uniques))
    return pc.take(table, encoded.indices)


def normalize_email(emails: pa.Array) -> pa.Array:
    # Mail systems treat addresses case-insensitively; one customer must get one
    # pseudonym however the agent typed the address.
    return pc.utf8_lower(pc.utf8_trim_whitespace(emails))


def normalize_name(names: pa.Array) -> pa.Array:
    # NFC so "é" typed as one code point or as e + combining accent hashes alike.
    return pc.utf8_lower(pc.utf8_trim_whitespace(pc.utf8_normalize(names, "NFC")))


def hash_email(emails: pa.Array, key: bytes) -> pa.StringArray:
    return keyed_hash(normalize_email(emails), key, PERSON_EMAIL)


def hash_name(names: pa.Array, key: bytes) -> pa.StringArray:
    return keyed_hash(normalize_name(names), key, PERSON_NAME)


def phone_digits(phones: pa.Array) -> pa.Array:
    """The phone with its formatting characters removed (not yet validated).

    Seven literal replaces measured ~1.7x cheaper than one regex rewrite.
    """
    out = pc.utf8_trim_whitespace(phones)
    for ch in PHONE_FORMATTING_CHARS:
        out = pc.replace_substring(out, ch, "")
    return out


def phone_last4(digits: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(digits, -4)


def redact_emails(values: pa.Array) -> pa.Array:
    """E-mail redaction only, for structured fields where the phone pattern would
    mangle legitimate ids and timestamps."""
    return pc.replace_substring_regex(values, NOTES_EMAIL_PATTERN, EMAIL_TOKEN)


def _rewrite_where(values: pa.Array, where: pa.Array, pattern: str, token: str) -> pa.Array:
    where = pc.fill_null(where, False)
    picked = pc.indices_nonzero(where)
    if len(picked) == 0:
        return values
    rewritten = pc.replace_substring_regex(pc.take(values, picked), pattern, token)
    return pc.replace_with_mask(values, where, rewritten)


def redact_notes(notes: pa.Array) -> pa.Array:
    """Replace e-mail addresses and phone-number-like digit runs in free text.

    Each rewrite runs only on the notes that can match it: '@' for e-mails (a
    literal search), three digits in a row for phones. Most notes have neither.
    """
    if len(notes) == 0:
        return notes
    notes = _rewrite_where(notes, pc.match_substring(notes, "@"), NOTES_EMAIL_PATTERN, EMAIL_TOKEN)
    return _rewrite_where(notes, pc.match_substring_regex(notes, _PHONE_PREFILTER), NOTES_PHONE_PATTERN,
                          PHONE_TOKEN)
