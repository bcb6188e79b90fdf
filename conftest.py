"""Root conftest. fupin's shared pytest fixtures (``store``, ``pm``, ``cli``,
``database_url``, ...) come from :mod:`fupin.testing`, a pytest plugin registered
through the ``pytest11`` entry point: installing fupin loads it, here and in any
third-party plugin's test suite, so it is not named again here."""
