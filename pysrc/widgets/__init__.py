"""The first article's widgets: pure view functions from parameters to SVG/HTML.

The site declares this package in content/site.yml (under `python:` and `widgets:`); the
build imports each of its modules, which register their widgets with `widgetkit`, and
ships them in the site's wheel, where the browser imports a module when one of its
widgets is first drawn. `facts` is build-only (the numbers the article quotes): the site
names it under `facts:` and it stays out of the wheel.
"""
