# The objects of each microservice in var.services. For the one deployed from k8s/ they are the
# same objects as in k8s/ (tests/deploy renders both and compares them): OpenTofu owns replicas
# and resources, CI owns the image, ArgoCD owns everything else and keeps it identical.

resource "kubernetes_namespace_v1" "service" {
  for_each = local.namespaces

  metadata {
    name = each.key
    labels = {
      "pod-security.kubernetes.io/enforce"         = "restricted"
      "pod-security.kubernetes.io/enforce-version" = "latest"
      "pod-security.kubernetes.io/warn"            = "restricted"
      "pod-security.kubernetes.io/audit"           = "restricted"
    }
    annotations = {
      # Never pruned by ArgoCD: it also holds the pull secret and the Ingresses below.
      "argocd.argoproj.io/sync-options" = "Prune=false"
    }
  }
}

resource "kubernetes_deployment_v1" "service" {
  for_each   = var.services
  depends_on = [kubernetes_namespace_v1.service]

  # checkov findings accepted on purpose:
  # checkov:skip=CKV_K8S_10:CPU request is set from var.services, whose type requires it; checkov cannot resolve it through for_each
  # checkov:skip=CKV_K8S_11:CPU limit is set from var.services, whose type requires it; checkov cannot resolve it through for_each
  # checkov:skip=CKV_K8S_12:Memory limit is set from var.services, whose type requires it; checkov cannot resolve it through for_each
  # checkov:skip=CKV_K8S_13:Memory request is set from var.services, whose type requires it; checkov cannot resolve it through for_each
  # checkov:skip=CKV_K8S_15:IfNotPresent is right for an immutable sha- tag pinned by digest
  # checkov:skip=CKV_K8S_43:the image is CI's (k8s/deployment.yaml, pinned by digest); OpenTofu sets it at creation only

  # The Deployment is not waited for: tofu's job is sizing, and a first apply may come before the
  # image pull secret exists (README, "OpenTofu"). `kubectl rollout status` shows the rollout.
  wait_for_rollout = false

  metadata {
    name      = each.key
    namespace = each.value.namespace
    labels    = local.labels[each.key]
  }

  spec {
    replicas               = each.value.replicas
    revision_history_limit = 5

    selector {
      match_labels = local.selectors[each.key]
    }

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels = local.labels[each.key]
      }

      spec {
        automount_service_account_token  = false
        enable_service_links             = false
        termination_grace_period_seconds = each.value.termination_grace_period_seconds

        dynamic "image_pull_secrets" {
          for_each = each.value.image_pull_secret != null ? [each.value.image_pull_secret] : []
          content {
            name = image_pull_secrets.value
          }
        }

        security_context {
          run_as_non_root = true
          run_as_user     = each.value.run_as_user
          run_as_group    = each.value.run_as_group
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        dynamic "affinity" {
          # "preferred" so that a one-node cluster still schedules every replica.
          for_each = each.value.spread_across_nodes ? [local.selectors[each.key]] : []
          content {
            pod_anti_affinity {
              preferred_during_scheduling_ignored_during_execution {
                weight = 100
                pod_affinity_term {
                  topology_key = "kubernetes.io/hostname"
                  label_selector {
                    match_labels = affinity.value
                  }
                }
              }
            }
          }
        }

        container {
          name              = each.key
          image             = local.images[each.key]
          image_pull_policy = "IfNotPresent"

          port {
            name           = "http"
            container_port = each.value.port
            protocol       = "TCP"
          }

          dynamic "env" {
            for_each = each.value.env
            content {
              name  = env.key
              value = env.value
            }
          }

          resources {
            requests = {
              cpu    = each.value.resources.requests.cpu
              memory = each.value.resources.requests.memory
            }
            limits = {
              cpu    = each.value.resources.limits.cpu
              memory = each.value.resources.limits.memory
            }
          }

          startup_probe {
            http_get {
              path = each.value.probes.liveness_path
              port = each.value.port
            }
            period_seconds    = each.value.probes.startup_period
            timeout_seconds   = each.value.probes.timeout
            failure_threshold = each.value.probes.startup_failure_threshold
          }

          liveness_probe {
            http_get {
              path = each.value.probes.liveness_path
              port = each.value.port
            }
            period_seconds    = each.value.probes.liveness_period
            timeout_seconds   = each.value.probes.timeout
            failure_threshold = 3
          }

          readiness_probe {
            http_get {
              path = each.value.probes.readiness_path
              port = each.value.port
            }
            period_seconds    = each.value.probes.readiness_period
            timeout_seconds   = each.value.probes.timeout
            failure_threshold = 3
          }

          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }

          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }
        }

        volume {
          name = "tmp"
          empty_dir {
            size_limit = "16Mi"
          }
        }
      }
    }
  }

  lifecycle {
    # CI owns the image (through git and ArgoCD); `kubectl rollout restart` stamps restartedAt.
    ignore_changes = [
      spec[0].template[0].spec[0].container[0].image,
      spec[0].template[0].metadata[0].annotations["kubectl.kubernetes.io/restartedAt"],
    ]

    precondition {
      condition     = local.images[each.key] != null
      error_message = "services[\"${each.key}\"] needs an image: only the service deployed from k8s/ (${local.gitops_deployment.metadata.name}) may leave it out."
    }

    precondition {
      condition     = !endswith(coalesce(local.images[each.key], "-"), ":${local.placeholder_image_tag}")
      error_message = "k8s/deployment.yaml still names the placeholder image ${coalesce(local.images[each.key], "-")}: push to main first, so that CI builds the image and writes its reference there."
    }
  }
}

resource "kubernetes_service_v1" "service" {
  for_each   = var.services
  depends_on = [kubernetes_namespace_v1.service]

  metadata {
    name      = each.key
    namespace = each.value.namespace
    labels    = local.labels[each.key]
  }

  spec {
    type     = "NodePort"
    selector = local.selectors[each.key]

    port {
      name        = "http"
      protocol    = "TCP"
      port        = 80
      target_port = each.value.port
      node_port   = each.value.node_port
    }
  }
}

resource "kubernetes_ingress_v1" "service" {
  for_each   = local.ingress_services
  depends_on = [kubernetes_namespace_v1.service]

  metadata {
    name      = each.key
    namespace = each.value.namespace
    labels    = local.labels[each.key]
    annotations = {
      # Made here, not in git: ArgoCD must never prune it.
      "argocd.argoproj.io/sync-options" = "Prune=false"
    }
  }

  spec {
    ingress_class_name = "public"

    rule {
      host = each.value.hostname
      http {
        path {
          path      = "/"
          path_type = "Prefix"
          backend {
            service {
              name = each.key
              port {
                name = "http"
              }
            }
          }
        }
      }
    }
  }
}

# The image pull secret is created once per namespace by infra/setup.sh, not here: as a resource
# its token would be stored in plain text in the state file.
