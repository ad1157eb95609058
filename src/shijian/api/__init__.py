"""The data-sharing REST API (/api/): API clients as principals, bearer tokens, scopes, rate limits, paging."""
