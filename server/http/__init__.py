"""Thin HTTP handlers, one module per resource; rules and storage live elsewhere."""
