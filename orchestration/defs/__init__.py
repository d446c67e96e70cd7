"""Every Dagster object of the code location, one module per concern; composed in
orchestration/definitions.py. Logic lives in the packages beside this one, with no Dagster import.
"""
