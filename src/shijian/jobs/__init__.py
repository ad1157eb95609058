"""Jobs: long or recurring work run by a worker (Huey), with a Job row per run and schedules caught up once.

Public surface: ``enqueue`` and ``Context`` (runner), ``register`` (kinds), ``tick`` (schedules), the models.
"""
