"""The published instrument and the record of the versions data were collected with."""
