"""The tour's lessons: each measures something and returns plain data.

``fib`` and ``mlp`` measure; ``fib_text`` and ``mlp_text`` turn their data
into lines, so tests can check the numbers and the tour can show them;
``progress`` lets a slow lesson say what it is doing while it runs.
"""
