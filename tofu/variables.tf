# Inputs. The `services` map is the sizing table: one entry per microservice, set in
# terraform.tfvars. Every rule below rejects a bad value at `tofu plan`, naming the service.

variable "kubeconfig_path" {
  description = "Path of the kubeconfig file (MicroK8s: `microk8s config > ~/.kube/config`)."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Context of the kubeconfig to use."
  type        = string
  default     = "microk8s"
}

variable "node_address" {
  description = "LAN address (IP or DNS name) of a cluster node, for the NodePort endpoints in the outputs."
  type        = string

  validation {
    condition     = can(regex("^([0-9]{1,3}\\.){3}[0-9]{1,3}$|^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$", var.node_address))
    error_message = "node_address must be an IPv4 address or a DNS name, such as 192.168.1.187."
  }
}

variable "services" {
  description = "Microservices to run, keyed by name (the Deployment, Service and Ingress name)."
  type = map(object({
    namespace = string
    replicas  = number
    # Only the service deployed from k8s/ may leave it out: its image is read from
    # k8s/deployment.yaml, where CI writes it. Either way OpenTofu sets it at creation only and then ignores it.
    image     = optional(string)
    port      = number
    node_port = number

    probes = object({
      liveness_path             = string
      readiness_path            = string
      startup_period            = optional(number, 1)
      startup_failure_threshold = optional(number, 30)
      liveness_period           = optional(number, 10)
      readiness_period          = optional(number, 5)
      timeout                   = optional(number, 2)
    })

    resources = object({
      requests = object({ cpu = string, memory = string })
      limits   = object({ cpu = string, memory = string })
    })

    hostname            = optional(string)
    image_pull_secret   = optional(string, "ghcr-secret")
    spread_across_nodes = optional(bool, false)

    env                              = optional(map(string), {})
    termination_grace_period_seconds = optional(number, 30)
    run_as_user                      = optional(number, 10001)
    run_as_group                     = optional(number, 10001)
    component                        = optional(string, "api")
    part_of                          = optional(string)
  }))

  validation {
    condition     = alltrue([for name in keys(var.services) : can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", name))])
    error_message = "Service names must be DNS labels (lowercase letters, digits and '-', starting with a letter, at most 63 characters): ${join(", ", [for name in keys(var.services) : name if !can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", name))])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", s.namespace))])
    error_message = "namespace must be a DNS label (lowercase letters, digits and '-', at most 63 characters); invalid for: ${join(", ", [for name, s in var.services : name if !can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", s.namespace))])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.replicas >= 1 && floor(s.replicas) == s.replicas])
    error_message = "replicas must be a whole number of at least 1; invalid for: ${join(", ", [for name, s in var.services : "${name} (${s.replicas})" if !(s.replicas >= 1 && floor(s.replicas) == s.replicas)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.port >= 1 && s.port <= 65535 && floor(s.port) == s.port])
    error_message = "port must be a whole number from 1 to 65535; invalid for: ${join(", ", [for name, s in var.services : "${name} (${s.port})" if !(s.port >= 1 && s.port <= 65535 && floor(s.port) == s.port)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.node_port >= 30000 && s.node_port <= 32767 && floor(s.node_port) == s.node_port])
    error_message = "node_port must be a whole number in the NodePort range 30000-32767; invalid for: ${join(", ", [for name, s in var.services : "${name} (${s.node_port})" if !(s.node_port >= 30000 && s.node_port <= 32767 && floor(s.node_port) == s.node_port)])}."
  }

  validation {
    condition     = length(distinct([for s in values(var.services) : s.node_port])) == length(var.services)
    error_message = "Each service needs a node_port of its own; two services share one."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.services) : [
      for q in [s.resources.requests.cpu, s.resources.limits.cpu] : can(regex("^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$", q))
    ]]))
    error_message = "CPU quantities must be millicores such as \"250m\" or cores such as \"0.5\" or \"2\"; invalid for: ${join(", ", [for name, s in var.services : name if !alltrue([for q in [s.resources.requests.cpu, s.resources.limits.cpu] : can(regex("^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$", q))])])}."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.services) : [
      for q in [s.resources.requests.memory, s.resources.limits.memory] : can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", q))
    ]]))
    error_message = "Memory quantities must be a number with an optional unit (Ki, Mi, Gi, Ti, k, M, G, T), such as \"64Mi\"; invalid for: ${join(", ", [for name, s in var.services : name if !alltrue([for q in [s.resources.requests.memory, s.resources.limits.memory] : can(regex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$", q))])])}."
  }

  # Requests above limits: compared only when both quantities are well-formed (the two rules above
  # report the others).
  validation {
    condition = alltrue([for s in values(var.services) : try(
      (endswith(s.resources.requests.cpu, "m") ? tonumber(trimsuffix(s.resources.requests.cpu, "m")) : tonumber(s.resources.requests.cpu) * 1000) <=
      (endswith(s.resources.limits.cpu, "m") ? tonumber(trimsuffix(s.resources.limits.cpu, "m")) : tonumber(s.resources.limits.cpu) * 1000),
    true)])
    error_message = format("A CPU request must not exceed its limit (Kubernetes rejects such a pod); invalid for: %s.", join(", ", [
      for name, s in var.services : name if !try(
        (endswith(s.resources.requests.cpu, "m") ? tonumber(trimsuffix(s.resources.requests.cpu, "m")) : tonumber(s.resources.requests.cpu) * 1000) <=
        (endswith(s.resources.limits.cpu, "m") ? tonumber(trimsuffix(s.resources.limits.cpu, "m")) : tonumber(s.resources.limits.cpu) * 1000),
      true)
    ]))
  }

  validation {
    condition = alltrue([for s in values(var.services) : try(
      tonumber(regex("^[0-9.]+", s.resources.requests.memory)) * lookup({ "" = 1, k = 1000, Ki = 1024, M = 1000000, Mi = 1048576, G = 1000000000, Gi = 1073741824, T = 1000000000000, Ti = 1099511627776 }, regex("[A-Za-z]*$", s.resources.requests.memory)) <=
      tonumber(regex("^[0-9.]+", s.resources.limits.memory)) * lookup({ "" = 1, k = 1000, Ki = 1024, M = 1000000, Mi = 1048576, G = 1000000000, Gi = 1073741824, T = 1000000000000, Ti = 1099511627776 }, regex("[A-Za-z]*$", s.resources.limits.memory)),
    true)])
    error_message = format("A memory request must not exceed its limit (Kubernetes rejects such a pod); invalid for: %s.", join(", ", [
      for name, s in var.services : name if !try(
        tonumber(regex("^[0-9.]+", s.resources.requests.memory)) * lookup({ "" = 1, k = 1000, Ki = 1024, M = 1000000, Mi = 1048576, G = 1000000000, Gi = 1073741824, T = 1000000000000, Ti = 1099511627776 }, regex("[A-Za-z]*$", s.resources.requests.memory)) <=
        tonumber(regex("^[0-9.]+", s.resources.limits.memory)) * lookup({ "" = 1, k = 1000, Ki = 1024, M = 1000000, Mi = 1048576, G = 1000000000, Gi = 1073741824, T = 1000000000000, Ti = 1099511627776 }, regex("[A-Za-z]*$", s.resources.limits.memory)),
      true)
    ]))
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.hostname == null || can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", s.hostname)) && length(coalesce(s.hostname, "-")) <= 253])
    error_message = "hostname must be a lowercase DNS name with at least one dot, such as \"api.example.org\"; invalid for: ${join(", ", [for name, s in var.services : name if !(s.hostname == null || can(regex("^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", s.hostname)) && length(coalesce(s.hostname, "-")) <= 253)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : startswith(s.probes.liveness_path, "/") && startswith(s.probes.readiness_path, "/")])
    error_message = "Probe paths must start with '/'; invalid for: ${join(", ", [for name, s in var.services : name if !(startswith(s.probes.liveness_path, "/") && startswith(s.probes.readiness_path, "/"))])}."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.run_as_user >= 1 && s.run_as_group >= 1])
    error_message = "run_as_user and run_as_group must be non-root IDs (1 or more); the namespaces enforce the \"restricted\" Pod Security Standard."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.services) : [for k in keys(s.env) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))]]))
    error_message = "env names must be letters, digits and '_', not starting with a digit."
  }
}
