"""Empty PostgreSQL databases for tests, made without DROP DATABASE.

PostgreSQL checkpoints the whole server on every DROP DATABASE: every dirty page of every database is written out
before it returns. On a server that other tests (or other projects) are writing to, that takes from seconds to a
minute, and slows them down meanwhile. So a test's database is created once and, from then on, emptied instead:
everyone still connected is cut off and its schema is dropped and made anew, which leaves nothing of what was there
(tables, types, sequences, alembic_version) and costs no checkpoint. The databases stay on the server, empty, for the
next run, as the xdist workers' databases do.
"""

from urllib.parse import urlsplit, urlunsplit

import psycopg

#: Every object the tests and the migrations create lives in this schema.
SCHEMA = "public"


def empty_database(server_url, name):
    """Make database name on the server of server_url exist and be empty (no table, type, sequence or anything else
    in it); return its URL. Whoever is still connected to it is disconnected first."""
    url = database_url(server_url, name)
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as server:
        if not server.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            server.execute(f'CREATE DATABASE "{name}"')
            return url
    with psycopg.connect(url, autocommit=True) as database:
        database.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        # IMPORTANT: one transaction: nobody connecting meanwhile finds the database without its schema
        with database.transaction():
            database.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            database.execute(f"CREATE SCHEMA {SCHEMA}")
            database.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO PUBLIC")
    return url


def database_url(server_url, name):
    """Return server_url (any database on the server) pointing at database name instead."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
