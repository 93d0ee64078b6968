"""Inbound pages: the events the sources accepted (list, rows, one event) and the sources themselves."""
