"""The everyday commands."""
