"""Plain typed values of the trade domain: codes, entry numbers, the canonical table schemas."""
