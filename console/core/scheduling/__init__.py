"""Deciding when: the scheduler thread that claims due ticks and hands them
to the runner (`scheduler`), the retries a failed run earns (`retries`),
failures and recoveries (`alerts`) told to the failure web hook
(`webhook`), and the workers visible on a database (`workers`).

The top of the core: may import every other part of it; nothing in the
core imports it.
"""
