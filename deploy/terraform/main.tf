# Deploys a Kustomize overlay of deploy/k8s (docs/deploy.md) with the
# image, host and replica count set here, and creates the Secrets it
# references from sensitive variables. TLS Secrets (surrealdb-tls,
# pfinni-tls) come from cert-manager or your CA.

provider "kubernetes" {
  config_path    = pathexpand(var.kubeconfig_path)
  config_context = var.kube_context == "" ? null : var.kube_context
}

provider "kustomization" {
  kubeconfig_path = pathexpand(var.kubeconfig_path)
  context         = var.kube_context == "" ? null : var.kube_context
}

locals {
  namespace = "pfinni"
  image     = split("@", var.image)
}

data "kustomization_overlay" "pfinni" {
  resources = ["${path.module}/../k8s/overlays/${var.overlay}"]

  images {
    name     = "ghcr.io/pfinni/pfinni"
    new_name = local.image[0]
    digest   = local.image[1]
  }

  replicas {
    name  = "pfinni"
    count = var.replicas
  }

  patches {
    target {
      kind = "Ingress"
      name = "pfinni"
    }
    patch = jsonencode([
      { op = "replace", path = "/spec/rules/0/host", value = var.host },
      { op = "replace", path = "/spec/tls/0/hosts/0", value = var.host },
    ])
  }

  patches {
    target {
      kind = "HorizontalPodAutoscaler"
      name = "pfinni"
    }
    patch = jsonencode([
      { op = "replace", path = "/spec/minReplicas", value = var.replicas },
    ])
  }

  patches {
    target {
      kind = "Deployment"
      name = "pfinni"
    }
    patch = jsonencode([
      { op = "add", path = "/spec/template/spec/containers/0/env/-", value = { name = "PFINNI_PUBLIC_URL", value = "https://${var.host}/pfinni" } },
      { op = "add", path = "/spec/template/spec/containers/0/env/-", value = { name = "PFINNI_TRUSTED_PROXIES", value = var.trusted_proxies } },
    ])
  }
}

# Namespaces and other cluster-level objects first.
resource "kustomization_resource" "p0" {
  for_each = data.kustomization_overlay.pfinni.ids_prio[0]
  manifest = data.kustomization_overlay.pfinni.manifests[each.value]
}

resource "kubernetes_secret_v1" "pfinni" {
  metadata {
    name      = "pfinni"
    namespace = local.namespace
  }
  data = {
    "db-password"    = var.db_password
    "admin-password" = var.admin_password
    "audit.key"      = var.audit_key
  }
  depends_on = [kustomization_resource.p0]
}

resource "kubernetes_secret_v1" "surrealdb" {
  metadata {
    name      = "surrealdb"
    namespace = local.namespace
  }
  data = {
    "root-password" = var.surreal_root_password
  }
  depends_on = [kustomization_resource.p0]
}

resource "kustomization_resource" "p1" {
  for_each   = data.kustomization_overlay.pfinni.ids_prio[1]
  manifest   = data.kustomization_overlay.pfinni.manifests[each.value]
  depends_on = [kustomization_resource.p0, kubernetes_secret_v1.pfinni, kubernetes_secret_v1.surrealdb]
}

resource "kustomization_resource" "p2" {
  for_each   = data.kustomization_overlay.pfinni.ids_prio[2]
  manifest   = data.kustomization_overlay.pfinni.manifests[each.value]
  depends_on = [kustomization_resource.p1]
}
