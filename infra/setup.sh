#!/usr/bin/env bash
# One-time set-up of a MicroK8s cluster for argo-python, outside ArgoCD. Every step can be re-run.
#
#   infra/setup.sh [gateway|pull-secret|argocd|all]        (default: all)
#
#   gateway      MetalLB with an address pool, the nginx Ingress controller, and the ingress-lb
#                LoadBalancer Service (infra/ingress-lb.yaml) on the VIP
#   pull-secret  the ghcr-secret image pull secret in NAMESPACE
#   argocd       the AppProject and the Application (argocd/), pointed at your repository
#
# Settings, from the environment:
#   METALLB_RANGE  MetalLB's address pool, FIRST-LAST or a CIDR (default 192.168.1.200-192.168.1.210)
#   INGRESS_VIP    address of ingress-lb, inside the pool (default 192.168.1.200)
#   NAMESPACE      namespace of the pull secret (default argo-python; another must exist already)
#   GHCR_USER      GitHub user that owns the image, for pull-secret
#   GHCR_TOKEN     GitHub token with read:packages, for pull-secret (read from the environment only)
#   REPO_URL       repository ArgoCD syncs (default: this clone's origin, as an https URL)
#
# Exit status: 0 when done, 2 for a bad argument or setting, else the failing command's status.
set -euo pipefail
cd "$(dirname "$0")/.."

METALLB_RANGE="${METALLB_RANGE:-192.168.1.200-192.168.1.210}"
INGRESS_VIP="${INGRESS_VIP:-192.168.1.200}"
NAMESPACE="${NAMESPACE:-argo-python}"
PLACEHOLDER_REPO=https://github.com/your-github-user/argo-python.git
PLACEHOLDER_IMAGE=ghcr.io/your-github-user/
IPV4='([0-9]{1,3}\.){3}[0-9]{1,3}'

die() {
  echo "infra/setup.sh: $*" >&2
  exit 2
}

kubectl() { microk8s kubectl "$@"; }

gateway() {
  [[ $METALLB_RANGE =~ ^$IPV4(-$IPV4|/[0-9]{1,2})$ ]] ||
    die "METALLB_RANGE=$METALLB_RANGE is not FIRST-LAST or a CIDR, such as 192.168.1.200-192.168.1.210"
  [[ $INGRESS_VIP =~ ^$IPV4$ ]] || die "INGRESS_VIP=$INGRESS_VIP is not an IPv4 address"
  microk8s enable "metallb:$METALLB_RANGE"
  microk8s enable ingress
  sed "s|^\( *metallb.universe.tf/loadBalancerIPs:\).*|\1 $INGRESS_VIP|" infra/ingress-lb.yaml |
    kubectl apply -f -
}

pull_secret() {
  [[ -n ${GHCR_USER:-} && -n ${GHCR_TOKEN:-} ]] ||
    die "pull-secret needs GHCR_USER and GHCR_TOKEN (a GitHub token with read:packages)"
  [[ $NAMESPACE =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "NAMESPACE=$NAMESPACE is not a namespace name"
  if ! kubectl get namespace "$NAMESPACE" >/dev/null 2>&1; then
    [[ $NAMESPACE == argo-python ]] || die "namespace $NAMESPACE does not exist; create it first (tofu apply)"
    kubectl apply -f k8s/namespace.yaml
  fi
  # The token travels through pipes only: on a command line, `ps` would show it to every user.
  local auth
  auth=$(printf '%s:%s' "$GHCR_USER" "$GHCR_TOKEN" | base64 | tr -d '\n')
  printf '{"auths":{"ghcr.io":{"auth":"%s"}}}' "$auth" |
    kubectl create secret generic ghcr-secret --namespace "$NAMESPACE" \
      --type=kubernetes.io/dockerconfigjson --from-file=.dockerconfigjson=/dev/stdin \
      --dry-run=client --output=yaml |
    kubectl apply -f -
}

bootstrap_argocd() {
  local repo="${REPO_URL:-$(git config --get remote.origin.url || true)}"
  repo="${repo/#git@github.com:/https://github.com/}"
  [[ $repo == *.git ]] || repo="$repo.git"
  [[ $repo =~ ^https://[A-Za-z0-9._~:/@-]+\.git$ ]] ||
    die "REPO_URL='$repo' is not an https URL; set REPO_URL=https://github.com/<you>/argo-python.git"
  [[ $repo != "$PLACEHOLDER_REPO" ]] || die "REPO_URL is the placeholder; set it to your repository"
  if grep -q "image: $PLACEHOLDER_IMAGE" k8s/deployment.yaml; then
    die "k8s/deployment.yaml still names the placeholder image: push to main first, so that CI builds the image and writes it there"
  fi
  kubectl get namespace argocd >/dev/null || die "ArgoCD is not installed (no argocd namespace); see README, ArgoCD configuration"
  local manifest
  for manifest in argocd/project.yaml argocd/application.yaml; do
    sed "s|$PLACEHOLDER_REPO|$repo|" "$manifest" | kubectl apply -f -
  done
}

case "${1:-all}" in
  gateway) gateway ;;
  pull-secret) pull_secret ;;
  argocd) bootstrap_argocd ;;
  all)
    gateway
    if [[ -n ${GHCR_USER:-} && -n ${GHCR_TOKEN:-} ]]; then
      pull_secret
    else
      echo "infra/setup.sh: no GHCR_USER/GHCR_TOKEN, pull secret skipped (fine for a public image)" >&2
    fi
    bootstrap_argocd
    ;;
  *) die "usage: infra/setup.sh [gateway|pull-secret|argocd|all]" ;;
esac
