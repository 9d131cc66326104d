"""Signed tokens, password hashing and sealing of data at rest."""
