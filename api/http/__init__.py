"""The HTTP service (DESIGN section 6): FastAPI over the engine and the ledger.

Nothing is imported here, so that ``baygate serve`` can set the environment (Prometheus
multiprocess mode) before any worker imports the metrics.
"""
