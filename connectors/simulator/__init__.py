"""Local marketplace simulator: a real HTTP server speaking the WB (and Ozon) seller API contracts.

Real URLs ``https://{host}{path}`` are served at ``{simulator_url}/{host}{path}``; the control API
lives under ``/_simulator/``. See ``server.py`` for the entry points.
"""
