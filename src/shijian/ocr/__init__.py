"""Offline OCR of business-licence (营业执照) photos: read the fields, correct the code, match the register."""
