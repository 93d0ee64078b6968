"""Secrets both pipelines keep: encrypted at rest (crypto), rotated with a grace period (rotation), masked
wherever they could be shown (masking)."""
