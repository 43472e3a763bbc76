"""The figures of the panel for a team's engines: Prometheus and OpenTelemetry (OTLP).

``tally`` and ``requests`` turn a TokenHistory into counter adds and per-request
observations, with no OpenTelemetry import; ``meters`` and ``destinations`` feed them to
the OpenTelemetry SDK (the optional ``export`` extra); ``command`` is ``session-insights
export``, and ``window`` lets the window serve the same figures.
"""
