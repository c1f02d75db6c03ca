// Package state knows a layer's remote state backend: its effective settings (the
// layer's backend block merged with the backend config file the run is given), the
// credentials in them (to pass on and to mask), and the state lock: reading who
// holds it, from the lock object or from the engine's error output.
package state

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Settings are one layer's effective backend settings.
type Settings struct {
	Type string // backend type from the layer's block: "s3", "local", ...; "" when none

	Bucket, Key, Region, Endpoint string
	PathStyle, UseLockfile        bool
	WorkspaceKeyPrefix            string

	AccessKey, SecretKey, Token string
}

// ConfigFile is a parsed -backend-config file: literal attributes only, as the
// engine accepts them.
type ConfigFile map[string]cty.Value

// secretAttrs name the backend attributes whose values are credentials.
var secretAttrs = []string{"access_key", "secret_key", "token", "sse_customer_key", "secret_access_key", "session_token"}

// ParseConfigFile reads the content of a -backend-config file. Errors give the line
// and what is wrong, never the text itself: the file holds credentials.
func ParseConfigFile(src []byte) (ConfigFile, error) {
	file, diags := hclsyntax.ParseConfig(src, "backend config", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	out := ConfigFile{}
	for name, a := range attrs {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return nil, fmt.Errorf("backend config line %d: %s must be a literal value", a.Range.Start.Line, name)
		}
		out[name] = v
	}
	return out, nil
}

func diagError(diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			line := 0
			if d.Subject != nil {
				line = d.Subject.Start.Line
			}
			return fmt.Errorf("backend config line %d: %s", line, d.Summary)
		}
	}
	return fmt.Errorf("backend config: %s", diags[0].Summary)
}

// Secrets returns the credential values the file holds, for masking.
func (c ConfigFile) Secrets() []string {
	var out []string
	for _, name := range secretAttrs {
		if s := c.str(name); s != "" {
			out = append(out, s)
		}
	}
	if v, ok := c["assume_role"]; ok {
		collectStrings(v, &out)
	}
	return out
}

func collectStrings(v cty.Value, out *[]string) {
	switch {
	case v.IsNull() || !v.IsKnown():
	case v.Type() == cty.String:
		if s := v.AsString(); s != "" {
			*out = append(*out, s)
		}
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			collectStrings(e, out)
		}
	}
}

func (c ConfigFile) str(name string) string {
	v, ok := c[name]
	if !ok || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func (c ConfigFile) boolean(name string) (bool, bool) {
	v, ok := c[name]
	if !ok || v.IsNull() {
		return false, false
	}
	switch v.Type() {
	case cty.Bool:
		return v.True(), true
	case cty.String:
		return v.AsString() == "true", true
	}
	return false, false
}

// endpoint is endpoints.s3, else the older endpoint attribute.
func (c ConfigFile) endpoint() string {
	if v, ok := c["endpoints"]; ok && !v.IsNull() && v.IsKnown() && v.CanIterateElements() {
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if k.Type() == cty.String && k.AsString() == "s3" && !e.IsNull() && e.Type() == cty.String {
				return e.AsString()
			}
		}
	}
	return c.str("endpoint")
}

// Resolve merges the layer's backend block (type and literal attributes) with the
// backend config file (which wins, as it does for the engine) and, for what neither
// sets, the standard AWS environment variables.
func Resolve(backendType string, block, file ConfigFile, getenv func(string) string) Settings {
	merged := ConfigFile{}
	for k, v := range block {
		merged[k] = v
	}
	for k, v := range file {
		merged[k] = v
	}
	s := Settings{
		Type:               backendType,
		Bucket:             merged.str("bucket"),
		Key:                merged.str("key"),
		Region:             merged.str("region"),
		Endpoint:           merged.endpoint(),
		WorkspaceKeyPrefix: merged.str("workspace_key_prefix"),
		AccessKey:          merged.str("access_key"),
		SecretKey:          merged.str("secret_key"),
		Token:              merged.str("token"),
	}
	s.PathStyle, _ = merged.boolean("use_path_style")
	if !s.PathStyle {
		s.PathStyle, _ = merged.boolean("force_path_style")
	}
	s.UseLockfile, _ = merged.boolean("use_lockfile")
	if getenv == nil {
		return s
	}
	fallback := func(dst *string, names ...string) {
		for _, n := range names {
			if *dst == "" {
				*dst = getenv(n)
			}
		}
	}
	fallback(&s.Region, "AWS_REGION", "AWS_DEFAULT_REGION")
	fallback(&s.Endpoint, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
	if s.AccessKey == "" && s.SecretKey == "" {
		fallback(&s.AccessKey, "AWS_ACCESS_KEY_ID")
		fallback(&s.SecretKey, "AWS_SECRET_ACCESS_KEY")
		fallback(&s.Token, "AWS_SESSION_TOKEN")
	}
	return s
}

// CredentialEnv returns the file's credentials as the AWS environment variables, so
// that terraform_remote_state data sources, which never see the backend config
// file, read other layers' state with the same credentials.
func (c ConfigFile) CredentialEnv() map[string]string {
	env := map[string]string{}
	for attr, name := range envCredentials {
		if s := c.str(attr); s != "" {
			env[name] = s
		}
	}
	return env
}

// WithKey is the settings for another object of the same bucket.
func (s Settings) WithKey(key string) Settings { s.Key = key; return s }

// LockKey is the object holding the S3 lock of the default workspace's state.
func (s Settings) LockKey() string { return s.Key + ".tflock" }

// Describe names where the state lives, without credentials.
func (s Settings) Describe() string {
	if s.Type != "s3" {
		return s.Type + " backend"
	}
	where := "s3://" + s.Bucket + "/" + s.Key
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err == nil && u.Host != "" {
			where += " at " + u.Host
		}
	}
	return where
}

// Check says what is missing to reach the state object directly.
func (s Settings) Check() error {
	var missing []string
	if s.Type != "s3" {
		return fmt.Errorf("the %q backend has no lock object this tool can read", s.Type)
	}
	for name, v := range map[string]string{"bucket": s.Bucket, "key": s.Key} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		missing = append(missing, "credentials (access_key and secret_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("backend settings lack %s", strings.Join(missing, ", "))
	}
	return nil
}

// envCredentials are the attributes the engine also reads from the environment.
var envCredentials = map[string]string{"access_key": "AWS_ACCESS_KEY_ID", "secret_key": "AWS_SECRET_ACCESS_KEY", "token": "AWS_SESSION_TOKEN"}

// WithoutCredentials renders the file without the attributes CredentialEnv moves
// into the environment. The engine records -backend-config values in its working
// directory and in every plan file; credentials given this way never land there.
func (c ConfigFile) WithoutCredentials() []byte {
	f := hclwrite.NewEmptyFile()
	names := make([]string, 0, len(c))
	for n := range c {
		if _, moved := envCredentials[n]; !moved {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		f.Body().SetAttributeValue(n, c[n])
	}
	return f.Bytes()
}
