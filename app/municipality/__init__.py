"""The caller's own municipality: its sender details, shown to respondents ("Wie vraagt dit?")."""
