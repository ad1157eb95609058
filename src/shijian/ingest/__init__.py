"""Departmental feeds -> clean -> validate -> record lake (Parquet), with quarantine and reconciled counts."""
