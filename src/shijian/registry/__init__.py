"""两库两清单: market entities, inspectors, spot-check items and responsibilities (plus departments)."""
