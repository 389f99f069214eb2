"""The one thing pyproject.toml cannot say: the top-level resources/ folder
(icons, theme, job templates, desktop file) is installed as the package
`console.resources`, so the wheel, the sdist and an editable install all carry
it and `console.core.resources` finds it through importlib.resources.
Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCES = "console.resources"

setup(
    packages=[
        *find_packages(include=["console", "console.*"]),
        RESOURCES,
        # Its folders (templates/ holds .py files) are packages too, so that
        # setuptools installs them as such rather than warn about data.
        *(f"{RESOURCES}.{p}" for p in find_namespace_packages(where="resources")),
    ],
    package_dir={RESOURCES: "resources"},
)
