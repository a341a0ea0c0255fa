"""Ozon Seller API client."""
