"""Code tables and identifiers: USCC (GB 32100), divisions (GB/T 2260 + 12-digit), industries (GB/T 4754)."""
