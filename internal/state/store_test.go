package state_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/testfixture"
)

// The store signs its own requests: a real S3 server must accept them for keys
// that need escaping, and its refusals must come back as the right errors.
func TestStoreReadsObjectsFromARealS3Server(t *testing.T) {
	s3 := testfixture.StartS3(t)
	settings := state.Settings{Type: "s3", Bucket: s3.Bucket, Region: s3.Region, Endpoint: s3.Endpoint, PathStyle: true,
		AccessKey: s3.AccessKey, SecretKey: s3.Secret}
	put := func(key, content string) {
		p := filepath.Join(s3.Dir, s3.Bucket, filepath.FromSlash(key))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	ctx := context.Background()

	for _, key := range []string{"plain/terraform.tfstate", "env:/prod data/ünï+cödé=1&x/terraform.tfstate"} {
		put(key, `{"version": 4}`)
		settings.Key = key
		st, err := state.NewStore(settings)
		require.NoError(t, err)
		data, err := st.State(ctx)
		require.NoError(t, err, key)
		assert.JSONEq(t, `{"version": 4}`, string(data), key)
	}

	settings.Key = "absent/terraform.tfstate"
	st, err := state.NewStore(settings)
	require.NoError(t, err)
	lock, err := st.Lock(ctx)
	require.NoError(t, err)
	assert.Nil(t, lock, "no lock object: not locked")

	wrong := settings
	wrong.SecretKey = "not-the-secret"
	st, err = state.NewStore(wrong)
	require.NoError(t, err)
	_, err = st.State(ctx)
	var credErr *state.CredentialsError
	require.ErrorAs(t, err, &credErr)
	assert.NotContains(t, err.Error(), "not-the-secret")

	noBucket := settings
	noBucket.Bucket = "nope"
	st, err = state.NewStore(noBucket)
	require.NoError(t, err)
	_, err = st.State(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the state bucket "nope" does not exist`)

	gone := settings
	gone.Endpoint = "http://127.0.0.1:9"
	st, err = state.NewStore(gone)
	require.NoError(t, err)
	_, err = st.State(ctx)
	var unreachable *state.UnreachableError
	require.ErrorAs(t, err, &unreachable)

	bad := settings
	bad.Endpoint = "ftp://x"
	_, err = state.NewStore(bad)
	assert.ErrorContains(t, err, "is not an http(s) URL")
}

// The store's writes are signed alike and a real S3 server takes them: a
// conditional create happens once, the second finds the object there; Put
// replaces, Delete removes (and removing nothing is fine); a refused write
// names the credentials, never prints them.
func TestStoreWritesObjectsToARealS3Server(t *testing.T) {
	s3 := testfixture.StartS3(t)
	settings := state.Settings{Type: "s3", Bucket: s3.Bucket, Region: s3.Region, Endpoint: s3.Endpoint, PathStyle: true,
		AccessKey: s3.AccessKey, SecretKey: s3.Secret, Key: "a/terraform.tfstate"}
	st, err := state.NewStore(settings)
	require.NoError(t, err)
	ctx := context.Background()

	for _, key := range []string{"locks/2.platform.prlock", "env:/prod data/ünï+cödé=1&x.prlock"} {
		created, err := st.Create(ctx, key, []byte("first"))
		require.NoError(t, err, key)
		assert.True(t, created, key)
		created, err = st.Create(ctx, key, []byte("second"))
		require.NoError(t, err, key)
		assert.False(t, created, "%s: the first writer holds it", key)
		data, err := st.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, "first", string(data))

		require.NoError(t, st.Put(ctx, key, []byte("replaced")))
		data, err = st.Get(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, "replaced", string(data))

		require.NoError(t, st.Delete(ctx, key))
		data, err = st.Get(ctx, key)
		require.NoError(t, err)
		assert.Nil(t, data)
		require.NoError(t, st.Delete(ctx, key), "deleting what is gone")
		created, err = st.Create(ctx, key, []byte("again"))
		require.NoError(t, err)
		assert.True(t, created, "free again after the delete")
	}

	created, err := st.Create(ctx, "empty", []byte{})
	require.NoError(t, err)
	assert.True(t, created)

	wrong := settings
	wrong.SecretKey = "not-the-secret"
	bad, err := state.NewStore(wrong)
	require.NoError(t, err)
	for _, write := range []func() error{
		func() error { _, err := bad.Create(ctx, "x", []byte("x")); return err },
		func() error { return bad.Put(ctx, "x", []byte("x")) },
		func() error { return bad.Delete(ctx, "x") },
	} {
		err := write()
		var credErr *state.CredentialsError
		require.ErrorAs(t, err, &credErr)
		assert.NotContains(t, err.Error(), "not-the-secret")
	}
}
