"""Helpers the benchmark scripts share."""

from urllib.parse import urlsplit

import psycopg


def ensure_database(url):
    """Create the PostgreSQL database named in url if it does not exist yet."""
    dbname = urlsplit(url).path.lstrip("/")
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')
