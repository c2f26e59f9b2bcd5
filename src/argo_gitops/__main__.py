"""`python -m argo_gitops` runs the same CLI as the `argo-gitops` console script."""

from argo_gitops.cli import main

if __name__ == "__main__":
    main()
