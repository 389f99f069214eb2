"""What a user configures: the console's own settings, each declared once
(`settings`), the app settings and secrets scripts read (`app_settings`),
the OS keyring that holds secret values (`keyring`), the masking that keeps
those values out of every log and screen (`masking`), and the URL-prefix
redirects for jobs' HTTP requests (`redirects`).

May import: `store` and the leaves. Not `tables` (its sibling), nor anything
above.
"""
