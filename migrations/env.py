import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import TypeDecorator

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# IMPORTANT: keep the loggers the app already made: `flask serve` migrates in-process, and the default would
# silence every one of them (the outage lines, the sweeper) for the life of the server.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions['migrate'].db.get_engine()
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def render_item(type_, obj, autogen_context):
    """Write the app's column types as the plain SQLAlchemy types they store, so revisions never
    import application code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def include_object_for(dialect_name):
    """Skip objects declared for another database only (Index(...).ddl_if(dialect=...)), which Alembic
    would otherwise report missing there."""

    def include_object(obj, name, type_, reflected, compare_to):
        ddl_if = getattr(obj, "_ddl_if", None)
        return not (ddl_if is not None and ddl_if.dialect and ddl_if.dialect != dialect_name)

    return include_object


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # IMPORTANT: batch migrations rebuild SQLite tables with DROP TABLE, which with foreign keys on
            # deletes the rows that point at the table (ON DELETE CASCADE): every delivery and attempt.
            # The pragma is ignored inside a transaction, so it goes to the raw connection before BEGIN.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        conf_args.setdefault("include_object", include_object_for(connection.dialect.name))
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # A migration may rewrite a big table: no statement timeout and no client wait bound (app.database).
            # lock_timeout stays, so a migration stuck behind live traffic gives up instead of blocking it.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.connection.driver_connection.wait_timeout = None
        with context.begin_transaction():
            context.run_migrations()
        if postgresql:
            connection.invalidate()  # IMPORTANT: never hand this untimed connection to a request (flask serve)
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.commit()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"migration left rows pointing at nothing: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
