"""Caching forwarder: pure cores (forwarder state machine, cache, scrub, local names)."""
