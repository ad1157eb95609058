"""The record lake: every departmental record as Parquet, one directory per committed load."""
