"""Mobile Console's resources: icons, the theme, job templates and the desktop
file. Installed as the package `console.resources`; found only through
`console.core.resources`."""
