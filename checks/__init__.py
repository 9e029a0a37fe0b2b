"""Compliance checks: pure functions from page artifacts to findings."""
