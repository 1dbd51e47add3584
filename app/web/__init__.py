"""The aiohttp application: webhooks in, health and metrics out, and the server-rendered pages."""
