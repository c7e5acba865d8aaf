"""Admin for reports: nothing to register yet (reports has no models)."""
