# Values derived from var.services for microservices.tf. Kept apart from the resources (and free
# of provider calls) so that tests/deploy can evaluate them with tofu or terraform offline.

locals {
  # CI writes the image of the service in k8s/ into k8s/deployment.yaml and nowhere else. Reading it from there
  # means the first apply starts the image ArgoCD is about to sync, never a stale copy.
  gitops_deployment = yamldecode(file("${path.module}/../k8s/deployment.yaml"))
  gitops_images = {
    (local.gitops_deployment.metadata.name) = local.gitops_deployment.spec.template.spec.containers[0].image
  }
  # The tag the repository ships with (and `make fork` writes), until the first CI run writes the
  # real image; CI's references also carry a digest.
  placeholder_image_tag = "sha-0000000"

  images = {
    for name, s in var.services : name => s.image != null ? s.image : lookup(local.gitops_images, name, null)
  }

  # Recommended labels; the selector uses the name alone, which never changes.
  labels = {
    for name, s in var.services : name => {
      "app.kubernetes.io/name"      = name
      "app.kubernetes.io/component" = s.component
      "app.kubernetes.io/part-of"   = s.part_of != null ? s.part_of : name
    }
  }
  selectors = { for name, s in var.services : name => { "app.kubernetes.io/name" = name } }

  namespaces = toset([for s in values(var.services) : s.namespace])

  # Only a service with a public hostname gets an Ingress.
  ingress_services = { for name, s in var.services : name => s if s.hostname != null }
}
