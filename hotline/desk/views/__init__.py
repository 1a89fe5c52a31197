"""Pages: parse the request, call one selector or service, render. No rule lives here."""
