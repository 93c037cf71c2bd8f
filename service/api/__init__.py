"""Blueprints: each translates HTTP to a command or query of the application and back, nothing more."""
