"""The endpoint control plane: settings, secrets and rotation, health, one-click actions."""
