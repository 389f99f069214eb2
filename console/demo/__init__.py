"""The demo: a console on its own home, a Twitter stand-in on loopback, and an
in-memory keyring for machines without a usable one. Nothing in `console.core`
imports this package."""

from console.demo.home import Demo, demo_home, start_demo

__all__ = ["Demo", "demo_home", "start_demo"]
