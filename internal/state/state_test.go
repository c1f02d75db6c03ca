package state_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/state"
)

const r2Config = `
bucket    = "infra-state"
endpoints = { s3 = "https://0123abcd.r2.cloudflarestorage.com" }
access_key = "AKIDCANARY000"
secret_key = "canary/secret+value"
skip_s3_checksum = true
use_lockfile = true
`

func TestResolveMergesTheFileOverTheBlock(t *testing.T) {
	file, err := state.ParseConfigFile([]byte(r2Config))
	require.NoError(t, err)
	block, err := state.ParseConfigFile([]byte(`
key            = "2.platform/terraform.tfstate"
region         = "auto"
bucket         = "committed-bucket"
use_path_style = true
`))
	require.NoError(t, err)
	s := state.Resolve("s3", block, file, func(string) string { return "" })
	assert.Equal(t, state.Settings{Type: "s3", Bucket: "infra-state", Key: "2.platform/terraform.tfstate", Region: "auto",
		Endpoint: "https://0123abcd.r2.cloudflarestorage.com", PathStyle: true, UseLockfile: true,
		AccessKey: "AKIDCANARY000", SecretKey: "canary/secret+value"}, s)
	assert.Equal(t, "2.platform/terraform.tfstate.tflock", s.LockKey())
	assert.Equal(t, "s3://infra-state/2.platform/terraform.tfstate at 0123abcd.r2.cloudflarestorage.com", s.Describe())
	assert.NotContains(t, s.Describe(), "CANARY")
	assert.NoError(t, s.Check())
	assert.ElementsMatch(t, []string{"AKIDCANARY000", "canary/secret+value"}, file.Secrets())
	assert.Equal(t, map[string]string{"AWS_ACCESS_KEY_ID": "AKIDCANARY000", "AWS_SECRET_ACCESS_KEY": "canary/secret+value"}, file.CredentialEnv())
}

func TestResolveFallsBackToTheEnvironment(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "envkey", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"}
	block, err := state.ParseConfigFile([]byte(`bucket = "b"
key = "k"
force_path_style = true`))
	require.NoError(t, err)
	s := state.Resolve("s3", block, nil, func(k string) string { return env[k] })
	assert.Equal(t, "envkey", s.AccessKey)
	assert.Equal(t, "envsecret", s.SecretKey)
	assert.Equal(t, "http://127.0.0.1:9000", s.Endpoint)
	assert.Equal(t, "eu-west-1", s.Region)
	assert.True(t, s.PathStyle)
	assert.ErrorContains(t, state.Resolve("s3", block, nil, nil).Check(), "credentials")
	assert.ErrorContains(t, state.Resolve("local", nil, nil, nil).Check(), `"local" backend`)
}

func TestParseConfigFileErrorsNeverQuoteTheFile(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":      "access_key = \"AKIDCANARY\"\nsecret_key = canary-secret-value oops\n",
		"not literal": "access_key = \"AKIDCANARY\"\nsecret_key = var.canary\n",
		"block":       "secret_key = \"canary-secret-value\"\nassume_role {\n  role_arn = \"AKIDCANARY\"\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := state.ParseConfigFile([]byte(src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "backend config line")
			assert.NotContains(t, err.Error(), "canary")
			assert.NotContains(t, err.Error(), "AKIDCANARY")
		})
	}
}

// The lock info OpenTofu prints when it cannot take a lock held through an S3
// lock object (tofu 1.10, -no-color).
const lockOutput = `
Error: Error acquiring the state lock

Error message: operation error S3: PutObject, https response error StatusCode:
412, RequestID: , HostID: , api error PreconditionFailed: At least one of the
pre-conditions you specified did not hold
Lock Info:
  ID:        2a1d6c43-52d8-3c5f-0a4e-7d9e5b1c0f11
  Path:      state/1.slow/terraform.tfstate
  Operation: OperationTypeApply
  Who:       runner@ci-7
  Version:   1.10.6
  Created:   2026-11-29 10:15:42.123456789 +0000 UTC
  Info:      

OpenTofu acquires a state lock to protect the state from being written
by multiple users at the same time.
`

func TestParseLockError(t *testing.T) {
	l, ok := state.ParseLockError(lockOutput)
	require.True(t, ok)
	assert.Equal(t, "2a1d6c43-52d8-3c5f-0a4e-7d9e5b1c0f11", l.ID)
	assert.Equal(t, "runner@ci-7", l.Who)
	assert.Equal(t, "OperationTypeApply", l.Operation)
	assert.Equal(t, "state/1.slow/terraform.tfstate", l.Path)
	assert.Equal(t, time.Date(2026, 11, 29, 10, 15, 42, 123456789, time.UTC), l.Created.UTC())
	got := l.Describe(l.Created.Add(90 * time.Second))
	assert.Equal(t, "locked by runner@ci-7 (apply, since 2026-11-29T10:15:42Z, 1m30s ago), lock ID 2a1d6c43-52d8-3c5f-0a4e-7d9e5b1c0f11", got)

	boxed := strings.ReplaceAll(lockOutput, "\n", "\n│ ")
	l2, ok := state.ParseLockError(boxed)
	require.True(t, ok)
	assert.Equal(t, l.ID, l2.ID)

	_, ok = state.ParseLockError("Error: Invalid reference")
	assert.False(t, ok)
}

func TestParseLockJSON(t *testing.T) {
	l, err := state.ParseLockJSON([]byte(`{"ID":"abc","Operation":"OperationTypePlan","Info":"","Who":"me@host","Version":"1.10.6","Created":"2026-11-29T10:15:42.5Z","Path":"state/k"}`))
	require.NoError(t, err)
	assert.Equal(t, "abc", l.ID)
	assert.Contains(t, l.Describe(l.Created), "(plan, since")
	_, err = state.ParseLockJSON([]byte(`{}`))
	assert.Error(t, err)
	_, err = state.ParseLockJSON([]byte(`not json`))
	assert.Error(t, err)
}

func FuzzParseLockError(f *testing.F) {
	f.Add(lockOutput)
	f.Add("Error acquiring the state lock\nLock Info:\n  ID:\n")
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := state.ParseLockError(s)
		if !ok {
			return
		}
		_ = l.Describe(time.Now())
	})
}

func FuzzParseConfigFile(f *testing.F) {
	f.Add(r2Config)
	f.Add(`endpoints = { s3 = 1 }`)
	f.Add(`assume_role = { role_arn = "x", tags = ["a"] }`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := state.ParseConfigFile([]byte(src))
		if err != nil {
			return
		}
		s := state.Resolve("s3", nil, c, nil)
		_ = s.Describe()
		_ = c.Secrets()
		_ = c.CredentialEnv()
	})
}

func TestWithoutCredentialsKeepsEverythingElse(t *testing.T) {
	file, err := state.ParseConfigFile([]byte(r2Config))
	require.NoError(t, err)
	out := file.WithoutCredentials()
	assert.NotContains(t, string(out), "CANARY")
	assert.NotContains(t, string(out), "canary")
	again, err := state.ParseConfigFile(out)
	require.NoError(t, err)
	assert.Len(t, again, len(file)-2)
	s := state.Resolve("s3", nil, again, nil)
	assert.Equal(t, "https://0123abcd.r2.cloudflarestorage.com", s.Endpoint)
	assert.True(t, s.UseLockfile)
}
