"""Storage: engines, the core schema and migrations (internal; use :class:`fupin.Store`)."""
