"""Supervised child processes: training jobs (later endpoint replicas and notebook servers).

Nothing here imports `sagelocal.services`: the server hands a job its paths, environment and
temporary credentials, and hears back through callbacks.
"""
