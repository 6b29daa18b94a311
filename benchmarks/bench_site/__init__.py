"""The HTTP benchmark: the project under gunicorn beside a constant view (see http_benchmark.py)."""
