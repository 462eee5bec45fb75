variable "overlay" {
  description = "Kustomize overlay of deploy/k8s to deploy: dev or prod."
  type        = string
  default     = "prod"
  validation {
    condition     = contains(["dev", "prod"], var.overlay)
    error_message = "overlay must be dev or prod."
  }
}

variable "image" {
  description = "pfinni image pinned by digest, e.g. ghcr.io/pfinni/pfinni@sha256:... (the static target)."
  type        = string
  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$", var.image))
    error_message = "image must be pinned by digest (name@sha256:...)."
  }
}

variable "host" {
  description = "Public host name; pfinni is served at https://<host>/pfinni."
  type        = string
}

variable "replicas" {
  description = "pfinni replicas (the autoscaler's minimum)."
  type        = number
  default     = 2
  validation {
    condition     = var.replicas >= 1
    error_message = "replicas must be at least 1."
  }
}

variable "trusted_proxies" {
  description = "PFINNI_TRUSTED_PROXIES: the ingress controller's pod addresses (CIDRs)."
  type        = string
  default     = "10.0.0.0/8"
}

variable "kubeconfig_path" {
  description = "kubeconfig of a deploy-only account for the cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context (empty: the current one)."
  type        = string
  default     = ""
}

# Credentials (docs/deploy.md, "Credentials the operator supplies"). Kept
# out of plans' output; keep the state file encrypted.

variable "db_password" {
  description = "Password of pfinni's database user (an EDITOR of pfinni/pfinni); letters and digits."
  type        = string
  sensitive   = true
}

variable "surreal_root_password" {
  description = "SurrealDB's root password (defines pfinni's user once; pfinni never uses it)."
  type        = string
  sensitive   = true
}

variable "admin_password" {
  description = "The bootstrap admin's password (first start only)."
  type        = string
  sensitive   = true
}

variable "audit_key" {
  description = "Contents of the audit chain's HMAC key file (\"<key-id> <base64url key>\"), shared by every replica; back it up apart from the database."
  type        = string
  sensitive   = true
}
