"""数据治理 in the browser: departments' feeds, resumable uploads, the mapping editor, quarantine and re-processing,
data quality (docs/data-admin.md)."""
