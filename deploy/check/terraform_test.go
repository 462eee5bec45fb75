package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

// The Terraform module parses (HCL) and Terraform's config inspector
// finds no problem; it takes image, host, replicas and the database
// credentials, the credentials sensitive and without defaults, with
// providers pinned, and deploys a deploy/k8s overlay. (`terraform
// validate` itself runs in the GitHub workflow, which can reach the
// provider registry.)
func TestTerraformModule(t *testing.T) {
	dir := filepath.Join(repoRoot(), "deploy", "terraform")
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	if len(files) == 0 {
		t.Fatal("no .tf files")
	}
	p := hclparse.NewParser()
	for _, f := range files {
		if _, diags := p.ParseHCLFile(f); diags.HasErrors() {
			t.Errorf("%s: %s", filepath.Base(f), diags.Error())
		}
	}
	mod, diags := tfconfig.LoadModule(dir)
	if diags.HasErrors() {
		t.Fatalf("terraform-config-inspect: %v", diags.Err())
	}
	for _, name := range []string{"image", "host", "replicas", "overlay"} {
		if mod.Variables[name] == nil {
			t.Errorf("no variable %q", name)
		}
	}
	for _, name := range []string{"db_password", "surreal_root_password", "admin_password", "audit_key"} {
		v := mod.Variables[name]
		switch {
		case v == nil:
			t.Errorf("no credential variable %q", name)
		case !v.Sensitive:
			t.Errorf("credential %q is not sensitive", name)
		case !v.Required:
			t.Errorf("credential %q has a default", name)
		}
	}
	for name, v := range mod.Variables {
		if v.Description == "" {
			t.Errorf("variable %q has no description", name)
		}
	}
	for name, rp := range mod.RequiredProviders {
		if rp.Source == "" || len(rp.VersionConstraints) == 0 {
			t.Errorf("provider %q is not pinned (source %q, versions %v)", name, rp.Source, rp.VersionConstraints)
		}
	}
	if len(mod.RequiredCore) == 0 {
		t.Error("no required_version")
	}
	if mod.DataResources["data.kustomization_overlay.pfinni"] == nil {
		t.Error("the module does not build a Kustomize overlay")
	}
	main, err := os.ReadFile(filepath.Join(dir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(main), `"${path.module}/../k8s/overlays/${var.overlay}"`) {
		t.Error("the module does not deploy deploy/k8s/overlays/<overlay>")
	}
	// Every credential the module asks for is in docs/deploy.md's list.
	doc, err := readRepoFile("docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"db-password", "admin-password", "audit.key", "root-password"} {
		if !strings.Contains(string(doc), "`"+key+"`") {
			t.Errorf("docs/deploy.md does not list the credential %s", key)
		}
	}
}
