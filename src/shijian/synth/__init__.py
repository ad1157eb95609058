"""Synthetic district generator: entities on real towns and villages, lists, and messy departmental feeds."""
