locals {
  server_flags = join(" ", concat([
    "server",
    "--tls-san=${var.host}",
    # Keep the admin kubeconfig root-only: the download below goes through sudo.
    "--write-kubeconfig-mode=0600",
  ], var.k3s_flags))
}

# The installer is idempotent, so replacing this resource (new version, flags or
# manifests) upgrades the node in place instead of rebuilding it.
resource "null_resource" "k3s" {
  triggers = {
    host        = var.host
    k3s_version = var.k3s_version
    flags       = local.server_flags
    manifests   = jsonencode(var.manifest_urls)
  }

  connection {
    type        = "ssh"
    host        = var.host
    port        = var.ssh_port
    user        = var.ssh_user
    private_key = var.ssh_private_key
    timeout     = "5m"
  }

  provisioner "remote-exec" {
    inline = concat([
      "set -eu",
      "SUDO=$([ \"$(id -u)\" -eq 0 ] || echo sudo)",
      # Download first: `curl | sh` would hide a failed download from `set -e`.
      "curl -sfL https://get.k3s.io -o /tmp/k3s-install.sh",
      "INSTALL_K3S_VERSION='${var.k3s_version}' INSTALL_K3S_EXEC='${local.server_flags}' sh /tmp/k3s-install.sh",
      # Later resources talk to the API right away: wait for a Ready node.
      "timeout 300 sh -c \"until $SUDO k3s kubectl get nodes --no-headers 2>/dev/null | grep -qw Ready; do sleep 5; done\"",
      ], [
      for name, url in var.manifest_urls :
      "$SUDO curl -sfL '${url}' -o /var/lib/rancher/k3s/server/manifests/${name}.yaml"
    ])
  }

  # Runs with the install only (the path is deliberately not a trigger), so the
  # bootstrap run can reach the new cluster while later runs that bring their
  # own kubeconfig, or none in-cluster, do not churn this resource.
  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command     = <<-EOT
      set -euo pipefail
      [ -n "$KUBECONFIG_OUT" ] || exit 0
      key=$(mktemp)
      trap 'rm -f "$key"' EXIT
      printf '%s\n' "$SSH_KEY" >"$key"
      mkdir -p "$(dirname "$KUBECONFIG_OUT")"
      umask 077
      ssh -i "$key" -p "$SSH_PORT" -o StrictHostKeyChecking=accept-new "$SSH_USER@$HOST" \
        'cat /etc/rancher/k3s/k3s.yaml 2>/dev/null || sudo cat /etc/rancher/k3s/k3s.yaml' |
        sed "s#https://127.0.0.1:6443#https://$HOST:6443#" >"$KUBECONFIG_OUT"
    EOT
    environment = {
      HOST           = var.host
      SSH_USER       = var.ssh_user
      SSH_PORT       = tostring(var.ssh_port)
      SSH_KEY        = var.ssh_private_key
      KUBECONFIG_OUT = var.kubeconfig_path == null ? "" : var.kubeconfig_path
    }
  }
}
