"""Rules every domain contract shares, and call_analytics' names for older callers.

A domain's fields, types, masks, unique field and partition live in its contract
file (airflow/dags/domains/<domain>.yaml, loaded by callcenter.domain). What is
left here is what no contract file states: the bounds of the type rules (phone
digits, the timestamp window, the id shape rule), line limits, the keyed-hash
sizes and the stable reason codes. FIELDS, CURATED_SCHEMA, PARTITION_COLUMN
and the duration/sentiment bounds are read from call_analytics.yaml, so the
docs, the tests and the file cannot drift apart silently.
"""

from __future__ import annotations

from callcenter.domain import load as _load

_CALLS = _load("call_analytics")

# Input fields in contract order; the order also fixes the order in which
# reason codes are reported for a record that breaks several rules.
FIELDS: tuple[str, ...] = _CALLS.names
REQUIRED_IDS: tuple[str, ...] = tuple(f.name for f in _CALLS.fields if f.type == "id" and f.required)
OPTIONAL_TEXT: tuple[str, ...] = tuple(f.name for f in _CALLS.fields if f.type == "text" and not f.required)

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
MAX_DURATION_S = int(_CALLS.field("duration").max)  # a call longer than a day is a producer bug, not a call
SENTIMENT_MIN, SENTIMENT_MAX = float(_CALLS.field("sentiment").min), float(_CALLS.field("sentiment").max)
# A line longer than this cannot be a call record; it is quarantined unread so a
# runaway line cannot grow the reader's buffer without bound.
MAX_LINE_BYTES = 1 << 20

# Pseudonyms are keyed BLAKE2b (RFC 7693 keyed mode, a MAC/PRF) truncated to 128
# bits: 2^-64 collision odds at 4 billion customers, 32 hex chars per value.
HASH_DIGEST_BYTES = 16
HASH_KEY_MIN_BYTES = 16
HASH_KEY_MAX_BYTES = 64  # BLAKE2b's key limit


class Reason:
    """Quarantine reason codes. Stable strings: downstream alerting matches on them.
    Range rules of integer/number fields are named per contract field
    (bad_<field>, <field>_out_of_range, or the field's `reasons`); the
    duration/sentiment ones below are call_analytics'."""

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
    # source's file of the same call_date partition (review V6). Any domain: duplicate_<unique>.
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
CURATED_SCHEMA = _CALLS.curated_schema
PARTITION_COLUMN = _CALLS.partition_column
