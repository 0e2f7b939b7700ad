"""The version of nerkit (the same as pyproject.toml's), importable by every module without the package root."""

__version__ = "0.1.0"
