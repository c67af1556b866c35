"""Opt-in shims that make third-party AWS clients honour endpoint settings they otherwise ignore."""
