"""Rooms: membership, messages, history, expiry and send limits."""
