"""Municipalities (the tenants): creating and erasing one, and the caller's own municipality with its
sender details, shown to respondents ("Wie vraagt dit?")."""
