"""The console window (PySide6), a thin layer over `console.core`."""
