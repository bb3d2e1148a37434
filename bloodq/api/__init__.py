"""The HTTP API (the only layer that imports aiohttp.web)."""
