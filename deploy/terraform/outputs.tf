output "url" {
  description = "Where pfinni is served."
  value       = "https://${var.host}/pfinni/"
}

output "namespace" {
  description = "The Kubernetes namespace."
  value       = local.namespace
}
