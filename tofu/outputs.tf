output "services" {
  description = "Per service: namespace, replicas, resources and the URL it answers on."
  value = {
    for name, s in var.services : name => {
      namespace = s.namespace
      replicas  = s.replicas
      resources = s.resources
      endpoint  = s.hostname != null ? "https://${s.hostname}" : "http://${var.node_address}:${s.node_port}"
    }
  }
}
