"""Tests of k8s/, argocd/, tofu/ and infra/: valid offline, hardened and consistent."""
