"""The tour's lessons: each module measures something and returns plain data.

Printing lives apart from measuring (``*_text`` modules turn the data into
lines), so tests can check the numbers and the tour can show them.
"""
