"""The event log and what is built from it: event types, the store, the hash chain, projections."""
