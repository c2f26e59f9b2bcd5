#!/usr/bin/env bash
# One-time set-up of a MicroK8s cluster for the service named in fork.toml, outside ArgoCD.
# Every step can be re-run; every setting of the chosen steps is checked before the first runs.
#
#   infra/setup.sh [gateway|pull-secret|argocd|all]        (default: all)
#   infra/setup.sh --help
#
#   gateway      MetalLB with an address pool, the nginx Ingress controller, and the ingress-lb
#                LoadBalancer Service (infra/ingress-lb.yaml) on the VIP
#   pull-secret  the ghcr-secret image pull secret in NAMESPACE
#   argocd       the AppProject and the Application (argocd/), for fork.toml's repository
#
# Settings, from the environment:
#   METALLB_RANGE  MetalLB's address pool on your LAN, FIRST-LAST or a CIDR, for gateway (no
#                  default: pick free addresses outside your DHCP range)
#   INGRESS_VIP    address of ingress-lb, inside METALLB_RANGE, for gateway (no default)
#   NAMESPACE      namespace of the pull secret (default: fork.toml's name; another must exist)
#   GHCR_USER      GitHub user that owns the image, for pull-secret
#   GHCR_TOKEN     GitHub token with read:packages, for pull-secret (read from the environment only)
#
# Exit status: 0 when done, 2 for a bad argument or setting, else the failing command's status.
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE="usage: infra/setup.sh [gateway|pull-secret|argocd|all] (see the top of infra/setup.sh)"
PLACEHOLDER_OWNER=your-github-user
PLACEHOLDER_TAG=sha-0000000
IPV4='([0-9]{1,3}\.){3}[0-9]{1,3}'

die() {
  echo "infra/setup.sh: $*" >&2
  exit 2
}

# A string setting of fork.toml: `key = "value"` (or 'value'), perhaps with a comment after it.
# The values are names, which hold no quote or '#'.
identity() {
  local value
  value=$(sed -nE "s/^$1 *= *([\"'])([^\"'#]*)\1 *(#.*)?\$/\2/p" fork.toml)
  [[ -n $value ]] || die "fork.toml has no $1 = \"...\" line; run make fork OWNER=... NAME=..."
  echo "$value"
}

kubectl() { microk8s kubectl "$@"; }

# A dotted IPv4 address as one number (octets are decimal, even with a leading zero).
ip_number() {
  local IFS=. a b c d octet
  read -r a b c d <<<"$1"
  for octet in "$a" "$b" "$c" "$d"; do ((10#$octet <= 255)) || return 1; done
  echo $(((10#$a << 24) + (10#$b << 16) + (10#$c << 8) + 10#$d))
}

check_gateway() {
  [[ -n ${METALLB_RANGE:-} && -n ${INGRESS_VIP:-} ]] ||
    die "gateway needs METALLB_RANGE and INGRESS_VIP: free addresses of your LAN, such as METALLB_RANGE=192.168.1.200-192.168.1.210 INGRESS_VIP=192.168.1.200"
  local first last vip
  if [[ $METALLB_RANGE =~ ^($IPV4)-($IPV4)$ ]]; then
    if ! first=$(ip_number "${METALLB_RANGE%-*}") || ! last=$(ip_number "${METALLB_RANGE#*-}"); then
      die "METALLB_RANGE=$METALLB_RANGE holds an octet above 255"
    fi
  elif [[ $METALLB_RANGE =~ ^($IPV4)/([0-9]{1,2})$ ]] && ((10#${METALLB_RANGE#*/} <= 32)); then
    local bits=$((10#${METALLB_RANGE#*/})) base
    base=$(ip_number "${METALLB_RANGE%/*}") || die "METALLB_RANGE=$METALLB_RANGE holds an octet above 255"
    first=$((base & ~((1 << (32 - bits)) - 1) & 0xFFFFFFFF)) last=$((first + (1 << (32 - bits)) - 1))
  else
    die "METALLB_RANGE=$METALLB_RANGE is not FIRST-LAST or a CIDR, such as 192.168.1.200-192.168.1.210"
  fi
  ((first <= last)) || die "METALLB_RANGE=$METALLB_RANGE ends before it starts"
  if ! [[ $INGRESS_VIP =~ ^$IPV4$ ]] || ! vip=$(ip_number "$INGRESS_VIP"); then
    die "INGRESS_VIP=$INGRESS_VIP is not an IPv4 address"
  fi
  ((first <= vip && vip <= last)) || die "INGRESS_VIP=$INGRESS_VIP is outside METALLB_RANGE=$METALLB_RANGE"
}

gateway() {
  microk8s enable "metallb:$METALLB_RANGE"
  microk8s enable ingress
  # The controller's settings (infra/ingress-nginx.yaml), merged into the ConfigMap the addon
  # made rather than applied over it, so that the keys the addon set stay.
  kubectl patch -f infra/ingress-nginx.yaml --type merge --patch-file infra/ingress-nginx.yaml
  sed "s|^\( *metallb.universe.tf/loadBalancerIPs:\).*|\1 $INGRESS_VIP|" infra/ingress-lb.yaml |
    kubectl apply -f -
}

check_pull_secret() {
  [[ -n ${GHCR_USER:-} && -n ${GHCR_TOKEN:-} ]] ||
    die "pull-secret needs GHCR_USER and GHCR_TOKEN (a GitHub token with read:packages)"
  [[ $NAMESPACE =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "NAMESPACE=$NAMESPACE is not a namespace name"
}

pull_secret() {
  if ! kubectl get namespace "$NAMESPACE" >/dev/null 2>&1; then
    [[ $NAMESPACE == "$SERVICE" ]] || die "namespace $NAMESPACE does not exist; create it first (tofu apply)"
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

# The owner/repository a GitHub remote URL names (https, with or without credentials, or ssh),
# lower-cased as GitHub compares them; empty for a remote elsewhere.
github_repository() {
  local path
  path=$(sed -nE 's#^(https://([^@/]*@)?github\.com/|(ssh://)?git@github\.com[:/])([^/]+/[^/]+)$#\4#p' <<<"$1")
  path=${path%/}
  path=${path%.git}
  echo "${path,,}"
}

check_argocd() {
  # ArgoCD syncs the repository fork.toml names: never a URL from the environment or from git,
  # which may hold credentials that would end up in cluster objects.
  [[ -z ${REPO_URL+set} ]] ||
    die "REPO_URL is not read: ArgoCD syncs fork.toml's repository $MANIFEST_REPO; change it with make fork OWNER=... NAME=... REPO=..."
  [[ $OWNER != "$PLACEHOLDER_OWNER" ]] ||
    die "fork.toml still names the placeholder owner; run make fork OWNER=... NAME=... first"
  [[ $MANIFEST_REPO =~ ^https://github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+\.git$ ]] ||
    die "fork.toml's owner and repository do not make a GitHub URL ($MANIFEST_REPO); run make fork again"
  local origin
  origin=$(github_repository "$(git config --get remote.origin.url || true)")
  if [[ -n $origin && $origin != "$(github_repository "$MANIFEST_REPO")" ]]; then
    die "origin is github.com/$origin but fork.toml names $MANIFEST_REPO: run make fork OWNER=... NAME=... REPO=... for origin's repository, or git remote set-url origin $MANIFEST_REPO"
  fi
  for manifest in argocd/project.yaml argocd/application.yaml; do
    grep -qF "$MANIFEST_REPO" "$manifest" || die "$manifest does not name $MANIFEST_REPO of fork.toml; run make fork again"
  done
  if grep -qE "^ *image: .*:$PLACEHOLDER_TAG\$" k8s/deployment.yaml; then
    # The bot's bump may already be on origin, only not pulled yet.
    git fetch --quiet origin main 2>/dev/null || true
    local remote
    remote=$(git show origin/main:k8s/deployment.yaml 2>/dev/null | sed -n 's/^ *image: *//p' | head -n 1) || true
    if [[ -n $remote && $remote != *":$PLACEHOLDER_TAG" ]]; then
      die "k8s/deployment.yaml still names the placeholder image, but origin/main already deploys $remote: run git pull, then this again"
    fi
    die "k8s/deployment.yaml still names the placeholder image: push to main first, so that CI builds the image and writes it there"
  fi
}

bootstrap_argocd() {
  kubectl get namespace argocd >/dev/null || die "ArgoCD is not installed (no argocd namespace); see docs/cluster.md, Installing ArgoCD"
  local manifest
  for manifest in argocd/project.yaml argocd/application.yaml; do
    kubectl apply -f - <"$manifest"
  done
}

step="${1:-all}"
case "$step" in
  -h | --help)
    sed -n '2,/^# Exit status/s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  gateway | pull-secret | argocd | all) ;;
  *) die "$USAGE" ;;
esac
[[ -f fork.toml ]] || die "fork.toml is missing; run make fork OWNER=... NAME=..."
command -v microk8s >/dev/null || die "microk8s is not on PATH; run this on a node of the cluster"
SERVICE=$(identity name)
OWNER=$(identity owner)
REPOSITORY=$(identity repository)
MANIFEST_REPO="https://github.com/$OWNER/$REPOSITORY.git"
NAMESPACE="${NAMESPACE:-$SERVICE}"

case "$step" in
  gateway)
    check_gateway
    gateway
    ;;
  pull-secret)
    check_pull_secret
    pull_secret
    ;;
  argocd)
    check_argocd
    bootstrap_argocd
    ;;
  all)
    check_gateway
    secret=false
    if [[ -n ${GHCR_USER:-}${GHCR_TOKEN:-} ]]; then
      check_pull_secret
      secret=true
    fi
    check_argocd
    gateway
    if $secret; then
      pull_secret
    else
      echo "infra/setup.sh: no GHCR_USER/GHCR_TOKEN, pull secret skipped (fine for a public image)" >&2
    fi
    bootstrap_argocd
    ;;
esac
