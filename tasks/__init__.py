"""Dramatiq side: the broker, the actors and the worker entry points."""
