"""The REST API. Today: intake of requests by integrations holding an API token."""
