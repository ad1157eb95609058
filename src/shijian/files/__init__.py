"""Stored files in one place: attachments, evidence and signed documents are saved with their SHA-256
(``stored.save``), read back only after the hash is checked (``stored.open_verified``), served only through
permission-checked views (``stored.serve``), and deleted when their kind's retention ends unless a legal hold keeps
them (``retention``)."""
