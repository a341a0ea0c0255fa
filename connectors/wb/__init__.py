"""Wildberries: the seller API client and its token, limits and wire-format parsing."""
