"""Deploy tooling of the GitOps loop: pin a freshly pushed image in the Kubernetes manifest and
publish that change to the branch ArgoCD watches, safely against concurrent deploys."""
