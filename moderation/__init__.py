"""Moderation: roles, mutes, removals and bans, flags, review, audit and staff."""
