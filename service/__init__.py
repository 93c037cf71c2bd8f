"""Desa Binaan as people reach it: the Flask app, its API, the command handlers and the CLI."""
