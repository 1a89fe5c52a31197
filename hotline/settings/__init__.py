"""Settings modules: base (shared), local (a newcomer's machine), test, production."""
