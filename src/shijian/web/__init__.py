"""Shared web layer: base templates, generic object views, login, navigation."""
