"""Mobile Console: a desktop management console for a local mobile backend."""

__version__ = "0.1.0"
