"""``billow.ops``: what a multi-node deployment's load balancer and monitoring ask every node
(docs/operations.md): ``/healthz`` (the process answers), ``/readyz`` (its database and job
queue answer) and ``/metrics`` (Prometheus)."""
