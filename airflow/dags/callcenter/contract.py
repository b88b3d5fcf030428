"""The call-record data contract: field names, bounds, reason codes, output schema.

Everything that CONTRACT.md promises lives here as constants so the validator,
the masker, the tests and the docs cannot drift apart silently.
"""

from __future__ import annotations

import pyarrow as pa

# Input fields in contract order; the order also fixes the order in which
# reason codes are reported for a record that breaks several rules.
FIELDS: tuple[str, ...] = (
    "call_id",
    "customer_id",
    "customer_name",
    "customer_phone",
    "customer_email",
    "agent_id",
    "call_start_time",
    "duration",
    "sentiment",
    "notes",
)
REQUIRED_IDS: tuple[str, ...] = ("call_id", "customer_id", "agent_id")
OPTIONAL_TEXT: tuple[str, ...] = ("customer_name", "notes")

PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15  # E.164 maximum
# Characters a producer may use to format a phone number; anything else
# (letters, extension markers, ...) makes the phone invalid rather than guessed at.
PHONE_FORMATTING_CHARS: tuple[str, ...] = (" ", "+", "-", "(", ")", ".", "/")
# Id shape rule: an id is opaque, but one that contains an '@' or is nothing
# but 7+ digits and phone formatting characters is a shifted e-mail/phone, not
# an id; it is quarantined (ids are stored unmasked in curated and its copies).
# Full-width '＠', '＋' and digits are listed rather than NFKC-folded first: one
# regex pass over every id, no normalisation copy (measured in pipeline_bench).
ID_PII_PATTERN = r"[@\x{FF20}]|^\s*[+\x{FF0B}]?[0-9\x{FF10}-\x{FF19} ().\-/]*(?:[0-9\x{FF10}-\x{FF19}][ ().\-/]*){7,}$"
# Plausibility window for call_start_time (UTC): before it or more than this
# far past "now" is a producer default (0001-01-01, 9999-12-31, 1970), not a call.
TIMESTAMP_MIN_ISO = "2000-01-01T00:00:00+00:00"
TIMESTAMP_MAX_AHEAD_S = 86_400
MAX_DURATION_S = 86_400  # a call longer than a day is a producer bug, not a call
SENTIMENT_MIN, SENTIMENT_MAX = -1.0, 1.0
# A line longer than this cannot be a call record; it is quarantined unread so a
# runaway line cannot grow the reader's buffer without bound.
MAX_LINE_BYTES = 1 << 20

# Pseudonyms are keyed BLAKE2b (RFC 7693 keyed mode, a MAC/PRF) truncated to 128
# bits: 2^-64 collision odds at 4 billion customers, 32 hex chars per value.
HASH_DIGEST_BYTES = 16
HASH_KEY_MIN_BYTES = 16
HASH_KEY_MAX_BYTES = 64  # BLAKE2b's key limit


class Reason:
    """Quarantine reason codes. Stable strings: downstream alerting matches on them."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_UTF8 = "invalid_utf8"
    LINE_TOO_LONG = "line_too_long"
    BAD_PHONE = "bad_phone"
    BAD_EMAIL = "bad_email"
    BAD_TIMESTAMP = "bad_timestamp"
    MISSING_TIMEZONE = "missing_timezone"
    BAD_DURATION = "bad_duration"
    NEGATIVE_DURATION = "negative_duration"
    DURATION_TOO_LONG = "duration_too_long"
    BAD_SENTIMENT = "bad_sentiment"
    SENTIMENT_OUT_OF_RANGE = "sentiment_out_of_range"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    # A call_id already curated: earlier in the same export, or in another
    # source's file of the same call_date partition (review V6).
    DUPLICATE_CALL_ID = "duplicate_call_id"

    @staticmethod
    def pii_in(field: str) -> str:
        # An id field holding an e-mail or a phone-shaped value (see ID_PII_PATTERN).
        return f"pii_in:{field}"

    @staticmethod
    def missing(field: str) -> str:
        return f"missing:{field}"


# What lands in the curated zone. No column holds raw PII: names and e-mails are
# pseudonyms, phones keep only their last four digits, notes are redacted.
CURATED_SCHEMA = pa.schema(
    [
        pa.field("call_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("customer_name_hash", pa.string()),
        pa.field("customer_phone_last4", pa.string(), nullable=False),
        pa.field("customer_email_hash", pa.string(), nullable=False),
        pa.field("agent_id", pa.string(), nullable=False),
        pa.field("call_start_time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("duration", pa.int32(), nullable=False),
        pa.field("sentiment", pa.float64(), nullable=False),
        pa.field("notes_redacted", pa.string()),
        pa.field("call_date", pa.date32(), nullable=False),
    ]
)
PARTITION_COLUMN = "call_date"
