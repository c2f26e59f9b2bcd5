# Sizing of the cluster's microservices: edit, then `tofu apply` (README, "OpenTofu").
# The entry named in fork.toml is the service deployed from k8s/: it must match k8s/ (tests/deploy
# checks it), `make fork` renames it, and its image is read from k8s/deployment.yaml, where CI
# writes it.

# LAN address of a node, for the NodePort endpoint in `tofu output`.
node_address = "192.168.1.187"

services = {
  "argo-python" = {
    namespace = "argo-python"
    replicas  = 2
    port      = 8080
    node_port = 30800

    probes = {
      liveness_path  = "/healthz"
      readiness_path = "/readyz"
    }

    resources = {
      requests = { cpu = "50m", memory = "32Mi" }
      limits   = { cpu = "200m", memory = "64Mi" }
    }

    # The service drains for 5 s after SIGTERM and exits by 10 s; the grace period covers both.
    env = {
      SHUTDOWN_DRAIN_SECONDS   = "5"
      SHUTDOWN_TIMEOUT_SECONDS = "10"
    }
    termination_grace_period_seconds = 15

    spread_across_nodes = true
    # A public name (served through the nginx Ingress and the Cloudflare Tunnel) is set with
    # `make fork ... HOSTNAME=api.example.org`, which writes `hostname` below.
  }
}
