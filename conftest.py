"""Root conftest: load fupin's shared pytest fixtures (database_url, sqlite_url,
postgres_url, ...) for the core tests and the in-repo plugins' tests."""

pytest_plugins = ["fupin.testing"]
