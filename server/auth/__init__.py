"""Passwords, signed tokens (one salt per purpose), and the Origin and CSRF guards."""
