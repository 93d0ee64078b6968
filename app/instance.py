"""Keys a laptop install generates for itself; a server must be given them."""

import os
import secrets

from cryptography.fernet import Fernet

#: Setting name -> how to make a new value when a local install has none.
GENERATED = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "SECRETS_ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
}


def ensure_keys(app):
    """Fill missing SECRET_KEY / SECRETS_ENCRYPTION_KEY from the instance folder on a SQLite install.

    With another database the instance folder may not outlive a deploy (Heroku, Render), and a
    lost encryption key would make every endpoint secret unreadable: there, refuse to start.
    """
    for name, generate in GENERATED.items():
        if app.config.get(name):
            continue
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            raise RuntimeError(f"{name} must be set in the environment (see README, Deploy)")
        app.config[name] = _read_or_create(os.path.join(app.instance_path, name.lower()), generate)


def _read_or_create(path, generate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        value = generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value
