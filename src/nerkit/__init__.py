"""nerkit: train, evaluate and use named-entity-recognition models from CoNLL data."""

from nerkit.errors import NerkitError

__version__ = "0.1.0"

__all__ = ["NerkitError", "__version__"]
