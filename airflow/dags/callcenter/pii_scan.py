"""Leak scanner for landed files: the same broad detection as the redaction
(NFKC first, every separator the notes pattern knows), so a scan of curated,
quarantine, copies or customer_360 flags what redaction would have caught."""

from __future__ import annotations

import re
import unicodedata

from callcenter.masking import NOTES_EMAIL_PATTERN, NOTES_NUMBER_PATTERN, NOTES_PHONE_PATTERN

# RE2 syntax of the masking patterns is also valid Python re syntax here.
_PII = re.compile("|".join(f"(?:{p})" for p in (NOTES_EMAIL_PATTERN, NOTES_NUMBER_PATTERN, NOTES_PHONE_PATTERN)))
# Pseudonyms are 32 hex chars and may hold 7+ digit runs: not PII.
_HEX_PSEUDONYM = re.compile(r"\b[0-9a-f]{32}\b")
# ISO dates and date-times (timestamps, call_date partitions) are not phones.
_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def find_pii(text: str) -> list[str]:
    """E-mail-, phone- or card/IBAN-like strings in `text` after NFKC."""
    folded = unicodedata.normalize("NFKC", text)
    folded = _ISO_TIME.sub(" ", _HEX_PSEUDONYM.sub(" ", folded))
    return [m.group(0) for m in _PII.finditer(folded)]
