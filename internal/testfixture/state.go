package testfixture

import (
	"fmt"
	"sort"
	"strings"
)

// StateLayer describes a generated layer that keeps its state in S3.
type StateLayer struct {
	Dir       string
	DependsOn []string // layers whose state it reads
	Extra     string   // more HCL for its main.tf
}

// StateTree returns layers that keep state in S3 and read their dependencies'
// outputs through terraform_remote_state, each with a null_resource whose triggers
// carry what it read (so a dependency's change reaches its dependents).
func StateTree(ls ...StateLayer) Files {
	f := Files{}
	for _, l := range ls {
		p := "terraform/" + l.Dir + "/"
		f[p+"versions.tf"] = fmt.Sprintf(`terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
  backend "s3" {
    key = "%s/terraform.tfstate"
  }
}

variable "state" {
  description = "Remote state settings shared by the layers."
  type        = any
}
`, l.Dir)
		var b strings.Builder
		deps := append([]string(nil), l.DependsOn...)
		sort.Strings(deps)
		triggers := []string{fmt.Sprintf("    layer = %q", l.Dir)}
		for _, d := range deps {
			id := ident(d)
			fmt.Fprintf(&b, "data \"terraform_remote_state\" %q {\n  backend = \"s3\"\n  config  = merge(var.state, { key = \"%s/terraform.tfstate\" })\n}\n\n", id, d)
			triggers = append(triggers, fmt.Sprintf("    %s = data.terraform_remote_state.%s.outputs.id", id, id))
		}
		fmt.Fprintf(&b, "resource \"null_resource\" \"this\" {\n  triggers = {\n%s\n  }\n}\n\noutput \"id\" {\n  value = null_resource.this.id\n}\n", strings.Join(triggers, "\n"))
		if l.Extra != "" {
			b.WriteString("\n" + l.Extra)
		}
		f[p+"main.tf"] = b.String()
	}
	return f
}

// StateSettings are the settings terraform_remote_state needs to read the
// server's state, without the key and the credentials (which come from the
// environment): what StateTree's layers take as their "state" variable.
func (s *S3) StateSettings() map[string]any {
	return map[string]any{
		"bucket": s.Bucket, "region": s.Region, "endpoints": map[string]string{"s3": s.Endpoint},
		"use_path_style": true, "skip_credentials_validation": true, "skip_requesting_account_id": true,
		"skip_region_validation": true, "skip_metadata_api_check": true,
	}
}
