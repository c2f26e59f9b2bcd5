# OpenTofu (or Terraform) configuration for the microservices of the cluster: namespaces, replica
# counts, CPU/memory sizing, Services and Ingresses, per tofu/terraform.tfvars. ArgoCD deploys the
# same objects from k8s/ and ignores the fields owned here; this configuration ignores the image,
# which CI owns. See docs/opentofu.md.

terraform {
  required_version = ">= 1.6"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.36, < 4.0"
    }
  }
}

provider "kubernetes" {
  config_path    = pathexpand(var.kubeconfig_path)
  config_context = var.kube_context

  # Metadata other tools write on the objects shared with ArgoCD. Without these, every apply would
  # strip them and ArgoCD would put them back: ArgoCD's tracking annotation, and the checkov.io/
  # annotations that record accepted checkov findings on k8s/ manifests.
  ignore_annotations = [
    "^argocd\\.argoproj\\.io\\/tracking-id$",
    "^checkov\\.io\\/skip[0-9]+$",
  ]
}
