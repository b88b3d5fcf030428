"""Call-center pipelines: plain-Python data logic, importable without Airflow.

The DAG files import these modules; tests and the benchmark call them directly.
"""
