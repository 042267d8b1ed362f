"""The site generator: Markdown articles + Jinja2 templates + widgets -> _site/."""
