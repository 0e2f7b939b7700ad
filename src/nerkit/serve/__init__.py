"""nerkit as an HTTP service (`pip install 'nerkit[serve]'`): a REST API and a web page over one model."""

from __future__ import annotations

from nerkit.serve.app import create_app
from nerkit.serve.batcher import MicroBatcher, Overloaded
from nerkit.serve.connections import ConnectionLimits
from nerkit.serve.server import run_server

__all__ = ["ConnectionLimits", "MicroBatcher", "Overloaded", "create_app", "run_server"]
