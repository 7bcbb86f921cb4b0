"""Reading numbers that clients send (query strings, posted ids) without trusting them."""

MAX_ID_DIGITS = 18  # fits a signed 64-bit column on every database


def parse_id(raw):
    """A record id from a request parameter, or None: ASCII digits in the 64-bit range only
    ("²", "١٢", "-1", "1e3" and 25-digit numbers are not ids)."""
    raw = str(raw if raw is not None else "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS:
        return int(raw)
    return None
